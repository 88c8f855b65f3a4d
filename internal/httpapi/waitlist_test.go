package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
)

// waitlistBody is a valid join for typeID, from today for ten days.
func waitlistBody(typeID uuid.UUID, phone, email string) map[string]any {
	b := requestBody(uuid.Nil)
	delete(b, "slot_id")
	today := booking.DateOf(time.Now(), time.UTC)
	b["consultation_type_id"] = typeID.String()
	b["earliest_date"] = today.String()
	b["latest_date"] = today.AddDays(10).String()
	b["patient"].(map[string]any)["phone"] = phone
	b["patient"].(map[string]any)["email"] = email
	return b
}

type joinedJSON struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Status      string `json:"status"`
	ManageToken string `json:"manage_token"`
	Existing    bool   `json:"existing"`
	LinkResent  *bool  `json:"link_resent"`
}

type entryJSON struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Status    string `json:"status"`
	Offer     *struct {
		SlotID    string    `json:"slot_id"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"offer"`
	Triage struct {
		Level string `json:"level"`
	} `json:"triage"`
}

func (k *clinic) join(t *testing.T, body map[string]any, headers ...string) joinedJSON {
	t.Helper()
	r := k.e.do("POST", "/v1/waitlist", body, headers...)
	if r.Status != http.StatusCreated {
		t.Fatalf("join: got %d %s, want 201", r.Status, r.Body)
	}
	var j joinedJSON
	r.decode(t, &j)
	return j
}

func TestWaitlistJoinOfferAccept(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		j := k.join(t, waitlistBody(k.reviewed, "+14245550123", "ana@example.com"), "Idempotency-Key: join-1")
		if j.Status != "waiting" || j.ManageToken == "" {
			t.Fatalf("joined: %+v", j)
		}
		// A replay of the key answers the same; the same patient joining
		// again gets the same entry, without a token (see
		// TestWaitlistRepeatJoinResendsTheLink).
		replay := e.do("POST", "/v1/waitlist", waitlistBody(k.reviewed, "+14245550123", "ana@example.com"), "Idempotency-Key: join-1")
		var rj joinedJSON
		replay.decode(t, &rj)
		if replay.Status != http.StatusCreated || replay.Header.Get("Idempotent-Replayed") != "true" || rj.ManageToken != j.ManageToken {
			t.Errorf("replay: %d %s", replay.Status, replay.Body)
		}
		againResp := e.do("POST", "/v1/waitlist", waitlistBody(k.reviewed, "+14245550123", "ana@example.com"))
		var again joinedJSON
		againResp.decode(t, &again)
		if againResp.Status != http.StatusOK || again.ID != j.ID || again.ManageToken != "" || !again.Existing {
			t.Errorf("join again: %d %s, want 200 with the same id, existing and no token", againResp.Status, againResp.Body)
		}

		path := "/v1/waitlist/" + j.Reference
		for _, tc := range []struct {
			name, header string
			want         int
		}{
			{"the join's token", "X-Waitlist-Token: " + j.ManageToken, 200},
			{"a wrong token", "X-Waitlist-Token: mt_wrong", 404},
			{"no token", "", 404},
		} {
			if r := e.do("GET", path, nil, tc.header); r.Status != tc.want {
				t.Errorf("GET with %s: %d %s, want %d", tc.name, r.Status, r.Body, tc.want)
			}
		}
		if r := e.do("GET", "/v1/waitlist/ZZZZ-ZZZZ", nil, "X-Waitlist-Token: "+j.ManageToken); r.Status != 404 {
			t.Errorf("unknown reference: %d, want 404", r.Status)
		}

		slot := k.slot(t, slotOpts{})
		if r := e.do("POST", path+"/accept", nil, "X-Waitlist-Token: "+j.ManageToken); r.Status != 409 || r.code() != "no_offer" {
			t.Errorf("accept before an offer: %d %s, want 409 no_offer", r.Status, r.Body)
		}
		r := e.do("POST", "/v1/waitlist/"+j.ID+"/offer", map[string]any{"slot_id": slot.String()}, desk)
		var offered entryJSON
		r.decode(t, &offered)
		if r.Status != 200 || offered.Status != "offered" || offered.Offer == nil || offered.Offer.SlotID != slot.String() {
			t.Fatalf("offer: %d %s", r.Status, r.Body)
		}
		if d := time.Until(offered.Offer.ExpiresAt); d < 25*time.Minute || d > 31*time.Minute {
			t.Errorf("offer held for %v, want WAITLIST_OFFER_TTL's default 30m", d)
		}
		// The offered place is held: the public cannot book it.
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot)); r.Status != 409 || r.code() != "slot_unavailable" {
			t.Errorf("booking the offered place: %d %s, want 409 slot_unavailable", r.Status, r.Body)
		}
		r = e.do("POST", path+"/accept", nil, "X-Waitlist-Token: "+j.ManageToken)
		if r.Status != http.StatusCreated {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		var b created
		r.decode(t, &b)
		if b.Status != "pending" || b.Slot.ID != slot.String() || b.ManageToken == "" || r.Header.Get("Location") != "/v1/booking-requests/"+b.Reference {
			t.Errorf("booking: %+v", b)
		}
		if got := e.do("GET", "/v1/booking-requests/"+b.Reference, nil, "X-Booking-Token: "+b.ManageToken); got.Status != 200 {
			t.Errorf("the booking with its token: %d", got.Status)
		}
		var after entryJSON
		e.do("GET", path, nil, "X-Waitlist-Token: "+j.ManageToken).decode(t, &after)
		if after.Status != "booked" || after.Offer != nil {
			t.Errorf("entry after accept: %+v", after)
		}
		if r := e.do("POST", path+"/accept", nil, "X-Waitlist-Token: "+j.ManageToken); r.Status != 409 || r.code() != "no_offer" {
			t.Errorf("accept twice: %d %s, want 409 no_offer", r.Status, r.Body)
		}
		if got := k.booked(t, slot); got != 1 {
			t.Errorf("booked = %d, want 1", got)
		}
	})
}

