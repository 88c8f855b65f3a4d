package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeClosedPort returns a local address nothing listens on.
func freeClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A start-up that cannot open its database ends with one line on stderr
// naming the cause and exit status 1: never a Go panic and its stack trace.
func TestStartupFailsWithOneLineNamingTheCause(t *testing.T) {
	dir := t.TempDir()
	notSQLite := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notSQLite, []byte("this is a text file, not an SQLite database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, databaseURL, want string
	}{
		{"a file that is not SQLite", "sqlite://" + notSQLite, "not a database"},
		{"a PostgreSQL that refuses", "postgres://postgres@" + freeClosedPort(t) + "/clinic?sslmode=disable&connect_timeout=5", "connection refused"},
		{"a data directory that cannot be made", "sqlite://" + filepath.Join(aFile, "data", "clinic.db"), "not a directory"},
	}
	if os.Geteuid() != 0 { // root writes into a read-only folder all the same
		ro := filepath.Join(dir, "read-only")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ name, databaseURL, want string }{
			"a data directory that cannot be written", "sqlite://" + filepath.Join(ro, "clinic.db"), "permission denied",
		})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(serverBinary(t))
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"HTTP_ADDR=127.0.0.1:0", "DATABASE_URL=" + tc.databaseURL, "JWT_SECRET=" + strings.Repeat("k", 32)}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatal("the server did not stop within 60s")
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: got %v, want exit status 1", err)
			}
			out := stderr.String()
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr: got %d lines, want 1:\n%s", len(lines), out)
			}
			if strings.Contains(out, "goroutine") || strings.Contains(out, "panic") {
				t.Errorf("stderr: got a panic, want one line:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("stderr: got %q, want it to name the cause (%q)", out, tc.want)
			}
		})
	}
}
