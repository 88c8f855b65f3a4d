package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/apidocs"
)

// TestDocsPageInChromium opens GET /docs in headless Chromium: the page
// must render every operation of the spec, log no console error (a CSP
// violation would be one), throw no exception and request nothing from
// another origin.
func TestDocsPageInChromium(t *testing.T) {
	e := newEnv(t, sqliteURL(t))

	r := e.do("GET", "/docs", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Security-Policy") != apidocs.ContentSecurityPolicy {
		t.Fatalf("GET /docs: got %d with CSP %q, want 200 with the page's policy", r.Status, r.Header.Get("Content-Security-Policy"))
	}

	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	var operationIDs []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			operationIDs = append(operationIDs, op.OperationID)
		}
	}

	ctx, cancel := headless(t)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	origin, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe before navigating, so that nothing the page does is missed;
	// read in the background until the watch context ends.
	watch, stopWatching := context.WithCancel(ctx)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var problems, requests []string
	messages := chromedp.Console(watch)
	sent := chromedp.Events(watch, network.RequestWillBeSent)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range sent {
			if err != nil {
				return
			}
			mu.Lock()
			requests = append(requests, ev.Request.URL)
			mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`[data-section-id^="operation/"]`)),
		// Let late work (the search index, lazy sections) run and report.
		chromedp.Sleep(time.Second),
	)
	if err != nil {
		t.Fatalf("load /docs in Chromium: %v", err)
	}
	rendered, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-section-id^="operation/"]')).map(e => e.getAttribute('data-section-id'))`))
	if err != nil {
		t.Fatalf("read the rendered operations: %v", err)
	}
	stopWatching()
	wg.Wait()

	seen := map[string]bool{}
	for _, id := range rendered {
		seen[strings.TrimPrefix(id, "operation/")] = true
	}
	for _, id := range operationIDs {
		if !seen[id] {
			t.Errorf("operation %s is not on the /docs page", id)
		}
	}
	for _, p := range problems {
		t.Errorf("/docs: %s", p)
	}
	for _, u := range requests {
		ru, err := url.Parse(u)
		if err != nil {
			t.Errorf("request to unparsable URL %q", u)
			continue
		}
		if ru.Scheme == "data" || ru.Scheme == "blob" {
			continue
		}
		if ru.Host != origin.Host || ru.Scheme != origin.Scheme {
			t.Errorf("/docs requested %s, which is not this server", u)
		}
	}
	if len(requests) == 0 {
		t.Error("saw no request at all; the network listener is broken")
	}
}
