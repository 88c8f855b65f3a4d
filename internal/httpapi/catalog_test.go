package httpapi_test

import (
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/storetest"
)

// Helpers of the catalogue, schedule, slot and availability tests.

// eachBackendURL is eachBackend that also hands fn the database URL, for
// tests that reach into the database as the bookings code would.
func eachBackendURL(t *testing.T, fn func(t *testing.T, e *env, dbURL string), opts ...envOption) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			u := b.URL(t)
			fn(t, newEnv(t, u, opts...), u)
		})
	}
}

// setBooked writes a slot's booked counter straight into the database,
// standing in for bookings that occupy it.
func setBooked(t testing.TB, dbURL, slotID string, n int) {
	t.Helper()
	driver, dsn, arg := "pgx", dbURL, "$1"
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn, arg = "sqlite3", "file:"+path+"?_busy_timeout=10000", "?"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	second := strings.Replace(arg, "1", "2", 1)
	if _, err := db.Exec("UPDATE slots SET booked = "+arg+" WHERE id = "+second, n, slotID); err != nil {
		t.Fatalf("set booked: %v", err)
	}
}

// problemFields returns the fields a validation problem names, in order.
func problemFields(t testing.TB, r resp) []string {
	t.Helper()
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	r.decode(t, &p)
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// catalogIDs is a provider, a location and a consultation type made
// through the API.
type catalogIDs struct {
	provider, location, ctype string
}

// seedCatalog creates an active provider, a location in tz and a 30-minute
// consultation type with the admin's authorization header.
func (e *env) seedCatalog(admin, tz string) catalogIDs {
	e.t.Helper()
	id := func(path string, body any) string {
		e.t.Helper()
		r := e.do("POST", path, body, admin)
		if r.Status != http.StatusCreated {
			e.t.Fatalf("POST %s: got %d %s, want 201", path, r.Status, r.Body)
		}
		var v struct {
			ID string `json:"id"`
		}
		r.decode(e.t, &v)
		return v.ID
	}
	return catalogIDs{
		provider: id("/v1/providers", map[string]any{"name": "Dr. Dana Reyes", "title": "Spine surgeon"}),
		location: id("/v1/locations", map[string]any{"name": "Main office", "address": "1 Main St", "timezone": tz}),
		ctype: id("/v1/consultation-types", map[string]any{"name": "Follow-up", "duration_minutes": 30,
			"requires_confirmation": false}),
	}
}

type catalogItem struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Active  bool    `json:"active"`
	StaffID *string `json:"staff_id"`
}

func listIDs(t testing.TB, r resp) []string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("list: got %d %s, want 200", r.Status, r.Body)
	}
	var l struct {
		Items []catalogItem `json:"items"`
	}
	r.decode(t, &l)
	var out []string
	for _, it := range l.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestCatalogueIsPublicToReadAndAdminToWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		reception := e.token(auth.RoleReception)
		for _, kind := range []struct {
			path string
			body map[string]any
		}{
			{"/v1/providers", map[string]any{"name": "Dr. Ana Kim", "title": "Neurosurgeon"}},
			{"/v1/locations", map[string]any{"name": "Telehealth", "address": "", "timezone": "Europe/Berlin"}},
			{"/v1/consultation-types", map[string]any{"name": "Second opinion", "duration_minutes": 60}},
		} {
			t.Run(kind.path, func(t *testing.T) {
				if r := e.do("POST", kind.path, kind.body); r.Status != http.StatusUnauthorized {
					t.Errorf("anonymous POST: got %d, want 401", r.Status)
				}
				if r := e.do("POST", kind.path, kind.body, reception); r.Status != http.StatusForbidden {
					t.Errorf("reception POST: got %d, want 403", r.Status)
				}
				r := e.do("POST", kind.path, kind.body, admin)
				if r.Status != http.StatusCreated {
					t.Fatalf("admin POST: got %d %s, want 201", r.Status, r.Body)
				}
				var it catalogItem
				r.decode(t, &it)
				if got, want := r.Header.Get("Location"), kind.path+"/"+it.ID; got != want {
					t.Errorf("Location: got %q, want %q", got, want)
				}
				if !slices.Contains(listIDs(t, e.do("GET", kind.path, nil)), it.ID) {
					t.Errorf("public list lacks the new item")
				}
				one := kind.path + "/" + it.ID
				if r := e.do("GET", one, nil); r.Status != http.StatusOK {
					t.Errorf("public GET: got %d, want 200", r.Status)
				}

				// Deactivated: hidden from the public, still there for staff.
				if r := e.do("PATCH", one, map[string]any{"active": false}, reception); r.Status != http.StatusForbidden {
					t.Errorf("reception PATCH: got %d, want 403", r.Status)
				}
				if r := e.do("PATCH", one, map[string]any{"active": false}, admin); r.Status != http.StatusOK {
					t.Fatalf("admin PATCH: got %d %s, want 200", r.Status, r.Body)
				}
				if slices.Contains(listIDs(t, e.do("GET", kind.path, nil)), it.ID) {
					t.Errorf("public list shows an inactive item")
				}
				if !slices.Contains(listIDs(t, e.do("GET", kind.path, nil, reception)), it.ID) {
					t.Errorf("staff list lacks the inactive item")
				}
				if r := e.do("GET", one, nil); r.Status != http.StatusNotFound {
					t.Errorf("public GET of inactive: got %d, want 404", r.Status)
				}
				if r := e.do("GET", one, nil, reception); r.Status != http.StatusOK {
					t.Errorf("staff GET of inactive: got %d, want 200", r.Status)
				}
				if r := e.do("GET", kind.path+"/0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b", nil); r.Status != http.StatusNotFound {
					t.Errorf("GET unknown: got %d, want 404", r.Status)
				}
				if r := e.do("PATCH", kind.path+"/0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b", map[string]any{"active": true}, admin); r.Status != http.StatusNotFound {
					t.Errorf("PATCH unknown: got %d, want 404", r.Status)
				}
				if r := e.do("PATCH", one, map[string]any{}, admin); r.Status != http.StatusUnprocessableEntity {
					t.Errorf("empty PATCH: got %d, want 422", r.Status)
				}
			})
		}
	})
}

