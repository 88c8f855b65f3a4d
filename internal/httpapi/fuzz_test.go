package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// fuzzSeeds are booking request bodies, good and bad in every way the
// decoder distinguishes.
func fuzzSeeds() []string {
	valid, _ := json.Marshal(requestBody(uuid.MustParse("1c0b9a8f-7e6d-4c5b-8a49-382716059f4e")))
	v := string(valid)
	return []string{
		v,
		strings.Replace(v, `"pain_severity":7`, `"pain_severity":"7"`, 1),
		strings.Replace(v, `"pain_severity":7`, `"pain_severity":7.5`, 1),
		strings.Replace(v, `"pain_severity":7`, `"pain_severity":1e400`, 1),
		strings.Replace(v, `"pain_severity":7`, `"pain_severity":-9223372036854775809`, 1),
		strings.Replace(v, `"pain_severity":7`, `"pain_severity":null`, 1),
		strings.Replace(v, `"relieved_by":["heat_or_ice","position"]`, `"relieved_by":[null,1,{}]`, 1),
		strings.Replace(v, `"relieved_by":["heat_or_ice","position"]`, `"relieved_by":["a","b","c","d","e","f","g","h","i","j"]`, 1),
		strings.Replace(v, `"date_of_birth":"1980-04-02"`, `"date_of_birth":"1980-02-30"`, 1),
		strings.Replace(v, `"date_of_birth":"1980-04-02"`, `"date_of_birth":"0000-01-01"`, 1),
		strings.Replace(v, `"pain_started_on":"2026-11-01"`, `"pain_started_on":"9999-12-31"`, 1),
		strings.Replace(v, `"phone":"+14245550123"`, `"phone":"+1\u0000424"`, 1),
		strings.Replace(v, `"first_name":"Ana"`, `"first_name":"\ud800"`, 1),
		strings.Replace(v, `"first_name":"Ana"`, `"first_name":"A\nna"`, 1),
		strings.Replace(v, `"email":"ana@example.com"`, `"email":"Ana <ana@example.com>"`, 1),
		strings.Replace(v, `"consent":{`, `"consent":{"extra":1,`, 1),
		strings.Replace(v, `"slot_id":"`, `"slot_id":"urn:uuid:`, 1),
		strings.Replace(v, `"patient":{`, `"patient":[{`, 1),
		v + v,
		`{"status":"pending","notes":"x"}`,
		`{"status":7,"notes":[]}`,
		`{"patient":null,"intake":null,"consent":null,"slot_id":null}`,
		`{"slot_id":"a","slot_id":"b"}`,
		`{}`, `[]`, `null`, `"x"`, `0`, ``, `{`, `{"intake":{"pain_severity":`,
		`{"patient":{"first_name":` + strings.Repeat("[", 10000),
		`{"intake":{"reason":"` + strings.Repeat("é", 3000) + `"}}`,
	}
}

func FuzzDecodeBookingRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, staff bool) {
		r := httptest.NewRequest("POST", "/v1/booking-requests", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		err := httpapi.DecodeBookingRequest(r, now, staff)
		if err == nil {
			return
		}
		if status := httpapi.ProblemStatus(err); status < 400 || status >= 500 {
			t.Fatalf("body %q: error %v maps to %d, want a 4xx", body, err, status)
		}
	})
}

// TestFuzzSeedsThroughTheServer sends the fuzz seeds to a real server, as
// the widget and as reception: never a 5xx, and every answer is one the
// spec allows.
func TestFuzzSeedsThroughTheServer(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	rec := e.token(auth.RoleReception)
	for _, s := range fuzzSeeds() {
		for _, r := range []resp{
			e.do("POST", "/v1/booking-requests", s),
			e.do("POST", "/v1/bookings", s, rec),
		} {
			if r.Status >= 500 || r.Status == http.StatusCreated {
				t.Errorf("body %.80q: got %d %s", s, r.Status, r.Body)
			}
		}
	}
}
