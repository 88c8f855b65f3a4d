package httpapi

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/clinic/consult/api"
)

func specForTest(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// specCodes returns the Problem.code enum and the status each value's
// x-enumDescriptions entry starts with ("409: ..."), or -1 for a value
// documented as reserved ("reserved: ...").
func specCodes(t *testing.T, doc *openapi3.T) map[string]int {
	t.Helper()
	code := doc.Components.Schemas["Problem"].Value.Properties["code"].Value
	descs, _ := code.Extensions["x-enumDescriptions"].(map[string]any)
	out := map[string]int{}
	for _, v := range code.Enum {
		name := v.(string)
		d, _ := descs[name].(string)
		head, _, ok := strings.Cut(d, ":")
		switch st, err := strconv.Atoi(head); {
		case ok && head == "reserved":
			out[name] = -1
		case ok && err == nil:
			out[name] = st
		default:
			t.Errorf("Problem.code %q: x-enumDescriptions entry %q, want \"STATUS: what it means\" or \"reserved: why\"", name, d)
		}
	}
	return out
}

// TestProblemCodesMatchSpec checks the code table against the spec's
// Problem.code enum both ways: every code the server can send is listed with
// the same status, and every listed code is one the server sends (or is
// documented as reserved).
func TestProblemCodesMatchSpec(t *testing.T) {
	spec := specCodes(t, specForTest(t))
	for code, status := range problemStatus {
		got, ok := spec[code]
		switch {
		case !ok:
			t.Errorf("the server can send code %q (status %d), but the spec's Problem.code enum does not list it", code, status)
		case got != status:
			t.Errorf("code %q: spec says status %d, server sends %d", code, got, status)
		}
	}
	for code, status := range spec {
		if _, ok := problemStatus[code]; !ok && status != -1 {
			t.Errorf("the spec lists code %q, which the server never sends: remove it or document it as \"reserved: ...\"", code)
		}
	}
}

// sourceFiles parses every non-test Go file of the module's internal and
// cmd trees.
func sourceFiles(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files[path] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return fset, files
}

var httpStatusByName = func() map[string]int {
	m := map[string]int{}
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			name := "Status" + strings.NewReplacer(" ", "", "-", "", "'", "").Replace(text)
			m[name] = code
		}
	}
	m["StatusRequestEntityTooLarge"] = http.StatusRequestEntityTooLarge
	m["StatusUnprocessableEntity"] = http.StatusUnprocessableEntity
	return m
}()

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func statusExprOf(e ast.Expr) (int, bool) {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" {
			st, ok := httpStatusByName[sel.Sel.Name]
			return st, ok
		}
	}
	return 0, false
}

