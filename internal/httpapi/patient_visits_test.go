package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// TestPatientVisitsThroughHTTP: the patient search and the record say how
// many times the patient came and on which day last, so that a caller can
// be matched ("Ana Lopez, born 1980-04-02, 1 earlier visit") before the
// booking is saved; a request still open is not a visit.
func TestPatientVisitsThroughHTTP(t *testing.T) {
	eachBackendURL(t, func(t *testing.T, e *env, _ string) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		soon := time.Now().Add(time.Hour).Truncate(time.Minute)
		came := k.request(t, k.slot(t, slotOpts{start: soon}))
		k.request(t, k.slot(t, slotOpts{})) // pending: not a visit; the first, checked in, is one
		for _, a := range []string{"confirm", "check-in"} {
			if r := e.do("POST", "/v1/bookings/"+came.ID+"/"+a, nil, rec); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", a, r.Status, r.Body)
			}
		}
		type visits struct {
			Count  int     `json:"count"`
			LastOn *string `json:"last_on"`
		}
		type patient struct {
			ID     string  `json:"id"`
			Visits *visits `json:"visits"`
		}
		r := e.do("GET", "/v1/patients?q=4245550123", nil, rec)
		var list struct{ Items []patient }
		r.decode(t, &list)
		la, err := time.LoadLocation("America/Los_Angeles") // the clinic's location
		if err != nil {
			t.Fatal(err)
		}
		wantDay := soon.In(la).Format(time.DateOnly)
		if len(list.Items) != 1 || list.Items[0].Visits == nil || list.Items[0].Visits.Count != 1 ||
			list.Items[0].Visits.LastOn == nil || *list.Items[0].Visits.LastOn != wantDay {
			t.Fatalf("search: %s; want one patient with 1 visit, last on %s", r.Body, wantDay)
		}
		r = e.do("GET", "/v1/patients/"+list.Items[0].ID, nil, rec)
		var detail struct{ Patient patient }
		r.decode(t, &detail)
		if v := detail.Patient.Visits; v == nil || v.Count != 1 || v.LastOn == nil || *v.LastOn != wantDay {
			t.Errorf("record: %s; want 1 visit, last on %s", r.Body, wantDay)
		}
		// Someone who never came: zero, and no day.
		other := with(with(requestBody(k.slot(t, slotOpts{})), "patient.phone", "+14245559876"), "patient.email", "kim@example.com")
		if r := e.do("POST", "/v1/booking-requests", other); r.Status != http.StatusCreated {
			t.Fatalf("request: %d %s", r.Status, r.Body)
		}
		r = e.do("GET", "/v1/patients?q=4245559876", nil, rec)
		r.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Visits == nil || list.Items[0].Visits.Count != 0 || list.Items[0].Visits.LastOn != nil {
			t.Errorf("a patient who never came: %s; want 0 visits, last_on null", r.Body)
		}
	}, func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 0; o.Policy.MinNotice = 0 })
}
