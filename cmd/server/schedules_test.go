package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/storetest"
)

// A schedule the server did not generate (made before the rolling
// generation existed) is generated through MAX_ADVANCE when the server
// starts, by the job run registers, on each database.
func TestRunGeneratesSchedulesAheadAtStart(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			st := storetest.Open(t, url)
			now := time.Now()
			p := booking.Provider{ID: uuid.New(), Name: "Dr. Dana Reyes", Title: "Spine surgeon", Active: true, CreatedAt: now}
			l := booking.Location{ID: uuid.New(), Name: "Main office", Address: "1 Main St", Timezone: "UTC", Active: true, CreatedAt: now}
			ct := booking.ConsultationType{ID: uuid.New(), Name: "Follow-up", DurationMinutes: 30, Active: true, CreatedAt: now}
			for _, err := range []error{st.CreateProvider(ctx, p), st.CreateLocation(ctx, l), st.CreateConsultationType(ctx, ct)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			var ws []booking.Window
			for d := time.Sunday; d <= time.Saturday; d++ {
				ws = append(ws, booking.Window{Weekday: d, Start: 23 * 60, End: booking.EndOfDay})
			}
			today := booking.DateOf(now, time.UTC)
			sc := booking.Schedule{ID: uuid.New(), ProviderID: p.ID, LocationID: l.ID, ConsultationTypeID: ct.ID,
				SlotMinutes: 30, Capacity: 1, ValidFrom: today, Windows: ws, Active: true, CreatedAt: now}
			if err := st.CreateSchedule(ctx, sc); err != nil {
				t.Fatal(err)
			}

			startServer(t, map[string]string{"DATABASE_URL": url, "MAX_ADVANCE": "240h", "JWT_SECRET": strings.Repeat("k", 32)})
			want := booking.DateOf(time.Now().Add(240*time.Hour), time.UTC)
			deadline := time.Now().Add(30 * time.Second)
			for {
				got, err := st.Schedule(ctx, sc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.GeneratedThrough != nil {
					if *got.GeneratedThrough != want {
						t.Errorf("generated through %s, want %s", got.GeneratedThrough, want)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the schedule was not generated within 30s of the start")
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
