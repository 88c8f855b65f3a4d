package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkBodySchema measures the schema check of a booking request body
// against the JSON decoding every request pays anyway, in the same run:
// report the ratio schema/decode, never an absolute time.
//
//	go test -run '^$' -bench BenchmarkBodySchema -benchtime 20000x ./internal/httpapi
func BenchmarkBodySchema(b *testing.B) {
	doc, err := loadSpec()
	if err != nil {
		b.Fatal(err)
	}
	sch := loadBodySchemas(doc)["POST /v1/booking-requests"]
	body := []byte(`{"slot_id":"0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91",
 "patient":{"first_name":"Ana","last_name":"Lopez","date_of_birth":"1980-04-02","phone":"+14245550123","email":"ana@example.com"},
 "intake":{"pain_severity":7,"relieved_by":["heat_or_ice","position"],"pain_started_on":"2026-11-01",
  "pre_existing_conditions":["herniated_disc"],"spasm_frequency":"daily","recent_physical_activity":true,
  "activity_details":"moved house","reason":"lower back spasms"},
 "consent":{"privacy_policy_accepted":true,"contact_by_sms":true,"contact_by_email":true}}`)
	req := httptest.NewRequest("POST", "/v1/booking-requests", strings.NewReader(""))
	req = req.WithContext(context.WithValue(req.Context(), bodySchemaKey{}, sch))
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("schema", func(b *testing.B) {
		for b.Loop() {
			if err := checkBodySchema(req, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
