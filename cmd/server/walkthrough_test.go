package main

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/apitest"
)

// TestReadmeWalkthrough runs the README's curl walkthrough, as written,
// against a demo server started the way the README says. Requests go
// through a proxy that checks every response against openapi.yaml, so the
// README cannot drift from the code or the spec.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (CI installs it)", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script := walkthroughScript(t, string(readme))

	// As the README starts it: check-in open days ahead, so the demo's
	// appointments can be checked in at once.
	base, printed := startServerWithOutput(t, map[string]string{"PUBLIC_RATE_LIMIT": "0", "CHECKIN_OPENS": "336h"}, "-demo")
	var email, password string
	for _, l := range printed {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "demo" && f[1] == "login:" {
			email, password = f[2], f[3]
		}
	}
	if password == "" {
		t.Fatalf("no 'demo login: EMAIL PASSWORD' line in %q", printed)
	}

	target, _ := url.Parse(base)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = apitest.Transport(t, nil)
	front := httptest.NewServer(proxy)
	defer front.Close()

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "BASE="+front.URL, "ADMIN_EMAIL="+email, "ADMIN_PASSWORD="+password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"status": "pending"`, `"status": "confirmed"`, `"status": "checked_in"`, `"to_status":"checked_in"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %s:\n%s", want, out)
		}
	}
}

var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// walkthroughScript joins the sh blocks between the README's walkthrough
// markers into one script.
func walkthroughScript(t *testing.T, readme string) string {
	_, rest, ok := strings.Cut(readme, "<!-- walkthrough -->")
	section, _, ok2 := strings.Cut(rest, "<!-- /walkthrough -->")
	if !ok || !ok2 {
		t.Fatal("README has no <!-- walkthrough --> section")
	}
	var b strings.Builder
	for _, m := range shBlock.FindAllStringSubmatch(section, -1) {
		b.WriteString(m[1])
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		t.Fatal("the walkthrough section has no sh blocks")
	}
	return b.String()
}
