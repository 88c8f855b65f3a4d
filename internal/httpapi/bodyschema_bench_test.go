package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
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
 "intake":{"red_flags":["none"],"pain_severity":7,"relieved_by":["heat_or_ice","position"],"pain_started_on":"2026-11-01",
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

// BenchmarkParamCheck measures checking a GET /v1/availability request's
// parameters against the spec, the work every request now does before its
// handler. Compare it with a cached availability answer over HTTP in the
// same run:
//
//	go test -run '^$' -bench 'ParamCheck|AvailabilityCache/sqlite/cache=true/two' ./internal/httpapi
func BenchmarkParamCheck(b *testing.B) {
	doc, err := loadSpec()
	if err != nil {
		b.Fatal(err)
	}
	for _, memo := range []bool{false, true} {
		b.Run(map[bool]string{false: "checked", true: "remembered"}[memo], func(b *testing.B) {
			s := &Server{params: loadParamSchemas(doc)}
			if memo {
				s.validParams = newParamMemo()
			}
			r := gin.New()
			r.GET("/v1/availability", func(c *gin.Context) {
				if !s.checkParams(c) {
					b.Fatal("parameters refused")
				}
			})
			req := httptest.NewRequest("GET", "/v1/availability?from=2027-01-04&to=2027-01-17&consultation_type_id=0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91&provider_id=3f2e1d0c-9b8a-4f7e-8d6c-5b4a3f2e1d0c", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				r.ServeHTTP(w, req)
			}
		})
	}
}

// TestParamMemoKeepsRefusing holds that remembering valid parameter values
// changes no answer: a value refused stays refused however often it and
// valid ones are asked, and a valid one is accepted from memory.
func TestParamMemoKeepsRefusing(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{params: loadParamSchemas(doc), validParams: newParamMemo()}
	r := gin.New()
	r.GET("/v1/availability", func(c *gin.Context) {
		if s.checkParams(c) {
			c.Status(204)
		}
	})
	const id = "0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91"
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"from=2027-01-04&to=2027-01-17&provider_id=" + id, 204},
		{"from=2027-01-04&to=2027-01-17&provider_id=" + id, 204},
		{"from=2027-01-32&to=2027-01-17&provider_id=" + id, 400},
		{"from=2027-01-32&to=2027-01-17&provider_id=" + id, 400},
		{"from=2027-01-04&to=2027-01-17&provider_id=not-an-id", 400},
		{"from=2027-01-04&to=2027-01-17&provider_id=not-an-id", 400},
		{"from=2027-01-04&to=2027-01-17&provider_id=" + id, 204},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/v1/availability?"+tc.query, nil))
		if got := w.Code; got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.query, got, tc.want)
		}
	}
	if got := len(s.validParams.m); got == 0 || got > paramMemoSize {
		t.Errorf("memo holds %d values, want 1..%d", got, paramMemoSize)
	}
}
