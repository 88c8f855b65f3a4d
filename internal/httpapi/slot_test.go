package httpapi_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
)

// slotJSON is the slot resource as a client reads it.
type slotJSON struct {
	ID         string    `json:"id"`
	ProviderID string    `json:"provider_id"`
	StartAt    time.Time `json:"start_at"`
	EndAt      time.Time `json:"end_at"`
	Capacity   int       `json:"capacity"`
	Status     string    `json:"status"`
	Booked     int       `json:"booked"`
	Remaining  int       `json:"remaining"`
	ScheduleID *string   `json:"schedule_id"`
}

// slotBody is a POST /v1/slots body for c from start, 30 minutes long.
func (c catalogIDs) slotBody(start time.Time) map[string]any {
	return map[string]any{
		"provider_id": c.provider, "location_id": c.location, "consultation_type_id": c.ctype,
		"start_at": start.Format(time.RFC3339), "end_at": start.Add(30 * time.Minute).Format(time.RFC3339),
	}
}

// postSlot creates a slot and returns it, failing the test unless 201.
func (e *env) postSlot(authz string, body map[string]any) slotJSON {
	e.t.Helper()
	r := e.do("POST", "/v1/slots", body, authz)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create slot: got %d %s, want 201", r.Status, r.Body)
	}
	var sl slotJSON
	r.decode(e.t, &sl)
	return sl
}

// future is a whole hour at least two days ahead, plus n hours.
func future(n int) time.Time {
	return time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour).Add(time.Duration(n) * time.Hour)
}

func TestCreateSlot(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "America/Los_Angeles")
		la, _ := time.LoadLocation("America/Los_Angeles")
		start := future(0).In(la)
		body := c.slotBody(start)
		body["capacity"] = 2
		sl := e.postSlot(reception, body)
		if !sl.StartAt.Equal(start) || !sl.EndAt.Equal(start.Add(30*time.Minute)) || sl.Capacity != 2 ||
			sl.Status != "open" || sl.Booked != 0 || sl.Remaining != 2 || sl.ScheduleID != nil {
			t.Errorf("created: got %+v", sl)
		}
		if sl.StartAt.Location() != time.UTC {
			t.Errorf("start_at: got %v, want UTC", sl.StartAt)
		}
		r := e.do("GET", "/v1/slots/"+sl.ID, nil, e.token(auth.RoleClinician))
		var got slotJSON
		r.decode(t, &got)
		if r.Status != http.StatusOK || got != sl {
			t.Errorf("GET: got %d %+v, want %+v", r.Status, got, sl)
		}
		if r := e.do("GET", "/v1/slots/0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b", nil, reception); r.Status != http.StatusNotFound {
			t.Errorf("GET unknown: got %d, want 404", r.Status)
		}
		if r := e.do("GET", "/v1/slots/not-a-uuid", nil, reception); r.Status != http.StatusBadRequest {
			t.Errorf("GET bad id: got %d, want 400", r.Status)
		}
	})
}

func TestCreateSlotValidationNamesEveryField(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	reception := e.token(auth.RoleReception)
	c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
	start := future(0)
	valid := c.slotBody(start)
	with := func(kv ...any) map[string]any {
		b := map[string]any{}
		for k, v := range valid {
			b[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(b, kv[i].(string))
			} else {
				b[kv[i].(string)] = kv[i+1]
			}
		}
		return b
	}
	unknown := "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b"
	tests := []struct {
		name string
		body any
		want []string
	}{
		{"empty", map[string]any{}, []string{"provider_id", "location_id", "consultation_type_id", "start_at", "end_at"}},
		{"not uuids", with("provider_id", "x", "location_id", "y", "consultation_type_id", "z"),
			[]string{"provider_id", "location_id", "consultation_type_id"}},
		{"unknown references", with("provider_id", unknown, "location_id", unknown, "consultation_type_id", unknown),
			[]string{"provider_id", "location_id", "consultation_type_id"}},
		{"no offset", with("start_at", "2030-01-01T09:00:00"), []string{"start_at"}},
		{"past", with("start_at", time.Now().Add(-time.Hour).Format(time.RFC3339), "end_at", time.Now().Format(time.RFC3339)), []string{"start_at"}},
		{"end before start", with("end_at", start.Add(-time.Minute).Format(time.RFC3339)), []string{"end_at"}},
		{"end equals start", with("end_at", start.Format(time.RFC3339)), []string{"end_at"}},
		{"too long", with("end_at", start.Add(13*time.Hour).Format(time.RFC3339)), []string{"end_at"}},
		{"capacity", with("capacity", 0), []string{"capacity"}},
		// The unknown provider is a business rule, checked once the schema holds.
		{"capacity and provider", with("capacity", 101, "provider_id", unknown), []string{"capacity"}},
		{"unknown field", with("colour", "red"), []string{"colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/slots", tt.body, reception)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d %s, want 422", r.Status, r.Body)
			}
			got := problemFields(t, r)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields: got %v, want %v", got, want)
			}
		})
	}
}

