package web_test

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/clinic/consult/web"
)

// The widget must stay small enough for any website: under 50 KB gzipped.
func TestWidgetScriptGzippedSize(t *testing.T) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(web.WidgetScript().Body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	const limit = 50 << 10
	if got := b.Len(); got >= limit {
		t.Errorf("widget.js is %d bytes gzipped, want under %d", got, limit)
	} else {
		t.Logf("widget.js: %d bytes, %d bytes gzipped", len(web.WidgetScript().Body), got)
	}
}

// Nothing in the script needs a relaxed Content-Security-Policy or reaches
// another origin by itself.
func TestWidgetScriptIsCSPSafe(t *testing.T) {
	js := string(web.WidgetScript().Body)
	for _, bad := range []string{"eval(", "new Function", "innerHTML", "setAttribute(\"style\"", ".style.", "http://", "https://", "document.write", "import("} {
		if strings.Contains(js, bad) {
			t.Errorf("widget.js contains %q", bad)
		}
	}
}

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(web.PageData) ([]byte, error)
		data   web.PageData
		want   []string
	}{
		{"book en", web.BookPage, web.PageData{Lang: "en"}, []string{`<html lang="en">`, "<title>Book a consultation</title>", `<clinic-booking data-locale="en">`, `<script src="/widget.js" defer>`}},
		{"book es with type", web.BookPage, web.PageData{Lang: "es", ConsultationType: "2e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b"},
			[]string{`<html lang="es">`, "Reservar una consulta", `data-consultation-type="2e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b"`}},
		{"manage", web.ManagePage, web.PageData{Lang: "fr"}, []string{`<html lang="en">`, "<title>Your booking</title>", "<clinic-manage"}},
		{"waitlist es", web.WaitlistPage, web.PageData{Lang: "es"}, []string{`<html lang="es">`, "<title>Su lugar en la lista de espera</title>", `<clinic-waitlist data-locale="es" data-page>`}},
	} {
		b, err := tc.render(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s: page lacks %q:\n%s", tc.name, w, b)
			}
		}
		if bytes.Contains(b, []byte("<script>")) || bytes.Contains(b, []byte("style=")) {
			t.Errorf("%s: inline script or style in\n%s", tc.name, b)
		}
	}
}
