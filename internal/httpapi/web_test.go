package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinic/consult/web"
)

func TestWidgetScriptRoute(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	r := e.do("GET", "/widget.js", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("widget.js: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if string(r.Body) != string(web.WidgetScript().Body) {
		t.Error("widget.js is not the embedded script")
	}
	etag := r.Header.Get("ETag")
	if etag == "" || r.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("widget.js caching: ETag %q, Cache-Control %q", etag, r.Header.Get("Cache-Control"))
	}
	if again := e.do("GET", "/widget.js", nil, "If-None-Match: "+etag); again.Status != http.StatusNotModified {
		t.Errorf("revalidation: got %d, want 304", again.Status)
	}
}

func TestHostedPages(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	for _, tc := range []struct {
		path, header, want string
	}{
		{"/book", "", `<clinic-booking data-locale="en">`},
		{"/book?locale=es", "", `<clinic-booking data-locale="es">`},
		{"/book", "Accept-Language: es-MX,es;q=0.9", `<clinic-booking data-locale="es">`},
		{"/book?consultation_type=2e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b", "", `data-consultation-type="2e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b"`},
		{"/book?consultation_type=%22%3E%3Cscript%3E", "", `<clinic-booking data-locale="en"></clinic-booking>`},
		{"/manage?locale=es", "", `<clinic-manage data-locale="es" data-page>`},
		{"/waitlist", "", `<clinic-waitlist data-locale="en" data-page>`},
		{"/waitlist?locale=es", "", `<clinic-waitlist data-locale="es" data-page>`},
	} {
		var hs []string
		if tc.header != "" {
			hs = append(hs, tc.header)
		}
		r := e.do("GET", tc.path, nil, hs...)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("%s %s: got %d %s, want it to contain %s", tc.path, tc.header, r.Status, r.Body, tc.want)
		}
		if got := r.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
			t.Errorf("%s: CSP %q, want %q", tc.path, got, web.ContentSecurityPolicy)
		}
	}
}
