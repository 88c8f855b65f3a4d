package booking_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

func validWaitlistInput() booking.WaitlistInput {
	r := validInput()
	return booking.WaitlistInput{
		ConsultationTypeID: "7c1e0b6f-5d7a-4c1e-9a53-3f0c2d7e8a91",
		EarliestDate:       "2026-11-25", LatestDate: "2026-12-10",
		TimesOfDay: []string{"morning"},
		Patient:    r.Patient, Intake: r.Intake, Consent: r.Consent,
	}
}

func TestParseWaitlist(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	bad := "nope"
	tests := []struct {
		name    string
		change  func(*booking.WaitlistInput)
		byPhone bool
		want    []string
		code    booking.FieldCode
	}{
		{name: "valid", change: func(*booking.WaitlistInput) {}},
		{name: "no type", change: func(in *booking.WaitlistInput) { in.ConsultationTypeID = "" }, want: []string{"consultation_type_id"}, code: booking.FieldRequired},
		{name: "provider not a UUID", change: func(in *booking.WaitlistInput) { in.ProviderID = &bad }, want: []string{"provider_id"}, code: booking.FieldFormat},
		{name: "latest before earliest", change: func(in *booking.WaitlistInput) { in.LatestDate = "2026-11-24" }, want: []string{"latest_date"}, code: booking.FieldOutOfOrder},
		{name: "range in the past", change: func(in *booking.WaitlistInput) { in.EarliestDate, in.LatestDate = "2026-11-01", "2026-11-19" }, want: []string{"latest_date"}, code: booking.FieldTooEarly},
		{name: "no dates", change: func(in *booking.WaitlistInput) { in.EarliestDate, in.LatestDate = "", "" }, want: []string{"earliest_date", "latest_date"}, code: booking.FieldRequired},
		{name: "bad time of day", change: func(in *booking.WaitlistInput) { in.TimesOfDay = []string{"night"} }, want: []string{"times_of_day[0]"}, code: booking.FieldEnum},
		{name: "no consent", change: func(in *booking.WaitlistInput) { in.Consent.PrivacyPolicyAccepted = nil }, want: []string{"consent.privacy_policy_accepted"}, code: booking.FieldNotAccepted},
		{name: "no red flags", change: func(in *booking.WaitlistInput) { in.Intake.RedFlags = nil }, want: []string{"intake.red_flags"}, code: booking.FieldRequired},
		{name: "bad phone", change: func(in *booking.WaitlistInput) { in.Patient.Phone = "123" }, want: []string{"patient.phone"}, code: booking.FieldFormat},
		{name: "phone: partial intake", change: func(in *booking.WaitlistInput) {
			in.Intake.Reason, in.Intake.PainSeverity = nil, nil
			in.Consent.PrivacyPolicyAccepted, in.Consent.GivenByPhone = nil, ptr(true)
		}, byPhone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validWaitlistInput()
			tt.change(&in)
			_, err := booking.ParseWaitlist(in, now, tt.byPhone)
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Fatalf("fields = %v, want %v", got, tt.want)
			}
			if err != nil {
				var ve *booking.ValidationError
				errors.As(err, &ve)
				if got := ve.Fields[0].Code; got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			}
		})
	}
}

func TestParseWaitlistStartedRange(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	in := validWaitlistInput()
	in.EarliestDate, in.TimesOfDay = "2026-11-01", []string{"any"}
	r, err := booking.ParseWaitlist(in, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Earliest, date(t, "2026-11-20"); got != want {
		t.Errorf("Earliest = %s, want %s (today)", got, want)
	}
	if r.TimesOfDay != nil {
		t.Errorf("TimesOfDay = %v, want none (any)", r.TimesOfDay)
	}
}

func TestCheckWaitlistCatalog(t *testing.T) {
	id := uuid.New()
	active := booking.ConsultationType{Active: true}
	inactive := booking.ConsultationType{}
	tests := []struct {
		name  string
		req   booking.WaitlistRequest
		cat   booking.WaitlistCatalog
		field string
		code  booking.FieldCode
	}{
		{name: "active type", cat: booking.WaitlistCatalog{Type: &active}},
		{name: "unknown type", cat: booking.WaitlistCatalog{}, field: "consultation_type_id", code: booking.FieldNotFound},
		{name: "type not bookable online", cat: booking.WaitlistCatalog{Type: &inactive}, field: "consultation_type_id", code: booking.FieldInactive},
		{name: "inactive provider", req: booking.WaitlistRequest{ProviderID: &id}, cat: booking.WaitlistCatalog{Type: &active, ProviderKnown: true}, field: "provider_id", code: booking.FieldInactive},
		{name: "unknown location", req: booking.WaitlistRequest{LocationID: &id}, cat: booking.WaitlistCatalog{Type: &active}, field: "location_id", code: booking.FieldNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := booking.CheckWaitlistCatalog(tt.req, tt.cat)
			var ve *booking.ValidationError
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a validation error", err)
			}
			if got := ve.Fields[0]; got.Field != tt.field || got.Code != tt.code {
				t.Errorf("got %s %s, want %s %s", got.Field, got.Code, tt.field, tt.code)
			}
		})
	}
}

