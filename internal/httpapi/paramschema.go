package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/internal/booking"
)

// paramSchemas holds the path, query and header parameters of every
// operation in openapi.yaml, keyed like bodySchemas. Each value a request
// sends is checked against its parameter's schema before the handler runs:
// a value that breaks it (type, format, range, length, pattern, enum), or a
// required parameter left out, is 400 invalid_parameter naming it. That is
// the first half of the 400 / 422 rule (see problemStatus).
//
// On every /v1 route a query parameter the operation does not declare is
// 400 invalid_parameter too: a typo in a filter must not silently widen a
// search. Read from the spec, a route added there gets both rules without
// code.
type paramSchemas map[string]routeParams

// routeParams are one operation's parameters.
type routeParams struct {
	params []*openapi3.Parameter // those with a schema to check
	// query names the declared query parameters; nil where undeclared ones
	// are not refused (routes outside /v1).
	query map[string]bool
}

func loadParamSchemas(doc *openapi3.T) paramSchemas {
	out := paramSchemas{}
	for path, item := range doc.Paths.Map() {
		route := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			var rp routeParams
			if strings.HasPrefix(path, "/v1/") {
				rp.query = map[string]bool{}
			}
			for _, ps := range [][]*openapi3.ParameterRef{item.Parameters, op.Parameters} {
				for _, p := range ps {
					if p.Value == nil {
						continue
					}
					if p.Value.In == openapi3.ParameterInQuery && rp.query != nil {
						rp.query[p.Value.Name] = true
					}
					if p.Value.Schema != nil && p.Value.Schema.Value != nil {
						rp.params = append(rp.params, p.Value)
					}
				}
			}
			out[method+" "+route] = rp
		}
	}
	return out
}

// checkQueryNames refuses, on the /v1 routes, query parameters the
// operation does not declare: 400 invalid_parameter naming just those. It
// runs before the route's own middleware (feedToken), so a typo is named
// whatever the route then makes of its path.
func (s *Server) checkQueryNames(c *gin.Context) {
	declared := s.params[c.Request.Method+" "+c.FullPath()].query
	if declared == nil {
		c.Next()
		return
	}
	var unknown []string
	for name := range c.Request.URL.Query() {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		c.Next()
		return
	}
	slices.Sort(unknown)
	fields := make([]booking.FieldError, len(unknown))
	for i, name := range unknown {
		fields[i] = booking.FieldError{Field: name, Code: booking.FieldUnknownField, Message: "is not a parameter of this route"}
	}
	s.fail(c, &httpError{status: http.StatusBadRequest, code: "invalid_parameter",
		detail: "unknown query parameters: " + strings.Join(unknown, ", "), fields: fields})
}

// checkParams validates the parameters of the matched route; it writes the
// 400 and returns false when one breaks its schema.
func (s *Server) checkParams(c *gin.Context) bool {
	rp := s.params[c.Request.Method+" "+c.FullPath()]
	query := c.Request.URL.Query() // parsed once, not once a parameter
	var fields []booking.FieldError
	for _, p := range rp.params {
		var raw []string
		switch p.In {
		case openapi3.ParameterInQuery:
			raw = query[p.Name]
		case openapi3.ParameterInHeader:
			raw = c.Request.Header.Values(p.Name)
		case openapi3.ParameterInPath:
			raw = []string{c.Param(p.Name)}
		default:
			continue
		}
		if len(raw) == 0 {
			if p.Required {
				fields = append(fields, booking.FieldError{Field: p.Name, Code: booking.FieldRequired, Message: "is required"})
			}
			continue
		}
		if len(raw) == 1 && s.validParams.has(p, raw[0]) {
			continue
		}
		sch := p.Schema.Value
		v, err := paramValue(sch, p, raw)
		if err == nil {
			err = sch.VisitJSON(v, schemaOptions...)
		}
		if err == nil && len(raw) == 1 {
			s.validParams.add(p, raw[0])
		}
		if err != nil {
			fe := booking.FieldError{Code: booking.FieldType, Message: "is not valid here"}
			if se := schemaFields(err, nil); len(se) > 0 {
				fe = se[0]
			}
			if len(sch.OneOf) > 0 {
				fe = booking.FieldError{Code: booking.FieldFormat, Message: "must be " + alternatives(sch.OneOf)}
			}
			fe.Field = p.Name
			fields = append(fields, fe)
		}
	}
	if len(fields) == 0 {
		return true
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Field
	}
	s.fail(c, &httpError{status: http.StatusBadRequest, code: "invalid_parameter",
		detail: "invalid parameter: " + strings.Join(names, ", "), fields: fields})
	return false
}

