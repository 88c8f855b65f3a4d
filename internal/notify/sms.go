package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
)

// SMSSender sends text messages through Twilio's Messages API.
type SMSSender struct {
	cfg    config.Twilio
	client *http.Client
}

// NewSMSSender returns a sender for the Twilio account cfg.
func NewSMSSender(cfg config.Twilio) *SMSSender {
	return &SMSSender{cfg: cfg, client: &http.Client{Timeout: 20 * time.Second}}
}

// twilioError is Twilio's error answer.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// send posts one message: nil once Twilio accepted it (201). A 429 or 5xx
// answer, or no answer, is worth retrying; any other refusal (a number
// Twilio cannot text, say) is permanent.
func (s *SMSSender) send(ctx context.Context, id, to, body string) error {
	form := url.Values{"To": {to}, "From": {s.cfg.From}, "Body": {body}}
	endpoint := s.cfg.APIURL + "/2010-04-01/Accounts/" + url.PathEscape(s.cfg.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return delivery.Permanent(fmt.Errorf("twilio request: %w", err))
	}
	req.SetBasicAuth(s.cfg.AccountSID, s.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Twilio has no idempotency key for sends; the id still travels, for
	// logs on the way.
	req.Header.Set("X-Message-ID", id)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		return nil
	}
	var te twilioError
	_ = json.Unmarshal(raw, &te)
	err = fmt.Errorf("twilio: status %d, error %d: %s", resp.StatusCode, te.Code, te.Message)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return err
	}
	return delivery.Permanent(err)
}

// sendSMS is the handler of patient text message jobs.
func (n *Notifier) sendSMS(ctx context.Context, j delivery.Job[SMSArgs]) error {
	m := Message(j.Args)
	if n.cfg.SMS == nil {
		return delivery.Permanent(errors.New("text messages are not configured (TWILIO_ACCOUNT_SID)"))
	}
	return n.inTurn(ctx, channelOf(KindSMS), m, func() error { return n.deliverSMS(ctx, j, m) })
}

// deliverSMS builds and sends text message m, in its booking's turn.
func (n *Notifier) deliverSMS(ctx context.Context, j delivery.Job[SMSArgs], m Message) error {
	d, skip, err := n.prepare(ctx, m)
	if err != nil || skip {
		return err
	}
	phone := strings.Join(strings.Fields(d.Booking.Patient.Phone), "")
	if !d.Booking.Consent.ContactBySMS || phone == "" {
		return delivery.Skipped("no phone number, or no consent to text messages")
	}
	if !e164.MatchString(phone) {
		return delivery.Permanent(errors.New("the patient's phone number is not in E.164 form (+ and country code)"))
	}
	token, err := n.store.MintManageToken(ctx, d.Booking.ID, m.ID)
	if err != nil {
		return fmt.Errorf("manage token: %w", err)
	}
	body, err := renderSMS(n.view(d, m, token))
	if err != nil {
		return delivery.Permanent(err)
	}
	if err := n.cfg.SMS.send(ctx, m.ID, phone, body); err != nil {
		return err
	}
	if n.cfg.OnSent != nil {
		n.cfg.OnSent("sms", m.since(j.CreatedAt))
	}
	return nil
}
