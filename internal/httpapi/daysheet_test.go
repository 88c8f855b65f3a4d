package httpapi_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

func TestDaySheet(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		la, _ := time.LoadLocation("America/Los_Angeles")
		day := booking.DateOf(time.Now(), la).AddDays(5)
		at := func(clock int) time.Time { t, _ := day.At(booking.Clock(clock), la); return t }
		// Three bookings on the day: pending, confirmed, cancelled; one the
		// day after. The confirmed patient's name would be a formula.
		pending := k.request(t, k.slot(t, slotOpts{start: at(9 * 60)}))
		body := requestBody(k.slot(t, slotOpts{start: at(8 * 60)}))
		body["patient"].(map[string]any)["first_name"] = "=HYPERLINK(\"http://evil.example\")"
		body["patient"].(map[string]any)["last_name"] = "@Lopez"
		r := e.do("POST", "/v1/bookings", body, rec)
		if r.Status != http.StatusCreated {
			t.Fatalf("phone booking: %d %s", r.Status, r.Body)
		}
		var confirmed staffBooking
		r.decode(t, &confirmed)
		cancelled := k.request(t, k.slot(t, slotOpts{start: at(10 * 60)}))
		if r := e.do("POST", "/v1/bookings/"+cancelled.ID+"/cancel", nil, rec); r.Status != 200 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		k.request(t, k.slot(t, slotOpts{start: at(9 * 60).Add(24 * time.Hour)}))

		q := "/v1/bookings?from=" + day.String() + "&to=" + day.String() + "&sort=start_at"
		ids := func(path string) []string {
			t.Helper()
			r := e.do("GET", path, nil, rec)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
			var list struct{ Items []staffBooking }
			r.decode(t, &list)
			var out []string
			for _, b := range list.Items {
				out = append(out, b.ID)
			}
			return out
		}
		for _, tt := range []struct {
			status string
			want   []string
		}{
			{"pending,confirmed", []string{confirmed.ID, pending.ID}},
			{"confirmed,pending,confirmed", []string{confirmed.ID, pending.ID}},
			{"cancelled", []string{cancelled.ID}},
			{"pending", []string{pending.ID}},
		} {
			if got := ids(q + "&status=" + tt.status); !slices.Equal(got, tt.want) {
				t.Errorf("status=%s: got %v, want %v", tt.status, got, tt.want)
			}
		}
		if r := e.do("GET", q+"&status=pending,nope", nil, rec); r.Status != 422 && r.Status != 400 {
			t.Errorf("unknown status: got %d %s, want 422", r.Status, r.Body)
		}

		// The CSV: the day's pending and confirmed bookings in local time,
		// no intake, formulas defused.
		r = e.do("GET", q+"&status=pending,confirmed", nil, rec, "Accept: text/csv")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: got %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		records, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v\n%s", err, r.Body)
		}
		want := [][]string{
			{"date", "time", "timezone", "patient", "phone", "consultation_type", "provider", "location", "status", "reference"},
			{day.String(), "08:00", "America/Los_Angeles", `'@Lopez, =HYPERLINK("http://evil.example")`, "'+14245550123", "New patient consultation", "Dr. Dana Reyes", "Main office", "confirmed", confirmed.Reference},
			{day.String(), "09:00", "America/Los_Angeles", "Lopez, Ana", "'+14245550123", "New patient consultation", "Dr. Dana Reyes", "Main office", "pending", pending.Reference},
		}
		if !slices.EqualFunc(records, want, slices.Equal) {
			t.Errorf("csv:\ngot  %q\nwant %q", records, want)
		}
		for _, secret := range []string{"lower back", "heat_or_ice", "herniated", "moved house"} {
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("the CSV holds intake %q", secret)
			}
		}
		for _, tt := range []struct {
			query  string
			fields []string
		}{
			{"?from=2026-01-01&to=2027-01-02", []string{"to"}}, // 367 days
			{"?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z", []string{"to"}},
			{"?from=" + day.String(), []string{"to"}},
			{"", []string{"from", "to"}},
			{"?from=2026-01-01&to=2026-01-02&limit=10", []string{"limit"}},
		} {
			r := e.do("GET", "/v1/bookings"+tt.query, nil, rec, "Accept: text/csv")
			if r.Status != 422 {
				t.Errorf("csv %s: got %d %s, want 422", tt.query, r.Status, r.Body)
				continue
			}
			checkFields(t, r, tt.fields)
		}
		if r := e.do("GET", "/v1/bookings?from=2026-01-01&to=2027-01-01", nil, rec, "Accept: text/csv"); r.Status != 200 { // 366 days
			t.Errorf("a year: got %d %s, want 200", r.Status, r.Body)
		}
		// JSON stays the default, also when both are accepted equally.
		if r := e.do("GET", q, nil, rec, "Accept: application/json, text/csv"); !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Accept both: got %s", r.Header.Get("Content-Type"))
		}
	})
}
