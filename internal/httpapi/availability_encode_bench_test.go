package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// BenchmarkEncodeAvailability measures the JSON encoding of an availability
// body, which the cache pays once per distinct question and version: two
// weeks of one provider (10 weekdays of 18 half-hour slots) and 62 days of
// five providers.
//
//	go test ./internal/httpapi -run '^$' -bench EncodeAvailability
func BenchmarkEncodeAvailability(b *testing.B) {
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		b.Fatal(err)
	}
	location, ctype := uuid.New(), uuid.New()
	build := func(weekdays, providers int) []booking.Day {
		var days []booking.Day
		day := booking.Date{Year: 2030, Month: time.January, Day: 7}
		for len(days) < weekdays {
			if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
				d := booking.Day{Date: day, Timezone: zone.String()}
				for p := range providers {
					pid := uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(p)})
					for i := range 18 {
						start, _ := day.At(booking.Clock(8*60+30*i), zone)
						d.Slots = append(d.Slots, booking.Slot{ID: uuid.New(), ProviderID: pid, LocationID: location,
							ConsultationTypeID: ctype, StartAt: start.UTC(), EndAt: start.Add(30 * time.Minute).UTC(),
							Capacity: 2, Booked: i % 2, Status: booking.SlotOpen})
					}
				}
				days = append(days, d)
			}
			day = day.AddDays(1)
		}
		return days
	}
	for _, c := range []struct{ weekdays, providers int }{{10, 1}, {44, 5}} {
		days := build(c.weekdays, c.providers)
		b.Run(fmt.Sprintf("weekdays=%d/providers=%d", c.weekdays, c.providers), func(b *testing.B) {
			size := 0
			b.ReportAllocs()
			for b.Loop() {
				body, err := encodeAvailability(days)
				if err != nil {
					b.Fatal(err)
				}
				size = len(body)
			}
			b.ReportMetric(float64(size), "body_bytes")
		})
	}
}
