// Package apiclient is a Go client generated from ../../openapi.yaml with
// oapi-codegen, as a frontend or an integration would generate one. Only the
// tests use it: driving the end-to-end scenario through it proves the spec
// is buildable-on, not just descriptive. Do not edit client.gen.go; run
// go generate ./internal/apiclient.
package apiclient

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../openapi.yaml
