// Package mailpit runs Mailpit (github.com/axllent/mailpit), a real SMTP
// server with an HTTP API, for tests and the load tool, and reads what it
// received through that API: recipients, subjects, text and HTML parts,
// attachments and the raw source.
package mailpit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	SMTPHost string // 127.0.0.1
	SMTPPort int
	APIURL   string // http://127.0.0.1:port
	cmd      *exec.Cmd
}

// Binary finds the mailpit binary: MAILPIT, then PATH, then ~/go/bin.
func Binary() (string, error) {
	if p := os.Getenv("MAILPIT"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mailpit not found (go install github.com/axllent/mailpit@v1.33.1, or set MAILPIT)")
}

// BinaryFor is Binary for a test that needs Mailpit: when the binary is
// missing the test is skipped, except under CI=true, where it fails.
func BinaryFor(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

// Start starts Mailpit on free ports for t and stops it when t ends. When
// the binary is missing the test is skipped, except under CI=true, where it
// fails.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	s, err := StartAt(BinaryFor(t), t.TempDir(), 0, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartAt starts Mailpit from bin with its database in dir, on smtpPort (0:
// any free port) and a free API port, with extra command-line flags, and
// waits until its API answers.
func StartAt(bin, dir string, smtpPort int, extra ...string) (*Server, error) {
	if smtpPort == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		smtpPort = p
	}
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, APIURL: "http://127.0.0.1:" + strconv.Itoa(apiPort)}
	args := []string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
		"--listen", "127.0.0.1:" + strconv.Itoa(apiPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--max", "0", // keep every message
	}
	s.cmd = exec.Command(bin, append(args, extra...)...)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(s.APIURL + "/api/v1/info")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("mailpit did not answer within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, nil
}

// Stop ends Mailpit.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// SMTPURL is the SMTP_URL that reaches it.
func (s *Server) SMTPURL() string {
	return "smtp://" + s.SMTPHost + ":" + strconv.Itoa(s.SMTPPort)
}

// FreePort returns a TCP port nobody listened on a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Address is a mailbox.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in a list.
type Summary struct {
	ID          string    `json:"ID"`
	MessageID   string    `json:"MessageID"`
	From        Address   `json:"From"`
	To          []Address `json:"To"`
	Subject     string    `json:"Subject"`
	Attachments int       `json:"Attachments"`
	Created     time.Time `json:"Created"`
}

// Attachment is a message's attached file.
type Attachment struct {
	PartID      string `json:"PartID"`
	FileName    string `json:"FileName"`
	ContentType string `json:"ContentType"`
	Size        int    `json:"Size"`
}

// Message is one message in full.
type Message struct {
	ID          string       `json:"ID"`
	MessageID   string       `json:"MessageID"`
	From        Address      `json:"From"`
	To          []Address    `json:"To"`
	Subject     string       `json:"Subject"`
	Date        time.Time    `json:"Date"`
	Text        string       `json:"Text"`
	HTML        string       `json:"HTML"`
	Attachments []Attachment `json:"Attachments"`
}

func (s *Server) getJSON(ctx context.Context, path string, v any) error {
	b, err := s.get(ctx, path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (s *Server) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpit %s: status %d: %s", path, res.StatusCode, b)
	}
	return b, nil
}

// Messages returns every message received, newest first.
func (s *Server) Messages(ctx context.Context) ([]Summary, error) {
	var out []Summary
	for start := 0; ; start += 500 {
		var page struct {
			Total    int       `json:"total"`
			Messages []Summary `json:"messages"`
		}
		if err := s.getJSON(ctx, "/api/v1/messages?limit=500&start="+strconv.Itoa(start), &page); err != nil {
			return nil, err
		}
		out = append(out, page.Messages...)
		if len(page.Messages) == 0 || len(out) >= page.Total {
			return out, nil
		}
	}
}

// To returns the messages received for address, oldest first.
func (s *Server) To(ctx context.Context, address string) ([]Summary, error) {
	var page struct {
		Messages []Summary `json:"messages"`
	}
	if err := s.getJSON(ctx, "/api/v1/search?limit=500&query="+url.QueryEscape("to:\""+address+"\""), &page); err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(page.Messages))
	for i := len(page.Messages) - 1; i >= 0; i-- {
		out = append(out, page.Messages[i])
	}
	return out, nil
}

// Message returns message id in full.
func (s *Server) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	err := s.getJSON(ctx, "/api/v1/message/"+url.PathEscape(id), &m)
	return m, err
}

// Part returns an attachment's bytes.
func (s *Server) Part(ctx context.Context, id, partID string) ([]byte, error) {
	return s.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/part/"+url.PathEscape(partID))
}

// Raw returns a message's source as received.
func (s *Server) Raw(ctx context.Context, id string) ([]byte, error) {
	return s.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/raw")
}
