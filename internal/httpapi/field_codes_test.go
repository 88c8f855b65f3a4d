package httpapi

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/web"
)

// specFieldCodes returns FieldError.code's enum and its descriptions.
func specFieldCodes(t *testing.T) ([]string, map[string]any) {
	t.Helper()
	code := specForTest(t).Components.Schemas["FieldError"].Value.Properties["code"].Value
	var out []string
	for _, v := range code.Enum {
		out = append(out, v.(string))
	}
	descs, _ := code.Extensions["x-enumDescriptions"].(map[string]any)
	return out, descs
}

// TestFieldCodesMatchSpec holds booking.FieldCodes, the one list of the
// field codes the server can send, to the spec's FieldError.code enum in
// both directions, with a description for each.
func TestFieldCodesMatchSpec(t *testing.T) {
	spec, descs := specFieldCodes(t)
	var server []string
	for _, c := range booking.FieldCodes() {
		server = append(server, string(c))
	}
	for _, c := range server {
		if !slices.Contains(spec, c) {
			t.Errorf("the server can send field code %q, but the spec's FieldError.code enum does not list it", c)
		}
	}
	for _, c := range spec {
		if !slices.Contains(server, c) {
			t.Errorf("the spec lists field code %q, which booking.FieldCodes does not", c)
		}
		if d, _ := descs[c].(string); strings.TrimSpace(d) == "" {
			t.Errorf("field code %q has no x-enumDescriptions entry", c)
		}
	}
	if len(descs) != len(spec) {
		t.Errorf("x-enumDescriptions has %d entries for %d codes", len(descs), len(spec))
	}
}

// TestEveryFieldCodeListed walks the source: every constant of type
// FieldCode is in booking.FieldCodes (a code added as a constant only would
// reach clients unlisted), and every listed code is used outside its
// declaration, so that none is listed that nothing sends.
func TestEveryFieldCodeListed(t *testing.T) {
	_, files := sourceFiles(t)
	consts := map[string]string{} // constant name -> value
	used := map[string]bool{}     // constant names used outside fieldcode.go
	for path, f := range files {
		decl := filepath.Base(path) == "fieldcode.go"
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "FieldCode" {
					continue
				}
				for i, name := range vs.Names {
					if v, ok := stringLit(vs.Values[i]); ok {
						consts[name.Name] = v
					}
				}
			}
		}
		if decl {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				used[x.Sel.Name] = true
			case *ast.Ident:
				used[x.Name] = true
			}
			return true
		})
	}
	if len(consts) == 0 {
		t.Fatal("found no FieldCode constants")
	}
	listed := map[string]bool{}
	for _, c := range booking.FieldCodes() {
		listed[string(c)] = true
	}
	for name, v := range consts {
		if !listed[v] {
			t.Errorf("constant %s = %q is a FieldCode missing from booking.FieldCodes", name, v)
		}
		if !used[name] {
			t.Errorf("field code %s (%q) is listed but nothing sends it", name, v)
		}
	}
	if len(listed) != len(consts) {
		t.Errorf("booking.FieldCodes lists %d codes, the source declares %d constants", len(listed), len(consts))
	}
}

var (
	widgetLocale = regexp.MustCompile(`^    ([a-z]{2}): \{$`)
	widgetEntry  = regexp.MustCompile(`^      ([a-z_]+): `)
)

// widgetFieldMessages reads widget.js's FIELD_MESSAGES table: the codes
// each language has a message for.
func widgetFieldMessages(t *testing.T, src string) map[string][]string {
	t.Helper()
	_, rest, ok := strings.Cut(src, "\n  const FIELD_MESSAGES = {\n")
	if !ok {
		t.Fatal("widget.js has no FIELD_MESSAGES table")
	}
	table, _, ok := strings.Cut(rest, "\n  };\n")
	if !ok {
		t.Fatal("widget.js's FIELD_MESSAGES table does not end")
	}
	out := map[string][]string{}
	locale := ""
	for _, line := range strings.Split(table, "\n") {
		if m := widgetLocale.FindStringSubmatch(line); m != nil {
			locale = m[1]
			continue
		}
		if m := widgetEntry.FindStringSubmatch(line); m != nil && locale != "" {
			out[locale] = append(out[locale], m[1])
		}
	}
	return out
}

// TestWidgetTranslatesEveryFieldCode checks that widget.js says every field
// code of the spec in English and in Spanish, says nothing for a code the
// spec does not list, and no longer reads the English message.
func TestWidgetTranslatesEveryFieldCode(t *testing.T) {
	spec, _ := specFieldCodes(t)
	src := string(web.WidgetScript().Body)
	table := widgetFieldMessages(t, src)
	for _, locale := range []string{"en", "es"} {
		got := table[locale]
		for _, c := range spec {
			if !slices.Contains(got, c) {
				t.Errorf("widget.js has no %s message for field code %q", locale, c)
			}
		}
		for _, c := range got {
			if !slices.Contains(spec, c) {
				t.Errorf("widget.js has a %s message for %q, which is not a field code of the spec", locale, c)
			}
		}
	}
	_, fn, _ := strings.Cut(src, "function fieldMessage(")
	fn, _, _ = strings.Cut(fn, "\n  }\n")
	if fn == "" || strings.Contains(fn, ".message") || strings.Contains(fn, "exec(") || strings.Contains(fn, ".test(") {
		t.Errorf("widget.js's fieldMessage must translate by code, not read the English message:\n%s", fn)
	}
}
