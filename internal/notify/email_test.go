package notify

import (
	"context"
	"os"
	"path/filepath"
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
