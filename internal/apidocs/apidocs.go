// Package apidocs holds the interactive API reference served at GET /docs:
// an HTML page and the Redoc renderer it runs, both embedded in the binary,
// so the reference works offline and makes no request to another origin.
//
// redoc.standalone.js is the file bundles/redoc.standalone.js of the npm
// package redoc, version RedocVersion, unchanged (its licence notices are in
// redoc.standalone.js.LICENSE.txt and LICENSE.redoc). To update it, change
// RedocVersion and RedocSHA256 and run ./update-redoc.sh, which fetches the
// package with npm and checks the file against the pinned digest; CI runs
// it with -check.
//
// One change is made when it is served (Script): Redoc's sidebar shows a
// logo it loads from its makers' CDN, the only request it would make to
// another origin; Script points it at an inline image instead.
package apidocs

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// RedocVersion is the npm version of redoc that redoc.standalone.js comes
// from.
const RedocVersion = "2.5.4"

// RedocSHA256 is the hex SHA-256 of redoc.standalone.js as published in
// redoc@RedocVersion.
const RedocSHA256 = "dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b"

//go:embed index.html
var page []byte

//go:embed redoc.standalone.js
var published []byte

// redocLogo is the one address on another origin that Redoc loads by itself.
const redocLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// inlineLogo replaces it: an empty SVG image, in a data: URL (no double
// quote, as it lands in a double-quoted JavaScript string).
const inlineLogo = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"

var script = bytes.ReplaceAll(published, []byte(redocLogo), []byte(inlineLogo))

// Page returns the HTML of the reference page.
func Page() []byte { return page }

// Script returns Redoc's standalone bundle as served: the published file
// with its CDN logo replaced by an inline image.
func Script() []byte { return script }

// Published returns the vendored file as npm publishes it.
func Published() []byte { return published }

// ScriptETag is a strong ETag for Script, from its digest.
func ScriptETag() string {
	sum := sha256.Sum256(script)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// ContentSecurityPolicy is the policy the page is served with, and works
// under: scripts only from this origin (no inline script, no eval), the spec
// fetched from this origin, search in a blob: worker, and inline styles,
// which Redoc's styled-components inject at run time. Nothing may be loaded
// from another origin.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
