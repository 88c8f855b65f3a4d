package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServer runs the real binary's run function on a free port and returns
// its base URL; the server stops when the test ends, and run must then
// return nil (a clean, graceful shutdown).
func startServer(t *testing.T, env map[string]string, args ...string) string {
	base, _ := startServerWithOutput(t, env, args...)
	return base
}

// startServerWithOutput is startServer that also returns the plain (non-JSON)
// lines the server printed before it listened, such as the demo login.
func startServerWithOutput(t *testing.T, env map[string]string, args ...string) (string, []string) {
	t.Helper()
	if env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = "sqlite://" + filepath.Join(t.TempDir(), "clinic.db")
	}
	env["HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	addr := make(chan string, 1)
	var plain []string
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				plain = append(plain, sc.Text())
				continue
			}
			if line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop within 20s")
		}
	})
	select {
	case a := <-addr:
		// plain is complete: every plain line is printed before "listening".
		return "http://" + a, plain
	case err := <-done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(2 * time.Minute):
		// Generous: -demo seeding hashes passwords at bcrypt cost 12, which
		// under -race on a busy two-core machine takes tens of seconds.
		t.Fatal("server did not start within 2m")
	}
	return "", nil
}

func TestRunServesAndShutsDown(t *testing.T) {
	base := startServer(t, map[string]string{})
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: got %d, want 200", p, res.StatusCode)
		}
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"MIN_NOTICE": "soon"}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "MIN_NOTICE") {
		t.Errorf("got %v, want an error naming MIN_NOTICE", err)
	}
}
