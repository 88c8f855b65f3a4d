package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
	"github.com/clinic/consult/internal/webhook"
)

// waitlistItem is a waitlist step as the feed list, the stream and the
// webhooks carry it.
type waitlistItem struct {
	EventID   string  `json:"event_id"`
	EntryID   string  `json:"entry_id"`
	Reference string  `json:"reference"`
	Status    string  `json:"status"`
	SlotID    *string `json:"slot_id"`
	BookingID *string `json:"booking_id"`
	Lapsed    *string `json:"lapsed"`
	Offer     *struct {
		SlotID    string    `json:"slot_id"`
		StartAt   time.Time `json:"start_at"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"offer"`
}

// step is what a test expects of one waitlist step: its type, entry,
// status after it and, for a lapse, what lapsed.
type step struct{ typ, reference, status, lapsed string }

func stepOf(typ string, w waitlistItem) step {
	s := step{typ: typ, reference: w.Reference, status: w.Status}
	if w.Lapsed != nil {
		s.lapsed = *w.Lapsed
	}
	return s
}

// noPatient fails t when a waitlist item's JSON carries anything of the
// patient or of their health.
func noPatient(t *testing.T, where string, raw json.RawMessage) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, k := range []string{"patient", "intake", "triage", "consent", "manage_token", "notes"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s carries %q: %s", where, k, raw)
		}
	}
}

