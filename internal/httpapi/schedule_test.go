package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

type scheduleJSON struct {
	ID          string `json:"id"`
	SlotMinutes int    `json:"slot_minutes"`
	Capacity    int    `json:"capacity"`
	ValidFrom   string `json:"valid_from"`
	ValidTo     string `json:"valid_to"`
	Active      bool   `json:"active"`
	// GeneratedThrough is null until the schedule has been generated.
	GeneratedThrough *string `json:"generated_through"`
	Windows          []struct {
		Weekday, Start, End string
	} `json:"windows"`
}

type window struct{ weekday, start, end string }

// scheduleBody is a POST /v1/schedules body for c.
func (c catalogIDs) scheduleBody(minutes int, from, to string, ws ...window) map[string]any {
	var out []map[string]string
	for _, w := range ws {
		out = append(out, map[string]string{"weekday": w.weekday, "start": w.start, "end": w.end})
	}
	return map[string]any{
		"provider_id": c.provider, "location_id": c.location, "consultation_type_id": c.ctype,
		"slot_minutes": minutes, "valid_from": from, "valid_to": to, "windows": out,
	}
}

// postSchedule creates a schedule and returns its id, failing unless 201.
func (e *env) postSchedule(authz string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/v1/schedules", body, authz)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create schedule: got %d %s, want 201", r.Status, r.Body)
	}
	var sc scheduleJSON
	r.decode(e.t, &sc)
	return sc.ID
}

// handGenerationOnly is a booking window too short (3h) to reach the
// days the tests generate by hand, so that creating a schedule, which
// generates MaxAdvance ahead, makes none of their slots itself.
func handGenerationOnly(o *httpapi.Options, _ *auth.Options) { o.Policy.MaxAdvance = 3 * time.Hour }

type generated struct {
	Created int `json:"created"`
	Skipped int `json:"skipped"`
}

// generate calls the generate route and returns its counts, failing unless
// 200.
func (e *env) generate(authz, id, from, to string) generated {
	e.t.Helper()
	r := e.do("POST", "/v1/schedules/"+id+"/generate", map[string]string{"from": from, "to": to}, authz)
	if r.Status != http.StatusOK {
		e.t.Fatalf("generate %s..%s: got %d %s, want 200", from, to, r.Status, r.Body)
	}
	var g generated
	r.decode(e.t, &g)
	return g
}

// slotStarts lists the provider's slots starting on the local day date, as
// RFC 3339 local times in loc.
func (e *env) slotStarts(authz, provider, date string, loc *time.Location) []string {
	e.t.Helper()
	r := e.do("GET", "/v1/slots?limit=200&provider_id="+provider+"&from="+date+"&to="+date, nil, authz)
	if r.Status != http.StatusOK {
		e.t.Fatalf("list slots: got %d %s", r.Status, r.Body)
	}
	var l struct {
		Items []slotJSON `json:"items"`
	}
	r.decode(e.t, &l)
	var out []string
	for _, sl := range l.Items {
		out = append(out, sl.StartAt.In(loc).Format(time.RFC3339)+"/"+sl.EndAt.Sub(sl.StartAt).String())
	}
	return out
}

