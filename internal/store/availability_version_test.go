package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// version waits (on PostgreSQL, for the listener to connect) and returns
// the store's AvailabilityVersion.
func version(t *testing.T, s *store.Store) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := s.AvailabilityVersion(store.AvailabilityQuery{})
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("AvailabilityVersion: still not ok after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Every kind of write that can change what Availability returns moves the
// version before the writing call returns; reads do not.
func TestAvailabilityVersionMovesOnEveryWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "America/Los_Angeles")
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		sl := f.slot(start, 30*time.Minute)
		sl.Capacity = 2
		other := f.slot(start.Add(time.Hour), 30*time.Minute)
		spare := f.slot(start.Add(2*time.Hour), 30*time.Minute)
		draft := func(slot uuid.UUID) store.Draft {
			req := validRequest(t, slot)
			return func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
				return b, ev, err
			}
		}
		var bookingID uuid.UUID
		apply := func(a booking.Action) func() error {
			return func() error {
				_, _, err := s.UpdateBooking(ctx, bookingID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
					ev, err := b.Apply(a, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
					return []booking.Event{ev}, err
				})
				return err
			}
		}
		blocked, open, three := booking.SlotBlocked, booking.SlotOpen, 3
		sc := f.schedule(booking.DateOf(start, time.UTC), booking.DateOf(start, time.UTC).AddDays(7))
		sc.Windows = sc.Windows[:1]
		sc.Windows[0].Start, sc.Windows[0].End = 6*60, 7*60 // before the other slots
		writes := []struct {
			name  string
			write func() error
		}{
			{"create slot", func() error { return s.CreateSlot(ctx, sl) }},
			{"create another slot", func() error { return s.CreateSlot(ctx, other) }},
			{"create a spare slot", func() error { return s.CreateSlot(ctx, spare) }},
			{"block slot", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Status: &blocked}); return err }},
			{"reopen slot", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Status: &open}); return err }},
			{"change capacity", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Capacity: &three}); return err }},
			{"book a place", func() error {
				res, err := s.CreateBooking(ctx, sl.ID, draft(sl.ID), nil)
				bookingID = res.Booking.ID
				return err
			}},
			{"reschedule", func() error {
				_, _, err := s.RescheduleBooking(ctx, bookingID, other.ID, func(b *booking.Booking, _ booking.Slot, _ booking.SlotInfo) ([]booking.Event, error) {
					ev, err := b.Reschedule(other.ID, booking.Actor{Type: booking.ActorSystem}, time.Now())
					return []booking.Event{ev}, err
				})
				return err
			}},
			{"decline (releases the place)", apply(booking.ActionDecline)},
			{"book and expire", func() error {
				res, err := s.CreateBooking(ctx, sl.ID, draft(sl.ID), nil)
				if err != nil {
					return err
				}
				bookingID = res.Booking.ID
				_, err = s.ExpirePending(ctx, time.Now().Add(time.Minute), time.Now())
				return err
			}},
			{"delete slot", func() error { return s.DeleteSlot(ctx, spare.ID) }},
			{"create and generate schedule", func() error {
				if err := s.CreateSchedule(ctx, sc); err != nil {
					return err
				}
				_, err := s.GenerateSlots(ctx, sc.ID, sc.ValidFrom, *sc.ValidTo, time.Now())
				return err
			}},
			{"deactivate provider", func() error {
				_, err := s.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Active = false; return nil })
				return err
			}},
			{"deactivate location", func() error {
				_, err := s.UpdateLocation(ctx, f.location.ID, func(l *booking.Location) error { l.Active = false; return nil })
				return err
			}},
			{"deactivate consultation type", func() error {
				_, err := s.UpdateConsultationType(ctx, f.ctype.ID, func(c *booking.ConsultationType) error { c.Active = false; return nil })
				return err
			}},
			{"create provider", func() error {
				return s.CreateProvider(ctx, booking.Provider{ID: uuid.New(), Name: "Dr. New", Active: true, CreatedAt: time.Now()})
			}},
		}
		for _, w := range writes {
			before := version(t, s)
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if after := version(t, s); after == before {
				t.Errorf("%s: version stayed %d", w.name, before)
			}
		}
		if s.Dialect() != store.SQLite {
			return // on PostgreSQL other tests' writes to the same database move it too
		}
		// The commit counter that sees other processes' writes (this one's
		// too) is read at most once a millisecond: let it settle on the
		// writes above first.
		time.Sleep(5 * time.Millisecond)
		version(t, s)
		before := version(t, s)
		q := store.AvailabilityQuery{Days: booking.DateRange{From: booking.DateOf(start, time.UTC), To: booking.DateOf(start, time.UTC).AddDays(7)},
			Policy: booking.DefaultPolicy(), Now: time.Now()}
		if _, err := s.Availability(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Slot(ctx, sl.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ListBookings(ctx, store.BookingFilter{}); err != nil {
			t.Fatal(err)
		}
		if after := version(t, s); after != before {
			t.Errorf("reads moved the version from %d to %d", before, after)
		}
	})
}

