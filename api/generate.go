// Package api holds the Go types, the Gin server interface and the embedded
// OpenAPI document generated from ../openapi.yaml, the source of truth of the
// HTTP contract. Do not edit api.gen.go or openapi.yaml here; change the spec
// at the repository root and run go generate ./api.
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
