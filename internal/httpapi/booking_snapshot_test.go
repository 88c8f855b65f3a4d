package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
)

// bookingNames is what booking views say about where and when.
type bookingNames struct {
	ChangeableUntil      *time.Time `json:"changeable_until"`
	Timezone             string     `json:"timezone"`
	ProviderName         string     `json:"provider_name"`
	LocationName         string     `json:"location_name"`
	LocationAddress      string     `json:"location_address"`
	ConsultationTypeName string     `json:"consultation_type_name"`
}

// Booking views keep the names as they were when booked: renaming the
// provider later changes nothing, a move to another provider's slot takes
// that provider's name. changeable_until is the start less the cutoff, and
// null once that has passed.
func TestBookingViewsKeepNamesAsBooked(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		admin := e.token(auth.RoleAdmin)
		reception := e.token(auth.RoleReception)
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		first := k.slot(t, slotOpts{start: start})
		c := k.request(t, first)

		if r := e.do("PATCH", "/v1/providers/"+k.provider.String(), map[string]any{"name": "Dr. Dana Reyes-Ortiz"}, admin); r.Status != http.StatusOK {
			t.Fatalf("rename provider: %d %s", r.Status, r.Body)
		}
		if r := e.do("PATCH", "/v1/providers/"+k.provider2.String(), map[string]any{"name": "Dr. Lee Park"}, admin); r.Status != http.StatusOK {
			t.Fatalf("rename provider 2: %d %s", r.Status, r.Body)
		}
		var patient bookingNames
		e.do("GET", "/v1/booking-requests/"+c.Reference, nil, c.token()).decode(t, &patient)
		if patient.ProviderName != "Dr. Dana Reyes" || patient.LocationName != "Main office" || patient.Timezone != "America/Los_Angeles" ||
			patient.ConsultationTypeName != "New patient consultation" {
			t.Errorf("patient view after a rename: %+v, want the names as booked", patient)
		}
		if want := start.Add(-24 * time.Hour); patient.ChangeableUntil == nil || !patient.ChangeableUntil.Equal(want) {
			t.Errorf("changeable_until = %v, want %v", patient.ChangeableUntil, want)
		}

		other := k.slot(t, slotOpts{provider: k.provider2, start: time.Now().Add(3 * time.Hour).Truncate(time.Second)})
		r := e.do("POST", "/v1/bookings/"+c.ID+"/reschedule", map[string]any{"slot_id": other.String()}, reception)
		if r.Status != http.StatusOK {
			t.Fatalf("staff reschedule: %d %s", r.Status, r.Body)
		}
		var staff bookingNames
		r.decode(t, &staff)
		if staff.ProviderName != "Dr. Lee Park" {
			t.Errorf("after the move: provider_name %q, want the new provider's", staff.ProviderName)
		}
		if staff.ChangeableUntil != nil {
			t.Errorf("starting in 3h with a 24h cutoff: changeable_until = %v, want null", staff.ChangeableUntil)
		}
	})
}
