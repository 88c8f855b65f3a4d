package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
)

// Query parameters follow one rule on every /v1 route, read from the spec so
// that a route added there gets it without code: a parameter the operation
// does not declare is 400 invalid_parameter naming it (a typo in a filter
// must not silently widen a search), and an integer parameter outside the
// minimum and maximum its schema declares (limit: 1 to 200) is 400
// invalid_parameter too, never clamped.

// queryParam is what the rule needs of one declared query parameter.
type queryParam struct {
	integer  bool
	min, max *float64
}

// queryRules maps "METHOD /gin/path" to the query parameters the operation
// declares, for every operation under /v1.
type queryRules map[string]map[string]queryParam

// loadQueryRules reads the rules from the embedded spec.
func loadQueryRules() (queryRules, error) {
	doc, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("query rules: %w", err)
	}
	rules := queryRules{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for method, op := range item.Operations() {
			params := map[string]queryParam{}
			for _, ref := range slices.Concat(item.Parameters, op.Parameters) {
				p := ref.Value
				if p == nil || p.In != openapi3.ParameterInQuery {
					continue
				}
				var qp queryParam
				if p.Schema != nil && p.Schema.Value != nil {
					sc := p.Schema.Value
					qp = queryParam{integer: sc.Type.Is(openapi3.TypeInteger), min: sc.Min, max: sc.Max}
				}
				params[p.Name] = qp
			}
			rules[method+" "+ginPath(path)] = params
		}
	}
	return rules, nil
}

// ginPath turns /v1/bookings/{id} into Gin's /v1/bookings/:id (and
// /v1/calendar-feeds/{token}.ics into /v1/calendar-feeds/:token.ics, as the
// generated router registers it).
func ginPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") {
			if end := strings.Index(s, "}"); end > 0 {
				parts[i] = ":" + s[1:end] + s[end+1:]
			}
		}
	}
	return strings.Join(parts, "/")
}

// check returns the problem fields for the query of a request to route, and
// whether route has rules at all.
func (r queryRules) check(route string, query map[string][]string) []problemField {
	params, ok := r[route]
	if !ok {
		return nil
	}
	var bad []problemField
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p, known := params[name]
		if !known {
			bad = append(bad, problemField{Field: name, Message: "is not a parameter of this route"})
			continue
		}
		if !p.integer || (p.min == nil && p.max == nil) {
			continue
		}
		for _, v := range query[name] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue // the generated binder says it is not a number
			}
			if (p.min != nil && float64(n) < *p.min) || (p.max != nil && float64(n) > *p.max) {
				bad = append(bad, problemField{Field: name, Message: "must be " + bounds(p)})
			}
		}
	}
	return bad
}

func bounds(p queryParam) string {
	switch {
	case p.min != nil && p.max != nil:
		return fmt.Sprintf("from %g to %g", *p.min, *p.max)
	case p.min != nil:
		return fmt.Sprintf("at least %g", *p.min)
	default:
		return fmt.Sprintf("at most %g", *p.max)
	}
}

// checkQuery enforces the rules.
func (s *Server) checkQuery(c *gin.Context) {
	if bad := s.queryRules.check(c.Request.Method+" "+c.FullPath(), c.Request.URL.Query()); len(bad) > 0 {
		names := make([]string, len(bad))
		for i, f := range bad {
			names[i] = f.Field
		}
		s.fail(c, &httpError{status: http.StatusBadRequest, code: "invalid_parameter",
			detail: "bad query parameters: " + strings.Join(slices.Compact(names), ", "), fields: bad})
		return
	}
	c.Next()
}
