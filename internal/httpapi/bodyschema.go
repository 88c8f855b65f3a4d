package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// bodySchemas holds the JSON request body schema of every operation in
// openapi.yaml, keyed "METHOD /gin/:path". Every body is checked against its
// schema before a handler sees it, so the server refuses exactly what the
// document forbids: required fields, lengths in characters, ranges,
// patterns, enums, formats, unknown fields and minProperties all come from
// the one document.
type bodySchemas map[string]*openapi3.Schema

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// loadSpec parses the embedded openapi.yaml.
func loadSpec() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	return doc, nil
}

func loadBodySchemas(doc *openapi3.T) bodySchemas {
	out := bodySchemas{}
	for path, item := range doc.Paths.Map() {
		route := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				out[method+" "+route] = mt.Schema.Value
			}
		}
	}
	return out
}

type bodySchemaKey struct{}

// checkRequest checks the matched route's parameters against the spec
// (400), and puts its body schema into the request's context, where
// decodeBody finds it (422).
func (s *Server) checkRequest(c *gin.Context) {
	if c.FullPath() == "" {
		c.Next() // NoRoute / NoMethod answer next
		return
	}
	if !s.checkParams(c) {
		return
	}
	if sch, ok := s.bodies[c.Request.Method+" "+c.FullPath()]; ok {
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), bodySchemaKey{}, sch))
	}
	c.Next()
}

// schemaOptions define the formats the spec uses as the domain checks
// them, so a format in the document and the server's check are one rule.
var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.VisitAsRequest(),
	openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(func(s string) error {
		if !booking.ValidEmail(s) {
			return errors.New("must be a plain email address, such as ana@example.com")
		}
		return nil
	})),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
		_, err := booking.ParseID(s)
		return err
	})),
	openapi3.WithStringFormatValidator("timezone", openapi3.NewCallbackValidator(func(s string) error {
		_, err := booking.ParseTimezone(s)
		return err
	})),
	openapi3.WithStringFormatValidator("password", openapi3.NewCallbackValidator(func(string) error { return nil })),
}

// checkBodySchema validates the JSON body against the route's schema, when
// it has one, and returns a 422 *httpError naming every field that breaks
// it.
func checkBodySchema(r *http.Request, body []byte) error {
	sch, _ := r.Context().Value(bodySchemaKey{}).(*openapi3.Schema)
	if sch == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil // not JSON: the strict decoder that follows says why (400)
	}
	err := sch.VisitJSON(v, schemaOptions...)
	if err == nil {
		return nil
	}
	fields := schemaFields(err, nil)
	if len(fields) == 0 {
		fields = []booking.FieldError{{Field: "body", Code: booking.FieldType, Message: "does not match the request schema"}}
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return &httpError{status: http.StatusUnprocessableEntity, code: string(booking.CodeValidation),
		detail: "the request has invalid fields", fields: fields}
}

// schemaFields lists the fields err (from VisitJSON) names, one problem a
// field, each with the code of the keyword it breaks and that keyword's
// bound (see schemaProblem).
func schemaFields(err error, out []booking.FieldError) []booking.FieldError {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			out = schemaFields(e, out)
		}
		return out
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return out
	}
	fe := schemaProblem(se)
	fe.Field = jsonPath(se.JSONPointer())
	if se.SchemaField == "properties" && strings.HasPrefix(se.Reason, "property ") {
		// An unknown field: kin-openapi names it in the reason only.
		name, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(se.Reason, "property "), " is unsupported"))
		fe = booking.FieldError{Field: joinPath(fe.Field, name), Code: booking.FieldUnknownField, Message: "is not a field of this request"}
	}
	for _, f := range out {
		if f.Field == fe.Field {
			return out // one message a field is enough
		}
	}
	return append(out, fe)
}

