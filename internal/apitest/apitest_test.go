package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The checker itself must be able to fail: undeclared statuses, bodies off
// the schema and errors that are not problems are all caught.
func TestCheckRejectsWhatTheSpecDoesNotAllow(t *testing.T) {
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            bool
	}{
		{"declared", "GET", "/healthz", 200, jsonH, `{"status":"ok"}`, false},
		{"undeclared status", "GET", "/healthz", 418, problem, `{"type":"x","title":"t","status":418,"detail":"d","code":"c"}`, true},
		{"body off schema", "GET", "/healthz", 200, jsonH, `{"state":1}`, true},
		{"error not a problem", "GET", "/v1/auth/me", 401, jsonH, `{"error":"no"}`, true},
		{"unknown route must be a problem", "GET", "/nope", 404, jsonH, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			err := Check(req, tt.status, tt.header, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Errorf("got %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
