package apidocs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/clinic/consult/internal/apidocs"
)

// TestVendoredRedocIsThePinnedRelease: the embedded file is byte for byte the
// one with the pinned digest, so it is what npm publishes as
// redoc@RedocVersion (update-redoc.sh -check compares with npm itself).
func TestVendoredRedocIsThePinnedRelease(t *testing.T) {
	sum := sha256.Sum256(apidocs.Published())
	if got := hex.EncodeToString(sum[:]); got != apidocs.RedocSHA256 {
		t.Errorf("redoc.standalone.js sha256 = %s, want %s (redoc@%s)", got, apidocs.RedocSHA256, apidocs.RedocVersion)
	}
	if !bytes.Contains(apidocs.Published(), []byte(`"`+apidocs.RedocVersion+`"`)) {
		t.Errorf("redoc.standalone.js does not say it is version %s", apidocs.RedocVersion)
	}
}

// TestServedScriptLoadsNothingElsewhere: the served script differs from the
// published one only in the logo, and no image, font or stylesheet address
// on another origin is left (the browser test checks what a page does).
func TestServedScriptLoadsNothingElsewhere(t *testing.T) {
	if bytes.Equal(apidocs.Script(), apidocs.Published()) {
		t.Fatal("the CDN logo was not replaced: did a new Redoc move it? check /docs in a browser")
	}
	cdn := regexp.MustCompile(`https://cdn\.[a-z.]+/[^"' ]+\.(svg|png|woff2?|css)`)
	if m := cdn.FindAll(apidocs.Script(), -1); len(m) > 0 {
		t.Errorf("served script still loads from a CDN: %q", m)
	}
}