func newEntry(t *testing.T, mutate func(*booking.WaitlistInput), at time.Time) booking.WaitlistEntry {
	t.Helper()
	in := validWaitlistInput()
	if mutate != nil {
		mutate(&in)
	}
	r, err := booking.ParseWaitlist(in, instant(t, "2026-11-20T10:00:00Z"), false)
	if err != nil {
		t.Fatal(err)
	}
	e, ev, token, err := booking.NewWaitlistEntry(r, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, at)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != booking.WaitlistWaiting || ev.Type != booking.WaitlistJoined || !booking.TokenMatches(e.ManageTokenHash, token) {
		t.Fatalf("new entry: status %s, event %s, token matches %v", e.Status, ev.Type, booking.TokenMatches(e.ManageTokenHash, token))
	}
	return e
}

func TestNewWaitlistEntryTriage(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	urgent := newEntry(t, func(in *booking.WaitlistInput) { in.Intake.RedFlags = []string{"cancer_history"} }, now)
	if got, want := urgent.Triage.Level, booking.TriageUrgent; got != want {
		t.Errorf("triage = %s, want %s", got, want)
	}
	in := validWaitlistInput()
	in.Intake.RedFlags = []string{"saddle_numbness"}
	r, err := booking.ParseWaitlist(in, now, false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = booking.NewWaitlistEntry(r, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, now)
	if !errors.Is(err, booking.ErrTriageEmergency) {
		t.Errorf("emergency answers: got %v, want ErrTriageEmergency", err)
	}
}

func TestMatchesWaitlist(t *testing.T) {
	madrid := zone(t, "Europe/Madrid")
	now := instant(t, "2026-11-20T10:00:00Z")
	e := newEntry(t, nil, now) // 2026-11-25..2026-12-10, mornings
	provider, location := uuid.New(), uuid.New()
	slot := booking.Slot{
		ConsultationTypeID: e.ConsultationTypeID, ProviderID: provider, LocationID: location,
		StartAt: instant(t, "2026-11-26T08:00:00Z"), // 09:00 in Madrid
	}
	other := uuid.New()
	tests := []struct {
		name   string
		entry  func(*booking.WaitlistEntry)
		slot   func(*booking.Slot)
		wanted bool
	}{
		{name: "fits", wanted: true},
		{name: "other type", slot: func(s *booking.Slot) { s.ConsultationTypeID = other }},
		{name: "named provider", entry: func(e *booking.WaitlistEntry) { e.ProviderID = &provider }, wanted: true},
		{name: "other provider", entry: func(e *booking.WaitlistEntry) { e.ProviderID = &other }},
		{name: "other location", entry: func(e *booking.WaitlistEntry) { e.LocationID = &other }},
		{name: "before the range", slot: func(s *booking.Slot) { s.StartAt = instant(t, "2026-11-24T08:00:00Z") }},
		{name: "last local day", slot: func(s *booking.Slot) { s.StartAt = instant(t, "2026-12-10T22:30:00Z") }, wanted: true},  // 23:30 Dec 10 in Madrid, an afternoon
		{name: "after the range (local)", slot: func(s *booking.Slot) { s.StartAt = instant(t, "2026-12-10T23:30:00Z") }},       // Dec 11 in Madrid
		{name: "afternoon for a morning entry", slot: func(s *booking.Slot) { s.StartAt = instant(t, "2026-11-26T11:00:00Z") }}, // 12:00
		{name: "any time", entry: func(e *booking.WaitlistEntry) { e.TimesOfDay = nil }, slot: func(s *booking.Slot) { s.StartAt = instant(t, "2026-11-26T15:00:00Z") }, wanted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, s := e, slot
			e.TimesOfDay = slices.Clone(e.TimesOfDay)
			if tt.entry != nil {
				tt.entry(&e)
			}
			if tt.slot != nil {
				tt.slot(&s)
			}
			if tt.name == "last local day" {
				e.TimesOfDay = nil
			}
			if got := booking.MatchesWaitlist(e, s, madrid); got != tt.wanted {
				t.Errorf("MatchesWaitlist = %v, want %v", got, tt.wanted)
			}
		})
	}
}

func TestWaitlistOrder(t *testing.T) {
	t0 := instant(t, "2026-11-20T10:00:00Z")
	first := newEntry(t, nil, t0)
	second := newEntry(t, nil, t0.Add(time.Minute))
	urgentLate := newEntry(t, func(in *booking.WaitlistInput) { in.Intake.RedFlags = []string{"recent_trauma"} }, t0.Add(time.Hour))
	got := []booking.WaitlistEntry{second, first, urgentLate}
	slices.SortFunc(got, booking.CompareWaitlist)
	want := []uuid.UUID{urgentLate.ID, first.ID, second.ID}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("order[%d] = %s, want %s (urgent first, then joined first)", i, got[i].Reference, want[i])
		}
	}
	if !booking.WaitlistBefore(first, second) || booking.WaitlistBefore(second, first) {
		t.Error("WaitlistBefore: want first before second only")
	}
}

