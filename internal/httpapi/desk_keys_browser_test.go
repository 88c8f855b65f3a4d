package httpapi_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// keyCodes are the DOM codes and Windows key codes of the keys the desk's
// shortcuts use that are not letters.
var keyCodes = map[string]struct {
	code  string
	vk    int64
	shift bool
	text  string
}{
	"/":         {"Slash", 191, false, "/"},
	"?":         {"Slash", 191, true, "?"},
	"ArrowDown": {"ArrowDown", 40, false, ""},
	"ArrowUp":   {"ArrowUp", 38, false, ""},
	"Escape":    {"Escape", 27, false, ""},
	"Tab":       {"Tab", 9, false, ""},
}

// press presses each key once as a keyboard does (keyDown carrying its
// text, then keyUp), so that a page's preventDefault keeps a key's
// character out of whatever has the focus, as it does in a real browser.
// A key is a lower-case letter or one of keyCodes.
func (b *browser) press(keys ...string) {
	b.t.Helper()
	for _, k := range keys {
		p := input.DispatchKeyEventParams{Key: k}
		if c, ok := keyCodes[k]; ok {
			p.Code, p.WindowsVirtualKeyCode, p.Text = c.code, c.vk, c.text
			if c.shift {
				p.Modifiers = 8 // Shift
			}
		} else if len(k) == 1 && k[0] >= 'a' && k[0] <= 'z' {
			p.Code, p.WindowsVirtualKeyCode, p.Text = "Key"+strings.ToUpper(k), int64(k[0]-'a'+'A'), k
		} else {
			b.t.Fatalf("press: no key %q", k)
		}
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
			p.Type = typ
			q := p
			if typ == input.DispatchKeyEventTypeKeyUp {
				q.Text = ""
			}
			if err := call(b.ctx, input.DispatchKeyEvent, q); err != nil {
				b.t.Fatal(err)
			}
		}
	}
}

