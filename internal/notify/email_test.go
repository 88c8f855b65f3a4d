package notify

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/mailpit"
)

// TestMailerAuthenticates sends through a server that requires a login,
// with the credentials of SMTP_URL; wrong ones are refused.
func TestMailerAuthenticates(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("clinic:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := mailpit.Start(t, "--smtp-auth-file", users, "--smtp-auth-allow-insecure")
	mailer := func(password string) *Mailer {
		m, err := NewMailer(config.SMTP{Host: mp.SMTPHost, Port: mp.SMTPPort, Security: config.STARTTLSOpportunistic,
			Username: "clinic", Password: password}, "Clinic <clinic@example.com>")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if err := mailer("wrong").send(context.Background(), email{id: "x", to: "pat@example.com", subject: "Hello", text: "t", html: "h"}); err == nil {
		t.Error("send with a wrong password: got nil error")
	}
	err := mailer("secret").send(context.Background(), email{id: "11111111-2222-4333-8444-555555555555", to: "pat@example.com",
		subject: "Hello", text: "text part", html: "<p>html part</p>"})
	if err != nil {
		t.Fatalf("send with credentials: %v", err)
	}
	got, err := mp.To(context.Background(), "pat@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MessageID != "11111111-2222-4333-8444-555555555555@example.com" {
		t.Errorf("received %+v, want one message with Message-ID 11111111-2222-4333-8444-555555555555@example.com", got)
	}
}

// refusingSMTP is a mail server that greets, then refuses every recipient
// with 550 (a bounced address); it counts the refusals.
func refusingSMTP(t *testing.T) (port int, refused *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	refused = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				fmt.Fprint(c, "220 refusing.test ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						fmt.Fprint(c, "250-refusing.test\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "MAIL FROM"):
						fmt.Fprint(c, "250 2.1.0 Ok\r\n")
					case strings.HasPrefix(cmd, "RCPT TO"):
						refused.Add(1)
						fmt.Fprint(c, "550 5.1.1 Recipient address rejected: User unknown\r\n")
					case strings.HasPrefix(cmd, "QUIT"):
						fmt.Fprint(c, "221 Bye\r\n")
						return
					default:
						fmt.Fprint(c, "250 Ok\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, refused
}

// TestMailerReportsABounce: a refused recipient is an error naming the
// server's answer, so the message is retried and, in the end, listed as
// failed with it.
func TestMailerReportsABounce(t *testing.T) {
	port, refused := refusingSMTP(t)
	m, err := NewMailer(config.SMTP{Host: "127.0.0.1", Port: port, Security: config.STARTTLSOpportunistic}, "clinic@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = m.send(context.Background(), email{id: "x", to: "nobody@example.com", subject: "Hello", text: "t", html: "h"})
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("send to a refused address: got %v, want an error with the server's 550", err)
	}
	if refused.Load() != 1 {
		t.Errorf("refusals: got %d, want 1", refused.Load())
	}
}
