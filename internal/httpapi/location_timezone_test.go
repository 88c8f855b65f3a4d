package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
)

// TestLocationTimezoneFixedOnceUsed: a location's timezone may change while
// nothing refers to it, and is refused with 409 timezone_in_use once it has
// a slot or a schedule, since the change would move their local times.
func TestLocationTimezoneFixedOnceUsed(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		ids := e.seedCatalog(admin, "America/Los_Angeles")
		patchTZ := func(loc, tz string) resp {
			return e.do("PATCH", "/v1/locations/"+loc, map[string]any{"timezone": tz}, admin)
		}
		if r := patchTZ(ids.location, "America/New_York"); r.Status != http.StatusOK {
			t.Fatalf("unused location: got %d %s, want 200", r.Status, r.Body)
		}

		start := time.Now().Add(96 * time.Hour).Truncate(time.Hour)
		r := e.do("POST", "/v1/slots", map[string]any{
			"provider_id": ids.provider, "location_id": ids.location, "consultation_type_id": ids.ctype,
			"start_at": start.Format(time.RFC3339), "end_at": start.Add(30 * time.Minute).Format(time.RFC3339),
		}, admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create slot: got %d %s", r.Status, r.Body)
		}
		if r := patchTZ(ids.location, "Europe/Berlin"); r.Status != http.StatusConflict || r.code() != "timezone_in_use" {
			t.Errorf("location with a slot: got %d %s, want 409 timezone_in_use", r.Status, r.Body)
		}
		if r := patchTZ(ids.location, "America/New_York"); r.Status != http.StatusOK {
			t.Errorf("same timezone again: got %d %s, want 200", r.Status, r.Body)
		}
		if r := e.do("PATCH", "/v1/locations/"+ids.location, map[string]any{"name": "Renamed"}, admin); r.Status != http.StatusOK {
			t.Errorf("rename a used location: got %d %s, want 200", r.Status, r.Body)
		}

		other := e.seedCatalog(admin, "America/Los_Angeles")
		r = e.do("POST", "/v1/schedules", map[string]any{
			"provider_id": other.provider, "location_id": other.location, "consultation_type_id": other.ctype,
			"slot_minutes": 30, "valid_from": "2027-01-04", "valid_to": "2027-01-31",
			"windows": []map[string]any{{"weekday": "monday", "start": "09:00", "end": "12:00"}},
		}, admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create schedule: got %d %s", r.Status, r.Body)
		}
		if r := patchTZ(other.location, "Europe/Berlin"); r.Status != http.StatusConflict || r.code() != "timezone_in_use" {
			t.Errorf("location with a schedule: got %d %s, want 409 timezone_in_use", r.Status, r.Body)
		}
	})
}
