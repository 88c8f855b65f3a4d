package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/auth"
)

type patientJSON struct {
	ID         string  `json:"id"`
	FirstName  string  `json:"first_name"`
	Phone      string  `json:"phone"`
	Version    int     `json:"version"`
	MergedInto *string `json:"merged_into"`
}

func TestPatientsThroughHTTP(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		clin := e.token(auth.RoleClinician)

		// Two web requests by Ana, one phone booking by Ana with another
		// phone but her email (the same person), one by someone else.
		first := e.do("POST", "/v1/booking-requests", requestBody(k.slot(t, slotOpts{})))
		second := k.request(t, k.slot(t, slotOpts{}))
		body := requestBody(k.slot(t, slotOpts{}))
		body["patient"].(map[string]any)["phone"] = "+14245559999"
		phone := e.do("POST", "/v1/bookings", body, rec)
		other := requestBody(k.slot(t, slotOpts{}))
		other["patient"].(map[string]any)["first_name"] = "Ana María"
		other["patient"].(map[string]any)["phone"] = "+14245558888"
		other["patient"].(map[string]any)["email"] = "maria@example.com"
		otherB := e.do("POST", "/v1/booking-requests", other)
		for _, r := range []resp{first, phone, otherB} {
			if r.Status != http.StatusCreated {
				t.Fatalf("booking: %d %s", r.Status, r.Body)
			}
		}
		// Public answers never show a patient id.
		for _, r := range []resp{first, otherB, e.do("GET", "/v1/booking-requests/"+second.Reference, nil, "X-Booking-Token: "+second.ManageToken)} {
			if strings.Contains(string(r.Body), "patient_id") {
				t.Errorf("a public answer shows a patient id: %s", r.Body)
			}
		}
		var staffView struct {
			PatientID string `json:"patient_id"`
		}
		phone.decode(t, &staffView)
		if staffView.PatientID == "" {
			t.Fatalf("the staff view has no patient_id: %s", phone.Body)
		}

		search := func(q string) []patientJSON {
			t.Helper()
			r := e.do("GET", "/v1/patients?q="+url.QueryEscape(q), nil, clin)
			if r.Status != 200 {
				t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
			}
			var list struct{ Items []patientJSON }
			r.decode(t, &list)
			return list.Items
		}
		for _, tt := range []struct {
			q    string
			want int
		}{
			{"lopez", 2}, {"ana lopez", 2}, {"ANA MARÍA", 1}, {"(424) 555-0123", 1}, {"4245559999", 0}, {"1980-04-02", 2},
			{"ana@example.com", 1}, {"nobody", 0},
			// A date of birth as callers read it out and staff type it:
			// month or day first (both are tried), two-digit years.
			{"04/02/1980", 2}, {"2/4/1980", 2}, {"02.04.1980", 2}, {"02-04-1980", 2}, {"4/2/80", 2}, {"05/02/1980", 0},
			// Wildcards and operators are text: never an error, never more
			// than the words find (quotes and * are separators at most).
			{"%", 0}, {"_", 0}, {"a_a", 0}, {"ana NEAR lopez", 0}, {"' OR 1=1 --", 0}, {`\`, 0}, {"lopez OR", 0},
			{`"ana"`, -2}, {"ana*", -2}, {`ana" OR "x`, 0}, {"NEAR(ana lopez)", 0}, {"-ana", -2},
		} {
			got := search(tt.q)
			if tt.want < 0 && len(got) > -tt.want || tt.want >= 0 && len(got) != tt.want {
				t.Errorf("search %q: got %d patients, want %d", tt.q, len(got), tt.want)
			}
		}

		ana := staffView.PatientID
		r := e.do("GET", "/v1/patients/"+ana, nil, clin)
		var detail struct {
			Patient  patientJSON
			Bookings []struct {
				ID        string `json:"id"`
				PatientID string `json:"patient_id"`
			}
		}
		r.decode(t, &detail)
		if len(detail.Bookings) != 3 || r.Header.Get("ETag") != `"1"` {
			t.Fatalf("patient: got %d bookings, ETag %s: %s", len(detail.Bookings), r.Header.Get("ETag"), r.Body)
		}
		if detail.Bookings[2].ID != first.decodeID(t) {
			t.Errorf("bookings not newest first: %+v", detail.Bookings)
		}

		patch := map[string]string{"phone": "+1 424 555 0000"}
		if r := e.do("PATCH", "/v1/patients/"+ana, patch, rec); r.Status != 428 {
			t.Errorf("no If-Match: got %d, want 428", r.Status)
		}
		if r := e.do("PATCH", "/v1/patients/"+ana, patch, rec, `If-Match: "7"`); r.Status != 412 {
			t.Errorf("stale If-Match: got %d, want 412", r.Status)
		}
		if r := e.do("PATCH", "/v1/patients/"+ana, map[string]string{"phone": "nope", "first_name": ""}, rec, `If-Match: "1"`); r.Status != 422 {
			t.Errorf("bad fields: got %d %s, want 422", r.Status, r.Body)
		} else {
			checkFields(t, r, []string{"first_name", "phone"})
		}
		if r := e.do("PATCH", "/v1/patients/"+ana, patch, clin, `If-Match: "1"`); r.Status != 403 {
			t.Errorf("clinician patch: got %d, want 403", r.Status)
		}
		r = e.do("PATCH", "/v1/patients/"+ana, patch, rec, `If-Match: "1"`)
		var updated patientJSON
		r.decode(t, &updated)
		if r.Status != 200 || updated.Phone != "+14245550000" || r.Header.Get("ETag") != `"2"` {
			t.Errorf("patch: got %d %s", r.Status, r.Body)
		}

		dup := search("ana maría")[0].ID
		for _, tt := range []struct {
			from, into, authz string
			want              int
		}{
			{dup, dup, rec, 409},
			{dup, ana, clin, 403},
			{dup, "0b1d6f3e-8a7c-4e2b-9f10-2c3d4e5f6a7b", rec, 404},
			{dup, ana, rec, 200},
			{dup, ana, rec, 409},
			{ana, dup, rec, 409},
		} {
			r := e.do("POST", "/v1/patients/"+tt.from+"/merge", map[string]string{"into": tt.into}, tt.authz)
			if r.Status != tt.want {
				t.Errorf("merge %s into %s: got %d %s, want %d", tt.from, tt.into, r.Status, r.Body, tt.want)
			}
			if tt.want == 409 && r.code() != "merge_conflict" {
				t.Errorf("merge %s into %s: code %s, want merge_conflict", tt.from, tt.into, r.code())
			}
		}
		e.do("GET", "/v1/patients/"+ana, nil, clin).decode(t, &detail)
		if len(detail.Bookings) != 4 {
			t.Errorf("after the merge: got %d bookings, want 4", len(detail.Bookings))
		}
		e.do("GET", "/v1/patients/"+dup, nil, clin).decode(t, &detail)
		if len(detail.Bookings) != 0 || detail.Patient.MergedInto == nil || *detail.Patient.MergedInto != ana {
			t.Errorf("the merged-away patient: %+v", detail)
		}
		audit := e.do("GET", "/v1/audit-events", nil, e.token(auth.RoleAdmin))
		if !strings.Contains(string(audit.Body), "patient_merged") {
			t.Errorf("no patient_merged audit event: %s", audit.Body)
		}
	})
}

// decodeID returns the id of the resource in the body.
func (r resp) decodeID(t testing.TB) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	r.decode(t, &v)
	return v.ID
}