// TestDeskKeyboardShortcuts: a receptionist works the desk by keyboard
// alone. `g r` goes to Requests; the same letters typed in the search box
// are a search, not a shortcut; `/`, the reference, ↓ and `c` confirm a
// request (three keys from the search box); `x` on the booking only opens
// the cancel form and `n` only reaches the No-show button; `?` opens the
// shortcuts, a modal dialog that keeps the focus, passes axe in English
// and Spanish, and closes with Escape, the focus back where it was.
func TestDeskKeyboardShortcuts(t *testing.T) {
	b := newDeskBrowser(t)
	axeJS := axeScript(t)
	axe := string(axeJS)
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 0 })
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	req := k.request(t, k.slot(t, slotOpts{}))

	b.do(chromedp.Navigate(e.URL + "/desk/today"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.wait("Today", `location.pathname === "/desk/today"`)

	// `g r`: Requests, its heading focused.
	b.js(`document.activeElement.blur(); true`, nil)
	b.press("g", "r")
	b.wait("Requests by keyboard", `location.pathname === "/desk/requests" && document.activeElement.id === "screen-title" && `+deskRow(req.ID))
	// From the title, j is the first request.
	b.press("j")
	b.wait("the request focused", `document.activeElement === `+deskRow(req.ID))
	// `g m`: Messages.
	b.press("g", "m")
	b.wait("Messages by keyboard", `location.pathname === "/desk/messages" && document.activeElement.id === "screen-title"`)

	// Typed in the search box, "g t" is a search.
	b.press("/")
	b.press("g", "t")
	b.wait("a search for the letters", `location.pathname === "/desk/find" && document.querySelector("#q").value === "gt"`)

	// `/`, the reference, ↓, `c`: confirmed.
	b.js(`document.querySelector("#screen-title").focus(); true`, nil)
	b.press("/")
	var focused struct{ Name, Value string }
	b.js(`({name: document.activeElement.name, value: document.activeElement.value})`, &focused)
	if focused.Name != "q" || focused.Value != "gt" {
		t.Fatalf("after /: focus on %q holding %q, want the search box", focused.Name, focused.Value)
	}
	b.do(chromedp.KeyEvent(req.Reference)) // replaces the selected "gt"
	b.wait("the request found", `location.search.includes(`+jsString(req.Reference)+`) && `+deskRow(req.ID)+` && document.querySelectorAll("#list [data-booking-id]").length === 1`)
	b.press("ArrowDown")
	b.wait("the booking focused", `document.activeElement === `+deskRow(req.ID))
	var outline string
	b.js(`getComputedStyle(document.activeElement).outlineStyle`, &outline)
	if outline == "none" {
		t.Error("the row focused by ↓ shows no outline")
	}
	b.press("c")
	b.wait("confirmed on the desk", deskRow(req.ID)+`.dataset.status === "confirmed" && `+deskRow(req.ID)+`.contains(document.activeElement)`)
	if got := bookingStatus(t, e, req.ID); got != "confirmed" {
		t.Errorf("after c: the server says %q, want confirmed", got)
	}

	// `x` opens the cancel form and cancels nothing; Escape closes it.
	b.press("x")
	b.wait("the cancel form", deskRow(req.ID)+`.querySelector('form[data-reason-for="cancel"]') && document.activeElement.name === "reason"`)
	if got := bookingStatus(t, e, req.ID); got != "confirmed" {
		t.Errorf("after x: the server says %q, want still confirmed", got)
	}
	b.press("Escape")
	b.wait("the cancel form closed", `!`+deskRow(req.ID)+`.querySelector("form.reason") && document.activeElement.dataset.action === "cancel"`)
	// `n` only reaches the No-show button; `c` has nothing to do here.
	b.press("n")
	b.wait("the no-show button focused", `document.activeElement.dataset.action === "no-show" && document.querySelector("#status").textContent.includes("Enter")`)
	b.press("c")
	b.wait("c refused on a confirmed booking", `document.querySelector("#status").textContent === "That shortcut has no action on this row."`)
	if got := bookingStatus(t, e, req.ID); got != "confirmed" {
		t.Errorf("after n and c: the server says %q, want still confirmed", got)
	}

	// `?`: the shortcuts, the focus kept in the dialog, Escape closes it
	// and the focus goes back to the No-show button.
	b.press("?")
	b.wait("the shortcuts dialog", `document.querySelector("dialog#keys[open]") && document.activeElement.dataset.close !== undefined`)
	var dlg struct {
		Modal  bool
		Role   string
		Label  string
		Rows   int
		Inside bool
		Keys   []string
	}
	b.press("Tab")
	b.press("Tab")
	b.js(`(() => { const d = document.querySelector("dialog#keys"); return {modal: d.matches(":modal"), role: d.getAttribute("role") || "dialog",
		label: document.getElementById(d.getAttribute("aria-labelledby")).textContent, rows: d.querySelectorAll("tr").length, inside: d.contains(document.activeElement),
		keys: [...d.querySelectorAll("th")].map(x => x.textContent)} })()`, &dlg)
	if got := strings.Join(dlg.Keys, ","); !strings.HasPrefix(got, "/,?,g t,g r,g b,g f,g m,g w,Esc,↓ / j,↑ / k,p,c,i,") {
		t.Errorf("the shortcuts listed: %s", got)
	}
	if !dlg.Modal || dlg.Role != "dialog" || dlg.Label != "Keyboard shortcuts" || dlg.Rows < 20 || !dlg.Inside {
		t.Errorf("the shortcuts dialog: %+v, want a modal dialog labelled Keyboard shortcuts listing 20 or more keys, the focus inside after Tab", dlg)
	}
	b.axe(axe, "shortcuts dialog")
	b.shot("desk-shortcuts")
	// While it is open, shortcuts do nothing.
	b.press("g", "t")
	b.press("Escape")
	b.wait("the dialog closed, the focus back", `!document.querySelector("dialog#keys") && document.activeElement.dataset.action === "no-show" && location.pathname === "/desk/find"`)

	// In Spanish, from the header's button.
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "es"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the desk in Spanish", `document.querySelector("#keys-open").textContent === "Atajos de teclado"`)
	b.js(`(() => { const k = document.querySelector("#keys-open"); k.focus(); k.click(); return true })()`, nil)
	b.wait("the shortcuts in Spanish", `document.querySelector("dialog#keys[open] h2").textContent === "Atajos de teclado" && document.querySelector("dialog#keys").textContent.includes("Ir a Lista de espera")`)
	b.axe(axe, "shortcuts dialog in Spanish")
	b.press("Escape")
	b.wait("closed, the focus on its button", `!document.querySelector("dialog#keys") && document.activeElement.id === "keys-open"`)

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	b.origins(e.URL)
}