// paramMemo remembers parameter values found valid: the widget asks the
// same few questions over and over (the same dates, provider ids and, when
// revalidating, ETags), and checking a value against its schema (kin-openapi
// walking it, a date format's regular expression) cost more than the rest
// of a cached availability answer's handler. Whether a value is valid
// depends only on the value and the parameter's schema, so a remembered
// answer stays right. Bounded: at paramMemoSize values it starts afresh, and
// long values are not kept. A nil memo remembers nothing.
type paramMemo struct {
	mu sync.RWMutex
	m  map[paramValueKey]struct{}
}

type paramValueKey struct {
	p     *openapi3.Parameter
	value string
}

const (
	paramMemoSize     = 4096
	paramMemoMaxValue = 128 // bytes: longer values are checked every time
)

func newParamMemo() *paramMemo { return &paramMemo{m: map[paramValueKey]struct{}{}} }

// has reports whether value was found valid for p.
func (m *paramMemo) has(p *openapi3.Parameter, value string) bool {
	if m == nil || len(value) > paramMemoMaxValue {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.m[paramValueKey{p, value}]
	return ok
}

// add remembers that value is valid for p.
func (m *paramMemo) add(p *openapi3.Parameter, value string) {
	if m == nil || len(value) > paramMemoMaxValue {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= paramMemoSize {
		clear(m.m)
	}
	m.m[paramValueKey{p, value}] = struct{}{}
}

// paramValue turns a parameter's text into the JSON value its schema
// describes: a number or boolean for those types, a list for an array
// (repeated, or comma-separated when explode is false), text otherwise.
func paramValue(sch *openapi3.Schema, p *openapi3.Parameter, raw []string) (any, error) {
	if sch.Type.Is("array") {
		var parts []string
		explode := p.Explode == nil || *p.Explode
		for _, r := range raw {
			if explode {
				parts = append(parts, r)
			} else {
				parts = append(parts, strings.Split(r, ",")...)
			}
		}
		items := make([]any, 0, len(parts))
		for _, part := range parts {
			var item any = part
			if sch.Items != nil && sch.Items.Value != nil {
				v, err := scalarValue(sch.Items.Value, part)
				if err != nil {
					return nil, err
				}
				item = v
			}
			items = append(items, item)
		}
		return items, nil
	}
	if len(raw) > 1 {
		return nil, &openapi3.SchemaError{Schema: sch, SchemaField: "type", Reason: "given more than once"}
	}
	return scalarValue(sch, raw[0])
}

func scalarValue(sch *openapi3.Schema, s string) (any, error) {
	switch {
	case sch.Type.Is("integer"):
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &openapi3.SchemaError{Schema: sch, SchemaField: "type", Reason: fmt.Sprintf("%q is not a whole number", s)}
		}
		return float64(n), nil
	case sch.Type.Is("number"):
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, &openapi3.SchemaError{Schema: sch, SchemaField: "type", Reason: "not a number"}
		}
		return f, nil
	case sch.Type.Is("boolean"):
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, &openapi3.SchemaError{Schema: sch, SchemaField: "type", Reason: "not true or false"}
		}
		return b, nil
	}
	return s, nil
}

// alternatives describes oneOf branches by their descriptions ("a calendar
// day, `YYYY-MM-DD`, or an RFC 3339 instant...").
func alternatives(refs openapi3.SchemaRefs) string {
	var parts []string
	for _, r := range refs {
		if r.Value != nil && r.Value.Description != "" {
			d := strings.TrimSuffix(r.Value.Description, ".")
			parts = append(parts, strings.ToLower(d[:1])+d[1:])
		}
	}
	if len(parts) == 0 {
		return "one of the forms the spec allows"
	}
	return strings.Join(parts, ", or ")
}