// schemaProblem maps the keyword a value breaks to its field code and
// bound: the length, size or count for the min/max keywords, the values for
// enum. Two refinements keep codes meaning what a person would say: text
// that is empty (minLength 1) or only spaces where a pattern wants a
// character is "required"; a boolean whose only allowed value is true (a
// consent) is "not_accepted"; a parameter's oneOf (a date or an instant) is a
// "format".
func schemaProblem(se *openapi3.SchemaError) booking.FieldError {
	s := se.Schema
	fe := booking.FieldError{Message: schemaMessage(se)}
	switch se.SchemaField {
	case "required":
		fe.Code = booking.FieldRequired
	case "type", "nullable":
		fe.Code = booking.FieldType
	case "minLength":
		fe.Code, fe.Limit = booking.FieldTooShort, int(s.MinLength)
		if s.MinLength == 1 {
			fe.Code, fe.Limit = booking.FieldRequired, nil
		}
	case "maxLength":
		fe.Code, fe.Limit = booking.FieldTooLong, int(*s.MaxLength)
	case "minimum", "exclusiveMinimum":
		fe.Code, fe.Limit = booking.FieldTooSmall, *s.Min
	case "maximum", "exclusiveMaximum":
		fe.Code, fe.Limit = booking.FieldTooLarge, *s.Max
	case "enum":
		if len(s.Enum) == 1 && s.Enum[0] == true {
			fe.Code = booking.FieldNotAccepted // a consent: true is the only answer
			break
		}
		fe.Code = booking.FieldEnum
		for _, v := range s.Enum {
			fe.Allowed = append(fe.Allowed, fmt.Sprint(v))
		}
	case "pattern":
		fe.Code = booking.FieldPattern
		if v, ok := se.Value.(string); ok && strings.TrimSpace(v) == "" {
			fe.Code = booking.FieldRequired
		}
	case "format", "oneOf", "anyOf":
		fe.Code = booking.FieldFormat
	case "minItems":
		fe.Code, fe.Limit = booking.FieldTooFew, int(s.MinItems)
	case "maxItems":
		fe.Code, fe.Limit = booking.FieldTooMany, int(*s.MaxItems)
	case "uniqueItems":
		fe.Code = booking.FieldNotUnique
	case "minProperties":
		fe.Code, fe.Limit = booking.FieldTooFew, int(s.MinProps)
	default:
		fe.Code = booking.FieldType
	}
	return fe
}

// jsonPath spells a JSON pointer the way the API names fields:
// patient.email, windows[1].start; the whole body is "body".
func jsonPath(ptr []string) string {
	var b strings.Builder
	for _, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func joinPath(parent, name string) string {
	if parent == "body" {
		return name
	}
	return parent + "." + name
}

// schemaMessage says what a schema error means for the field, without
// echoing the value sent (it may be health data).
func schemaMessage(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "required":
		return "is required"
	case "type":
		return "must be " + typeName(s)
	case "minLength":
		if s.MinLength == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
	case "minimum":
		return fmt.Sprintf("must be at least %v", *s.Min)
	case "maximum":
		return fmt.Sprintf("must be at most %v", *s.Max)
	case "enum":
		vals := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return "must be one of " + strings.Join(vals, ", ")
	case "pattern":
		if m, ok := s.Extensions["x-pattern-message"].(string); ok {
			return "must be " + m
		}
		if s.Example != nil {
			return fmt.Sprintf("must match the pattern %s, such as %v", s.Pattern, s.Example)
		}
		return "must match the pattern " + s.Pattern
	case "format":
		switch s.Format {
		case "date":
			return "must be a date, YYYY-MM-DD"
		case "date-time":
			return "must be an RFC 3339 date and time with an offset"
		case "uuid":
			return "must be a UUID"
		case "email":
			return "must be a plain email address, such as ana@example.com"
		case "timezone":
			return "must be an IANA timezone name, such as America/Los_Angeles"
		}
		return "must be of format " + s.Format
	case "minItems":
		return fmt.Sprintf("must have at least %d items", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("must have at most %d items", *s.MaxItems)
	case "uniqueItems":
		return "must not list an item twice"
	case "minProperties":
		return "must set at least one field"
	}
	return "is not valid here"
}

func typeName(s *openapi3.Schema) string {
	switch {
	case s.Type.Is("string"):
		return "a string"
	case s.Type.Is("integer"):
		return "a whole number"
	case s.Type.Is("number"):
		return "a number"
	case s.Type.Is("boolean"):
		return "true or false"
	case s.Type.Is("array"):
		return "an array"
	case s.Type.Is("object"):
		return "an object"
	}
	return "of another type"
}
