package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// slotRows returns the number of slots schedule sc has made, failing t
// when two of them share a start.
func slotRows(t *testing.T, s *store.Store, sc booking.Schedule) int {
	t.Helper()
	rows, starts, err := store.ScheduleSlotRows(context.Background(), s, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rows != starts {
		t.Errorf("schedule %v: %d slots on %d start times, want no duplicates", sc.ID, rows, starts)
	}
	return rows
}

func TestKeepSchedulesAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		la, _ := time.LoadLocation("America/Los_Angeles")
		f := newFixture(t, s, la.String())
		const ahead = 28 * 24 * time.Hour
		// Monday 2030-01-07 noon in Los Angeles: the schedule (weekdays,
		// 16 slots a day) is kept through Monday 02-04, 28 days on.
		now := time.Date(2030, 1, 7, 12, 0, 0, 0, la)
		sc := f.schedule(date(2030, 1, 1), date(2030, 12, 31))

		created, res, err := s.CreateScheduleAhead(ctx, sc, now, ahead)
		if err != nil {
			t.Fatal(err)
		}
		if created.GeneratedThrough == nil || *created.GeneratedThrough != date(2030, 2, 4) {
			t.Errorf("created: generated through %v, want 2030-02-04", created.GeneratedThrough)
		}
		// Today's 10 afternoon slots, then 20 weekdays (01-08 to 02-04).
		if got, want := res, (store.GenerateResult{Created: 10 + 20*16, Skipped: 6}); got != want {
			t.Errorf("at creation: got %+v, want %+v", got, want)
		}
		got, err := s.Schedule(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.GeneratedThrough == nil || *got.GeneratedThrough != date(2030, 2, 4) {
			t.Errorf("generated through: got %v, want 2030-02-04", got.GeneratedThrough)
		}

		steps := []struct {
			name string
			now  time.Time
			want store.AheadResult
			rows int
		}{
			{"again at once", now, store.AheadResult{}, 330},
			{"an hour later", now.Add(time.Hour), store.AheadResult{}, 330},
			{"a day later", now.AddDate(0, 0, 1), store.AheadResult{Extended: 1, GenerateResult: store.GenerateResult{Created: 16}}, 346},
			{"that day again", now.AddDate(0, 0, 1).Add(3 * time.Hour), store.AheadResult{}, 346},
			// Saturday: Wednesday to Friday 02-06..08 are new; Saturday
			// 02-09 has no window.
			{"four days later", now.AddDate(0, 0, 5), store.AheadResult{Extended: 1, GenerateResult: store.GenerateResult{Created: 3 * 16}}, 394},
		}
		for _, st := range steps {
			res, err := s.KeepSchedulesAhead(ctx, st.now, ahead)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if res != st.want {
				t.Errorf("%s: got %+v, want %+v", st.name, res, st.want)
			}
			if n := slotRows(t, s, sc); n != st.rows {
				t.Errorf("%s: %d slots, want %d", st.name, n, st.rows)
			}
		}

		// An inactive schedule stays as it is; once active again, it
		// is generated from the day of the run.
		later := now.AddDate(0, 0, 14) // Monday 01-21: through 02-18
		if _, err := s.UpdateSchedule(ctx, sc.ID, func(sc *booking.Schedule) error { sc.Active = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if res, err := s.KeepSchedulesAhead(ctx, later, ahead); err != nil || res != (store.AheadResult{}) {
			t.Errorf("inactive schedule: got %+v, %v; want nothing done", res, err)
		}
		// An inactive provider holds it back too, and says so.
		if _, err := s.UpdateSchedule(ctx, sc.ID, func(sc *booking.Schedule) error { sc.Active = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Active = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if res, err := s.KeepSchedulesAhead(ctx, later, ahead); err != nil || res != (store.AheadResult{Unavailable: 1}) {
			t.Errorf("inactive provider: got %+v, %v; want 1 unavailable", res, err)
		}
		if _, err := s.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Active = true; return nil }); err != nil {
			t.Fatal(err)
		}
		// 02-11 to 02-18: 6 weekdays.
		if res, err := s.KeepSchedulesAhead(ctx, later, ahead); err != nil || res.Created != 6*16 {
			t.Errorf("active again: got %+v, %v; want %d created", res, err, 6*16)
		}
	})
}

// Two server instances on one database, each running the job from many
// goroutines at once, make each schedule's slots once.
func TestKeepSchedulesAheadConcurrent(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			instances := []*store.Store{storetest.Open(t, url), storetest.Open(t, url)}
			now := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
			const ahead = 60 * 24 * time.Hour
			var schedules []booking.Schedule
			for range 3 {
				f := newFixture(t, instances[0], "Europe/Berlin")
				sc := f.schedule(date(2030, 1, 1), date(2030, 12, 31))
				if err := instances[0].CreateSchedule(ctx, sc); err != nil {
					t.Fatal(err)
				}
				schedules = append(schedules, sc)
			}
			berlin, _ := time.LoadLocation("Europe/Berlin")
			occ, err := schedules[0].Occurrences(booking.DateOf(now, berlin), booking.DateOf(now.Add(ahead), berlin), berlin)
			if err != nil {
				t.Fatal(err)
			}
			perSchedule := 0
			for _, o := range occ {
				if !o.Start.Before(now) {
					perSchedule++
				}
			}

			const goroutines = 16
			var created atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range goroutines {
				wg.Go(func() {
					<-start
					res, err := instances[i%2].KeepSchedulesAhead(ctx, now, ahead)
					if err != nil {
						t.Errorf("goroutine %d: %v", i, err)
					}
					created.Add(int64(res.Created))
				})
			}
			close(start)
			wg.Wait()

			if got, want := created.Load(), int64(3*perSchedule); got != want {
				t.Errorf("slots reported created: got %d, want %d", got, want)
			}
			for _, sc := range schedules {
				if got := slotRows(t, instances[1], sc); got != perSchedule {
					t.Errorf("schedule %v: %d slots, want %d", sc.ID, got, perSchedule)
				}
			}
		})
	}
}

// A MAX_ADVANCE longer than one generate call may span (366 days) is
// generated in steps, all in the one run.
func TestKeepSchedulesAheadBeyondAYear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		now := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
		const ahead = 500 * 24 * time.Hour
		sc := f.schedule(date(2030, 1, 1), date(2032, 12, 31))
		through := booking.DateOf(now.Add(ahead), time.UTC)
		want := 0
		for _, span := range [][2]booking.Date{{date(2030, 1, 7), date(2030, 12, 31)}, {date(2031, 1, 1), through}} {
			occ, err := sc.Occurrences(span[0], span[1], time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			want += len(occ)
		}
		if err := s.CreateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
		res, err := s.KeepSchedulesAhead(ctx, now, ahead)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != want {
			t.Errorf("created %d, want %d", res.Created, want)
		}
		if n := slotRows(t, s, sc); n != want {
			t.Errorf("%d slots, want %d", n, want)
		}
		got, _ := s.Schedule(ctx, sc.ID)
		if got.GeneratedThrough == nil || *got.GeneratedThrough != through {
			t.Errorf("generated through %v, want %s", got.GeneratedThrough, through)
		}
	})
}
