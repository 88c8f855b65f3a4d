package api_test

import (
	"testing"

	"github.com/clinic/consult/internal/apitest"
)

// TestGeneratedCodeIsFresh fails when api.gen.go or the embedded copy of the
// spec would change under go generate.
func TestGeneratedCodeIsFresh(t *testing.T) {
	apitest.CheckGenerated(t, "oapi-codegen.yaml", "../openapi.yaml")
	apitest.SameFiles(t, "../openapi.yaml", "openapi.yaml")
}
