package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/clinic/consult/internal/config"
)

// composeFile is the part of compose.yaml the test checks.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// knownVariables are the environment variables the server reads: every
// one config.Load asks for.
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	if _, err := config.Load(func(k string) string { seen[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	return seen
}

// interpolate resolves compose's ${VAR}, ${VAR:-default} and ${VAR:?msg}
// with vars.
func interpolate(s string, vars map[string]string) string {
	re := regexp.MustCompile(`\$\{([A-Z_]+)(?::[-?]([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		if v, ok := vars[sub[1]]; ok {
			return v
		}
		if strings.Contains(m, ":-") {
			return sub[2]
		}
		return ""
	})
}

// compose.yaml describes PostgreSQL, a migration run and two server
// instances and Mailpit; every setting it gives the server is one the
// server knows and accepts, and the command it runs is one the binary has.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml does not parse: %v", err)
	}
	for _, name := range []string{"postgres", "migrate", "server-1", "server-2", "mailpit"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	known := knownVariables(t)
	vars := map[string]string{
		"POSTGRES_PASSWORD":        "pw",
		"JWT_SECRET":               strings.Repeat("s", 32),
		"BOOTSTRAP_ADMIN_EMAIL":    "admin@clinic.example",
		"BOOTSTRAP_ADMIN_PASSWORD": "a long enough password",
	}
	hostPorts := map[string]string{}
	var secrets []string
	for _, name := range []string{"migrate", "server-1", "server-2"} {
		s := c.Services[name]
		if s.Build == nil || s.Image == "" {
			t.Errorf("%s: got build %v image %q, want the image built from this repository", name, s.Build, s.Image)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if !known[k] {
				t.Errorf("%s: environment variable %s is not one the server reads", name, k)
			}
			env[k] = interpolate(v, vars)
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: the server would refuse its settings: %v", name, err)
			continue
		}
		if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") || !strings.Contains(cfg.DatabaseURL, "@postgres:5432/") {
			t.Errorf("%s: DATABASE_URL %q, want the postgres service", name, cfg.DatabaseURL)
		}
		secrets = append(secrets, string(cfg.JWTSecret))
		if name == "migrate" {
			if !slices.Equal(s.Command, []string{"migrate"}) {
				t.Errorf("migrate: command %v, want [migrate]", s.Command)
			}
			if s.DependsOn["postgres"].Condition != "service_healthy" {
				t.Errorf("migrate: depends on %v, want postgres healthy", s.DependsOn)
			}
			// The binary accepts the command (checked without a database:
			// the URL points nowhere reachable, so only parsing is tested).
			err := run(context.Background(), []string{"migrat"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Error("a misspelt command must be refused")
			}
			continue
		}
		if cfg.ShutdownDrain <= 0 {
			t.Errorf("%s: SHUTDOWN_DRAIN %v, want a drain behind a load balancer", name, cfg.ShutdownDrain)
		}
		if s.DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("%s: depends on %v, want migrate completed", name, s.DependsOn)
		}
		if len(s.Ports) != 1 {
			t.Errorf("%s: ports %v, want one", name, s.Ports)
			continue
		}
		host, container, ok := strings.Cut(s.Ports[0], ":")
		if !ok || ":"+container != cfg.HTTPAddr {
			t.Errorf("%s: port %q, want HOST:%s (the image's HTTP_ADDR)", name, s.Ports[0], strings.TrimPrefix(cfg.HTTPAddr, ":"))
		}
		if other, dup := hostPorts[host]; dup {
			t.Errorf("%s and %s publish the same host port %s", name, other, host)
		}
		hostPorts[host] = name
	}
	if len(secrets) == 3 && (secrets[1] != secrets[2] || secrets[1] == "") {
		t.Error("the instances must share one JWT_SECRET, or tokens from one are refused by the other")
	}
	if _, ok := c.Volumes["pgdata"]; !ok {
		t.Error("PostgreSQL's data needs a named volume")
	}
}
