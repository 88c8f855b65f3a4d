package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// referenceOf returns the reference of booking id, read from the staff view.
func (k *clinic) referenceOf(t *testing.T, authz, id string) string {
	t.Helper()
	r := k.e.do("GET", "/v1/bookings/"+id, nil, authz)
	if r.Status != http.StatusOK {
		t.Fatalf("get booking: got %d %s", r.Status, r.Body)
	}
	var b staffBooking
	r.decode(t, &b)
	return b.Reference
}

// TestStaffRoutesTakeReference: every staff route on one booking takes the
// reference a caller reads out wherever it takes the id, in any case and
// with or without the hyphen.
func TestStaffRoutesTakeReference(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		spell := map[string]func(string) string{
			"as shown":    func(r string) string { return r },
			"lower case":  strings.ToLower,
			"no hyphen":   func(r string) string { return strings.ReplaceAll(r, "-", "") },
			"lower no hy": func(r string) string { return strings.ToLower(strings.ReplaceAll(r, "-", "")) },
		}
		tests := []struct {
			method, action string
			from           booking.Status
			body           func() any
			headers        []string
			want           booking.Status
		}{
			{"GET", "", booking.StatusPending, nil, nil, booking.StatusPending},
			{"PATCH", "", booking.StatusPending, func() any { return map[string]any{"notes": "called back"} }, []string{"If-Match: *"}, booking.StatusPending},
			{"GET", "/events", booking.StatusPending, nil, nil, ""},
			{"POST", "/confirm", booking.StatusPending, nil, nil, booking.StatusConfirmed},
			{"POST", "/decline", booking.StatusPending, func() any { return actionBody("decline", "") }, nil, booking.StatusDeclined},
			{"POST", "/cancel", booking.StatusConfirmed, func() any { return actionBody("cancel", "") }, nil, booking.StatusCancelled},
			{"POST", "/reschedule", booking.StatusConfirmed, func() any { return actionBody("reschedule", k.slot(t, slotOpts{}).String()) }, nil, booking.StatusConfirmed},
			{"POST", "/check-in", booking.StatusConfirmed, nil, nil, booking.StatusCheckedIn},
			{"POST", "/complete", booking.StatusCheckedIn, nil, nil, booking.StatusCompleted},
			{"POST", "/no-show", booking.StatusConfirmed, nil, nil, booking.StatusNoShow},
			{"POST", "/revert", booking.StatusNoShow, func() any { return map[string]string{"reason": "arrived late"} }, nil, booking.StatusConfirmed},
		}
		for _, tt := range tests {
			for name, sp := range spell {
				t.Run(tt.method+tt.action+"/"+name, func(t *testing.T) {
					id := k.bookingIn(t, rec, tt.from)
					ref := k.referenceOf(t, rec, id)
					var body any
					if tt.body != nil {
						body = tt.body()
					}
					r := e.do(tt.method, "/v1/bookings/"+sp(ref)+tt.action, body, append([]string{rec}, tt.headers...)...)
					if r.Status != http.StatusOK {
						t.Fatalf("%s %s by %q: got %d %s, want 200", tt.method, tt.action, sp(ref), r.Status, r.Body)
					}
					if tt.want == "" {
						var ev struct {
							Items []struct {
								BookingID string `json:"booking_id"`
							} `json:"items"`
						}
						r.decode(t, &ev)
						if len(ev.Items) == 0 || ev.Items[0].BookingID != id {
							t.Errorf("events: got %s, want the history of %s", r.Body, id)
						}
						return
					}
					var b staffBooking
					r.decode(t, &b)
					if b.ID != id || b.Status != string(tt.want) {
						t.Errorf("got booking %s in %s, want %s in %s", b.ID, b.Status, id, tt.want)
					}
				})
			}
		}
	})
}

// TestReferenceRefusals: an unknown reference is the 404 of an unknown id,
// a string that is neither is a 400, a reference opens no route without
// staff credentials, and the patient's routes still need the manage token.
func TestReferenceRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		c := k.request(t, k.slot(t, slotOpts{}))
		unknown := "ZZZZ-ZZZZ"
		if c.Reference == unknown {
			unknown = "YYYY-YYYY"
		}
		tests := []struct {
			name, method, path string
			body               any
			headers            []string
			want               int
			code               string
		}{
			{"unknown reference", "GET", "/v1/bookings/" + unknown, nil, []string{rec}, 404, "not_found"},
			{"unknown reference, action", "POST", "/v1/bookings/" + strings.ToLower(unknown) + "/confirm", nil, []string{rec}, 404, "not_found"},
			{"unknown reference, events", "GET", "/v1/bookings/" + unknown + "/events", nil, []string{rec}, 404, "not_found"},
			{"not a reference (O and 1)", "GET", "/v1/bookings/OOOO-1111", nil, []string{rec}, 400, "invalid_parameter"},
			{"too long", "GET", "/v1/bookings/" + c.Reference + "X", nil, []string{rec}, 400, "invalid_parameter"},
			{"no credentials", "POST", "/v1/bookings/" + c.Reference + "/confirm", nil, nil, 401, "unauthenticated"},
			// The patient's routes take no staff token in place of the manage
			// token: without one the header is missing (400), with a wrong
			// one the booking is not found.
			{"public view without token", "GET", "/v1/booking-requests/" + c.Reference, nil, nil, 400, "invalid_parameter"},
			{"public view with a staff token only", "GET", "/v1/booking-requests/" + c.Reference, nil, []string{rec}, 400, "invalid_parameter"},
			{"public view, staff token and a wrong manage token", "GET", "/v1/booking-requests/" + c.Reference, nil, []string{rec, "X-Booking-Token: " + strings.Repeat("x", 43)}, 404, "not_found"},
			{"public cancel, staff token and a wrong manage token", "POST", "/v1/booking-requests/" + c.Reference + "/cancel", map[string]string{}, []string{rec, "X-Booking-Token: " + strings.Repeat("x", 43)}, 404, "not_found"},
			{"public view by id", "GET", "/v1/booking-requests/" + c.ID, nil, []string{c.token()}, 400, "invalid_parameter"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, tt.body, tt.headers...)
				if r.Status != tt.want || r.code() != tt.code {
					t.Errorf("got %d %s, want %d %s", r.Status, r.Body, tt.want, tt.code)
				}
			})
		}
		if r := e.do("GET", "/v1/bookings/"+c.ID, nil, rec); r.Status != http.StatusOK {
			t.Errorf("by id: got %d, want 200", r.Status)
		}
	})
}
