package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// decodeJSON reads the request body into dst, strictly: the content type must
// be JSON (415), the body within the limit (413), well-formed (400), one
// value, with no field the spec does not define (422). It writes the problem
// itself and returns false when the body cannot be used.
func (s *Server) decodeJSON(c *gin.Context, dst any) bool {
	if err := decodeBody(c.Request, dst); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

func decodeBody(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			detail: "send the body as application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return errBadRequest("malformed_json", "the body must hold exactly one JSON value")
	}
	return nil
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
			return errUnprocessable("body", "must be a JSON "+jsonKind(typ.Value))
		}
		return errUnprocessable(typ.Field, "must be "+jsonTypeName(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errUnprocessable(name, "is not a field of this request")
	default:
		return errUnprocessable("body", "has a value of the wrong type or format")
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