// Generation keeps windows at their local wall-clock times across DST
// changes: 09:00 is 09:00 local on both sides, a start in the skipped
// spring hour is left out, and the repeated autumn hour yields no second
// slot at any wall time.
func TestGenerateAcrossDST(t *testing.T) {
	tests := []struct {
		name, zone string
		night      window // a window around the change, each day
		from, to   string
		want       map[string][]string // local day -> starts/durations
	}{
		{
			name: "Los Angeles spring forward", zone: "America/Los_Angeles",
			night: window{"", "01:00", "03:00"}, from: "2027-03-13", to: "2027-03-15",
			want: map[string][]string{
				"2027-03-13": {"2027-03-13T01:00:00-08:00/30m0s", "2027-03-13T01:30:00-08:00/30m0s", "2027-03-13T02:00:00-08:00/30m0s", "2027-03-13T02:30:00-08:00/30m0s", "2027-03-13T09:00:00-08:00/30m0s", "2027-03-13T09:30:00-08:00/30m0s"},
				// 02:00 and 02:30 do not exist; 09:00 is still 09:00.
				"2027-03-14": {"2027-03-14T01:00:00-08:00/30m0s", "2027-03-14T01:30:00-08:00/30m0s", "2027-03-14T09:00:00-07:00/30m0s", "2027-03-14T09:30:00-07:00/30m0s"},
				"2027-03-15": {"2027-03-15T01:00:00-07:00/30m0s", "2027-03-15T01:30:00-07:00/30m0s", "2027-03-15T02:00:00-07:00/30m0s", "2027-03-15T02:30:00-07:00/30m0s", "2027-03-15T09:00:00-07:00/30m0s", "2027-03-15T09:30:00-07:00/30m0s"},
			},
		},
		{
			name: "Los Angeles fall back", zone: "America/Los_Angeles",
			night: window{"", "01:00", "03:00"}, from: "2027-11-06", to: "2027-11-08",
			want: map[string][]string{
				"2027-11-06": {"2027-11-06T01:00:00-07:00/30m0s", "2027-11-06T01:30:00-07:00/30m0s", "2027-11-06T02:00:00-07:00/30m0s", "2027-11-06T02:30:00-07:00/30m0s", "2027-11-06T09:00:00-07:00/30m0s", "2027-11-06T09:30:00-07:00/30m0s"},
				// 01:00 and 01:30 once, at their first (daylight) occurrence.
				"2027-11-07": {"2027-11-07T01:00:00-07:00/30m0s", "2027-11-07T01:30:00-07:00/30m0s", "2027-11-07T02:00:00-08:00/30m0s", "2027-11-07T02:30:00-08:00/30m0s", "2027-11-07T09:00:00-08:00/30m0s", "2027-11-07T09:30:00-08:00/30m0s"},
				"2027-11-08": {"2027-11-08T01:00:00-08:00/30m0s", "2027-11-08T01:30:00-08:00/30m0s", "2027-11-08T02:00:00-08:00/30m0s", "2027-11-08T02:30:00-08:00/30m0s", "2027-11-08T09:00:00-08:00/30m0s", "2027-11-08T09:30:00-08:00/30m0s"},
			},
		},
		{
			name: "Berlin spring forward", zone: "Europe/Berlin",
			night: window{"", "02:00", "04:00"}, from: "2027-03-27", to: "2027-03-29",
			want: map[string][]string{
				"2027-03-27": {"2027-03-27T02:00:00+01:00/30m0s", "2027-03-27T02:30:00+01:00/30m0s", "2027-03-27T03:00:00+01:00/30m0s", "2027-03-27T03:30:00+01:00/30m0s", "2027-03-27T09:00:00+01:00/30m0s", "2027-03-27T09:30:00+01:00/30m0s"},
				"2027-03-28": {"2027-03-28T03:00:00+02:00/30m0s", "2027-03-28T03:30:00+02:00/30m0s", "2027-03-28T09:00:00+02:00/30m0s", "2027-03-28T09:30:00+02:00/30m0s"},
				"2027-03-29": {"2027-03-29T02:00:00+02:00/30m0s", "2027-03-29T02:30:00+02:00/30m0s", "2027-03-29T03:00:00+02:00/30m0s", "2027-03-29T03:30:00+02:00/30m0s", "2027-03-29T09:00:00+02:00/30m0s", "2027-03-29T09:30:00+02:00/30m0s"},
			},
		},
		{
			name: "Berlin fall back", zone: "Europe/Berlin",
			night: window{"", "02:00", "04:00"}, from: "2027-10-30", to: "2027-11-01",
			want: map[string][]string{
				"2027-10-30": {"2027-10-30T02:00:00+02:00/30m0s", "2027-10-30T02:30:00+02:00/30m0s", "2027-10-30T03:00:00+02:00/30m0s", "2027-10-30T03:30:00+02:00/30m0s", "2027-10-30T09:00:00+02:00/30m0s", "2027-10-30T09:30:00+02:00/30m0s"},
				// 02:00-03:00 happens twice; each start is made once.
				"2027-10-31": {"2027-10-31T02:00:00+02:00/30m0s", "2027-10-31T02:30:00+02:00/30m0s", "2027-10-31T03:00:00+01:00/30m0s", "2027-10-31T03:30:00+01:00/30m0s", "2027-10-31T09:00:00+01:00/30m0s", "2027-10-31T09:30:00+01:00/30m0s"},
				"2027-11-01": {"2027-11-01T02:00:00+01:00/30m0s", "2027-11-01T02:30:00+01:00/30m0s", "2027-11-01T03:00:00+01:00/30m0s", "2027-11-01T03:30:00+01:00/30m0s", "2027-11-01T09:00:00+01:00/30m0s", "2027-11-01T09:30:00+01:00/30m0s"},
			},
		},
	}
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		reception := e.token(auth.RoleReception)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				loc, err := time.LoadLocation(tt.zone)
				if err != nil {
					t.Fatal(err)
				}
				c := e.seedCatalog(admin, tt.zone)
				var ws []window
				for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
					ws = append(ws, window{d, tt.night.start, tt.night.end}, window{d, "09:00", "10:00"})
				}
				id := e.postSchedule(reception, c.scheduleBody(30, "2027-01-01", "2027-12-31", ws...))
				total := 0
				for _, starts := range tt.want {
					total += len(starts)
				}
				if got, want := e.generate(reception, id, tt.from, tt.to), (generated{Created: total}); got != want {
					t.Errorf("first generate: got %+v, want %+v", got, want)
				}
				for day, want := range tt.want {
					got := e.slotStarts(reception, c.provider, day, loc)
					if !slices.Equal(got, want) {
						t.Errorf("%s:\n got %v\nwant %v", day, got, want)
					}
				}
				if got, want := e.generate(reception, id, tt.from, tt.to), (generated{Skipped: total}); got != want {
					t.Errorf("second generate: got %+v, want %+v", got, want)
				}
			})
		}
	}, handGenerationOnly)
}

