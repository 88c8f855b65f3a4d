package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// The hand-written availability encoder writes what encoding/json writes for
// the generated api.Availability, byte for byte: the same field order,
// instants, ids and escaping.
func TestEncodeAvailabilityMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []string{"America/Los_Angeles", "Europe/Berlin", "UTC", "Asia/Kolkata", `we"ird<&>\zone`, "Zoné"}
	for round := range 200 {
		var days []booking.Day
		for range rng.IntN(4) {
			d := booking.Day{Date: booking.Date{Year: 2020 + rng.IntN(20), Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)},
				Timezone: zones[rng.IntN(len(zones))]}
			for range rng.IntN(5) {
				loc := time.FixedZone("x", (rng.IntN(27)-12)*3600)
				start := time.Date(2020+rng.IntN(20), time.January, 1, 0, 0, 0, 0, loc).
					Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				if rng.IntN(3) == 0 {
					start = start.Add(time.Duration(rng.IntN(1e9)))
				}
				if rng.IntN(2) == 0 {
					start = start.UTC()
				}
				c := 1 + rng.IntN(3)
				d.Slots = append(d.Slots, booking.Slot{ID: uuid.New(), ProviderID: uuid.New(), LocationID: uuid.New(),
					ConsultationTypeID: uuid.New(), StartAt: start, EndAt: start.Add(30 * time.Minute),
					Capacity: c, Booked: rng.IntN(c + 2), Status: booking.SlotOpen})
			}
			days = append(days, d)
		}
		got, err := encodeAvailability(days)
		if err != nil {
			t.Fatal(err)
		}
		want := api.Availability{Days: make([]api.AvailabilityDay, 0, len(days))}
		for _, d := range days {
			day := api.AvailabilityDay{Date: d.Date.String(), Timezone: d.Timezone, Slots: make([]api.AvailableSlot, 0, len(d.Slots))}
			for _, sl := range d.Slots {
				day.Slots = append(day.Slots, api.AvailableSlot{Id: sl.ID, StartAt: sl.StartAt, EndAt: sl.EndAt,
					ProviderId: sl.ProviderID, LocationId: sl.LocationID, ConsultationTypeId: sl.ConsultationTypeID,
					Remaining: sl.Remaining()})
			}
			want.Days = append(want.Days, day)
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantJSON) {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, wantJSON)
		}
	}
}
