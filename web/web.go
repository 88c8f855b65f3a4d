// Package web holds what the browser gets from the server: the booking
// widget script (widget.js, plain JavaScript with no build step, so the
// files here are both the source and what is served), the hosted booking
// page, the patient's manage page and waitlist page, and the reception desk
// (desk/), embedded in the binary.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"sync"
)

//go:embed widget.js book.html manage.html waitlist.html desk/index.html desk/app.js desk/app.css
var files embed.FS

// Asset is a static file with its content type and strong ETag.
type Asset struct {
	Body        []byte
	ContentType string
	ETag        string
}

func asset(name, contentType string) Asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("web: embedded %s is missing: %v", name, err))
	}
	sum := sha256.Sum256(b)
	return Asset{Body: b, ContentType: contentType, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// WidgetScript is /widget.js.
func WidgetScript() Asset { return asset("widget.js", "text/javascript; charset=utf-8") }

// DeskScreens are the screens of the reception desk: /desk/{screen} serves
// the desk's page for each, and the script opens the screen the URL names.
var DeskScreens = []string{"today", "requests", "find", "book", "waitlist", "messages", "patient"}

// DeskPage is /desk and /desk/{screen}: the same page for every screen.
var DeskPage = sync.OnceValue(func() Asset { return asset("desk/index.html", "text/html; charset=utf-8") })

// DeskScript is /desk/app.js.
var DeskScript = sync.OnceValue(func() Asset { return asset("desk/app.js", "text/javascript; charset=utf-8") })

// DeskStyle is /desk/app.css.
var DeskStyle = sync.OnceValue(func() Asset { return asset("desk/app.css", "text/css; charset=utf-8") })

// PageData fills a hosted page: its language ("en" or "es") and, for the
// booking page, a consultation type id to preselect (already checked to be
// a UUID).
type PageData struct {
	Lang             string
	ConsultationType string
}

var titles = map[string]map[string]string{
	"book.html":     {"en": "Book a consultation", "es": "Reservar una consulta"},
	"manage.html":   {"en": "Your booking", "es": "Su reserva"},
	"waitlist.html": {"en": "Your place on the waitlist", "es": "Su lugar en la lista de espera"},
}

var pages = template.Must(template.ParseFS(files, "book.html", "manage.html", "waitlist.html"))

// BookPage renders /book.
func BookPage(d PageData) ([]byte, error) { return render("book.html", d) }

// ManagePage renders /manage.
func ManagePage(d PageData) ([]byte, error) { return render("manage.html", d) }

// WaitlistPage renders /waitlist.
func WaitlistPage(d PageData) ([]byte, error) { return render("waitlist.html", d) }

func render(name string, d PageData) ([]byte, error) {
	if _, ok := titles[name][d.Lang]; !ok {
		d.Lang = "en"
	}
	var b bytes.Buffer
	err := pages.ExecuteTemplate(&b, name, struct {
		PageData
		Title string
	}{d, titles[name][d.Lang]})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// ContentSecurityPolicy is the policy of the hosted pages: scripts, styles
// and API calls from this origin only; no inline script or style, no
// plugins, no framing, forms post nowhere else.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
