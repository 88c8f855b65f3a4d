package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startLogs runs run with env on 127.0.0.1:0 until it listens, stops it,
// and returns its JSON log lines up to "listening" and the address it
// listened on.
func startLogs(t *testing.T, env map[string]string) ([]map[string]any, string) {
	t.Helper()
	env["DATABASE_URL"] = "sqlite://" + filepath.Join(t.TempDir(), "clinic.db")
	env["HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, func(k string) string { return env[k] }, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	var lines []map[string]any
	addr := ""
	sc := bufio.NewScanner(pr)
	for addr == "" && sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			continue
		}
		lines = append(lines, line)
		if line["msg"] == "listening" {
			addr, _ = line["addr"].(string)
		}
	}
	cancel()
	go io.Copy(io.Discard, pr) // the shutdown's lines
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop within 20s")
	}
	if addr == "" {
		t.Fatal("server never listened")
	}
	return lines, addr
}

// Without PUBLIC_BASE_URL the server says so once, at WARN, and its links
// name the address it listens on, not a fixed localhost:8080.
func TestRunWarnsWithoutPublicBaseURL(t *testing.T) {
	tests := []struct {
		name   string
		public string
		warns  int
	}{
		{"unset", "", 1},
		{"set", "https://booking.clinic.example", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, addr := startLogs(t, map[string]string{"PUBLIC_BASE_URL": tt.public})
			var warns []map[string]any
			for _, l := range lines {
				if msg, _ := l["msg"].(string); strings.Contains(msg, "PUBLIC_BASE_URL") {
					warns = append(warns, l)
				}
			}
			if len(warns) != tt.warns {
				t.Fatalf("lines naming PUBLIC_BASE_URL: got %d, want %d: %v", len(warns), tt.warns, warns)
			}
			if tt.warns == 0 {
				return
			}
			if got := warns[0]["level"]; got != "WARN" {
				t.Errorf("level: got %v, want WARN", got)
			}
			if got, want := warns[0]["public_base_url"], "http://"+addr; got != want {
				t.Errorf("public_base_url: got %v, want %v", got, want)
			}
		})
	}
}
