package apiclient_test

import (
	"testing"

	"github.com/clinic/consult/internal/apitest"
)

// TestGeneratedClientIsFresh fails when client.gen.go would change under go
// generate.
func TestGeneratedClientIsFresh(t *testing.T) {
	apitest.CheckGenerated(t, "oapi-codegen.yaml", "../../openapi.yaml")
}
