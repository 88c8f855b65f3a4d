package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
)

// The public catalogue answers in the language asked for (?locale=, else
// Accept-Language), from the translations an admin set; English where there
// is none.
func TestCatalogueTranslations(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		ids := e.seedCatalog(admin, "America/Los_Angeles")
		typePath, locPath := "/v1/consultation-types/"+ids.ctype, "/v1/locations/"+ids.location
		if r := e.do("PATCH", typePath, map[string]any{"description": "A short visit.",
			"translations": map[string]any{"es": map[string]any{"name": "Seguimiento", "description": "Una visita corta."}}}, admin); r.Status != http.StatusOK {
			t.Fatalf("PATCH type: got %d %s, want 200", r.Status, r.Body)
		}
		if r := e.do("PATCH", locPath, map[string]any{"phone": "+1 424 555 0100", "opening_hours": "Mon-Fri 8:00-17:00",
			"translations": map[string]any{"es": map[string]any{"name": "Consultorio principal"}}}, admin); r.Status != http.StatusOK {
			t.Fatalf("PATCH location: got %d %s, want 200", r.Status, r.Body)
		}
		type item struct {
			ID, Name, Description, Phone string
			OpeningHours                 string `json:"opening_hours"`
		}
		one := func(path string, headers ...string) item {
			t.Helper()
			r := e.do("GET", path, nil, headers...)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: got %d %s, want 200", path, r.Status, r.Body)
			}
			var it item
			r.decode(t, &it)
			return it
		}
		listed := func(path, id string, headers ...string) item {
			t.Helper()
			r := e.do("GET", path, nil, headers...)
			var l struct{ Items []item }
			r.decode(t, &l)
			for _, it := range l.Items {
				if it.ID == id {
					return it
				}
			}
			t.Fatalf("GET %s: %s not listed", path, id)
			return item{}
		}
		tests := []struct {
			name, path  string
			headers     []string
			wantType    item
			wantLocName string
		}{
			{"default", "", nil, item{Name: "Follow-up", Description: "A short visit."}, "Main office"},
			{"Accept-Language es", "", []string{"Accept-Language: es-MX,es;q=0.9,en;q=0.8"},
				item{Name: "Seguimiento", Description: "Una visita corta."}, "Consultorio principal"},
			{"locale=es", "?locale=es", []string{"Accept-Language: en"},
				item{Name: "Seguimiento", Description: "Una visita corta."}, "Consultorio principal"},
			{"locale=en beats Accept-Language", "?locale=en", []string{"Accept-Language: es"},
				item{Name: "Follow-up", Description: "A short visit."}, "Main office"},
		}
		for _, tt := range tests {
			for _, got := range []item{one(typePath+tt.path, tt.headers...), listed("/v1/consultation-types"+tt.path, ids.ctype, tt.headers...)} {
				if got.Name != tt.wantType.Name || got.Description != tt.wantType.Description {
					t.Errorf("%s: type got %q / %q, want %q / %q", tt.name, got.Name, got.Description, tt.wantType.Name, tt.wantType.Description)
				}
			}
			for _, got := range []item{one(locPath+tt.path, tt.headers...), listed("/v1/locations"+tt.path, ids.location, tt.headers...)} {
				if got.Name != tt.wantLocName {
					t.Errorf("%s: location got %q, want %q", tt.name, got.Name, tt.wantLocName)
				}
				if got.Phone != "+14245550100" || got.OpeningHours != "Mon-Fri 8:00-17:00" {
					t.Errorf("%s: location phone %q, hours %q", tt.name, got.Phone, got.OpeningHours)
				}
			}
		}
		if r := e.do("GET", "/v1/consultation-types?locale=fr", nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("locale=fr: got %d, want 422", r.Status)
		}
	})
}

func TestCatalogueTranslationsAndPhoneAreValidated(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	ids := e.seedCatalog(admin, "UTC")
	tests := []struct {
		name, path string
		body       map[string]any
		want       []string
	}{
		{"phone not E.164", "/v1/locations/" + ids.location, map[string]any{"phone": "555-0100"}, []string{"phone"}},
		{"opening hours on two lines", "/v1/locations/" + ids.location, map[string]any{"opening_hours": "Mon\nTue"}, []string{"opening_hours"}},
		{"unknown language", "/v1/consultation-types/" + ids.ctype, map[string]any{"translations": map[string]any{"fr": map[string]any{"name": "Suivi"}}}, []string{"translations.fr"}},
	}
	for _, tt := range tests {
		r := e.do("PATCH", tt.path, tt.body, admin)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %d %s, want 422", tt.name, r.Status, r.Body)
			continue
		}
		checkFields(t, r, tt.want)
	}
}

