package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// triageDraft drafts a web request with the given red flags through the
// public policy.
func triageDraft(t *testing.T, slot uuid.UUID, flags ...booking.RedFlag) store.Draft {
	req := validRequest(t, slot)
	req.Intake.RedFlags = flags
	return func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		p := booking.DefaultPolicy()
		p.MinNotice, p.MaxAdvance = 0, 0
		b, ev, _, err := p.PublicRequest(req, info, time.Now())
		return b, ev, err
	}
}

// TestTriageKeptAndQueued: a booking keeps its triage, the form version
// and a staff override as made; an urgent one is also "flagged" in its
// history; the triage sort lists urgent before routine, then oldest first,
// across pages; the intake form versions are kept.
func TestTriageKeptAndQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		var made []booking.Booking
		for _, flags := range [][]booking.RedFlag{{"none"}, {"recent_trauma"}, {"none"}, {"cancer_history", "fever_or_unwell"}} {
			sl := slot(1, booking.SlotOpen)
			res, err := s.CreateBooking(ctx, sl.ID, triageDraft(t, sl.ID, flags...), nil)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, res.Booking)
			time.Sleep(2 * time.Millisecond) // distinct creation times, for the order
		}
		sl := slot(1, booking.SlotOpen)
		staff := uuid.New()
		req := validRequest(t, sl.ID)
		req.Intake.RedFlags = []booking.RedFlag{"saddle_numbness"}
		over := &booking.TriageOverride{AdvisedEmergencyCare: true, Note: "sent to A&E first", StaffID: staff, At: time.Now().UTC().Truncate(time.Second)}
		res, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
			return booking.DefaultPolicy().StaffRequest(booking.StaffBooking{Request: req, Status: booking.StatusPending, Override: over},
				booking.StaffActor(staff), time.Now())
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, res.Booking)

		got, _, err := s.Booking(ctx, made[4].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Triage.Level != booking.TriageUrgent || !slices.Equal(got.Triage.Rules, []string{"cauda_equina"}) ||
			got.IntakeFormVersion != booking.IntakeFormVersion() || got.TriageOverride == nil ||
			got.TriageOverride.Note != over.Note || got.TriageOverride.StaffID != staff || !got.TriageOverride.At.Equal(over.At) ||
			!slices.Equal(got.Intake.RedFlags, []booking.RedFlag{"saddle_numbness"}) {
			t.Errorf("read back: triage %+v version %q override %+v flags %v", got.Triage, got.IntakeFormVersion, got.TriageOverride, got.Intake.RedFlags)
		}
		// A later change (staff confirm) never rewrites the triage.
		confirmed, _, err := s.UpdateBooking(ctx, made[4].ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionConfirm, booking.StaffActor(staff), "", time.Now())
			return []booking.Event{ev}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if again, _, err := s.Booking(ctx, confirmed.ID); err != nil || again.Triage.Level != booking.TriageUrgent ||
			again.IntakeFormVersion != booking.IntakeFormVersion() || again.TriageOverride == nil {
			t.Errorf("after confirming: triage %+v version %q override %v (%v), want them as made", again.Triage, again.IntakeFormVersion, again.TriageOverride, err)
		}
		events, err := s.BookingEvents(ctx, made[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		var types []booking.EventType
		for _, e := range events {
			types = append(types, e.Type)
		}
		if want := []booking.EventType{booking.EventCreated, booking.EventFlagged}; !slices.Equal(types, want) {
			t.Errorf("urgent booking's history = %v, want %v", types, want)
		}
		if events, _ := s.BookingEvents(ctx, made[0].ID); len(events) != 1 {
			t.Errorf("routine booking's history has %d events, want 1 (not flagged)", len(events))
		}

		var order []uuid.UUID
		cur := ""
		for {
			items, next, err := s.ListBookings(ctx, store.BookingFilter{Statuses: []booking.Status{booking.StatusPending},
				Sort: store.SortTriage, Limit: 2, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				order = append(order, it.Booking.ID)
			}
			if cur = next; cur == "" {
				break
			}
		}
		want := []uuid.UUID{made[1].ID, made[3].ID, made[0].ID, made[2].ID} // made[4] is confirmed now
		if !slices.Equal(order, want) {
			t.Errorf("triage order = %v, want %v (urgent oldest first, then routine oldest first)", order, want)
		}

		// The form this build serves was kept when the store opened; an
		// older version stays as it was.
		v := booking.IntakeFormVersion()
		kept, err := s.IntakeForm(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		var doc booking.IntakeFormDocument
		if err := json.Unmarshal(kept.Definition, &doc); err != nil || doc.Version != v || len(doc.Locales["es"].TriageRules) == 0 {
			t.Errorf("kept form: %v, version %q, %d Spanish rules", err, doc.Version, len(doc.Locales["es"].TriageRules))
		}
		if err := s.SaveIntakeForm(ctx, "0ld0ld0ld0ld", []byte(`{"version":"0ld0ld0ld0ld","locales":{}}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveIntakeForm(ctx, "0ld0ld0ld0ld", []byte(`{"rewritten":true}`)); err != nil {
			t.Fatal(err)
		}
		old, err := s.IntakeForm(ctx, "0ld0ld0ld0ld")
		if err != nil || string(old.Definition) != `{"version":"0ld0ld0ld0ld","locales":{}}` {
			t.Errorf("old version = %s, %v; want its first definition", old.Definition, err)
		}
		if _, err := s.IntakeForm(ctx, "nope"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown version: err = %v, want ErrNotFound", err)
		}
		list, err := s.IntakeFormVersions(ctx)
		if err != nil || len(list) != 2 {
			t.Errorf("versions = %v, %v; want 2", list, err)
		}
	})
}
