package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/clinic/consult/internal/auth"
)

// TestBookingSearchIsTextAndInStep searches bookings with names, phone
// digits in any format, references and hostile strings, and checks that a
// change of contact details is found at once (the index changes with the
// booking).
func TestBookingSearchIsTextAndInStep(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		ana := k.request(t, k.slot(t, slotOpts{}))
		other := requestBody(k.slot(t, slotOpts{}))
		other["patient"].(map[string]any)["first_name"] = "Bo"
		other["patient"].(map[string]any)["last_name"] = "Kim"
		other["patient"].(map[string]any)["phone"] = "+14245558888"
		other["patient"].(map[string]any)["email"] = "bo@example.com"
		if r := e.do("POST", "/v1/booking-requests", other); r.Status != 201 {
			t.Fatalf("book: %d %s", r.Status, r.Body)
		}
		count := func(q string) int {
			t.Helper()
			r := e.do("GET", "/v1/bookings?q="+url.QueryEscape(q), nil, rec)
			if r.Status != 200 {
				t.Fatalf("search %q: got %d %s", q, r.Status, r.Body)
			}
			var list struct{ Items []staffBooking }
			r.decode(t, &list)
			return len(list.Items)
		}
		for _, tt := range []struct {
			q    string
			want int // < 0: at most -want
		}{
			{"lopez", 1}, {"Ana Lopez", 1}, {"kim", 1}, {"+1 (424) 555-0123", 1}, {"555-0123", 1}, {"8888", 1},
			{ana.Reference, 1}, {ana.Reference[:4] + ana.Reference[5:], 1}, {"bo@example.com", 1},
			{"%", 0}, {"_", 0}, {"%%%", 0}, {"' OR '1'='1", 0}, {`"`, 0}, {`""`, 0}, {"*", 0}, {"NEAR", 0},
			{"lopez NEAR kim", 0}, {"lopez OR kim", 0}, {"lopez AND", 0}, {"-kim", -1}, {`"lopez"`, -1},
			{"lo*", -1}, {"NOT kim", 0}, {"^", 0}, {"(", 0}, {"ana) OR (bo", 0}, {`\`, 0}, {"l_pez", 0},
		} {
			if got := count(tt.q); tt.want < 0 && got > -tt.want || tt.want >= 0 && got != tt.want {
				t.Errorf("search %q: got %d bookings, want %d", tt.q, got, tt.want)
			}
		}
		// A new phone number is found at once, the old one no longer.
		r := e.do("PATCH", "/v1/bookings/"+ana.ID, map[string]string{"patient_phone": "+14245557777"}, rec, `If-Match: "1"`)
		if r.Status != 200 {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		if got := count("5557777"); got != 1 {
			t.Errorf("new phone: got %d, want 1", got)
		}
		if got := count("5550123"); got != 0 {
			t.Errorf("old phone: got %d, want 0", got)
		}
	})
}

// TestDeskFindsNamesAsCallersSayThem searches bookings and patients (the
// desk's Find box) by names typed without their apostrophe, hyphen or
// accents, or with accents the record lacks.
func TestDeskFindsNamesAsCallersSayThem(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		for i, name := range [][2]string{{"Seán", "O'Brien"}, {"Mary", "Smith-Jones"}, {"Rosa", "Pérez"}, {"Luis", "Perez"}} {
			body := requestBody(k.slot(t, slotOpts{}))
			p := body["patient"].(map[string]any)
			p["first_name"], p["last_name"] = name[0], name[1]
			p["phone"], p["email"] = fmt.Sprintf("+1424555%04d", 7000+i), fmt.Sprintf("p%d@example.com", i)
			if r := e.do("POST", "/v1/booking-requests", body); r.Status != 201 {
				t.Fatalf("book %s: %d %s", name, r.Status, r.Body)
			}
		}
		count := func(path, q string) int {
			t.Helper()
			r := e.do("GET", path+"?q="+url.QueryEscape(q), nil, rec)
			if r.Status != 200 {
				t.Fatalf("%s %q: got %d %s", path, q, r.Status, r.Body)
			}
			var list struct{ Items []json.RawMessage }
			r.decode(t, &list)
			return len(list.Items)
		}
		for _, tt := range []struct {
			q    string
			want int
		}{
			{"obrien", 1}, {"O'Brien", 1}, {"o’brien", 1}, {"o brien", 1}, {"sean", 1},
			{"smithjones", 1}, {"smith jones", 1}, {"Smith-Jones", 1},
			{"perez", 2}, {"pérez", 2}, {"rosa perez", 1}, {"'", 0}, {"-", 0},
		} {
			for _, path := range []string{"/v1/bookings", "/v1/patients"} {
				if got := count(path, tt.q); got != tt.want {
					t.Errorf("%s %q: got %d, want %d", path, tt.q, got, tt.want)
				}
			}
		}
	})
}