func TestSlotOverlap(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		admin := e.token(auth.RoleAdmin)
		c := e.seedCatalog(admin, "UTC")
		base := future(0)
		e.postSlot(reception, c.slotBody(base)) // base to base+30m
		tests := []struct {
			name       string
			start, end time.Duration
			want       int
		}{
			{"same", 0, 30 * time.Minute, http.StatusConflict},
			{"inside", 10 * time.Minute, 20 * time.Minute, http.StatusConflict},
			{"straddles start", -15 * time.Minute, 15 * time.Minute, http.StatusConflict},
			{"straddles end", 15 * time.Minute, 45 * time.Minute, http.StatusConflict},
			{"covers", -time.Hour, time.Hour, http.StatusConflict},
			{"touches end", 30 * time.Minute, time.Hour, http.StatusCreated},
			{"touches start", -30 * time.Minute, 0, http.StatusCreated},
		}
		for _, tt := range tests {
			body := c.slotBody(base.Add(tt.start))
			body["end_at"] = base.Add(tt.end).Format(time.RFC3339)
			r := e.do("POST", "/v1/slots", body, reception)
			if r.Status != tt.want {
				t.Errorf("%s: got %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
			}
			if tt.want == http.StatusConflict && r.code() != "slot_overlap" {
				t.Errorf("%s: code %q, want slot_overlap", tt.name, r.code())
			}
		}
		// Another provider is free to use the same time.
		other := e.seedCatalog(admin, "UTC")
		e.postSlot(reception, other.slotBody(base))
	})
}

// Twenty creates for one provider and time race: exactly one wins, the
// others are told slot_overlap, none fails.
func TestConcurrentSlotCreatesOnlyOneWins(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		base := future(3)
		const n = 20
		statuses := make([]int, n)
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Half at the same start, half at overlapping ones.
				r := e.do("POST", "/v1/slots", c.slotBody(base.Add(time.Duration(i%2)*10*time.Minute)), reception)
				statuses[i], codes[i] = r.Status, r.code()
			})
		}
		wg.Wait()
		created, conflicts := 0, 0
		for i, st := range statuses {
			switch {
			case st == http.StatusCreated:
				created++
			case st == http.StatusConflict && codes[i] == "slot_overlap":
				conflicts++
			default:
				t.Errorf("request %d: got %d %q, want 201 or 409 slot_overlap", i, st, codes[i])
			}
		}
		if created != 1 || conflicts != n-1 {
			t.Errorf("got %d created and %d conflicts, want 1 and %d", created, conflicts, n-1)
		}
		r := e.do("GET", "/v1/slots?provider_id="+c.provider, nil, reception)
		var l struct {
			Items []slotJSON `json:"items"`
		}
		r.decode(t, &l)
		if len(l.Items) != 1 {
			t.Errorf("slots stored: got %d, want 1", len(l.Items))
		}
	})
}