// Two stores on one database are two server instances: a write through one
// moves the other's version, on SQLite within a millisecond, on PostgreSQL
// once the notification arrives.
func TestAvailabilityVersionAcrossInstances(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			f := newFixture(t, a, "UTC")
			before := version(t, b)
			if err := a.CreateSlot(ctx, f.slot(time.Now().Add(72*time.Hour), time.Hour)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for version(t, b) == before {
				if time.Now().After(deadline) {
					t.Fatal("the other instance's version did not move within 5s of the write")
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// An answer holds until its first slot leaves the booking window or a slot
// of its range enters it, and not a moment longer.
func TestAvailabilityValidUntil(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		now := time.Now().UTC().Truncate(time.Second)
		policy := booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 10 * 24 * time.Hour}
		q := store.AvailabilityQuery{
			Days:   booking.DateRange{From: booking.DateOf(now, time.UTC), To: booking.DateOf(now, time.UTC).AddDays(12)},
			Policy: policy, Now: now,
		}
		check := func(t *testing.T, want time.Time) {
			t.Helper()
			days, err := s.Availability(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			until, err := s.AvailabilityValidUntil(ctx, q, days)
			if err != nil {
				t.Fatal(err)
			}
			if !until.Equal(want) {
				t.Fatalf("valid until %v, want %v", until, want)
			}
			// The answer is the same at until, and differs just after.
			at := func(now time.Time) []uuid.UUID {
				q := q
				q.Now = now
				d, err := s.Availability(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				return offered(t, d)
			}
			if got := at(until); !slices.Equal(got, offered(t, days)) {
				t.Errorf("at until: got %v, want %v", got, offered(t, days))
			}
			if got := at(until.Add(time.Second)); slices.Equal(got, offered(t, days)) {
				t.Errorf("a second after until: still %v", got)
			}
		}
		// Nothing in range: the answer holds until a slot is made.
		if days, err := s.Availability(ctx, q); err != nil {
			t.Fatal(err)
		} else if until, err := s.AvailabilityValidUntil(ctx, q, days); err != nil || !until.IsZero() {
			t.Fatalf("empty: got %v %v, want the zero time", until, err)
		}
		soon := f.slot(now.Add(5*time.Hour), 30*time.Minute)
		if err := s.CreateSlot(ctx, soon); err != nil {
			t.Fatal(err)
		}
		t.Run("leaves", func(t *testing.T) { check(t, soon.StartAt.Add(-policy.MinNotice)) })
		far := f.slot(now.Add(policy.MaxAdvance+time.Hour), 30*time.Minute)
		if err := s.CreateSlot(ctx, far); err != nil {
			t.Fatal(err)
		}
		t.Run("enters", func(t *testing.T) { check(t, far.StartAt.Add(-policy.MaxAdvance-time.Nanosecond)) })
	})
}

// TestInvalidateAvailability: an explicit invalidation moves the version at
// once outside a transaction.
func TestInvalidateAvailability(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		before := version(t, s)
		s.InvalidateAvailability(context.Background(), uuid.New())
		if after := version(t, s); after == before {
			t.Errorf("version: got %d after invalidating, want a change from %d", after, before)
		}
	})
}

// versionOf waits (on PostgreSQL, for the listener to connect) and returns
// the store's AvailabilityVersion for provider.
func versionOf(t *testing.T, s *store.Store, provider uuid.UUID) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := s.AvailabilityVersion(store.AvailabilityQuery{ProviderID: &provider})
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("AvailabilityVersion: still not ok after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle lets the versions take in what is in flight: on SQLite the watch
// looks at most once a millisecond, on PostgreSQL this store's own
// notifications come back through its listener.
func settle(t *testing.T, s *store.Store) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	version(t, s)
}

// versionFor waits (on PostgreSQL, for the listener to connect) and returns
// the store's AvailabilityVersion for a question about provider (nil: the
// whole clinic) for the two weeks from day.
func versionFor(t *testing.T, s *store.Store, provider *uuid.UUID, day time.Time) uint64 {
	t.Helper()
	from := booking.DateOf(day, time.UTC)
	q := store.AvailabilityQuery{ProviderID: provider, Days: booking.DateRange{From: from, To: from.AddDays(13)}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := s.AvailabilityVersion(q)
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("AvailabilityVersion: still not ok after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A write to one provider's slots, holds or bookings moves the versions of
// the questions about that provider, or the whole clinic, for the days of
// those slots, and leaves as they are those about another provider, or
// other days; a catalogue change moves them all.
func TestAvailabilityVersionByProvider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		other := booking.Provider{ID: uuid.New(), Name: "Dr. Other", Active: true, CreatedAt: time.Now()}
		if err := s.CreateProvider(ctx, other); err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		mine := f.slot(start, 30*time.Minute)
		spare := f.slot(start.Add(time.Hour), 30*time.Minute)
		gone := f.slot(start.Add(2*time.Hour), 30*time.Minute)
		theirs := f.slot(start, 30*time.Minute)
		theirs.ProviderID = other.ID
		for _, sl := range []booking.Slot{mine, spare, gone, theirs} {
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatal(err)
			}
		}
		var bookingID uuid.UUID
		blocked := booking.SlotBlocked
		policy := booking.DefaultPolicy()
		scoped := []struct {
			name  string
			write func() error
			whole bool // every day of the provider
		}{
			{name: "book a place", write: func() error {
				res, err := s.CreateBooking(ctx, mine.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
					b, ev, _, err := booking.NewBooking(validRequest(t, mine.ID), booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
					return b, ev, err
				}, nil)
				bookingID = res.Booking.ID
				return err
			}},
			{name: "decline (releases the place)", write: func() error {
				_, _, err := s.UpdateBooking(ctx, bookingID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
					ev, err := b.Apply(booking.ActionDecline, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
					return []booking.Event{ev}, err
				})
				return err
			}},
			{name: "hold a place", write: func() error {
				_, err := s.CreateHold(ctx, store.NewHold{SlotID: spare.ID, TokenHash: booking.HashToken("t"), ClientHash: "c", Limit: 2,
					ExpiresAt: time.Now().Add(10 * time.Minute), Check: func(info booking.SlotInfo) error { return policy.PublicHoldable(info, time.Now()) }})
				return err
			}},
			{name: "block a slot", write: func() error { _, err := s.UpdateSlot(ctx, mine.ID, store.SlotPatch{Status: &blocked}); return err }},
			{name: "delete a slot", write: func() error { return s.DeleteSlot(ctx, gone.ID) }},
			{name: "delete a held slot", write: func() error { return s.DeleteSlot(ctx, spare.ID) }},
			{name: "invalidate explicitly", write: func() error { s.InvalidateAvailability(ctx, f.provider.ID); return nil }, whole: true},
		}
		near, far := start.Add(-48*time.Hour), start.Add(30*24*time.Hour) // two weeks with the slots, and without
		for _, w := range scoped {
			settle(t, s)
			p, q, all := versionFor(t, s, &f.provider.ID, near), versionOf(t, s, other.ID), versionFor(t, s, nil, near)
			pFar, allFar := versionFor(t, s, &f.provider.ID, far), versionFor(t, s, nil, far)
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if got := versionFor(t, s, &f.provider.ID, near); got <= p {
				t.Errorf("%s: the provider's version stayed %d (now %d)", w.name, p, got)
			}
			if got := versionFor(t, s, nil, near); got <= all {
				t.Errorf("%s: the clinic's version stayed %d (now %d)", w.name, all, got)
			}
			settle(t, s)
			if got := versionOf(t, s, other.ID); got != q {
				t.Errorf("%s: another provider's version moved from %d to %d", w.name, q, got)
			}
			if got := versionFor(t, s, &f.provider.ID, far); got != pFar && !w.whole {
				t.Errorf("%s: the provider's version for other days moved from %d to %d", w.name, pFar, got)
			}
			if got := versionFor(t, s, nil, far); got != allFar && !w.whole {
				t.Errorf("%s: the clinic's version for other days moved from %d to %d", w.name, allFar, got)
			}
		}
		// A catalogue change moves every provider's version.
		settle(t, s)
		q := versionOf(t, s, other.ID)
		if _, err := s.UpdateLocation(ctx, f.location.ID, func(l *booking.Location) error { l.Name = "Annex"; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := versionOf(t, s, other.ID); got <= q {
			t.Errorf("location renamed: another provider's version stayed %d", q)
		}
		// This store's own write is taken in once: once settled, the
		// provider's version stays put.
		settle(t, s)
		p := versionOf(t, s, other.ID)
		if _, err := s.UpdateSlot(ctx, theirs.ID, store.SlotPatch{Status: &blocked}); err != nil {
			t.Fatal(err)
		}
		moved := versionOf(t, s, other.ID)
		if moved <= p {
			t.Fatalf("block: the provider's version stayed %d", p)
		}
		settle(t, s)
		if got := versionOf(t, s, other.ID); got != moved && s.Dialect() == store.SQLite {
			t.Errorf("this store's own write moved the provider's version twice: %d, then %d", moved, got)
		}
	})
}

// Two stores on one database are two server instances: a write through one
// moves the other's version for the provider it touched, and only that
// provider's, on SQLite within a millisecond, on PostgreSQL once the
// notification arrives; a write by a third party straight to the database
// (a maintenance script) counts as well; a catalogue change moves them all.
func TestAvailabilityVersionByProviderAcrossInstances(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			f := newFixture(t, a, "UTC")
			other := booking.Provider{ID: uuid.New(), Name: "Dr. Other", Active: true, CreatedAt: time.Now()}
			if err := a.CreateProvider(ctx, other); err != nil {
				t.Fatal(err)
			}
			mine := f.slot(time.Now().Add(72*time.Hour).Truncate(time.Hour), time.Hour)
			theirs := mine
			theirs.ID, theirs.ProviderID = uuid.New(), other.ID
			await := func(what string, provider uuid.UUID, before uint64) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for versionOf(t, b, provider) == before {
					if time.Now().After(deadline) {
						t.Fatalf("%s: the other instance's version did not move within 5s", what)
					}
					time.Sleep(time.Millisecond)
				}
			}
			for _, w := range []struct {
				name  string
				write func() error
			}{
				{"create a slot", func() error { return a.CreateSlot(ctx, mine) }},
				{"book a place", func() error {
					_, err := a.CreateBooking(ctx, mine.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
						bk, ev, _, err := booking.NewBooking(validRequest(t, mine.ID), booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
						return bk, ev, err
					}, nil)
					return err
				}},
				{"a maintenance script's write", func() error { return rawExec(t, url, "UPDATE slots SET capacity = 3 WHERE id = ?", mine.ID.String()) }},
			} {
				settle(t, b)
				p, q := versionOf(t, b, f.provider.ID), versionOf(t, b, other.ID)
				if err := w.write(); err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				await(w.name, f.provider.ID, p)
				settle(t, b)
				if got := versionOf(t, b, other.ID); got != q {
					t.Errorf("%s: the other instance's version of another provider moved from %d to %d", w.name, q, got)
				}
			}
			// A schedule generated for months (on PostgreSQL more scopes
			// than a transaction lists: everything) moves the far days too.
			settle(t, b)
			farDay := time.Now().Add(100 * 24 * time.Hour)
			far := versionFor(t, b, &f.provider.ID, farDay)
			today := booking.DateOf(time.Now().Add(5*24*time.Hour), time.UTC)
			sc := f.schedule(today, today.AddDays(120))
			if err := a.CreateSchedule(ctx, sc); err != nil {
				t.Fatal(err)
			}
			if _, err := a.GenerateSlots(ctx, sc.ID, sc.ValidFrom, *sc.ValidTo, time.Now()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for versionFor(t, b, &f.provider.ID, farDay) == far {
				if time.Now().After(deadline) {
					t.Fatal("generate slots: the other instance's version for a day 100 days ahead did not move within 5s")
				}
				time.Sleep(time.Millisecond)
			}
			settle(t, b)
			q := versionOf(t, b, other.ID)
			if _, err := a.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Title = "Surgeon"; return nil }); err != nil {
				t.Fatal(err)
			}
			await("rename a provider", other.ID, q)
		})
	}
}

