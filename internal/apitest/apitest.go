// Package apitest checks HTTP responses against the OpenAPI document in
// tests: wrap a client's transport with Transport and every response it sees
// must be one the spec declares for that route and status, with a body that
// matches the declared schema. It is imported by tests only.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/clinic/consult/api"
)

var (
	loadOnce sync.Once
	router   routers.Router
	spec     *openapi3.T
	loadErr  error
)

// Router returns a kin-openapi router over the embedded spec, with servers
// reset to "/" so it matches any test server's host.
func Router() (routers.Router, error) {
	loadOnce.Do(func() {
		// Text formats the API serves besides JSON (the spec itself as YAML
		// text, the widget script, the hosted pages, calendar files, event
		// streams): checked as text, not decoded into an object.
		for _, ct := range []string{"application/yaml", "text/html", "text/javascript", "text/calendar", "text/event-stream", "text/css"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
		}
		loader := openapi3.NewLoader()
		var doc *openapi3.T
		doc, loadErr = loader.LoadFromData(api.SpecYAML())
		if loadErr != nil {
			return
		}
		if loadErr = doc.Validate(context.Background()); loadErr != nil {
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/"}}
		spec = doc
		router, loadErr = gorillamux.NewRouter(doc)
	})
	return router, loadErr
}

// Transport returns a RoundTripper that sends through base (or
// http.DefaultTransport) and fails t for any response the spec does not
// allow.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{t: t, base: base}
}

type transport struct {
	t    testing.TB
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tr.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := Check(req, resp.StatusCode, resp.Header, body); err != nil {
		tr.t.Errorf("%s %s -> %d: response does not match openapi.yaml: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
	}
	return resp, nil
}

// Check validates one response to req against the spec. Routes the spec does
// not define (the server answers them 404 or 405) must answer a problem.
func Check(req *http.Request, status int, header http.Header, body []byte) error {
	r, err := Router()
	if err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	route, params, err := r.FindRoute(req)
	if err != nil {
		return checkProblem(status, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	if status >= 400 {
		return checkProblem(status, header, body)
	}
	return nil
}

// checkProblem insists on an RFC 9457 body that matches the spec's Problem
// schema (so its code is one the spec lists), also on routes the spec does
// not define.
func checkProblem(status int, header http.Header, body []byte) error {
	if status < 400 {
		return fmt.Errorf("status %d on a route the spec does not define", status)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("error content type %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	if p.Type == "" || p.Title == "" || p.Code == "" || p.Status != status {
		return fmt.Errorf("problem %+v lacks type, title or code, or its status is not %d", p, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	if err := spec.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("problem body does not match the Problem schema: %w", err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}
