package horizon_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/horizon"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// newSchedule stores an active provider, location in tz and consultation
// type, and a schedule of theirs (weekdays 09:00-17:00 in 30-minute
// slots, 16 a day, all of 2030) made without generating anything, as a
// schedule from before the rolling generation was.
func newSchedule(t *testing.T, s *store.Store, tz string) booking.Schedule {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	p := booking.Provider{ID: uuid.New(), Name: "Dr. Dana Reyes", Title: "Spine surgeon", Active: true, CreatedAt: now}
	l := booking.Location{ID: uuid.New(), Name: "Main office", Address: "1 Main St", Timezone: tz, Active: true, CreatedAt: now}
	ct := booking.ConsultationType{ID: uuid.New(), Name: "Follow-up", DurationMinutes: 30, Active: true, CreatedAt: now}
	if err := s.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLocation(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsultationType(ctx, ct); err != nil {
		t.Fatal(err)
	}
	var ws []booking.Window
	for d := time.Monday; d <= time.Friday; d++ {
		ws = append(ws, booking.Window{Weekday: d, Start: 9 * 60, End: 17 * 60})
	}
	to := booking.Date{Year: 2030, Month: 12, Day: 31}
	sc := booking.Schedule{
		ID: uuid.New(), ProviderID: p.ID, LocationID: l.ID, ConsultationTypeID: ct.ID, SlotMinutes: 30, Capacity: 1,
		ValidFrom: booking.Date{Year: 2030, Month: 1, Day: 1}, ValidTo: &to, Windows: ws, Active: true, CreatedAt: now,
	}
	if err := s.CreateSchedule(ctx, sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestJobKeepsSchedulesAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sc := newSchedule(t, s, "Europe/Berlin")
		berlin, _ := time.LoadLocation("Europe/Berlin")
		// Friday 2030-01-04 18:00 in Berlin: today's slots are past.
		clock := time.Date(2030, 1, 4, 18, 0, 0, 0, berlin)
		job := horizon.New(s, horizon.Config{Ahead: 14 * 24 * time.Hour, Now: func() time.Time { return clock }})
		steps := []struct {
			name        string
			advance     time.Duration
			created     int
			generatedTo string
		}{
			// Through Friday 01-18: 10 weekdays from Monday 01-07.
			{"first run", 0, 10 * 16, "2030-01-18"},
			{"run again", 0, 0, "2030-01-18"},
			{"an hour on", time.Hour, 0, "2030-01-18"},
			// Saturday 01-05 19:00: Saturday 01-19 has no window, but
			// the schedule is generated through it.
			{"a day on", 24 * time.Hour, 0, "2030-01-19"},
			{"Sunday midnight", 5 * time.Hour, 0, "2030-01-20"},
			{"Monday midnight: Monday 01-21 comes in range", 24 * time.Hour, 16, "2030-01-21"},
			{"and again", 0, 0, "2030-01-21"},
		}
		for _, st := range steps {
			clock = clock.Add(st.advance)
			res, err := job.Run(ctx)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if res.Created != st.created {
				t.Errorf("%s: created %d, want %d", st.name, res.Created, st.created)
			}
			got, err := s.Schedule(ctx, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.GeneratedThrough == nil || got.GeneratedThrough.String() != st.generatedTo {
				t.Errorf("%s: generated through %v, want %s", st.name, got.GeneratedThrough, st.generatedTo)
			}
		}
	})
}

// Registered on the delivery queue, the job runs when the queue starts,
// without waiting for its first interval.
func TestJobRunsAtQueueStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sc := newSchedule(t, s, "UTC")
		clock := time.Date(2030, 3, 4, 8, 0, 0, 0, time.UTC) // Monday, before the day's slots
		log := slog.New(slog.DiscardHandler)
		ws := delivery.NewWorkers(time.Hour, log, nil)
		horizon.New(s, horizon.Config{Ahead: 7 * 24 * time.Hour, Now: func() time.Time { return clock }, Log: log}).Register(ws)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws,
			PollInterval: 50 * time.Millisecond, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Stop(context.Background()) })
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := s.Schedule(ctx, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.GeneratedThrough != nil {
				if want := "2030-03-11"; got.GeneratedThrough.String() != want {
					t.Errorf("generated through %s, want %s", got.GeneratedThrough, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("timed out waiting for the job's first run")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
