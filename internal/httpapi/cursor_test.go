package httpapi_test

import (
	"encoding/base64"
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

// TestCursorsBoundToTheirList walks every list of the spec that takes a
// cursor and sends it cursors it did not issue: another list's, bad base64,
// bad bytes, a tampered id or key. Each must be 422 naming "cursor", the same
// on SQLite and PostgreSQL (where an id that is not a UUID once reached the
// database and answered 500); the list's own cursor must page on.
func TestCursorsBoundToTheirList(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	var lists []string
	for path, item := range doc.Paths.Map() {
		if item.Get == nil || strings.Contains(path, "{") {
			continue
		}
		for _, p := range item.Get.Parameters {
			if p.Value.In == "query" && p.Value.Name == "cursor" {
				lists = append(lists, path)
			}
		}
	}
	slices.Sort(lists)
	if len(lists) < 3 {
		t.Fatalf("found cursor lists %v; the spec walk is broken", lists)
	}
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		e.token(auth.RoleReception) // a second staff member: the staff list has two pages
		ids := e.seedCatalog(admin, "UTC")
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		for i := range 2 {
			s := start.Add(time.Duration(i) * time.Hour)
			r := e.do("POST", "/v1/slots", map[string]any{
				"provider_id": ids.provider, "location_id": ids.location, "consultation_type_id": ids.ctype,
				"start_at": s.Format(time.RFC3339), "end_at": s.Add(30 * time.Minute).Format(time.RFC3339),
			}, admin)
			if r.Status != http.StatusCreated {
				t.Fatalf("create slot: %d %s", r.Status, r.Body)
			}
		}
		nextOf := func(path string) string {
			r := e.do("GET", path+"?limit=1", nil, admin)
			var page struct {
				NextCursor *string `json:"next_cursor"`
			}
			r.decode(t, &page)
			if r.Status != http.StatusOK || page.NextCursor == nil {
				t.Fatalf("GET %s?limit=1: got %d %s, want 200 with a next_cursor", path, r.Status, r.Body)
			}
			return *page.NextCursor
		}
		staffCursor, slotCursor := nextOf("/v1/staff"), nextOf("/v1/slots")
		raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		own, _ := base64.RawURLEncoding.DecodeString(slotCursor)
		parts := strings.Split(string(own), "|")
		if len(parts) != 3 {
			t.Fatalf("slot cursor %q: want three parts", own)
		}
		for _, path := range lists {
			other := staffCursor
			if path == "/v1/staff" {
				other = slotCursor
			}
			bad := map[string]string{
				"another list's cursor": other,
				"not base64":            "!!!not-a-cursor!!!",
				"bad bytes":             raw("\xff\x00|x|y"),
				"no parts":              raw("hello"),
				"id not a UUID":         raw(parts[0] + "|" + parts[1] + "|1' OR '1'='1"),
				"key not a key":         raw(parts[0] + "|not-a-key|" + uuid.NewString()),
				"this list, bad id":     raw(strings.TrimPrefix(path, "/v1/") + "|" + parts[1] + "|x"),
			}
			for what, c := range bad {
				r := e.do("GET", path+"?cursor="+url.QueryEscape(c), nil, admin)
				if r.Status != http.StatusUnprocessableEntity || !slices.Contains(problemFields(t, r), "cursor") {
					t.Errorf("GET %s with %s: got %d %s, want 422 naming cursor", path, what, r.Status, r.Body)
				}
			}
		}
		r := e.do("GET", "/v1/slots?limit=1&cursor="+url.QueryEscape(slotCursor), nil, admin)
		if r.Status != http.StatusOK {
			t.Errorf("the slot list's own cursor: got %d %s, want 200", r.Status, r.Body)
		}
	})
}
