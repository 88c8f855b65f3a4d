package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the server binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// serverBinary builds the server once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "server-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "server")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is the server binary running in a process of its own.
type process struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startProcess runs the server binary with env and waits until it listens.
// It is killed when the test ends, if still running.
func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(serverBinary(t))
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
	p := &process{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatal("server process exited before listening")
	case <-time.After(60 * time.Second):
		t.Fatal("server process did not listen within 60s")
	}
	return p
}

// kill ends the process with SIGKILL: no shutdown, no drain.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// mailCount returns how many messages each address received.
func mailCount(t *testing.T, mp *mailpit.Server) map[string]int {
	t.Helper()
	all, err := mp.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, m := range all {
		for _, to := range m.To {
			n[to.Address]++
		}
	}
	return n
}

// bookConfirmed makes n confirmed phone bookings, one per slot, each for its
// own email address prefix+i, reached through the given servers in turn.
func bookConfirmed(t *testing.T, apis []*api, cl clinic, prefix string, n int) []string {
	t.Helper()
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	var addrs []string
	for i := range n {
		a := apis[i%len(apis)]
		slot := cl.slot(t, a, 0, start.Add(time.Duration(i)*time.Hour))
		addr := fmt.Sprintf("%s%d@patients.test", prefix, i)
		body := bookingBody(slot, addr, true, false)
		body["status"] = "confirmed"
		a.call("POST", "/v1/bookings", body, 201, nil)
		addrs = append(addrs, addr)
	}
	return addrs
}

func loginAs(t *testing.T, base string) *api {
	a := newAPI(t, base)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	a.call("POST", "/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, 200, &login)
	a.token = login.AccessToken
	return a
}

func deliveryEnv(dbURL, smtpURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":             dbURL,
		"BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
		"JWT_SECRET":               "delivery-test-secret-delivery-test-secret",
		"SMTP_URL":                 smtpURL,
		"SMTP_FROM":                "clinic@clinic.test",
		"PUBLIC_BASE_URL":          "http://clinic.test",
		"REMINDER_BEFORE":          "0",
		"DELIVERY_RETRY_BASE":      "200ms",
		"DELIVERY_LEASE":           "4s",
		"PUBLIC_RATE_LIMIT":        "0",
	}
}

func fileOrSchema(t *testing.T, backend string) string {
	if backend == "sqlite" {
		return "sqlite://" + filepath.Join(t.TempDir(), "clinic.db")
	}
	return storetest.PostgresURL(t)
}

// TestDeliverySurvivesKill confirms bookings while the mail server is down,
// kills the server with SIGKILL, starts the mail server and a new server
// process: every message arrives, once.
func TestDeliverySurvivesKill(t *testing.T) {
	bin := mailpit.BinaryFor(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dbURL := fileOrSchema(t, b.Name)
			port, err := mailpit.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			env := deliveryEnv(dbURL, fmt.Sprintf("smtp://127.0.0.1:%d", port))
			first := startProcess(t, env)
			a := loginAs(t, first.base)
			cl := setUpClinic(t, a, 1)
			addrs := bookConfirmed(t, []*api{a}, cl, "kill", 6)
			first.kill()

			mp, err := mailpit.StartAt(bin, t.TempDir(), port)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(mp.Stop)
			startProcess(t, env)
			waitUntil(t, "every confirmation", 60*time.Second, func() bool { return len(mailCount(t, mp)) >= len(addrs) })
			time.Sleep(time.Second)
			got := mailCount(t, mp)
			for _, addr := range addrs {
				if got[addr] != 1 {
					t.Errorf("mail to %s: got %d, want 1", addr, got[addr])
				}
			}
		})
	}
}

// TestTwoInstancesDeliverOnce runs two server processes on one database
// (one SQLite file; one PostgreSQL schema): each message is sent once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			mp := mailpit.Start(t)
			env := deliveryEnv(fileOrSchema(t, b.Name), mp.SMTPURL())
			one := startProcess(t, env)
			two := startProcess(t, env)
			a1, a2 := loginAs(t, one.base), loginAs(t, two.base)
			cl := setUpClinic(t, a1, 1)
			addrs := bookConfirmed(t, []*api{a1, a2}, cl, "twice", 20)
			waitUntil(t, "every confirmation", 60*time.Second, func() bool { return len(mailCount(t, mp)) >= len(addrs) })
			time.Sleep(2 * time.Second) // a second copy would have arrived by now
			got := mailCount(t, mp)
			for _, addr := range addrs {
				if got[addr] != 1 {
					t.Errorf("mail to %s: got %d, want 1", addr, got[addr])
				}
			}
		})
	}
}