func TestWaitlistOfferStates(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	offer := booking.WaitlistOffer{ID: uuid.New(), SlotID: uuid.New(), StartAt: now.Add(72 * time.Hour), ExpiresAt: now.Add(30 * time.Minute)}
	staff := booking.StaffActor(uuid.New())
	type step struct {
		do         func(e *booking.WaitlistEntry) error
		wantErr    error
		wantStatus booking.WaitlistStatus
	}
	mk := func(e *booking.WaitlistEntry) error { _, err := e.MakeOffer(offer, staff, now); return err }
	accept := func(at time.Time) func(e *booking.WaitlistEntry) error {
		return func(e *booking.WaitlistEntry) error { _, err := e.Accept(uuid.New(), at); return err }
	}
	decline := func(e *booking.WaitlistEntry) error {
		_, err := e.Decline(booking.Actor{Type: booking.ActorPatient}, now)
		return err
	}
	lapse := func(at time.Time) func(e *booking.WaitlistEntry) error {
		return func(e *booking.WaitlistEntry) error { _, err := e.LapseOffer(at); return err }
	}
	leave := func(e *booking.WaitlistEntry) error { _, err := e.Leave(staff, now); return err }
	late := now.Add(30 * time.Minute)
	tests := []struct {
		name  string
		steps []step
	}{
		{"offer then accept", []step{{mk, nil, booking.WaitlistOffered}, {accept(now.Add(time.Minute)), nil, booking.WaitlistBooked}}},
		{"accept after expiry", []step{{mk, nil, booking.WaitlistOffered}, {accept(late), booking.ErrOfferExpired, booking.WaitlistWaiting}}},
		{"accept without offer", []step{{accept(now), booking.ErrNoOffer, booking.WaitlistWaiting}}},
		{"decline then offer again", []step{{mk, nil, booking.WaitlistOffered}, {decline, nil, booking.WaitlistWaiting}, {mk, nil, booking.WaitlistOffered}}},
		{"offer twice", []step{{mk, nil, booking.WaitlistOffered}, {mk, booking.ErrInvalidTransition, booking.WaitlistOffered}}},
		{"lapse too early", []step{{mk, nil, booking.WaitlistOffered}, {lapse(now), booking.ErrConflict, booking.WaitlistOffered}}},
		{"lapse", []step{{mk, nil, booking.WaitlistOffered}, {lapse(late), nil, booking.WaitlistWaiting}}},
		{"leave while offered", []step{{mk, nil, booking.WaitlistOffered}, {leave, nil, booking.WaitlistLeft}, {leave, booking.ErrInvalidTransition, booking.WaitlistLeft}}},
		{"no offer once booked", []step{{mk, nil, booking.WaitlistOffered}, {accept(now), nil, booking.WaitlistBooked}, {mk, booking.ErrInvalidTransition, booking.WaitlistBooked}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEntry(t, nil, now.Add(-time.Hour))
			for i, s := range tt.steps {
				err := s.do(&e)
				if (s.wantErr == nil) != (err == nil) || (s.wantErr != nil && !errors.Is(err, s.wantErr)) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
				if e.Status != s.wantStatus {
					t.Fatalf("step %d: status = %s, want %s", i, e.Status, s.wantStatus)
				}
				if (e.Status == booking.WaitlistOffered) != (e.Offer != nil) {
					t.Fatalf("step %d: status %s with offer %v", i, e.Status, e.Offer)
				}
			}
		})
	}
}

func TestWaitlistExpire(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	e := newEntry(t, nil, now)
	if _, ok := e.Expire(date(t, "2026-12-10"), now); ok {
		t.Fatal("lapsed on its latest date, want waiting")
	}
	if _, ok := e.Expire(date(t, "2026-12-11"), now); !ok || e.Status != booking.WaitlistLapsed {
		t.Fatalf("after its latest date: ok %v status %s, want lapsed", ok, e.Status)
	}
}

func TestWaitlistBookedElsewhere(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	e := newEntry(t, nil, now)
	id := uuid.New()
	ev, err := e.BookedElsewhere(id, now)
	if err != nil || e.Status != booking.WaitlistBooked || *e.BookingID != id || ev.Type != booking.WaitlistBookedElse {
		t.Fatalf("booked elsewhere: %s %v %v", e.Status, ev.Type, err)
	}
	if _, err := e.BookedElsewhere(id, now); !errors.Is(err, booking.ErrInvalidTransition) {
		t.Errorf("twice: %v, want invalid transition", err)
	}
}

func TestLinkResendDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tc := range []struct {
		name string
		last *time.Time
		want bool
	}{
		{"never sent again", nil, true},
		{"sent a minute ago", at(-time.Minute), false},
		{"sent just under the gap ago", at(-booking.LinkResendGap + time.Second), false},
		{"sent the gap ago", at(-booking.LinkResendGap), true},
		{"sent an hour ago", at(-time.Hour), true},
	} {
		e := booking.WaitlistEntry{LinkResentAt: tc.last}
		if got := e.LinkResendDue(now); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
