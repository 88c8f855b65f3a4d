package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Result is the outcome of one delivery attempt.
type Result struct {
	StatusCode int    // 0 when no answer came
	Body       string // at most MaxResponseBody bytes of the answer
	Err        string // why it failed, for admins; empty on success
	Success    bool   // a 2xx answer
	Gone       bool   // 410 Gone: the receiver asks never to be called again
}

// Send makes one delivery attempt: a POST of body to the endpoint's URL,
// signed with its secret under message id msgID at time at, with client
// (see Guard.Client). Success is any 2xx answer; anything else, including a
// redirect, a timeout and a refused address, is a failure.
func Send(ctx context.Context, client *http.Client, ep Endpoint, msgID string, at time.Time, body []byte) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: "bad endpoint URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clinic-booking-webhooks/1")
	if err := SetHeaders(req.Header, ep.Secret, msgID, at, body); err != nil {
		return Result{Err: err.Error()}
	}
	res, err := client.Do(req)
	if err != nil {
		return Result{Err: describe(err)}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, MaxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // let the connection be reused
	r := Result{StatusCode: res.StatusCode, Body: string(b)}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		r.Success = true
	case res.StatusCode == http.StatusGone:
		r.Gone = true
		r.Err = "410 Gone: the endpoint was disabled"
	case res.StatusCode >= 300 && res.StatusCode < 400:
		r.Err = "redirects are not followed: " + res.Status
	default:
		r.Err = "answered " + res.Status
	}
	return r
}

// describe turns a transport error into a short message for admins, without
// Go's wrapping noise.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrBlockedAddress):
		return "refused: the URL resolves to a private, loopback, link-local or reserved address"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "timed out"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
