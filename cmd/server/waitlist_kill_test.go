package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

var offerLinkRE = regexp.MustCompile(`/waitlist#reference=([^&\s]+)&token=([^\s"<]+)`)

// TestWaitlistOffersSurviveKill cancels booked places with patients
// waiting, kills the server with SIGKILL at once (the mail server down),
// then starts a mail server and a new server process: each freed place is
// offered once, to the first entries in order, each with one email, whose
// link books the place.
func TestWaitlistOffersSurviveKill(t *testing.T) {
	bin := mailpit.BinaryFor(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dbURL := fileOrSchema(t, b.Name)
			port, err := mailpit.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			env := deliveryEnv(dbURL, fmt.Sprintf("smtp://127.0.0.1:%d", port))
			first := startProcess(t, env)
			a := loginAs(t, first.base)
			cl := setUpClinic(t, a, 1)
			const places, waiting = 4, 6
			start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
			var bookings []string
			for i := range places {
				slot := cl.slot(t, a, 0, start.Add(time.Duration(i)*time.Hour))
				body := bookingBody(slot, fmt.Sprintf("booked%d@patients.test", i), true, false)
				body["status"] = "confirmed"
				var c created
				a.call("POST", "/v1/bookings", body, 201, &c)
				bookings = append(bookings, c.ID)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			later := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.DateOnly)
			var addrs []string
			for i := range waiting {
				addr := fmt.Sprintf("waiting%d@patients.test", i)
				body := bookingBody("", addr, true, false)
				delete(body, "slot_id")
				body["patient"].(map[string]any)["phone"] = fmt.Sprintf("+1424555030%d", i)
				body["consultation_type_id"], body["earliest_date"], body["latest_date"] = cl.ctype, today, later
				a.call("POST", "/v1/waitlist", body, 201, nil)
				addrs = append(addrs, addr)
				time.Sleep(5 * time.Millisecond) // a strict order of joining
			}
			for _, id := range bookings {
				a.call("POST", "/v1/bookings/"+id+"/cancel", map[string]any{}, 200, nil)
			}
			first.kill()

			mp, err := mailpit.StartAt(bin, t.TempDir(), port)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(mp.Stop)
			second := startProcess(t, env)
			offers := func() map[string]int {
				n := map[string]int{}
				all, err := mp.Messages(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range all {
					if strings.HasPrefix(m.Subject, "A place is free") {
						for _, to := range m.To {
							n[to.Address]++
						}
					}
				}
				return n
			}
			waitUntil(t, "an offer for each freed place", 60*time.Second, func() bool { return len(offers()) >= places })
			time.Sleep(2 * time.Second) // a second offer would have arrived by now
			got := offers()
			for i, addr := range addrs {
				want := 0
				if i < places {
					want = 1
				}
				if got[addr] != want {
					t.Errorf("offers to %s: got %d, want %d", addr, got[addr], want)
				}
			}

			// The first entry's link books its place, as a patient (no
			// staff token) with the link's token.
			msgs, err := mp.To(t.Context(), addrs[0])
			if err != nil || len(msgs) != 1 {
				t.Fatalf("offer to %s: %d messages, %v", addrs[0], len(msgs), err)
			}
			msg, err := mp.Message(t.Context(), msgs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			link := offerLinkRE.FindStringSubmatch(msg.Text)
			if link == nil {
				t.Fatalf("no accept link in %q", msg.Text)
			}
			ref, _ := url.QueryUnescape(link[1])
			token, _ := url.QueryUnescape(link[2])
			patient := newAPI(t, second.base)
			var booked created
			patient.call("POST", "/v1/waitlist/"+ref+"/accept", nil, 201, &booked, "X-Waitlist-Token: "+token)
			if booked.Reference == "" || booked.ManageToken == "" {
				t.Errorf("accept: %+v", booked)
			}

			// The live feed has each offer once, across the kill, and the
			// accept once.
			var feed struct {
				Items []struct {
					Type     string `json:"type"`
					Waitlist *struct {
						Reference string `json:"reference"`
					} `json:"waitlist"`
				} `json:"items"`
			}
			loginAs(t, second.base).call("GET", "/v1/booking-events?limit=200", nil, 200, &feed)
			offered, accepted := map[string]int{}, map[string]int{}
			for _, it := range feed.Items {
				switch it.Type {
				case "waitlist.offered":
					offered[it.Waitlist.Reference]++
				case "waitlist.accepted":
					accepted[it.Waitlist.Reference]++
				}
			}
			if len(offered) != places || accepted[ref] != 1 || len(accepted) != 1 {
				t.Errorf("feed: offered %v, accepted %v; want %d entries offered once each and %s accepted once", offered, accepted, places, ref)
			}
			for r, n := range offered {
				if n != 1 {
					t.Errorf("feed: %s offered %d times, want once", r, n)
				}
			}
		})
	}
}