// TestDeliveryFaults: with the mail server down and Twilio answering 503,
// bookings are made as before; the messages are retried, then fail visibly;
// an admin's retry sends the email once the mail server is back.
func TestDeliveryFaults(t *testing.T) {
	bin := mailpit.BinaryFor(t)
	port, err := mailpit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tw := newTwilioRecorder(t, "ACtest0001")
	tw.fail = []int{503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503}
	env := messageEnv(&mailpit.Server{SMTPHost: "127.0.0.1", SMTPPort: port}, tw, "sqlite://"+filepath.Join(t.TempDir(), "c.db"), 0)
	env["DELIVERY_GIVE_UP"] = "2s"
	base := startServer(t, env)
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 1)
	body := bookingBody(cl.slot(t, a, 0, time.Now().Add(48*time.Hour).Truncate(time.Hour)), "fault@patients.test", true, true)
	body["status"] = "confirmed"
	a.call("POST", "/v1/bookings", body, 201, nil)

	type msg struct {
		ID        int64   `json:"id"`
		Channel   string  `json:"channel"`
		Status    string  `json:"status"`
		Attempts  int     `json:"attempts"`
		LastError *string `json:"last_error"`
	}
	var failed struct {
		Items []msg `json:"items"`
	}
	waitUntil(t, "both messages to fail", 30*time.Second, func() bool {
		a.call("GET", "/v1/messages?status=failed", nil, 200, &failed)
		return len(failed.Items) == 2
	})
	var email msg
	for _, m := range failed.Items {
		if m.Attempts < 2 || m.LastError == nil {
			t.Errorf("failed %s message: got %d attempts and error %v, want retries and the last error", m.Channel, m.Attempts, m.LastError)
			continue
		}
		want := map[string]string{"email": "smtp", "sms": "twilio: status 503"}[m.Channel]
		if !strings.Contains(*m.LastError, want) {
			t.Errorf("failed %s message: last error %q, want it to mention %q", m.Channel, *m.LastError, want)
		}
		if m.Channel == "email" {
			email = m
		}
	}
	a.call("POST", fmt.Sprintf("/v1/messages/%d/retry", failed.Items[0].ID+1000), nil, 404, nil)

	mp, err := mailpit.StartAt(bin, t.TempDir(), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mp.Stop)
	var retried msg
	a.call("POST", fmt.Sprintf("/v1/messages/%d/retry", email.ID), nil, 200, &retried)
	if retried.Status != "pending" {
		t.Errorf("retried message: got status %q, want pending", retried.Status)
	}
	waitUntil(t, "the retried email", 20*time.Second, func() bool { return mailCount(t, mp)["fault@patients.test"] == 1 })
	waitUntil(t, "the email to count as sent", 10*time.Second, func() bool {
		var m struct {
			Items []msg `json:"items"`
		}
		a.call("GET", "/v1/messages?status=sent", nil, 200, &m)
		return len(m.Items) == 1 && m.Items[0].ID == email.ID
	})
	a.call("POST", fmt.Sprintf("/v1/messages/%d/retry", email.ID), nil, 409, nil)
	res, err := http.Get(base + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("readyz after faults: %v %v", res, err)
	}
}

// TestSTARTTLSRequiredRefusesPlainServers: with ?starttls=required, a mail
// server that offers no STARTTLS (Mailpit without a certificate) gets
// nothing: the message fails visibly instead of travelling in clear.
func TestSTARTTLSRequiredRefusesPlainServers(t *testing.T) {
	mp := mailpit.Start(t)
	tw := newTwilioRecorder(t, "ACtest0001")
	env := messageEnv(mp, tw, "sqlite://"+filepath.Join(t.TempDir(), "c.db"), 0)
	env["SMTP_URL"] = mp.SMTPURL() + "?starttls=required"
	env["DELIVERY_GIVE_UP"] = "1s"
	delete(env, "TWILIO_ACCOUNT_SID")
	delete(env, "TWILIO_AUTH_TOKEN")
	delete(env, "TWILIO_FROM")
	base := startServer(t, env)
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 1)
	body := bookingBody(cl.slot(t, a, 0, time.Now().Add(48*time.Hour).Truncate(time.Hour)), "tls@patients.test", true, true)
	body["status"] = "confirmed"
	a.call("POST", "/v1/bookings", body, 201, nil)
	var failed struct {
		Items []struct {
			LastError *string `json:"last_error"`
		} `json:"items"`
	}
	waitUntil(t, "the email to fail", 30*time.Second, func() bool {
		a.call("GET", "/v1/messages?status=failed", nil, 200, &failed)
		return len(failed.Items) == 1
	})
	if e := failed.Items[0].LastError; e == nil || !strings.Contains(strings.ToLower(*e), "starttls") {
		t.Errorf("last error: got %v, want it to name STARTTLS", e)
	}
	if got := mailCount(t, mp)["tls@patients.test"]; got != 0 {
		t.Errorf("mail received in clear: got %d, want 0", got)
	}
}