func TestWaitlistDeclineLeaveAndLapse(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		j := k.join(t, waitlistBody(k.instant, "+14245550123", "ana@example.com"))
		tok := "X-Waitlist-Token: " + j.ManageToken
		path := "/v1/waitlist/" + j.Reference
		slot := k.slot(t, slotOpts{typeID: k.instant})
		if r := e.do("POST", "/v1/waitlist/"+j.Reference+"/offer", map[string]any{"slot_id": slot.String()}, desk); r.Status != 200 {
			t.Fatalf("offer by reference: %d %s", r.Status, r.Body)
		}
		r := e.do("POST", path+"/decline", nil, tok)
		var got entryJSON
		r.decode(t, &got)
		if r.Status != 200 || got.Status != "waiting" || got.Offer != nil {
			t.Fatalf("decline: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", path+"/decline", nil, tok); r.Status != 409 || r.code() != "no_offer" {
			t.Errorf("decline twice: %d %s", r.Status, r.Body)
		}
		// The declined place is free again.
		k.request(t, slot)

		other := k.slot(t, slotOpts{typeID: k.instant})
		// A slot of another type does not fit the entry.
		wrong := k.slot(t, slotOpts{})
		if r := e.do("POST", path+"/offer", map[string]any{"slot_id": wrong.String()}, desk); r.Status != 422 {
			t.Errorf("offer of another type's slot: %d %s, want 422", r.Status, r.Body)
		}
		if r := e.do("POST", path+"/offer", map[string]any{"slot_id": other.String()}); r.Status != 401 {
			t.Errorf("offer without staff token: %d, want 401", r.Status)
		}

		r = e.do("DELETE", path, nil, tok)
		r.decode(t, &got)
		if r.Status != 200 || got.Status != "left" {
			t.Fatalf("leave: %d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", path, nil, desk); r.Status != 409 || r.code() != "invalid_transition" {
			t.Errorf("staff delete of a left entry: %d %s, want 409", r.Status, r.Body)
		}
		if r := e.do("DELETE", path, nil); r.Status != 404 {
			t.Errorf("delete without a token: %d, want 404", r.Status)
		}
	})
}

func TestWaitlistJoinRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		today := booking.DateOf(time.Now(), time.UTC)
		inactive := uuid.New()
		if err := e.Store.CreateConsultationType(t.Context(), booking.ConsultationType{ID: inactive, Name: "Old", DurationMinutes: 30, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		valid := waitlistBody(k.reviewed, "+14245550123", "ana@example.com")
		for _, tc := range []struct {
			name   string
			body   map[string]any
			field  string
			code   string
			status int
		}{
			{"latest before earliest", with(valid, "latest_date", today.AddDays(-1).String()), "latest_date", "too_early", 422},
			{"latest before earliest date", with(with(valid, "earliest_date", today.AddDays(5).String()), "latest_date", today.AddDays(4).String()), "latest_date", "out_of_order", 422},
			{"type not bookable online", with(valid, "consultation_type_id", inactive.String()), "consultation_type_id", "inactive", 422},
			{"unknown provider", with(valid, "provider_id", uuid.NewString()), "provider_id", "not_found", 422},
			{"no consent", with(valid, "consent.privacy_policy_accepted", remove), "consent.privacy_policy_accepted", "not_accepted", 422},
			{"bad time of day", with(valid, "times_of_day", []string{"night"}), "times_of_day[0]", "enum", 422},
		} {
			r := e.do("POST", "/v1/waitlist", tc.body)
			var p struct {
				Errors []struct{ Field, Code string } `json:"errors"`
			}
			r.decode(t, &p)
			if r.Status != tc.status || len(p.Errors) == 0 || p.Errors[0].Field != tc.field || p.Errors[0].Code != tc.code {
				t.Errorf("%s: %d %s, want %d naming %s (%s)", tc.name, r.Status, r.Body, tc.status, tc.field, tc.code)
			}
		}
		emergency := with(valid, "intake.red_flags", []string{"saddle_numbness"})
		if r := e.do("POST", "/v1/waitlist", emergency); r.Status != 422 || r.code() != "triage_emergency" {
			t.Errorf("emergency answers: %d %s", r.Status, r.Body)
		}
	})
}

