package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
)

// TestSMSSenderAnswers: Twilio's 201 is sent; 429 and 5xx are worth a retry;
// any other refusal is permanent.
func TestSMSSenderAnswers(t *testing.T) {
	tests := []struct {
		status    int
		wantErr   bool
		permanent bool
	}{
		{http.StatusCreated, false, false},
		{http.StatusTooManyRequests, true, false},
		{http.StatusInternalServerError, true, false},
		{http.StatusServiceUnavailable, true, false},
		{http.StatusBadRequest, true, true},
		{http.StatusUnauthorized, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if user, pass, _ := r.BasicAuth(); user != "AC1" || pass != "secret" || r.FormValue("To") != "+14245550123" || r.FormValue("Body") != "hello" {
					t.Errorf("request: got auth %s:%s, To %q, Body %q", user, pass, r.FormValue("To"), r.FormValue("Body"))
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}`)
			}))
			defer srv.Close()
			s := NewSMSSender(config.Twilio{AccountSID: "AC1", AuthToken: "secret", From: "+15005550006", APIURL: srv.URL})
			err := s.send(context.Background(), "m1", "+14245550123", "hello")
			isPerm := delivery.IsPermanent(err)
			if (err != nil) != tt.wantErr || isPerm != tt.permanent {
				t.Errorf("status %d: got %v (permanent %v), want error %v, permanent %v", tt.status, err, isPerm, tt.wantErr, tt.permanent)
			}
		})
	}
}
