package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// Migration 102 upgrades a database made at version 101, whose search
// documents lack the folded names: after it, "obrien" finds O'Brien and
// "perez" Pérez (nameSearchCases), on both databases, and on SQLite every
// booking still shares its new patient's search document.
func TestRefoldMigrationFindsOldNames(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			open := func() *store.Store {
				t.Helper()
				s, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := open()
			slot := catalogue(t, s)
			people := append([]booking.PatientInput{{FirstName: "Ana", LastName: "Lopez", Email: "ana@example.com"}}, nameSearchPeople...)
			for i, p := range people {
				sl := slot(1, booking.SlotOpen)
				p.DateOfBirth, p.Phone = "1980-04-02", fmt.Sprintf("+3461234%04d", i)
				if _, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.BackTo101(ctx, s); err != nil {
				t.Fatalf("back to 101: %v", err)
			}
			// Version 101's documents: the folded names are not there.
			if got := searchRefs(t, s, "obrien"); len(got) != 0 {
				t.Fatalf("obrien at version 101: got %v, want none (the test's old documents)", got)
			}
			docs, err := store.SearchDocuments(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()

			s = open() // up again: 102
			defer s.Close()
			checkNameSearches(t, s)
			if got := searchPatients(t, s, "lopez", func(r booking.PatientRecord) string { return r.Details.LastName }, true); len(got) != 1 {
				t.Errorf("lopez after the upgrade: got %v, want Lopez", got)
			}
			if n, err := store.SearchDocuments(ctx, s); err != nil || n != docs {
				t.Errorf("search documents after the upgrade: got %d (%v), want %d as before (shared)", n, err, docs)
			}
			if s.Dialect() == store.SQLite && docs != len(people) {
				t.Errorf("search documents at 101: got %d, want %d (each booking shares its record's)", docs, len(people))
			}
		})
	}
}
