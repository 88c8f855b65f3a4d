package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkAvailability measures the public availability query on a
// realistic clinic: 5 providers at 2 locations, each with a year of
// weekday 09:00-17:00 30-minute slots generated from a schedule (about
// 21,000 slots, a few of them booked or blocked). It reports the time per
// call and the SQL statements per call, which stay at 1 whatever the range.
//
//	go test ./internal/store -run '^$' -bench Availability -benchtime 2s
func BenchmarkAvailability(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.URL(b))
			// Cancellable, as a request's context is.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			now := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
			clinic := seedClinic(b, s, now)
			queries := store.CountQueries(s)
			first := date(2030, 1, 7)
			for _, days := range []int{1, 14, 62} {
				for _, filter := range []string{"all", "type"} {
					q := store.AvailabilityQuery{
						Days:   booking.DateRange{From: first, To: first.AddDays(days - 1)},
						Policy: booking.DefaultPolicy(), Now: now,
					}
					if filter == "type" {
						q.ConsultationTypeID = &clinic.types[0]
					}
					b.Run(fmt.Sprintf("days=%d/%s", days, filter), func(b *testing.B) {
						queries.Store(0)
						slots := 0
						b.ReportAllocs()
						for b.Loop() {
							res, err := s.Availability(ctx, q)
							if err != nil {
								b.Fatal(err)
							}
							slots = 0
							for _, d := range res {
								slots += len(d.Slots)
							}
						}
						b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
						b.ReportMetric(float64(slots), "slots/op")
					})
				}
			}
		})
	}
}

type clinic struct {
	types []uuid.UUID
}

// seedClinic creates 5 providers at 2 locations (an office and
// telehealth, both in Los Angeles) with 2 consultation types, generates a
// year of slots for each from now on, and books or blocks a few.
func seedClinic(b *testing.B, s *store.Store, now time.Time) clinic {
	b.Helper()
	ctx := context.Background()
	office := newFixture(b, s, "America/Los_Angeles")
	tele := newFixture(b, s, "America/Los_Angeles")
	c := clinic{types: []uuid.UUID{office.ctype.ID, tele.ctype.ID}}
	for i := range 5 {
		f := office
		if i >= 3 {
			f = tele
		}
		f.provider = booking.Provider{ID: uuid.New(), Name: fmt.Sprintf("Dr. %d", i), Active: true, CreatedAt: now}
		if err := s.CreateProvider(ctx, f.provider); err != nil {
			b.Fatal(err)
		}
		sc := f.schedule(date(2030, 1, 1), date(2030, 12, 31))
		if err := s.CreateSchedule(ctx, sc); err != nil {
			b.Fatal(err)
		}
		res, err := s.GenerateSlots(ctx, sc.ID, date(2030, 1, 1), date(2030, 12, 31), now)
		if err != nil {
			b.Fatal(err)
		}
		if res.Created < 4000 {
			b.Fatalf("generated %d slots, want a year's", res.Created)
		}
		// Every 7th slot of the first weeks booked, every 11th blocked.
		slots, _, err := s.ListSlots(ctx, store.SlotFilter{ProviderID: &f.provider.ID}, "", 200)
		if err != nil {
			b.Fatal(err)
		}
		blocked := booking.SlotBlocked
		for j, sl := range slots {
			switch {
			case j%7 == 0:
				err = store.SetSlotBooked(ctx, s, sl.ID, 1)
			case j%11 == 0:
				_, err = s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Status: &blocked})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return c
}

// BenchmarkNextAvailable measures the next-free-slots query in the public
// and the staff window on the clinic of BenchmarkAvailability, asked at
// noon of a working day two months in: the staff window also looks back
// over the day's slots (up to booking.MaxSlotLength), so it reads the
// morning's ended slots that the public's never sees, and has no latest
// start. On PostgreSQL, "analyzed" is after ANALYZE (autovacuum's job on
// a live database): before it, PostgreSQL sorts every slot in the window
// (MAX_ADVANCE for the public, the rest of the year for staff) instead of
// reading the start_at index in order, and both windows cost hundreds of
// times more.
//
//	go test ./internal/store -run '^$' -bench NextAvailable -benchtime 2s
func BenchmarkNextAvailable(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.URL(b))
			ctx := context.Background()
			clinic := seedClinic(b, s, time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC))
			now := time.Date(2030, 3, 5, 20, 0, 0, 0, time.UTC) // Tuesday noon in Los Angeles
			for _, analyzed := range []bool{false, true} {
				if analyzed && s.Dialect() != store.Postgres {
					continue // SQLite keeps no statistics: the same runs again
				}
				if analyzed {
					if err := store.AnalyzeLikeAutovacuum(ctx, s); err != nil {
						b.Fatal(err)
					}
				}
				for _, w := range []booking.OfferWindow{booking.PublicWindow, booking.StaffWindow} {
					for _, filter := range []string{"all", "type"} {
						q := store.NextQuery{Policy: booking.DefaultPolicy(), Window: w, Now: now, Limit: 12}
						if filter == "type" {
							q.ConsultationTypeID = &clinic.types[0]
						}
						if analyzed {
							filter += ",analyzed"
						}
						b.Run(fmt.Sprintf("window=%s/%s", w, filter), func(b *testing.B) {
							b.ReportAllocs()
							for b.Loop() {
								if _, err := s.NextAvailable(ctx, q); err != nil {
									b.Fatal(err)
								}
							}
						})
					}
				}
			}
		})
	}
}