// rawExec runs one statement on the database at url outside any store, as
// a maintenance script would; ? stands for the arguments.
func rawExec(t *testing.T, url, query string, args ...any) error {
	t.Helper()
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		driver, dsn = "sqlite3", "file:"+path+"?_busy_timeout=10000"
	} else {
		for i := range args {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i+1), 1)
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(query, args...)
	return err
}

// On SQLite the log of changes keeps only its last rows: a store that had
// not read the pruned ones takes everything as changed.
func TestAvailabilityChangesPrunedUnread(t *testing.T) {
	url := storetest.SQLiteURL(t)
	a, b := storetest.Open(t, url), storetest.Open(t, url)
	f := newFixture(t, a, "UTC")
	settle(t, b)
	before := versionOf(t, b, f.provider.ID)
	// Twelve thousand changes of another scope in one transaction: more
	// than the log keeps.
	if err := rawExec(t, url, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
		INSERT INTO availability_changes (scope) SELECT ? FROM n`, uuid.NewString()+"/1"); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if got := versionOf(t, b, f.provider.ID); got == before {
		t.Errorf("the provider's version stayed %d after changes were pruned unread", before)
	}
	// Read in time, the same number of changes moves only their scope.
	settle(t, b)
	before = versionOf(t, b, f.provider.ID)
	if err := rawExec(t, url, "INSERT INTO availability_changes (scope) VALUES (?)", uuid.NewString()+"/1"); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if got := versionOf(t, b, f.provider.ID); got != before {
		t.Errorf("another scope's change moved the provider's version from %d to %d", before, got)
	}
}
