package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// On SIGTERM (ctx cancelled) with SHUTDOWN_DRAIN set, /readyz answers 503
// for the drain while the listener still serves; then the listener closes.
func TestShutdownDrainFailsReadinessFirst(t *testing.T) {
	const drain = 1500 * time.Millisecond
	env := map[string]string{
		"DATABASE_URL":   "sqlite://" + filepath.Join(t.TempDir(), "clinic.db"),
		"HTTP_ADDR":      "127.0.0.1:0",
		"SHUTDOWN_DRAIN": drain.String(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, func(k string) string { return env[k] }, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("server did not start within 2m")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	status := func(path string) int {
		res, err := client.Get(base + path)
		if err != nil {
			return 0 // refused: the listener is closed
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("/readyz"); got != 200 {
		t.Fatalf("readyz before SIGTERM: got %d, want 200", got)
	}
	stopAt := time.Now()
	cancel()
	time.Sleep(100 * time.Millisecond)
	if got := status("/readyz"); got != 503 {
		t.Errorf("readyz while draining: got %d, want 503", got)
	}
	if got := status("/healthz"); got != 200 {
		t.Errorf("healthz while draining: got %d, want 200 (requests are still served)", got)
	}
	for time.Since(stopAt) < drain-300*time.Millisecond {
		if got := status("/readyz"); got != 503 {
			t.Fatalf("readyz %v into the drain: got %d, want 503 until the drain ends", time.Since(stopAt), got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: got %v, want nil", err)
		}
		if d := time.Since(stopAt); d < drain {
			t.Errorf("stopped %v after SIGTERM, want at least the %v drain", d, drain)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	if got := status("/healthz"); got != 0 {
		t.Errorf("after shutdown: got %d, want the connection refused", got)
	}
}
