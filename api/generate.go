// Package api holds the Go types, the Gin server interface and the embedded
// OpenAPI document generated from ../openapi.yaml, the source of truth of the
// HTTP contract. Do not edit api.gen.go or openapi.yaml here; change the spec
// at the repository root and run go generate ./api.
//
// # Why the handlers implement the plain interface, not the strict one
//
// oapi-codegen can also generate a "strict" interface, whose methods take a
// decoded request object and return a typed response object. The handlers
// in internal/httpapi implement the plain ServerInterface (a *gin.Context
// and the parsed path and query parameters) instead, and the compiler
// still checks them against the spec (var _ api.ServerInterface). The
// strict interface would take away what the contract needs:
//
//   - Request bodies. The strict wrapper decodes the body with
//     encoding/json before the handler runs: unknown fields pass, a type
//     error stops at the first field, and a missing field cannot be told
//     from a zero one. The handlers read the raw body instead: they check
//     it against its schema in openapi.yaml first (every bad field named at
//     once in one 422), refuse unknown fields, and hash its canonical form
//     for Idempotency-Key.
//   - Responses. Some answers are bytes made before the request: a cached
//     availability answer with its ETag (and a 304 without a body), or the
//     first response to an Idempotency-Key replayed byte for byte with its
//     Location and ETag. Typed response objects would be encoded again.
//   - Errors. Every error goes through one mapping to
//     application/problem+json with the code table; the strict wrapper
//     has its own error paths for decoding and for handler errors.
//
// What the strict interface promises (answers that match the spec) is
// checked instead by the tests: every response they see is validated
// against openapi.yaml (internal/apitest).
package api

import _ "embed"

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
//go:generate cp ../openapi.yaml openapi.yaml

// specYAML is a copy of ../openapi.yaml made by go generate, embedded so the
// server serves the document exactly as written.
//
//go:embed openapi.yaml
var specYAML []byte

// SpecYAML returns the OpenAPI document in YAML, as written.
func SpecYAML() []byte { return specYAML }