func TestSlotRoles(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	reception := e.token(auth.RoleReception)
	clinician := e.token(auth.RoleClinician)
	c := e.seedCatalog(admin, "UTC")
	sl := e.postSlot(admin, c.slotBody(future(0)))
	tests := []struct {
		name, method, path string
		body               any
		authz              string
		want               int
	}{
		{"reception creates", "POST", "/v1/slots", c.slotBody(future(1)), reception, http.StatusCreated},
		{"clinician may not create", "POST", "/v1/slots", c.slotBody(future(2)), clinician, http.StatusForbidden},
		{"anonymous may not create", "POST", "/v1/slots", c.slotBody(future(2)), "", http.StatusUnauthorized},
		{"clinician lists", "GET", "/v1/slots", nil, clinician, http.StatusOK},
		{"clinician reads", "GET", "/v1/slots/" + sl.ID, nil, clinician, http.StatusOK},
		{"anonymous may not list", "GET", "/v1/slots", nil, "", http.StatusUnauthorized},
		{"clinician may not block", "PATCH", "/v1/slots/" + sl.ID, map[string]any{"status": "blocked"}, clinician, http.StatusForbidden},
		{"clinician may not delete", "DELETE", "/v1/slots/" + sl.ID, nil, clinician, http.StatusForbidden},
		{"reception blocks", "PATCH", "/v1/slots/" + sl.ID, map[string]any{"status": "blocked"}, reception, http.StatusOK},
		{"reception deletes", "DELETE", "/v1/slots/" + sl.ID, nil, reception, http.StatusNoContent},
	}
	for _, tt := range tests {
		var headers []string
		if tt.authz != "" {
			headers = append(headers, tt.authz)
		}
		if r := e.do(tt.method, tt.path, tt.body, headers...); r.Status != tt.want {
			t.Errorf("%s: got %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
		}
	}
}

func TestListSlots(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "America/Los_Angeles")
		la, _ := time.LoadLocation("America/Los_Angeles")
		day := time.Now().In(la).AddDate(0, 0, 5)
		y, m, d := day.Date()
		var made []string
		for h := 0; h < 24; h += 2 { // midnight to 22:00 local: crosses the UTC date
			made = append(made, e.postSlot(reception, c.slotBody(time.Date(y, m, d, h, 0, 0, 0, la))).ID)
		}
		e.postSlot(reception, c.slotBody(time.Date(y, m, d+1, 0, 0, 0, 0, la))) // the next local day
		blocked := made[3]
		if r := e.do("PATCH", "/v1/slots/"+blocked, map[string]any{"status": "blocked"}, reception); r.Status != http.StatusOK {
			t.Fatalf("block: %d %s", r.Status, r.Body)
		}
		date := day.Format("2006-01-02")
		page := func(query string) ([]string, string) {
			t.Helper()
			r := e.do("GET", "/v1/slots?"+query, nil, reception)
			if r.Status != http.StatusOK {
				t.Fatalf("GET /v1/slots?%s: got %d %s", query, r.Status, r.Body)
			}
			var l struct {
				Items      []slotJSON `json:"items"`
				NextCursor *string    `json:"next_cursor"`
			}
			r.decode(t, &l)
			var ids []string
			for _, it := range l.Items {
				ids = append(ids, it.ID)
			}
			if l.NextCursor == nil {
				return ids, ""
			}
			return ids, *l.NextCursor
		}
		var all []string
		q := "provider_id=" + c.provider + "&from=" + date + "&to=" + date + "&limit=5"
		cur := ""
		for range 10 {
			ids, next := page(q + cur)
			all = append(all, ids...)
			if next == "" {
				break
			}
			cur = "&cursor=" + next
		}
		if !slices.Equal(all, made) {
			t.Errorf("local day in pages of 5: got %d slots %v, want %d %v", len(all), all, len(made), made)
		}
		if ids, _ := page("status=blocked&location_id=" + c.location); !slices.Equal(ids, []string{blocked}) {
			t.Errorf("status=blocked: got %v, want %v", ids, blocked)
		}
		from := time.Date(y, m, d, 4, 0, 0, 0, la).UTC().Format(time.RFC3339)
		to := time.Date(y, m, d, 8, 0, 0, 0, la).Format(time.RFC3339)
		if ids, _ := page("consultation_type_id=" + c.ctype + "&from=" + from + "&to=" + to); !slices.Equal(ids, made[2:4]) {
			t.Errorf("instants 04:00 to 08:00 (exclusive): got %v, want %v", ids, made[2:4])
		}

		// A parameter that breaks its schema is 400; values that fit it but
		// are refused for what they say are 422.
		bad := []struct {
			query  string
			status int
			field  string
		}{
			{"provider_id=nope", http.StatusBadRequest, "provider_id"},
			{"status=gone", http.StatusBadRequest, "status"},
			{"from=yesterday", http.StatusBadRequest, "from"},
			{"from=2030-01-02&to=2030-01-01", http.StatusUnprocessableEntity, "to"},
			{"cursor=garbage!", http.StatusUnprocessableEntity, "cursor"},
		}
		for _, b := range bad {
			r := e.do("GET", "/v1/slots?"+b.query, nil, reception)
			if r.Status != b.status || !slices.Contains(problemFields(t, r), b.field) {
				t.Errorf("?%s: got %d %s, want %d naming %s", b.query, r.Status, r.Body, b.status, b.field)
			}
		}
	})
}

