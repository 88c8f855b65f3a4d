package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// TestEveryRouteRefusesUnknownQueryParameters walks every /v1 route the
// server serves and sends it a query parameter it does not know, and every
// route that pages (it declares limit) limits outside 1..200: each answers
// 400 invalid_parameter naming the parameter, before doing anything else.
func TestEveryRouteRefusesUnknownQueryParameters(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	doc, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	paging := map[string]bool{}
	maxLimit := map[string]int{} // the largest limit each route declares
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.In == "query" && p.Value.Name == "limit" {
					paging[method+" "+path] = true
					maxLimit[method+" "+path] = 200
					if s := p.Value.Schema; s != nil && s.Value.Max != nil {
						maxLimit[method+" "+path] = int(*s.Value.Max)
					}
				}
			}
		}
	}
	// The lists of the API: each must page with limit.
	for _, route := range []string{"GET /v1/bookings", "GET /v1/slots", "GET /v1/schedules", "GET /v1/staff", "GET /v1/audit-events"} {
		if !paging[route] {
			t.Errorf("%s does not declare limit", route)
		}
	}
	routes := 0
	for key := range httpapi.AccessControl() {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		routes++
		specPath := path
		parts := strings.Split(path, "/")
		for i, s := range parts {
			if strings.HasPrefix(s, ":") {
				specPath = strings.Replace(specPath, s, "{"+s[1:]+"}", 1)
				parts[i] = "0b1d6f3e-8a7c-4e2b-9f10-2c3d4e5f6a7b"
				if s == ":reference" {
					parts[i] = "K7QM-4T2P"
				}
			}
		}
		url := strings.Join(parts, "/")
		type probe struct {
			query string
			bad   []string // parameters the answer must name; nil: not a 400
		}
		probes := []probe{{"?no_such_param=1", []string{"no_such_param"}}, {"?Limit=5&statuss=x", []string{"Limit", "statuss"}}}
		if paging[method+" "+specPath] {
			most := maxLimit[method+" "+specPath]
			probes = append(probes, probe{"?limit=0", []string{"limit"}}, probe{fmt.Sprintf("?limit=%d", most+1), []string{"limit"}},
				probe{"?limit=-1", []string{"limit"}}, probe{fmt.Sprintf("?limit=%d", most), nil}, probe{"?limit=1", nil})
		}
		for _, pr := range probes {
			r := e.do(method, url+pr.query, nil, admin, "X-Booking-Token: x", "Idempotency-Key: k", "If-Match: \"1\"")
			if pr.bad == nil {
				if r.Status == http.StatusBadRequest {
					t.Errorf("%s%s: got 400 %s, want the limit accepted", key, pr.query, r.Body)
				}
				continue
			}
			if r.Status != http.StatusBadRequest || r.code() != "invalid_parameter" {
				t.Errorf("%s%s: got %d %s, want 400 invalid_parameter", key, pr.query, r.Status, r.Body)
				continue
			}
			var p struct {
				Detail string `json:"detail"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			r.decode(t, &p)
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, pr.bad) {
				t.Errorf("%s%s: got fields %v, want %v", key, pr.query, fields, pr.bad)
			}
			for _, name := range pr.bad {
				if !strings.Contains(p.Detail, name) {
					t.Errorf("%s%s: detail %q does not name %s", key, pr.query, p.Detail, name)
				}
			}
		}
	}
	if routes < 40 {
		t.Errorf("walked %d routes, want every /v1 route", routes)
	}
}
