package apitest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CheckGenerated runs oapi-codegen with the config file at configPath (in the
// current folder, whose "output:" names the committed file) on spec, into a
// temporary file, and fails t when the committed file differs: openapi.yaml
// is the source of truth and generated code must follow it.
func CheckGenerated(t *testing.T, configPath, spec string) {
	t.Helper()
	cfg, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	var committed string
	for _, line := range bytes.Split(cfg, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("output: ")); ok {
			committed = string(bytes.TrimSpace(v))
		}
	}
	if committed == "" {
		t.Fatalf("%s has no output: line", configPath)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, committed)
	cfg = bytes.Replace(cfg, []byte("output: "+committed), []byte("output: "+out), 1)
	tmpCfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(tmpCfg, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", tmpCfg, spec)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	SameFiles(t, out, committed)
}

// SameFiles fails t when the committed file differs from the fresh one.
func SameFiles(t *testing.T, fresh, committed string) {
	t.Helper()
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./... and commit the result", committed)
	}
}
