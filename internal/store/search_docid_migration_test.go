package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// Migration 105 (the booking writer writes the search docids itself, the
// insert triggers step aside) upgrades a database at version 101 (here:
// made by this build, then moved down to 101, which puts 00097's triggers
// back) and keeps every booking, reference, manage token and
// Idempotency-Key record working: searches find the same bookings and
// records, a manage link still opens its booking, a retried create still
// replays its first response, and new bookings share a document with the
// record made with them as before.
func TestSearchDocidMigrationKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "upgrade.db")
	open := func() *store.Store {
		t.Helper()
		s, err := store.Open(ctx, "sqlite://"+path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	slot := catalogue(t, s)
	type made struct {
		ref, token string
		idem       *store.Idempotency
		body       []byte
	}
	people := []booking.PatientInput{
		{FirstName: "Ana", LastName: "Upgrader", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},
		{FirstName: "Ana", LastName: "Upgrader", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"}, // her record again
		{FirstName: "Bo", LastName: "Upgrader", DateOfBirth: "1975-01-09", Phone: "+34612345678"},
	}
	var all []made
	for i, p := range people {
		sl := slot(1, booking.SlotOpen)
		var token string
		base := draftFor(t, sl.ID, p)
		draft := func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
			b, ev, err := base(info)
			if err == nil {
				// A token of its own, its hash on the booking, as the
				// handler gives the patient.
				token = "manage-token-" + b.ID.String()
				b.ManageTokenHash = booking.HashToken(token)
			}
			return b, ev, err
		}
		idem := &store.Idempotency{Scope: "POST /v1/booking-requests", Key: "upgrade-key-" + string(rune('a'+i)), Request: []byte(`{"n":` + string(rune('0'+i)) + `}`),
			Response: func(b booking.Booking, _ booking.Slot) (store.Response, error) {
				return store.Response{Status: 201, Header: map[string]string{"Location": "/v1/booking-requests/" + b.Reference}, Body: []byte(`{"reference":"` + b.Reference + `"}`)}, nil
			}}
		c, err := s.CreateBooking(ctx, sl.ID, draft, idem)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, made{ref: c.Booking.Reference, token: token, idem: idem, body: []byte(`{"reference":"` + c.Booking.Reference + `"}`)})
	}
	s.Close()

	if err := store.MigrateSQLiteDownTo(ctx, path, 101); err != nil {
		t.Fatalf("down to 101: %v", err)
	}
	s = open() // up again: 105
	defer s.Close()
	slot = catalogue(t, s) // places of the reopened store

	if n, err := store.SearchDocuments(ctx, s); err != nil || n != 3 {
		t.Errorf("search documents after the upgrade: got %d (%v), want 3 (two shared, one booking of a returning patient)", n, err)
	}

	sorted := func(v ...string) []string { slices.Sort(v); return v }
	for _, tt := range []struct {
		q                  string
		bookings, patients []string
	}{
		{"upgrader", sorted(all[0].ref, all[1].ref, all[2].ref), []string{"Ana", "Bo"}},
		{"555 0123", sorted(all[0].ref, all[1].ref), []string{"Ana"}},
		{"612345", []string{all[2].ref}, []string{"Bo"}},
		{all[0].ref, []string{all[0].ref}, nil},
		{all[2].ref, []string{all[2].ref}, nil},
	} {
		if got := searchRefs(t, s, tt.q); !slices.Equal(got, tt.bookings) {
			t.Errorf("bookings for %q after the upgrade: got %v, want %v", tt.q, got, tt.bookings)
		}
		if got := searchPatients(t, s, tt.q, func(r booking.PatientRecord) string { return r.Details.FirstName }, true); !slices.Equal(got, tt.patients) {
			t.Errorf("patients for %q after the upgrade: got %v, want %v", tt.q, got, tt.patients)
		}
	}
	for _, m := range all {
		if b, _, err := s.BookingByReference(ctx, m.ref, m.token); err != nil || b.Reference != m.ref {
			t.Errorf("manage link of %s after the upgrade: got %q, %v", m.ref, b.Reference, err)
		}
		sl := slot(1, booking.SlotOpen)
		c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, people[0]), m.idem)
		if err != nil || c.Replay == nil || !bytes.Equal(c.Replay.Body, m.body) || c.Replay.Status != 201 {
			t.Errorf("retry of %s after the upgrade: replay %+v, %v; want the first response", m.ref, c.Replay, err)
		}
	}
	// New bookings after the upgrade: a new patient's shares the record's
	// document, a returning patient's has its own; both are found.
	cy := booking.PatientInput{FirstName: "Cy", LastName: "Later", DateOfBirth: "1990-12-01", Phone: "+14245550999"}
	var later []string
	for i, want := range []int{4, 5} {
		sl := slot(1, booking.SlotOpen)
		c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, cy), nil)
		if err != nil {
			t.Fatal(err)
		}
		later = append(later, c.Booking.Reference)
		if n, err := store.SearchDocuments(ctx, s); err != nil || n != want {
			t.Errorf("search documents after Cy's booking %d: got %d (%v), want %d", i+1, n, err, want)
		}
	}
	if got, want := searchRefs(t, s, "later"), sorted(later...); !slices.Equal(got, want) {
		t.Errorf("bookings for %q after new bookings: got %v, want %v", "later", got, want)
	}
	if got := searchPatients(t, s, "later", func(r booking.PatientRecord) string { return r.Details.FirstName }, true); !slices.Equal(got, []string{"Cy"}) {
		t.Errorf("patients for %q after new bookings: got %v, want [Cy]", "later", got)
	}
	if got := searchRefs(t, s, later[0]); !slices.Equal(got, later[:1]) {
		t.Errorf("bookings for %q: got %v, want %v", later[0], got, later[:1])
	}
}
