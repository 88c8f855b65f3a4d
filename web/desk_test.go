package web_test

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/clinic/consult/web"
)

// The desk runs under the strict policy and from this server alone: its
// script needs no eval, writes no HTML as text, sets no inline style,
// keeps nothing in web storage and names no other origin.
func TestDeskScriptIsCSPSafe(t *testing.T) {
	js := string(web.DeskScript().Body)
	for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", ".style.", "setAttribute(\"style\"",
		"http://", "https://", "document.write", "import(", "localStorage", "sessionStorage", "indexedDB", "document.cookie"} {
		if strings.Contains(js, bad) {
			t.Errorf("desk/app.js contains %q", bad)
		}
	}
}

// The desk's first load (page, script, style sheet) stays under 150 KB
// compressed.
func TestDeskFirstLoadSize(t *testing.T) {
	total := 0
	for _, a := range []web.Asset{web.DeskPage(), web.DeskScript(), web.DeskStyle()} {
		var b bytes.Buffer
		zw, err := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(a.Body); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		total += b.Len()
	}
	const limit = 150 << 10
	if total >= limit {
		t.Errorf("the desk's first load is %d bytes gzipped, want under %d", total, limit)
	} else {
		t.Logf("the desk's first load: %d bytes gzipped", total)
	}
}