// A booking records its language: the body's locale, else Accept-Language,
// else English; the patient's view carries it with the number to call.
func TestBookingRecordsItsLocale(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		tests := []struct {
			name    string
			locale  any
			headers []string
			want    string
		}{
			{"default", nil, nil, "en"},
			{"Accept-Language", nil, []string{"Accept-Language: es-419,es;q=0.9"}, "es"},
			{"body beats header", "en", []string{"Accept-Language: es"}, "en"},
			{"body", "es", nil, "es"},
		}
		for _, tt := range tests {
			body := requestBody(k.slot(t, slotOpts{}))
			if tt.locale != nil {
				body["locale"] = tt.locale
			}
			r := e.do("POST", "/v1/booking-requests", body, tt.headers...)
			if r.Status != http.StatusCreated {
				t.Fatalf("%s: got %d %s, want 201", tt.name, r.Status, r.Body)
			}
			var c created
			r.decode(t, &c)
			var view struct {
				Locale      string  `json:"locale"`
				ClinicPhone *string `json:"clinic_phone"`
			}
			e.do("GET", "/v1/booking-requests/"+c.Reference, nil, c.token()).decode(t, &view)
			if view.Locale != tt.want {
				t.Errorf("%s: got locale %q, want %q", tt.name, view.Locale, tt.want)
			}
			if view.ClinicPhone == nil || *view.ClinicPhone != "+14245550199" {
				t.Errorf("%s: got clinic_phone %v, want the clinic's +14245550199", tt.name, view.ClinicPhone)
			}
		}
		body := requestBody(k.slot(t, slotOpts{}))
		body["locale"] = "fr"
		r := e.do("POST", "/v1/booking-requests", body)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("locale fr: got %d %s, want 422", r.Status, r.Body)
		}
		checkFields(t, r, []string{"locale"})
	}, noRateLimit, func(o *httpapi.Options, _ *auth.Options) { o.ClinicPhone = "+14245550199" })
}

func TestBookingPolicyCarriesClinicContact(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.ClinicPhone, o.PrivacyPolicyURL = "+14245550199", "https://clinic.example/privacy"
	})
	var p struct {
		ClinicPhone      *string `json:"clinic_phone"`
		PrivacyPolicyURL *string `json:"privacy_policy_url"`
	}
	e.do("GET", "/v1/booking-policy", nil).decode(t, &p)
	if p.ClinicPhone == nil || *p.ClinicPhone != "+14245550199" || p.PrivacyPolicyURL == nil || *p.PrivacyPolicyURL != "https://clinic.example/privacy" {
		t.Errorf("got clinic_phone %v, privacy_policy_url %v", p.ClinicPhone, p.PrivacyPolicyURL)
	}
}

// The next free times carry their consultation type's and location's names
// in the requested language.
func TestNextAvailabilityNamesInTheRequestedLanguage(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		ctx := context.Background()
		if _, err := e.Store.UpdateConsultationType(ctx, k.instant, func(ct *booking.ConsultationType) error {
			ct.Translations = booking.Translations{"es": {Name: "Primera consulta"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.UpdateLocation(ctx, k.location, func(l *booking.Location) error {
			l.Translations = booking.Translations{"es": {Name: "Consultorio principal"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		k.slot(t, slotOpts{typeID: k.instant})
		tests := []struct {
			query, header          string
			wantType, wantLocation string
		}{
			{"", "", "New patient consultation", "Main office"},
			{"&locale=es", "", "Primera consulta", "Consultorio principal"},
			{"", "Accept-Language: es-US,es;q=0.9", "Primera consulta", "Consultorio principal"},
		}
		for _, tt := range tests {
			var got struct {
				Slots []struct {
					ConsultationTypeName string `json:"consultation_type_name"`
					LocationName         string `json:"location_name"`
				} `json:"slots"`
			}
			r := e.do("GET", "/v1/availability/next?consultation_type_id="+k.instant.String()+tt.query, nil, tt.header)
			if r.Status != http.StatusOK {
				t.Fatalf("%q: got %d %s", tt.query, r.Status, r.Body)
			}
			r.decode(t, &got)
			if len(got.Slots) != 1 || got.Slots[0].ConsultationTypeName != tt.wantType || got.Slots[0].LocationName != tt.wantLocation {
				t.Errorf("%q %q: got %+v, want %q at %q", tt.query, tt.header, got.Slots, tt.wantType, tt.wantLocation)
			}
		}
	})
}

// An answer to a request without Origin (the hosted pages' own) says it
// varies by Origin: a browser that cached it must not hand it, without
// Access-Control-Allow-Origin, to the widget on the clinic's website.
func TestAnswersVaryByOrigin(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{"https://www.clinic.example"}
	})
	for _, origin := range []string{"", "Origin: https://www.clinic.example"} {
		r := e.do("GET", "/v1/booking-policy", nil, origin)
		if got := r.Header.Values("Vary"); !slices.Contains(got, "Origin") {
			t.Errorf("%q: Vary %q, want Origin in it", origin, got)
		}
	}
}
