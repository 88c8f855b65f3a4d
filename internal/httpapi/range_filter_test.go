package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
)

// TestRangeOutOfOrderRefusedOnEveryList walks every list of the spec with
// from and to query parameters: a to before from is 422 naming "to" on all
// of them, as days and (where the spec takes them) as instants.
func TestRangeOutOfOrderRefusedOnEveryList(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	type list struct {
		path     string
		instants bool
	}
	var lists []list
	for path, item := range doc.Paths.Map() {
		if item.Get == nil || strings.Contains(path, "{") {
			continue
		}
		var from, to *openapi3.Parameter
		for _, p := range item.Get.Parameters {
			if p.Value.In == "query" && p.Value.Name == "from" {
				from = p.Value
			}
			if p.Value.In == "query" && p.Value.Name == "to" {
				to = p.Value
			}
		}
		if from == nil || to == nil {
			continue
		}
		instants := false
		for _, alt := range from.Schema.Value.OneOf {
			instants = instants || alt.Value.Format == "date-time"
		}
		lists = append(lists, list{path, instants})
	}
	slices.SortFunc(lists, func(a, b list) int { return strings.Compare(a.path, b.path) })
	if len(lists) < 3 {
		t.Fatalf("found from/to lists %v; the spec walk is broken", lists)
	}
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		for _, l := range lists {
			query := "from=2027-01-10&to=2027-01-09"
			if l.path == "/v1/availability" {
				query += "&consultation_type_id=" + uuid.NewString()
			}
			ranges := []string{query}
			if l.instants {
				ranges = append(ranges, "from="+url.QueryEscape("2027-01-10T09:00:00.5Z")+"&to="+url.QueryEscape("2027-01-10T09:00:00.25Z"))
			}
			for _, q := range ranges {
				r := e.do("GET", l.path+"?"+q, nil, admin)
				if r.Status != http.StatusUnprocessableEntity || !slices.Contains(problemFields(t, r), "to") {
					t.Errorf("GET %s?%s: got %d %s, want 422 naming to", l.path, q, r.Status, r.Body)
				}
			}
		}
	})
}

// TestInstantFiltersKeepFractions: a slot starting at 09:00:00 is after
// from=08:59:59.5 and before to=09:00:00.5, but not after from=09:00:00.5
// nor before to=09:00:00: the fraction of a second is not dropped.
func TestInstantFiltersKeepFractions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		ids := e.seedCatalog(admin, "UTC")
		start := time.Now().Add(96 * time.Hour).UTC().Truncate(time.Hour)
		r := e.do("POST", "/v1/slots", map[string]any{
			"provider_id": ids.provider, "location_id": ids.location, "consultation_type_id": ids.ctype,
			"start_at": start.Format(time.RFC3339), "end_at": start.Add(30 * time.Minute).Format(time.RFC3339),
			"capacity": 2,
		}, admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create slot: %d %s", r.Status, r.Body)
		}
		slotID := idOf(t, r)
		b := e.do("POST", "/v1/bookings", with(requestBody(uuid.MustParse(slotID)), "status", "confirmed"), admin)
		if b.Status != http.StatusCreated {
			t.Fatalf("phone booking: %d %s", b.Status, b.Body)
		}
		at := func(d time.Duration) string { return url.QueryEscape(start.Add(d).Format(time.RFC3339Nano)) }
		tests := []struct {
			query string
			want  bool
		}{
			{"from=" + at(-500*time.Millisecond), true},
			{"from=" + at(0), true},
			{"from=" + at(500*time.Millisecond), false},
			{"to=" + at(500*time.Millisecond), true},
			{"to=" + at(0), false},
			{"from=" + at(-250*time.Millisecond) + "&to=" + at(250*time.Millisecond), true},
		}
		for _, list := range []string{"/v1/slots", "/v1/bookings"} {
			for _, tt := range tests {
				r := e.do("GET", list+"?location_id="+ids.location+"&"+tt.query, nil, admin)
				var page struct {
					Items []map[string]any `json:"items"`
				}
				r.decode(t, &page)
				if got := len(page.Items) == 1; r.Status != http.StatusOK || got != tt.want {
					t.Errorf("GET %s?%s: got %d with %d items, want the slot's start listed = %v", list, tt.query, r.Status, len(page.Items), tt.want)
				}
			}
		}
	})
}