func TestGenerateSkipsExistingAndOverlappingSlots(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "America/Los_Angeles")
		la, _ := time.LoadLocation("America/Los_Angeles")
		// Next week's Monday to Friday, 09:00-12:00 in 45-minute slots (4 a day).
		monday := time.Now().In(la).AddDate(0, 0, 7)
		for monday.Weekday() != time.Monday {
			monday = monday.AddDate(0, 0, 1)
		}
		y, m, d := monday.Date()
		from, to := monday.Format("2006-01-02"), monday.AddDate(0, 0, 6).Format("2006-01-02")
		var ws []window
		for _, wd := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
			ws = append(ws, window{wd, "09:00", "12:00"})
		}
		id := e.postSchedule(reception, c.scheduleBody(45, from, to, ws...))
		// A slot by hand on Monday 10:00-10:30 overlaps the 09:45-10:30
		// occurrence only: the 10:30 one starts when it ends.
		e.postSlot(reception, c.slotBody(time.Date(y, m, d, 10, 0, 0, 0, la)))
		if got, want := e.generate(reception, id, from, to), (generated{Created: 19, Skipped: 1}); got != want {
			t.Errorf("first: got %+v, want %+v", got, want)
		}
		if got, want := e.generate(reception, id, from, to), (generated{Created: 0, Skipped: 20}); got != want {
			t.Errorf("second: got %+v, want %+v", got, want)
		}
		// A wider range adds only the new days; validity clips it.
		if got, want := e.generate(reception, id, from, monday.AddDate(0, 0, 30).Format("2006-01-02")), (generated{Created: 0, Skipped: 20}); got != want {
			t.Errorf("wider: got %+v, want %+v", got, want)
		}
		starts := e.slotStarts(reception, c.provider, from, la)
		want := []string{
			monday.Format("2006-01-02") + "T09:00:00" + zoneOffset(monday) + "/45m0s",
			monday.Format("2006-01-02") + "T10:00:00" + zoneOffset(monday) + "/30m0s",
			monday.Format("2006-01-02") + "T10:30:00" + zoneOffset(monday) + "/45m0s",
			monday.Format("2006-01-02") + "T11:15:00" + zoneOffset(monday) + "/45m0s",
		}
		if !slices.Equal(starts, want) {
			t.Errorf("Monday:\n got %v\nwant %v", starts, want)
		}
	}, handGenerationOnly)
}

func zoneOffset(t time.Time) string { return t.Format("-07:00") }

func TestScheduleCRUDAndRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		reception := e.token(auth.RoleReception)
		clinician := e.token(auth.RoleClinician)
		c := e.seedCatalog(admin, "Europe/Berlin")
		body := c.scheduleBody(45, "2027-01-01", "2027-03-31", window{"monday", "09:00", "12:00"}, window{"saturday", "20:00", "24:00"})
		if r := e.do("POST", "/v1/schedules", body, clinician); r.Status != http.StatusForbidden {
			t.Errorf("clinician create: got %d, want 403", r.Status)
		}
		if r := e.do("GET", "/v1/schedules", nil, clinician); r.Status != http.StatusForbidden {
			t.Errorf("clinician list: got %d, want 403", r.Status)
		}
		r := e.do("POST", "/v1/schedules", body, reception)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: got %d %s", r.Status, r.Body)
		}
		var sc scheduleJSON
		r.decode(t, &sc)
		if sc.Capacity != 1 || !sc.Active || sc.ValidTo != "2027-03-31" || len(sc.Windows) != 2 || sc.Windows[1].End != "24:00" {
			t.Errorf("created: got %+v", sc)
		}
		if got := r.Header.Get("Location"); got != "/v1/schedules/"+sc.ID {
			t.Errorf("Location: got %q", got)
		}
		var got scheduleJSON
		if r := e.do("GET", "/v1/schedules/"+sc.ID, nil, admin); r.Status != http.StatusOK {
			t.Errorf("get: got %d", r.Status)
		} else {
			r.decode(t, &got)
		}
		if got.ID != sc.ID || got.SlotMinutes != 45 {
			t.Errorf("get: got %+v, want %+v", got, sc)
		}
		r = e.do("PATCH", "/v1/schedules/"+sc.ID, map[string]any{"capacity": 2, "valid_to": "2027-06-30",
			"windows": []map[string]string{{"weekday": "tuesday", "start": "13:30", "end": "17:00"}}}, reception)
		if r.Status != http.StatusOK {
			t.Fatalf("patch: got %d %s", r.Status, r.Body)
		}
		r.decode(t, &got)
		if got.Capacity != 2 || got.ValidTo != "2027-06-30" || len(got.Windows) != 1 || got.Windows[0].Weekday != "tuesday" {
			t.Errorf("patched: got %+v", got)
		}
		r = e.do("PATCH", "/v1/schedules/"+sc.ID, map[string]any{"valid_to": "2026-01-01"}, reception)
		if r.Status != http.StatusUnprocessableEntity || !slices.Equal(problemFields(t, r), []string{"valid_to"}) {
			t.Errorf("valid_to before valid_from: got %d %s, want 422 on valid_to", r.Status, r.Body)
		}
		var l struct {
			Items      []scheduleJSON `json:"items"`
			NextCursor *string        `json:"next_cursor"`
		}
		e.do("GET", "/v1/schedules", nil, reception).decode(t, &l)
		if len(l.Items) != 1 || l.NextCursor != nil {
			t.Errorf("list: got %+v", l)
		}
		// Inactive schedules generate nothing: 409.
		e.do("PATCH", "/v1/schedules/"+sc.ID, map[string]any{"active": false}, reception)
		r = e.do("POST", "/v1/schedules/"+sc.ID+"/generate", map[string]string{"from": "2027-01-01", "to": "2027-01-31"}, reception)
		if r.Status != http.StatusConflict {
			t.Errorf("generate inactive: got %d %s, want 409", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/v1/schedules/"+sc.ID, nil, reception); r.Status != http.StatusNoContent {
			t.Errorf("delete: got %d, want 204", r.Status)
		}
		for _, method := range []string{"GET", "DELETE"} {
			if r := e.do(method, "/v1/schedules/"+sc.ID, nil, reception); r.Status != http.StatusNotFound {
				t.Errorf("%s after delete: got %d, want 404", method, r.Status)
			}
		}
		r = e.do("POST", "/v1/schedules/"+sc.ID+"/generate", map[string]string{"from": "2027-01-01", "to": "2027-01-31"}, reception)
		if r.Status != http.StatusNotFound {
			t.Errorf("generate deleted: got %d, want 404", r.Status)
		}
	})
}

