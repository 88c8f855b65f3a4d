package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkAvailabilityHTTP measures GET /v1/availability end to end (HTTP,
// JSON, ETag) on a clinic of 5 providers with a year of weekday 09:00-17:00
// 30-minute slots each, and the 304 answer to a matching If-None-Match.
// The store-level BenchmarkAvailability counts the SQL statements.
//
//	go test ./internal/httpapi -run '^$' -bench AvailabilityHTTP
func BenchmarkAvailabilityHTTP(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			e := newEnv(b, be.URL(b))
			seedYearOfSlots(b, e)
			client := &http.Client{}
			start := time.Now().UTC().AddDate(0, 0, 7)
			for _, n := range []int{1, 14, 62} {
				url := fmt.Sprintf("%s/v1/availability?from=%s&to=%s", e.URL,
					start.Format("2006-01-02"), start.AddDate(0, 0, n-1).Format("2006-01-02"))
				get := func(b *testing.B, etag string) (string, int) {
					req, _ := http.NewRequest("GET", url, nil)
					if etag != "" {
						req.Header.Set("If-None-Match", etag)
					}
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotModified {
						b.Fatalf("got %d %s", res.StatusCode, body)
					}
					return res.Header.Get("ETag"), len(body)
				}
				b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
					size := 0
					for b.Loop() {
						_, size = get(b, "")
					}
					b.ReportMetric(float64(size), "bytes/op")
				})
				b.Run(fmt.Sprintf("days=%d/not-modified", n), func(b *testing.B) {
					etag, _ := get(b, "")
					for b.Loop() {
						get(b, etag)
					}
				})
			}
		})
	}
}

// seedYearOfSlots makes 5 providers at one Los Angeles location, each with
// a weekday 09:00-17:00 schedule of 30-minute slots, generated for a year
// from today.
func seedYearOfSlots(b *testing.B, e *env) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	loc := booking.Location{ID: uuid.New(), Name: "Main office", Timezone: "America/Los_Angeles", Active: true, CreatedAt: now}
	ct := booking.ConsultationType{ID: uuid.New(), Name: "Follow-up", DurationMinutes: 30, Active: true, CreatedAt: now}
	if err := e.Store.CreateLocation(ctx, loc); err != nil {
		b.Fatal(err)
	}
	if err := e.Store.CreateConsultationType(ctx, ct); err != nil {
		b.Fatal(err)
	}
	from := booking.DateOf(now, time.UTC)
	to := from.AddDays(booking.MaxGenerateDays - 1)
	for i := range 5 {
		p := booking.Provider{ID: uuid.New(), Name: fmt.Sprintf("Dr. %d", i), Active: true, CreatedAt: now}
		if err := e.Store.CreateProvider(ctx, p); err != nil {
			b.Fatal(err)
		}
		var ws []booking.Window
		for d := time.Monday; d <= time.Friday; d++ {
			ws = append(ws, booking.Window{Weekday: d, Start: 9 * 60, End: 17 * 60})
		}
		sc := booking.Schedule{ID: uuid.New(), ProviderID: p.ID, LocationID: loc.ID, ConsultationTypeID: ct.ID,
			SlotMinutes: 30, Capacity: 1, ValidFrom: from, ValidTo: &to, Windows: ws, Active: true, CreatedAt: now}
		if err := e.Store.CreateSchedule(ctx, sc); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Store.GenerateSlots(ctx, sc.ID, from, to, now); err != nil {
			b.Fatal(err)
		}
	}
}