// MAX_LIVE_PER_PATIENT counts live entries: a patient waiting, with a limit
// of one, cannot also book online; staff can still add the caller.
func TestWaitlistPatientLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		k.join(t, waitlistBody(k.reviewed, "+14245550123", "ana@example.com"))
		if r := e.do("POST", "/v1/booking-requests", requestBody(k.slot(t, slotOpts{}))); r.Status != 409 || r.code() != "patient_limit_reached" {
			t.Errorf("booking while waiting: %d %s, want 409 patient_limit_reached", r.Status, r.Body)
		}
		other := waitlistBody(k.instant, "+14245550123", "ana@example.com")
		if r := e.do("POST", "/v1/waitlist", other); r.Status != 409 || r.code() != "patient_limit_reached" {
			t.Errorf("second list: %d %s, want 409", r.Status, r.Body)
		}
		phone := with(with(other, "consent.privacy_policy_accepted", remove), "consent.given_by_phone", true)
		j := k.join(t, with(phone, "intake", map[string]any{"red_flags": []string{"none"}}), e.token(auth.RoleReception))
		if j.Status != "waiting" {
			t.Errorf("staff join for a caller: %+v", j)
		}
	}, func(o *httpapi.Options, _ *auth.Options) { o.Policy.MaxLivePerPatient = 1 })
}

func TestWaitlistStaffList(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		first := k.join(t, waitlistBody(k.reviewed, "+14245550101", "a@example.com"))
		second := k.join(t, waitlistBody(k.reviewed, "+14245550102", "b@example.com"))
		urgent := k.join(t, with(waitlistBody(k.reviewed, "+14245550103", "c@example.com"), "intake.red_flags", []string{"recent_trauma"}))
		k.join(t, waitlistBody(k.instant, "+14245550104", "d@example.com"))
		var ids []string
		cursor := ""
		for range 5 {
			q := url.Values{"limit": {"2"}, "status": {"waiting"}, "consultation_type_id": {k.reviewed.String()}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			r := e.do("GET", "/v1/waitlist?"+q.Encode(), nil, desk)
			var page struct {
				Items      []entryJSON `json:"items"`
				NextCursor *string     `json:"next_cursor"`
			}
			r.decode(t, &page)
			if r.Status != 200 {
				t.Fatalf("list: %d %s", r.Status, r.Body)
			}
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		want := []string{urgent.ID, first.ID, second.ID}
		if len(ids) != len(want) || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
			t.Errorf("list = %v, want %v (urgent first, then joined first)", ids, want)
		}
		if r := e.do("GET", "/v1/waitlist", nil); r.Status != 401 {
			t.Errorf("list without a token: %d, want 401", r.Status)
		}
		if r := e.do("GET", "/v1/waitlist?cursor=bad", nil, desk); r.Status != 422 {
			t.Errorf("bad cursor: %d, want 422", r.Status)
		}
	})
}

// An offer whose hold lapsed: the accept is 409 offer_expired, and the
// entry waits again.
func TestWaitlistAcceptAfterTheOfferLapsed(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		j := k.join(t, waitlistBody(k.instant, "+14245550123", "ana@example.com"))
		tok := "X-Waitlist-Token: " + j.ManageToken
		slot := k.slot(t, slotOpts{typeID: k.instant})
		if r := e.do("POST", "/v1/waitlist/"+j.ID+"/offer", map[string]any{"slot_id": slot.String()}, e.token(auth.RoleReception)); r.Status != 200 {
			t.Fatalf("offer: %d %s", r.Status, r.Body)
		}
		time.Sleep(2100 * time.Millisecond)
		path := "/v1/waitlist/" + j.Reference
		if r := e.do("POST", path+"/accept", nil, tok); r.Status != 409 || r.code() != "offer_expired" {
			t.Errorf("accept after the offer lapsed: %d %s, want 409 offer_expired", r.Status, r.Body)
		}
		var got entryJSON
		e.do("GET", path, nil, tok).decode(t, &got)
		if got.Status != "waiting" || got.Offer != nil {
			t.Errorf("after a lapsed offer: %+v, want waiting", got)
		}
		if n := k.booked(t, slot); n != 0 {
			t.Errorf("booked = %d, want 0", n)
		}
	}, func(o *httpapi.Options, _ *auth.Options) { o.WaitlistOfferTTL = 2 * time.Second })
}