func TestScheduleValidationNamesEveryField(t *testing.T) {
	e := newEnv(t, sqliteURL(t), handGenerationOnly)
	admin := e.token(auth.RoleAdmin)
	c := e.seedCatalog(admin, "UTC")
	id := e.postSchedule(admin, c.scheduleBody(30, "2027-01-01", "2027-12-31", window{"monday", "09:00", "12:00"}))
	unknown := "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b"
	bad := c.scheduleBody(3, "2027-02-30", "2027-01-01",
		window{"monday", "09:00", "12:00"}, window{"funday", "25:00", "09:00"}, window{"monday", "11:00", "13:00"})
	bad["provider_id"] = unknown
	bad["capacity"] = 0
	tests := []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"create, every field", "POST", "/v1/schedules", bad,
			// The schema's findings; the unknown provider and the windows
			// that overlap are business rules, checked once the schema holds.
			[]string{"capacity", "slot_minutes", "valid_from", "windows[1].weekday", "windows[1].start"}},
		{"overlapping windows and short window", "POST", "/v1/schedules",
			c.scheduleBody(60, "2027-01-01", "2027-12-31", window{"monday", "09:00", "12:00"}, window{"monday", "11:00", "13:00"}, window{"friday", "09:00", "09:30"}),
			[]string{"windows[1].start", "windows[2].end"}},
		{"no windows", "POST", "/v1/schedules", c.scheduleBody(30, "2027-01-01", "2027-12-31"), []string{"windows"}},
		{"generate over a year", "POST", "/v1/schedules/" + id + "/generate", map[string]string{"from": "2027-01-01", "to": "2028-01-02"}, []string{"to"}},
		{"generate backwards", "POST", "/v1/schedules/" + id + "/generate", map[string]string{"from": "2027-02-01", "to": "2027-01-31"}, []string{"to"}},
		{"generate bad dates", "POST", "/v1/schedules/" + id + "/generate", map[string]string{"from": "01/02/2027", "to": ""}, []string{"from", "to"}},
		{"patch bad window", "PATCH", "/v1/schedules/" + id, map[string]any{"windows": []map[string]string{{"weekday": "monday", "start": "9am", "end": "12:00"}}}, []string{"windows[0].start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, admin)
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
	if got, want := e.generate(admin, id, "2027-01-01", "2028-01-01"), 52*3*2; got.Created != want {
		t.Errorf("a full 366-day range: created %d, want %d", got.Created, want)
	}
}

// Creating a schedule makes its slots through MAX_ADVANCE ahead at once;
// widening it makes the new days at once too.
func TestCreateScheduleGeneratesAhead(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		c := e.seedCatalog(admin, "Asia/Tokyo")
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		now := time.Now()
		day := func(d int) string { return now.In(tokyo).AddDate(0, 0, d).Format("2006-01-02") }
		through := now.Add(testPolicy.MaxAdvance).In(tokyo).Format("2006-01-02")
		var ws []window
		for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
			ws = append(ws, window{d, "23:00", "24:00"}) // late, so that today's are still ahead
		}
		r := e.do("POST", "/v1/schedules", c.scheduleBody(30, day(-1), day(400), ws...), admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: got %d %s", r.Status, r.Body)
		}
		var sc scheduleJSON
		r.decode(t, &sc)
		if sc.GeneratedThrough == nil || *sc.GeneratedThrough != through {
			t.Errorf("generated_through: got %v, want %s", sc.GeneratedThrough, through)
		}
		for _, tt := range []struct {
			day  string
			want int
		}{{day(1), 2}, {through, 2}, {day(121), 0}} {
			if got := len(e.slotStarts(admin, c.provider, tt.day, tokyo)); got != tt.want {
				t.Errorf("slots on %s: got %d, want %d", tt.day, got, tt.want)
			}
		}
		// By hand over the same days: all there already.
		if got := e.generate(admin, sc.ID, day(1), through); got.Created != 0 {
			t.Errorf("generate by hand after creation: created %d, want 0", got.Created)
		}

		// A schedule valid for ten days, extended to thirty: the new days
		// come with the change.
		c2 := e.seedCatalog(admin, "Asia/Tokyo")
		id := e.postSchedule(admin, c2.scheduleBody(30, day(0), day(10), ws...))
		if got := len(e.slotStarts(admin, c2.provider, day(20), tokyo)); got != 0 {
			t.Errorf("slots on day 20 before the change: got %d, want 0", got)
		}
		r = e.do("PATCH", "/v1/schedules/"+id, map[string]any{"valid_to": day(30)}, admin)
		if r.Status != http.StatusOK {
			t.Fatalf("patch: got %d %s", r.Status, r.Body)
		}
		r.decode(t, &sc)
		if sc.GeneratedThrough == nil || *sc.GeneratedThrough != day(30) {
			t.Errorf("generated_through after the change: got %v, want %s", sc.GeneratedThrough, day(30))
		}
		if got := len(e.slotStarts(admin, c2.provider, day(20), tokyo)); got != 2 {
			t.Errorf("slots on day 20 after the change: got %d, want 2", got)
		}
	})
}