func TestUpdateSlot(t *testing.T) {
	eachBackendURL(t, func(t *testing.T, e *env, dbURL string) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		body := c.slotBody(future(0))
		body["capacity"] = 3
		sl := e.postSlot(reception, body)
		setBooked(t, dbURL, sl.ID, 2)
		tests := []struct {
			name      string
			body      any
			want      int
			wantCode  string
			wantSlot  slotJSON // capacity, status, remaining after
			wantField string
		}{
			{"below booked", map[string]any{"capacity": 1}, http.StatusConflict, "slot_in_use", slotJSON{Capacity: 3, Status: "open", Remaining: 1}, ""},
			{"below booked and block", map[string]any{"capacity": 1, "status": "blocked"}, http.StatusConflict, "slot_in_use", slotJSON{Capacity: 3, Status: "open", Remaining: 1}, ""},
			{"equal to booked", map[string]any{"capacity": 2}, http.StatusOK, "", slotJSON{Capacity: 2, Status: "open", Remaining: 0}, ""},
			{"block", map[string]any{"status": "blocked"}, http.StatusOK, "", slotJSON{Capacity: 2, Status: "blocked", Remaining: 0}, ""},
			{"reopen and raise", map[string]any{"status": "open", "capacity": 4}, http.StatusOK, "", slotJSON{Capacity: 4, Status: "open", Remaining: 2}, ""},
			{"capacity out of range", map[string]any{"capacity": 0}, http.StatusUnprocessableEntity, "validation_failed", slotJSON{Capacity: 4, Status: "open", Remaining: 2}, "capacity"},
			{"bad status", map[string]any{"status": "closed"}, http.StatusUnprocessableEntity, "validation_failed", slotJSON{Capacity: 4, Status: "open", Remaining: 2}, "status"},
			{"nothing", map[string]any{}, http.StatusUnprocessableEntity, "validation_failed", slotJSON{Capacity: 4, Status: "open", Remaining: 2}, "body"},
			{"start is not patchable", map[string]any{"start_at": "2030-01-01T00:00:00Z"}, http.StatusUnprocessableEntity, "validation_failed", slotJSON{Capacity: 4, Status: "open", Remaining: 2}, "start_at"},
		}
		for _, tt := range tests {
			r := e.do("PATCH", "/v1/slots/"+sl.ID, tt.body, reception)
			if r.Status != tt.want || (tt.wantCode != "" && r.code() != tt.wantCode) {
				t.Errorf("%s: got %d %s, want %d %s", tt.name, r.Status, r.Body, tt.want, tt.wantCode)
			}
			if tt.wantField != "" && !slices.Contains(problemFields(t, r), tt.wantField) {
				t.Errorf("%s: problem does not name %s: %s", tt.name, tt.wantField, r.Body)
			}
			var got slotJSON
			e.do("GET", "/v1/slots/"+sl.ID, nil, reception).decode(t, &got)
			if got.Capacity != tt.wantSlot.Capacity || got.Status != tt.wantSlot.Status || got.Remaining != tt.wantSlot.Remaining || got.Booked != 2 {
				t.Errorf("%s: slot is now capacity %d status %s remaining %d booked %d, want %d %s %d 2", tt.name,
					got.Capacity, got.Status, got.Remaining, got.Booked, tt.wantSlot.Capacity, tt.wantSlot.Status, tt.wantSlot.Remaining)
			}
		}
		if r := e.do("PATCH", "/v1/slots/0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b", map[string]any{"status": "blocked"}, reception); r.Status != http.StatusNotFound {
			t.Errorf("unknown slot: got %d, want 404", r.Status)
		}
	})
}

