package httpapi

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestRequestSchemasHaveNoDefaults: a `default` in a request body schema
// makes openapi-typescript (as shipped) type the property as required, so a
// client could not leave it out. Defaults of request fields belong in the
// description ("1 when left out"); response schemas may keep theirs.
func TestRequestSchemasHaveNoDefaults(t *testing.T) {
	doc := specForTest(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, mt := range op.RequestBody.Value.Content {
				if mt.Schema == nil {
					continue
				}
				walkSchema(mt.Schema, "body", map[*openapi3.Schema]bool{}, func(where string, s *openapi3.Schema) {
					if s.Default != nil {
						t.Errorf("%s %s: %s has default %v; say it in the description instead", method, path, where, s.Default)
					}
				})
			}
		}
	}
}

func walkSchema(ref *openapi3.SchemaRef, where string, seen map[*openapi3.Schema]bool, fn func(string, *openapi3.Schema)) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	fn(where, s)
	for name, p := range s.Properties {
		walkSchema(p, where+"."+name, seen, fn)
	}
	walkSchema(s.Items, where+"[]", seen, fn)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, alt := range group {
			walkSchema(alt, where, seen, fn)
		}
	}
}