func TestCatalogueValidationNamesFields(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	long := strings.Repeat("x", 201)
	loc := e.seedCatalog(admin, "UTC").location
	tests := []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"timezone on Mars", "POST", "/v1/locations", map[string]any{"name": "Base", "address": "", "timezone": "Mars/Olympus"}, []string{"timezone"}},
		{"timezone Local", "POST", "/v1/locations", map[string]any{"name": "Base", "address": "", "timezone": "Local"}, []string{"timezone"}},
		{"location name and timezone", "POST", "/v1/locations", map[string]any{"name": " ", "address": "", "timezone": ""}, []string{"name", "timezone"}},
		{"timezone patch", "PATCH", "/v1/locations/" + loc, map[string]any{"timezone": "Mars/Olympus"}, []string{"timezone"}},
		{"provider name", "POST", "/v1/providers", map[string]any{"name": long, "title": long}, []string{"name", "title"}},
		{"provider staff_id not a uuid", "POST", "/v1/providers", map[string]any{"name": "Dr. X", "title": "", "staff_id": "nope"}, []string{"staff_id"}},
		{"provider staff_id unknown", "POST", "/v1/providers", map[string]any{"name": "Dr. X", "title": "", "staff_id": "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b"}, []string{"staff_id"}},
		{"type duration", "POST", "/v1/consultation-types", map[string]any{"name": "Quick", "duration_minutes": 3}, []string{"duration_minutes"}},
		{"type unknown field", "POST", "/v1/consultation-types", map[string]any{"name": "Quick", "duration_minutes": 30, "colour": "red"}, []string{"colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, admin)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d %s, want 422", r.Status, r.Body)
			}
			if got := problemFields(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("fields: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProviderLinkedToStaffShowsStaffIDOnlyToStaff(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	surgeon, _ := e.staff(auth.RoleClinician)
	r := e.do("POST", "/v1/providers", map[string]any{"name": "Dr. Lee", "title": "Spine surgeon", "staff_id": surgeon.ID.String()}, admin)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: got %d %s", r.Status, r.Body)
	}
	var p catalogItem
	r.decode(t, &p)
	if p.StaffID == nil || *p.StaffID != surgeon.ID.String() {
		t.Errorf("created: staff_id got %v, want %v", p.StaffID, surgeon.ID)
	}
	var pub catalogItem
	e.do("GET", "/v1/providers/"+p.ID, nil).decode(t, &pub)
	if pub.StaffID != nil {
		t.Errorf("public view: staff_id got %v, want none", *pub.StaffID)
	}
	var staff catalogItem
	e.do("GET", "/v1/providers/"+p.ID, nil, admin).decode(t, &staff)
	if staff.StaffID == nil {
		t.Errorf("staff view: staff_id missing")
	}
}
