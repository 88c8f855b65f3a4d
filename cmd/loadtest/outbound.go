package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	appconfig "github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/notify"
)

// outbound is where a scenario's patient messages go: a real SMTP server
// (Mailpit, started here, its own) and a local server answering as Twilio
// does, with the senders that reach them.
type outbound struct {
	mailpit *mailpit.Server
	twilio  *httptest.Server
	dir     string
	email   *notify.Mailer
	sms     *notify.SMSSender
}

// startOutbound starts Mailpit (its data in a new folder named after
// prefix) and the Twilio stand-in. It returns nil and a reason when
// Mailpit is not installed.
func startOutbound(prefix string) (*outbound, string, error) {
	bin, err := mailpit.Binary()
	if err != nil {
		return nil, err.Error(), nil
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, "", err
	}
	o := &outbound{dir: dir}
	if o.mailpit, err = mailpit.StartAt(bin, dir, 0); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	o.twilio = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid": "SM00000000000000000000000000000000", "status": "queued"}`)
	}))
	o.email, err = notify.NewMailer(appconfig.SMTP{Host: o.mailpit.SMTPHost, Port: o.mailpit.SMTPPort, Security: appconfig.STARTTLSOpportunistic},
		"Load Clinic <clinic@loadtest.example>")
	if err != nil {
		o.close()
		return nil, "", err
	}
	o.sms = notify.NewSMSSender(appconfig.Twilio{AccountSID: "ACload", AuthToken: "x", From: "+15005550006", APIURL: o.twilio.URL})
	return o, "", nil
}

// close stops both servers and removes Mailpit's folder.
func (o *outbound) close() {
	o.twilio.Close()
	o.mailpit.Stop()
	os.RemoveAll(o.dir)
}