// An offer, an accept and a lapse of the waitlist each appear once on the
// feed list, once on the event stream and once on every webhook
// subscribed to them (verified by the Standard Webhooks library), and not
// on a webhook subscribed to booking types only; /metrics counts them.
func TestWaitlistStepsOnFeedStreamAndWebhooks(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	payloadSchema := doc.Components.Schemas["WebhookPayload"].Value
	shortOffers := func(o *httpapi.Options, _ *auth.Options) { o.WaitlistOfferTTL = 2 * time.Second }
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newHookEnvWith(t, b.URL(t), webhook.Guard{AllowPrivate: true}, 2*time.Second, []envOption{shortOffers})
			admin, desk := e.token(auth.RoleAdmin), e.token(auth.RoleReception)
			all, bookings := newReceiver(t, nil), newReceiver(t, nil)
			epAll := e.createEndpoint(t, admin, map[string]any{"url": all.srv.URL + "/hook", "event_types": []string{"*"}})
			all.setSecret(epAll.Secret)
			epBookings := e.createEndpoint(t, admin, map[string]any{"url": bookings.srv.URL + "/hook", "event_types": []string{"booking.created", "booking.cancelled"}})
			bookings.setSecret(epBookings.Secret)

			k := newClinic(t, e.env)
			start, err := e.Store.LastFeedID(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			stream := openStream(t, e.env, desk, strconv.FormatInt(start, 10))

			ana := k.join(t, waitlistBody(k.reviewed, "+14245550123", "ana@example.com"))
			bo := k.join(t, waitlistBody(k.instant, "+14245550124", "bo@example.com"))
			slot1, slot2 := k.slot(t, slotOpts{}), k.slot(t, slotOpts{typeID: k.instant})
			// Ana is offered a place and takes it.
			if r := e.do("POST", "/v1/waitlist/"+ana.ID+"/offer", map[string]any{"slot_id": slot1.String()}, desk); r.Status != http.StatusOK {
				t.Fatalf("offer to ana: %d %s", r.Status, r.Body)
			}
			r := e.do("POST", "/v1/waitlist/"+ana.Reference+"/accept", nil, "X-Waitlist-Token: "+ana.ManageToken)
			if r.Status != http.StatusCreated {
				t.Fatalf("ana accepts: %d %s", r.Status, r.Body)
			}
			var booked created
			r.decode(t, &booked)
			// Bo is offered a place and lets the offer run out.
			if r := e.do("POST", "/v1/waitlist/"+bo.ID+"/offer", map[string]any{"slot_id": slot2.String()}, desk); r.Status != http.StatusOK {
				t.Fatalf("offer to bo: %d %s", r.Status, r.Body)
			}
			time.Sleep(2100 * time.Millisecond)
			if r := e.do("POST", "/v1/waitlist/"+bo.Reference+"/accept", nil, "X-Waitlist-Token: "+bo.ManageToken); r.Status != http.StatusConflict || r.code() != "offer_expired" {
				t.Fatalf("bo accepts too late: %d %s, want 409 offer_expired", r.Status, r.Body)
			}
			want := []step{
				{"waitlist.offered", ana.Reference, "offered", ""},
				{"waitlist.accepted", ana.Reference, "booked", ""},
				{"waitlist.offered", bo.Reference, "offered", ""},
				{"waitlist.lapsed", bo.Reference, "waiting", "offer"},
			}

			// The feed list: each step once, in order, with its entry and
			// no booking; ana's booking once as booking.created.
			r = e.do("GET", "/v1/booking-events?limit=200&cursor="+strconv.FormatInt(start, 10), nil, desk)
			if r.Status != http.StatusOK {
				t.Fatalf("feed: %d %s", r.Status, r.Body)
			}
			var page struct {
				Items []struct {
					ID       int64           `json:"id"`
					Type     string          `json:"type"`
					Booking  json.RawMessage `json:"booking"`
					Waitlist json.RawMessage `json:"waitlist"`
				} `json:"items"`
			}
			r.decode(t, &page)
			var listed []step
			var listedIDs []string
			created := 0
			for _, it := range page.Items {
				if it.Type == "booking.created" {
					created++
					continue
				}
				if it.Waitlist == nil || it.Booking != nil {
					t.Errorf("feed item %d (%s): waitlist %s, booking %s; want the waitlist entry alone", it.ID, it.Type, it.Waitlist, it.Booking)
					continue
				}
				noPatient(t, "feed item "+it.Type, it.Waitlist)
				var w waitlistItem
				if err := json.Unmarshal(it.Waitlist, &w); err != nil {
					t.Fatal(err)
				}
				listed = append(listed, stepOf(it.Type, w))
				listedIDs = append(listedIDs, strconv.FormatInt(it.ID, 10))
				switch it.Type {
				case "waitlist.offered":
					if w.Offer == nil || w.SlotID == nil || w.Offer.SlotID != *w.SlotID || w.Offer.ExpiresAt.Before(w.Offer.StartAt.Add(-365*24*time.Hour)) {
						t.Errorf("offered: %s, want the offer's slot, start and end", it.Waitlist)
					}
				case "waitlist.accepted":
					if w.BookingID == nil || *w.BookingID != booked.ID || w.SlotID == nil || *w.SlotID != slot1.String() || w.Offer != nil {
						t.Errorf("accepted: %s, want booking %s in slot %s", it.Waitlist, booked.ID, slot1)
					}
				case "waitlist.lapsed":
					if w.SlotID == nil || *w.SlotID != slot2.String() || w.Offer != nil || w.BookingID != nil {
						t.Errorf("lapsed: %s, want slot %s and no offer", it.Waitlist, slot2)
					}
				}
			}
			if !slices.Equal(listed, want) || created != 1 {
				t.Errorf("feed: waitlist steps %v and %d booking.created, want %v and 1", listed, created, want)
			}

			// The stream: the same events, same ids, the entry as data.
			var streamed []step
			var streamedIDs []string
			for len(streamed) < len(want) {
				ev := stream.next(t, 5*time.Second)
				if ev.Event == "booking.created" {
					continue
				}
				var w waitlistItem
				if err := json.Unmarshal([]byte(ev.Data), &w); err != nil {
					t.Fatalf("stream event %s %s: %v", ev.ID, ev.Event, err)
				}
				noPatient(t, "stream event "+ev.Event, json.RawMessage(ev.Data))
				streamed = append(streamed, stepOf(ev.Event, w))
				streamedIDs = append(streamedIDs, ev.ID)
			}
			stream.quiet(t, 300*time.Millisecond)
			if !slices.Equal(streamed, want) || !slices.Equal(streamedIDs, listedIDs) {
				t.Errorf("stream: %v ids %v, want %v ids %v", streamed, streamedIDs, want, listedIDs)
			}

			// Webhooks: the "*" endpoint gets every step once (and the
			// booking), each verified; the bookings-only endpoint gets the
			// booking alone.
			isWaitlist := func(h receivedHook) bool {
				var p struct{ Type string }
				_ = json.Unmarshal(h.Body, &p)
				return len(p.Type) > 9 && p.Type[:9] == "waitlist."
			}
			waitFor(t, 15*time.Second, "the webhooks", func() bool {
				return len(all.received()) >= len(want)+1 && len(bookings.received()) >= 1
			})
			time.Sleep(500 * time.Millisecond) // a repeat would come now
			var hooked []step
			ids := map[string]bool{}
			for _, h := range all.received() {
				if h.Verified != nil {
					t.Errorf("webhook %s: the Standard Webhooks library rejects it: %v", h.ID, h.Verified)
				}
				if ids[h.ID] {
					t.Errorf("webhook %s delivered twice", h.ID)
				}
				ids[h.ID] = true
				var v any
				if err := json.Unmarshal(h.Body, &v); err != nil {
					t.Fatal(err)
				}
				if err := payloadSchema.VisitJSON(v); err != nil {
					t.Errorf("webhook %s breaks the spec's WebhookPayload: %v\n%s", h.ID, err, h.Body)
				}
				if !isWaitlist(h) {
					continue
				}
				var p struct {
					Type string          `json:"type"`
					Data json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(h.Body, &p); err != nil {
					t.Fatal(err)
				}
				noPatient(t, "webhook "+p.Type, p.Data)
				var w waitlistItem
				if err := json.Unmarshal(p.Data, &w); err != nil {
					t.Fatal(err)
				}
				hooked = append(hooked, stepOf(p.Type, w))
			}
			// Deliveries run in parallel: compare in the feed's order.
			slices.SortFunc(hooked, func(a, b step) int { return slices.Index(want, a) - slices.Index(want, b) })
			if !slices.Equal(hooked, want) || len(all.received()) != len(want)+1 {
				t.Errorf("webhooks to \"*\": %v of %d, want %v and the booking", hooked, len(all.received()), want)
			}
			for _, h := range bookings.received() {
				if isWaitlist(h) {
					t.Errorf("the bookings-only endpoint got %s", h.Body)
				}
			}
			// The delivery log (its payloads checked against the spec by
			// the client) shows every one delivered.
			waitFor(t, 5*time.Second, "the delivery log", func() bool {
				ds := e.deliveries(t, admin, epAll.ID)
				n := 0
				for _, d := range ds {
					if d.Status == "succeeded" {
						n++
					}
				}
				return n == len(want)+1
			})

			// Metrics: bo waits again; two offers, one accepted, one lapsed.
			metrics := []struct {
				name   string
				labels []string
				want   float64
			}{
				{"waitlist_entries_waiting", nil, 1},
				{"waitlist_offers_live", nil, 0},
				{"waitlist_offers_total", nil, 2},
				{"waitlist_offers_accepted_total", nil, 1},
				{"waitlist_lapsed_total", []string{`what="offer"`}, 1},
				{"waitlist_lapsed_total", []string{`what="entry"`}, 0},
				{"waitlist_fill_seconds_count", nil, 1},
			}
			for _, m := range metrics {
				if got := e.metric(m.name, m.labels...); got != m.want {
					t.Errorf("%s%v = %v, want %v", m.name, m.labels, got, m.want)
				}
			}
			if got := e.metric("waitlist_fill_seconds_sum"); got < 0 || got > 60 {
				t.Errorf("waitlist_fill_seconds_sum = %v, want the few seconds from offer to accept", got)
			}
		})
	}
}
