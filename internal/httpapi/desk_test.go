package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDeskPageIsServedUnderAStrictCSP: /desk and each screen's URL answer
// the same page with a Content-Security-Policy that allows scripts, styles
// and requests from this origin only, and the page holds no inline script
// or style (which that policy would block); an unknown screen is 404.
func TestDeskPageIsServedUnderAStrictCSP(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\son[a-z]+=|style=`)
	for _, path := range []string{"/desk", "/desk/today", "/desk/requests", "/desk/find", "/desk/book"} {
		r := e.do("GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", path, r.Status)
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline code", path, csp)
		}
		body := string(r.Body)
		if m := inline.FindString(body); m != "" {
			t.Errorf("GET %s: inline script or style %q", path, m)
		}
		for _, want := range []string{`<script src="/desk/app.js" defer></script>`, `href="/desk/app.css"`, `type="search" name="q"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: the page lacks %s", path, want)
			}
		}
	}
	for path, ctype := range map[string]string{"/desk/app.js": "text/javascript", "/desk/app.css": "text/css"} {
		r := e.do("GET", path, nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) || r.Header.Get("ETag") == "" {
			t.Errorf("GET %s: got %d %q ETag %q, want 200 %s with an ETag", path, r.Status, r.Header.Get("Content-Type"), r.Header.Get("ETag"), ctype)
			continue
		}
		if again := e.do("GET", path, nil, "If-None-Match: "+r.Header.Get("ETag")); again.Status != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: got %d, want 304", path, again.Status)
		}
	}
	if r := e.do("GET", "/desk/nowhere", nil); r.Status != http.StatusNotFound {
		t.Errorf("GET /desk/nowhere: got %d, want 404", r.Status)
	}
}
