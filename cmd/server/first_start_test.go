package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logLine is one JSON log line of the server, with the fields these tests
// read.
type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Addr  string `json:"addr"`
}

// started is the server binary running in a folder of its own.
type started struct {
	base  string
	mu    sync.Mutex
	lines []logLine
	plain []string
}

// logged returns the log lines seen so far with msg containing s.
func (p *started) logged(s string) []logLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []logLine
	for _, l := range p.lines {
		if strings.Contains(l.Msg, s) {
			out = append(out, l)
		}
	}
	return out
}

// startIn runs the server binary with dir as its working directory (where
// ./data is), env and args, and waits until it listens. It is stopped with
// SIGTERM, and waited for, when the test ends or when stop is called.
func startIn(t *testing.T, dir string, env map[string]string, args ...string) (p *started, stop func()) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p = &started{}
	listening := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l logLine
			p.mu.Lock()
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				p.plain = append(p.plain, sc.Text())
			} else {
				p.lines = append(p.lines, l)
			}
			p.mu.Unlock()
			if l.Msg == "listening" {
				listening <- l.Addr
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-read
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	select {
	case a := <-listening:
		p.base = "http://" + a
	case <-read:
		t.Fatal("the server exited before listening")
	case <-time.After(2 * time.Minute): // -demo hashes passwords at bcrypt cost 12
		t.Fatal("the server did not listen within 2m")
	}
	return p, stop
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return res.StatusCode, b.String()
}

// With METRICS_ADDR, /metrics is served there and answers 404 on the main
// address, which faces the internet.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	p, _ := startIn(t, t.TempDir(), map[string]string{"METRICS_ADDR": "127.0.0.1:0"})
	ml := p.logged("metrics listening")
	if len(ml) != 1 {
		t.Fatalf("got %d \"metrics listening\" lines, want 1", len(ml))
	}
	if got, _ := getStatus(t, p.base+"/healthz"); got != http.StatusOK {
		t.Errorf("GET /healthz on the main address: got %d, want 200", got)
	}
	if got, _ := getStatus(t, p.base+"/metrics"); got != http.StatusNotFound {
		t.Errorf("GET /metrics on the main address: got %d, want 404", got)
	}
	got, body := getStatus(t, "http://"+ml[0].Addr+"/metrics")
	if got != http.StatusOK || !strings.Contains(body, "http_requests_total") {
		t.Errorf("GET /metrics on METRICS_ADDR: got %d, want 200 with http_requests_total:\n%.500s", got, body)
	}
	if got, _ := getStatus(t, "http://"+ml[0].Addr+"/v1/providers"); got != http.StatusNotFound {
		t.Errorf("GET /v1/providers on METRICS_ADDR: got %d, want 404 (nothing but metrics there)", got)
	}
}

// A first start with no staff account says how to make the first admin; a
// start that makes one (or has one) does not.
func TestFirstStartWithoutStaffSaysHowToCreateTheFirstAdmin(t *testing.T) {
	dir := t.TempDir()
	p, stop := startIn(t, dir, nil)
	warn := p.logged("no staff account")
	if len(warn) != 1 || warn[0].Level != "WARN" || !strings.Contains(warn[0].Msg, "BOOTSTRAP_ADMIN_EMAIL") || !strings.Contains(warn[0].Msg, "BOOTSTRAP_ADMIN_PASSWORD") || !strings.Contains(warn[0].Msg, "server create-admin EMAIL") {
		t.Errorf("got %+v, want one WARN naming server create-admin, BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD", warn)
	}
	stop()
	p, _ = startIn(t, dir, map[string]string{
		"BOOTSTRAP_ADMIN_EMAIL": "admin@clinic.example", "BOOTSTRAP_ADMIN_PASSWORD": "a long enough password",
	})
	if warn := p.logged("no staff account"); len(warn) != 0 {
		t.Errorf("with the first admin made: got %+v, want no warning", warn)
	}
}

// -demo keeps its clinic in ./data/demo.db, so the clinic's own start
// afterwards (no -demo) opens ./data/clinic.db and finds no demo in it.
func TestDemoHasADatabaseOfItsOwn(t *testing.T) {
	dir := t.TempDir()
	p, stop := startIn(t, dir, nil, "-demo")
	if len(p.plain) == 0 || !strings.HasPrefix(p.plain[0], "demo login: ") {
		t.Fatalf("got %q, want a demo login line", p.plain)
	}
	stop()
	if _, err := os.Stat(filepath.Join(dir, "data", "demo.db")); err != nil {
		t.Errorf("data/demo.db after -demo: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "clinic.db")); !os.IsNotExist(err) {
		t.Errorf("data/clinic.db after -demo: got %v, want it not made", err)
	}

	p, _ = startIn(t, dir, nil)
	if len(p.logged("no staff account")) != 1 {
		t.Errorf("the clinic's start after a demo: want the no-staff warning (a database without the demo's admin)")
	}
	if _, body := getStatus(t, p.base+"/v1/providers"); strings.Contains(body, "Dr.") || !strings.Contains(body, `"items":[]`) {
		t.Errorf("providers on the clinic's start after a demo: got %.300s, want none", body)
	}
}

// server create-admin EMAIL adds an admin whose password comes from the
// environment, who can then log in; the server's start then has no
// warning to give.
func TestCreateAdminCommand(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "clinic.db")
	const email, password = "admin@clinic.example", "a long enough password"
	createAdmin := func(env map[string]string, args ...string) error {
		env["DATABASE_URL"] = db
		return run(context.Background(), append([]string{"create-admin"}, args...), func(k string) string { return env[k] }, io.Discard, io.Discard)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // in the error
	}{
		{"no email", map[string]string{createAdminPasswordVar: password}, nil, "create-admin EMAIL"},
		{"no password", map[string]string{}, []string{email}, createAdminPasswordVar},
		{"a short password", map[string]string{createAdminPasswordVar: "short"}, []string{email}, createAdminPasswordVar},
		{"a bad email", map[string]string{createAdminPasswordVar: password}, []string{"not-an-email"}, "email"},
	} {
		if err := createAdmin(tc.env, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	if err := createAdmin(map[string]string{createAdminPasswordVar: password}, email); err != nil {
		t.Fatalf("create-admin: %v", err)
	}
	if err := createAdmin(map[string]string{createAdminPasswordVar: password}, email); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("create-admin twice: got %v, want an error saying the account exists", err)
	}

	base := startServer(t, map[string]string{"DATABASE_URL": db})
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(base+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("login as the created admin: got %d, want 200", res.StatusCode)
	}
}
