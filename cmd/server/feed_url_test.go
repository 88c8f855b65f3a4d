package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A provider's calendar-feed URL starts with PUBLIC_BASE_URL, never with
// the Host header of the request that made it: behind a proxy that header is
// an internal name, and anyone could otherwise choose where the secret URL
// points.
func TestCalendarFeedURLUsesPublicBaseURL(t *testing.T) {
	const public = "https://booking.clinic.example"
	base := startServer(t, map[string]string{
		"BOOTSTRAP_ADMIN_EMAIL": "admin@clinic.example", "BOOTSTRAP_ADMIN_PASSWORD": "correct horse battery",
		"PUBLIC_BASE_URL": public, "JWT_SECRET": strings.Repeat("k", 32),
	})
	call := func(method, path, token string, body any) *http.Response {
		t.Helper()
		var r *http.Request
		if body != nil {
			raw, _ := json.Marshal(body)
			r, _ = http.NewRequest(method, base+path, strings.NewReader(string(raw)))
			r.Header.Set("Content-Type", "application/json")
		} else {
			r, _ = http.NewRequest(method, base+path, nil)
		}
		r.Host = "evil.example" // what a forged or internal Host header says
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	res := call("POST", "/v1/auth/login", "", map[string]string{"email": "admin@clinic.example", "password": "correct horse battery"})
	if err := json.NewDecoder(res.Body).Decode(&login); err != nil || login.AccessToken == "" {
		t.Fatalf("login: %d %v", res.StatusCode, err)
	}
	var provider struct {
		ID string `json:"id"`
	}
	res = call("POST", "/v1/providers", login.AccessToken, map[string]string{"name": "Dr. Dana Reyes", "title": "Spine surgeon"})
	if err := json.NewDecoder(res.Body).Decode(&provider); err != nil || provider.ID == "" {
		t.Fatalf("create provider: %d %v", res.StatusCode, err)
	}
	var feed struct {
		URL string `json:"url"`
	}
	res = call("POST", "/v1/providers/"+provider.ID+"/calendar-feed", login.AccessToken, nil)
	if err := json.NewDecoder(res.Body).Decode(&feed); err != nil {
		t.Fatalf("calendar feed: %d %v", res.StatusCode, err)
	}
	if got, want := feed.URL, public+"/v1/calendar-feeds/"; !strings.HasPrefix(got, want) {
		t.Errorf("feed URL: got %q, want it to start with %q", got, want)
	}
}
