package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every variable's bad values stop run before anything happens: an error
// naming the variable, no panic or stack trace, no file or folder created,
// no migration.
func TestRunRejectsEveryBadSettingBeforeAnySideEffect(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name  string // the variable the error must name
		value string
		also  map[string]string
	}{
		{"HTTP_ADDR", "8080", nil},
		{"HTTP_ADDR", ":99999", nil},
		{"HTTP_ADDR", "localhost:http-alt", nil},
		{"HTTP_ADDR", "a b:80", nil},
		{"HTTP_ADDR", taken.Addr().String(), nil}, // in use: found by listening, before migrating
		{"HTTP_ADDR", "203.0.113.7:0", nil},       // not an address of this machine
		{"DATABASE_URL", "mysql://db/clinic", nil},
		{"DATABASE_URL", "sqlite://", nil},
		{"DATABASE_URL", "postgres://", nil},
		{"DATABASE_URL", "%zz", nil},
		{"JWT_SECRET", "short", nil},
		{"JWT_ISSUER", "   ", nil},
		{"JWT_AUDIENCE", "\t", nil},
		{"ACCESS_TOKEN_TTL", "soon", nil},
		{"ACCESS_TOKEN_TTL", "1s", nil},
		{"REFRESH_TOKEN_TTL", "-1h", nil},
		{"BOOTSTRAP_ADMIN_EMAIL", "admin@clinic.example", nil},
		{"BOOTSTRAP_ADMIN_EMAIL", "not an email", map[string]string{"BOOTSTRAP_ADMIN_PASSWORD": "a long enough password"}},
		{"BOOTSTRAP_ADMIN_PASSWORD", "short", map[string]string{"BOOTSTRAP_ADMIN_EMAIL": "admin@clinic.example"}},
		{"CORS_ALLOWED_ORIGINS", "www.clinic.example", nil},
		{"CORS_ALLOWED_ORIGINS", "https://www.clinic.example/", nil},
		{"CORS_ALLOWED_ORIGINS", "*", nil},
		{"CORS_ALLOWED_ORIGINS", "https://www.clinic.example/book", nil},
		{"CORS_ALLOWED_ORIGINS", "https://ok.example,ftp://files.example", nil},
		{"CORS_ALLOWED_ORIGINS", "https://*.clinic.example", nil},
		{"CORS_ALLOWED_ORIGINS", "https://www.clinic.example:99999", nil},
		{"CORS_ALLOWED_ORIGINS", "https://www.clinic.example:", nil},
		{"CORS_ALLOWED_ORIGINS", "https://user@www.clinic.example", nil},
		{"CORS_ALLOWED_ORIGINS", "https://www.clinic.example?x=1", nil},
		{"CORS_ALLOWED_ORIGINS", "https://", nil},
		{"CORS_ALLOWED_ORIGINS", "://", nil},
		{"CORS_ALLOWED_ORIGINS", "HTTPS://www.clinic.example", nil},
		{"CORS_ALLOWED_ORIGINS", "https://WWW.clinic.example", nil},
		{"MIN_NOTICE", "two hours", nil},
		{"MAX_ADVANCE", "30m", nil},
		{"MAX_ADVANCE", "24h", map[string]string{"MIN_NOTICE": "48h"}},
		{"PATIENT_CHANGE_CUTOFF", "-1h", nil},
		{"PENDING_EXPIRY", "forever", nil},
		{"EXPIRY_INTERVAL", "10ms", nil},
		{"PUBLIC_RATE_LIMIT", "-1", nil},
		{"PUBLIC_RATE_LIMIT", "1e3", nil},
		{"LOGIN_RATE_LIMIT", "lots", nil},
		{"LOGIN_ADDRESS_RATE_LIMIT", "-3", nil},
		{"LOGIN_ACCOUNT_RATE_LIMIT", "99999999999999999999999", nil},
		{"BODY_LIMIT_BYTES", "0", nil},
		{"BODY_LIMIT_BYTES", "64KiB", nil},
		{"LOG_LEVEL", "loud", nil},
		{"LOG_FORMAT", "xml", nil},
		{"DEMO", "maybe", nil},
		{"SHUTDOWN_TIMEOUT", "0s", nil},
		{"SHUTDOWN_DRAIN", "-5s", nil},
		{"SHUTDOWN_DRAIN", "5", nil},
		{"AVAILABILITY_CONCURRENCY", "0", nil},
		{"AVAILABILITY_CONCURRENCY", "four", nil},
		{"TRUSTED_PROXIES", "proxy.internal", nil},
		{"TRUSTED_PROXIES", "10.0.0.0/33", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{
				"DATABASE_URL": "sqlite://" + filepath.Join(dir, "data", "clinic.db"),
				"HTTP_ADDR":    "127.0.0.1:0",
			}
			for k, v := range tt.also {
				env[k] = v
			}
			env[tt.name] = tt.value
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatalf("run returned nil, want an error naming %s", tt.name)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.name) {
				t.Errorf("error %q does not name %s", msg, tt.name)
			}
			for _, out := range []string{msg, stdout.String(), stderr.String()} {
				if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") || strings.Contains(out, ".go:") {
					t.Errorf("output has a stack trace or panic: %q", out)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("created %s before reporting the bad setting", e.Name())
			}
		})
	}
}

func TestRunRejectsUnknownCommands(t *testing.T) {
	for _, args := range [][]string{{"migrat"}, {"backup"}, {"backup", "a", "b"}, {"migrate", "now"}} {
		dir := t.TempDir()
		env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(dir, "clinic.db")}
		err := run(context.Background(), args, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%v: got nil, want an error", args)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%v: created %d files", args, len(entries))
		}
	}
}
