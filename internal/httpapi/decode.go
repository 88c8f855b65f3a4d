package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/internal/booking"
)

// decodeJSON reads the request body into dst, strictly: the content type must
// be JSON (415), the body within the limit (413), well-formed (400), one
// value, matching the route's schema in openapi.yaml (422, every bad field
// named), with no field the spec does not define (422). It writes the problem
// itself and returns false when the body cannot be used.
func (s *Server) decodeJSON(c *gin.Context, dst any) bool {
	if err := decodeBody(c.Request, dst); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

func decodeBody(r *http.Request, dst any) error {
	schemaErr, err := decodeBodyCollect(r, dst)
	if err != nil {
		return err
	}
	if schemaErr != nil {
		return schemaErr
	}
	return nil
}

// decodeBodyCollect is decodeBody for a handler that checks the fields
// itself as well and names every problem at once: a body that breaks its
// schema but still decodes into dst comes back as schemaErr, with err nil.
func decodeBodyCollect(r *http.Request, dst any) (schemaErr *httpError, err error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			detail: "send the body as application/json"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	// A NUL character is valid JSON but no database stores it in text, and
	// no field of this API needs one.
	if bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return nil, errUnprocessable("body", booking.FieldPattern, "text must not contain NUL characters")
	}
	if err := checkBodySchema(r, body); err != nil {
		if !errors.As(err, &schemaErr) {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		err = jsonError(err)
		var he *httpError
		if schemaErr != nil && errors.As(err, &he) && he.status == http.StatusUnprocessableEntity {
			return nil, schemaErr // it names this field too, with the others
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errBadRequest("malformed_json", "the body must hold exactly one JSON value")
	}
	return schemaErr, nil
}

// jsonError explains a decoding failure to the client without echoing its
// data back.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return &httpError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			detail: fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, io.EOF):
		return errBadRequest("malformed_json", "the request body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errBadRequest("malformed_json", "the request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errUnprocessable("body", booking.FieldType, "must be a JSON "+jsonKind(typ.Value))
		}
		// An embedded struct's Go name is part of the path encoding/json
		// reports; the client knows only the JSON names.
		field := strings.ReplaceAll(typ.Field, "bookingRequestBody.", "")
		return errUnprocessable(field, booking.FieldType, "must be "+jsonTypeName(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errUnprocessable(name, booking.FieldUnknownField, "is not a field of this request")
	default:
		return errUnprocessable("body", booking.FieldType, "has a value of the wrong type or format")
	}
}

func jsonKind(v string) string {
	if v == "" {
		return "object"
	}
	return "object, not " + v
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	default:
		if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
			return "a number"
		}
		return "of another type"
	}
}

// queryText rejects query strings holding a NUL or invalid UTF-8: no
// parameter of this API needs one, and the database cannot store or compare
// such text, so they would otherwise fail deep inside a query.
func (s *Server) queryText(c *gin.Context) {
	for name, values := range c.Request.URL.Query() {
		for _, v := range values {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				s.fail(c, &httpError{status: http.StatusBadRequest, code: "invalid_parameter",
					detail: fmt.Sprintf("query parameter %q must be UTF-8 text without NUL characters", name)})
				return
			}
		}
	}
	c.Next()
}