func TestDeleteSlot(t *testing.T) {
	eachBackendURL(t, func(t *testing.T, e *env, dbURL string) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		free := e.postSlot(reception, c.slotBody(future(0)))
		taken := e.postSlot(reception, c.slotBody(future(1)))
		setBooked(t, dbURL, taken.ID, 1)
		if r := e.do("DELETE", "/v1/slots/"+taken.ID, nil, reception); r.Status != http.StatusConflict || r.code() != "slot_in_use" {
			t.Errorf("occupied: got %d %s, want 409 slot_in_use", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/slots/"+taken.ID, nil, reception); r.Status != http.StatusOK {
			t.Errorf("occupied slot after refused delete: got %d, want 200", r.Status)
		}
		// Blocking is the way out for an occupied slot.
		if r := e.do("PATCH", "/v1/slots/"+taken.ID, map[string]any{"status": "blocked"}, reception); r.Status != http.StatusOK {
			t.Errorf("block occupied: got %d, want 200", r.Status)
		}
		if r := e.do("DELETE", "/v1/slots/"+free.ID, nil, reception); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Errorf("free: got %d %q, want 204 and no body", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/slots/"+free.ID, nil, reception); r.Status != http.StatusNotFound {
			t.Errorf("after delete: got %d, want 404", r.Status)
		}
		if r := e.do("DELETE", "/v1/slots/"+free.ID, nil, reception); r.Status != http.StatusNotFound {
			t.Errorf("second delete: got %d, want 404", r.Status)
		}
		// Its time is free again.
		e.postSlot(reception, c.slotBody(future(0)))
	})
}

// With real bookings: a booked slot keeps its capacity at or above the
// places taken and cannot be deleted; once the booking is cancelled the
// place is free again, but the booking's history still holds the slot.
func TestSlotRulesWithRealBookings(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		body := c.slotBody(future(0))
		body["capacity"] = 2
		sl := e.postSlot(reception, body)
		r := e.do("POST", "/v1/booking-requests", map[string]any{
			"slot_id": sl.ID,
			"patient": map[string]any{"first_name": "Ana", "last_name": "Lopez", "date_of_birth": "1980-04-02",
				"phone": "+14245550123", "email": "ana@example.com"},
			"intake": map[string]any{"red_flags": []string{"none"}, "pain_severity": 7, "relieved_by": []string{"heat_or_ice"},
				"pre_existing_conditions": []string{"herniated_disc"}, "spasm_frequency": "daily",
				"recent_physical_activity": false, "reason": "lower back spasms"},
			"consent": map[string]any{"privacy_policy_accepted": true},
		})
		if r.Status != http.StatusCreated {
			t.Fatalf("booking request: got %d %s", r.Status, r.Body)
		}
		var b struct {
			ID string `json:"id"`
		}
		r.decode(t, &b)
		var got slotJSON
		e.do("GET", "/v1/slots/"+sl.ID, nil, reception).decode(t, &got)
		if got.Booked != 1 || got.Remaining != 1 {
			t.Fatalf("after booking: booked %d remaining %d, want 1 and 1", got.Booked, got.Remaining)
		}
		if r := e.do("PATCH", "/v1/slots/"+sl.ID, map[string]any{"capacity": 1}, reception); r.Status != http.StatusOK {
			t.Errorf("capacity to booked: got %d %s, want 200", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/v1/slots/"+sl.ID, nil, reception); r.Status != http.StatusConflict || r.code() != "slot_in_use" {
			t.Errorf("delete booked: got %d %s, want 409 slot_in_use", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/bookings/"+b.ID+"/cancel", map[string]any{"reason": "feeling better"}, reception); r.Status != http.StatusOK {
			t.Fatalf("cancel: got %d %s", r.Status, r.Body)
		}
		e.do("GET", "/v1/slots/"+sl.ID, nil, reception).decode(t, &got)
		if got.Booked != 0 || got.Remaining != 1 {
			t.Errorf("after cancelling: booked %d remaining %d, want 0 and 1", got.Booked, got.Remaining)
		}
		if r := e.do("DELETE", "/v1/slots/"+sl.ID, nil, reception); r.Status != http.StatusConflict || r.code() != "slot_in_use" {
			t.Errorf("delete with a cancelled booking on record: got %d %s, want 409 slot_in_use", r.Status, r.Body)
		}
	})
}
