package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile pins its base images by digest and sets the drain and a
// soft memory limit; the
// build context leaves out the Git history, data and local databases.
func TestDockerBuildFiles(t *testing.T) {
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^FROM \S+@sha256:[0-9a-f]{64}( AS \w+)?$`)
	froms := 0
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms++
			if !pinned.MatchString(line) {
				t.Errorf("base image not pinned by digest: %s", line)
			}
		}
	}
	if froms == 0 {
		t.Error("no FROM line")
	}
	if !regexp.MustCompile(`(?m)^\s*SHUTDOWN_DRAIN=5s`).Match(dockerfile) {
		t.Error("the image must set SHUTDOWN_DRAIN=5s")
	}
	if !regexp.MustCompile(`(?m)^\s*GOMEMLIMIT=\d+MiB`).Match(dockerfile) {
		t.Error("the image must set a soft memory limit (GOMEMLIMIT=...MiB)")
	}

	ignore, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(ignore), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{".git", "data/", "**/*.db", "**/*.db-wal", "**/*.db-shm"} {
		if !lines[want] {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}

	// The README's docker run line creates the first admin.
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	run := regexp.MustCompile(`(?m)^docker run [^\n]*`).Find(readme)
	for _, v := range []string{"BOOTSTRAP_ADMIN_EMAIL", "BOOTSTRAP_ADMIN_PASSWORD", "JWT_SECRET"} {
		if !strings.Contains(string(run), v) {
			t.Errorf("the README's docker run line %q does not set %s", run, v)
		}
	}
}