// TestEveryCodeInTable walks the source: every constant of a type named Code
// (the domain's and auth's vocabularies) and every code the HTTP layer
// writes as a literal must be in the table, with the status it is sent
// with; and every code in the table must be used somewhere, so that no code
// is listed that nothing can send.
func TestEveryCodeInTable(t *testing.T) {
	fset, files := sourceFiles(t)
	consts := map[string]string{} // Code constant name -> value
	literal := map[string]bool{}  // codes written as literals outside codes.go
	uses := map[string][]string{} // identifier -> enclosing package-level var ("" when none)
	varUses := map[string]int{}   // package-level var -> uses outside its declaration
	for path, f := range files {
		inTable := filepath.Base(path) == "codes.go" && strings.Contains(path, "httpapi")
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for i, name := range vs.Names {
					if v, ok := stringLit(vs.Values[i]); ok {
						consts[name.Name] = v
					}
				}
			}
		}
		if inTable {
			continue
		}
		// Which package-level var (if any) each identifier sits in, so
		// that a code used only to build an unused sentinel does not count.
		for _, decl := range f.Decls {
			enclosing := ""
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if len(vs.Names) == 1 {
						enclosing = vs.Names[0].Name
					}
					for _, v := range vs.Values {
						ast.Inspect(v, func(n ast.Node) bool { return record(n, enclosing, uses, varUses) })
					}
				}
				continue
			}
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				continue
			}
			ast.Inspect(decl, func(n ast.Node) bool { return record(n, "", uses, varUses) })
		}
		ast.Inspect(f, func(n ast.Node) bool {
			check := func(code string, status int, ok bool) {
				if !ok {
					return
				}
				literal[code] = true
				want, known := problemStatus[code]
				switch {
				case !known:
					t.Errorf("%s: code %q is not in problemStatus", fset.Position(n.Pos()), code)
				case status != 0 && want != status:
					t.Errorf("%s: code %q sent with status %d, table says %d", fset.Position(n.Pos()), code, status, want)
				}
			}
			switch x := n.(type) {
			case *ast.CompositeLit:
				if id, ok := x.Type.(*ast.Ident); ok && id.Name == "httpError" {
					var code string
					var status int
					var okCode bool
					for _, el := range x.Elts {
						kv := el.(*ast.KeyValueExpr)
						switch kv.Key.(*ast.Ident).Name {
						case "code":
							code, okCode = stringLit(kv.Value)
						case "status":
							status, _ = statusExprOf(kv.Value)
						}
					}
					check(code, status, okCode)
				}
			case *ast.CallExpr:
				name := ""
				switch fn := x.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				switch {
				case name == "failf" && len(x.Args) >= 3:
					status, _ := statusExprOf(x.Args[1])
					code, ok := stringLit(x.Args[2])
					check(code, status, ok)
				case name == "errBadRequest" && len(x.Args) >= 1:
					code, ok := stringLit(x.Args[0])
					check(code, http.StatusBadRequest, ok)
				case name == "newProblem" && len(x.Args) >= 2:
					status, _ := statusExprOf(x.Args[0])
					code, ok := stringLit(x.Args[1])
					check(code, status, ok)
				}
			}
			return true
		})
	}
	reachable := map[string]bool{}
	for code := range literal {
		reachable[code] = true
	}
	for name, value := range consts {
		if _, ok := problemStatus[value]; !ok {
			t.Errorf("constant %s = %q is a Code but not in problemStatus: the server would answer 500 for it", name, value)
		}
		for _, in := range uses[name] {
			if in == "" || varUses[in] > 0 {
				reachable[value] = true
			}
		}
	}
	var unreached []string
	for code := range problemStatus {
		if !reachable[code] {
			unreached = append(unreached, code)
		}
	}
	slices.Sort(unreached)
	if len(unreached) > 0 {
		t.Errorf("codes in problemStatus that no code sends: %v", unreached)
	}
}

func record(n ast.Node, enclosing string, uses map[string][]string, varUses map[string]int) bool {
	var name string
	switch x := n.(type) {
	case *ast.SelectorExpr:
		name = x.Sel.Name
	case *ast.Ident:
		name = x.Name
	default:
		return true
	}
	uses[name] = append(uses[name], enclosing)
	if enclosing == "" || enclosing != name {
		varUses[name]++
	}
	return true
}

// TestSpecDeclaresCommonAnswers checks that every operation declares the
// answers any route can give: 413 and 500 everywhere (the body limit and
// the recovery apply to all), 400 where there are parameters or a body,
// 415 and 422 with a body, 401 where a login is needed.
func TestSpecDeclaresCommonAnswers(t *testing.T) {
	doc := specForTest(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want := []int{413, 500}
			if len(op.Parameters)+len(item.Parameters) > 0 || op.RequestBody != nil {
				want = append(want, 400)
			}
			if op.RequestBody != nil {
				want = append(want, 415, 422)
			}
			if loginRequired(doc, op) {
				want = append(want, 401)
			}
			for _, st := range want {
				if op.Responses.Status(st) == nil {
					t.Errorf("%s %s does not declare %d", method, path, st)
				}
			}
		}
	}
}

// loginRequired reports whether op needs credentials: its security (or the
// document's) has requirements and none of them is the empty one that makes
// a login optional.
func loginRequired(doc *openapi3.T, op *openapi3.Operation) bool {
	sec := doc.Security
	if op.Security != nil {
		sec = *op.Security
	}
	if len(sec) == 0 {
		return false
	}
	for _, req := range sec {
		if len(req) == 0 {
			return false
		}
	}
	return true
}
