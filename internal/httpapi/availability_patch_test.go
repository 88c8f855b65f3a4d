package httpapi

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// Patching a slot's remaining, or removing the slot, in an encoded answer
// gives the bytes the encoder writes for the answer changed the same way:
// a removed day's only slot takes its day with it, commas stay right.
func TestPatchedAnswerMatchesEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	zones := []string{"America/Los_Angeles", "Europe/Berlin", "UTC"}
	for round := range 300 {
		var days []booking.Day
		for d := range 1 + rng.IntN(4) {
			day := booking.Day{Date: booking.Date{Year: 2027, Month: time.March, Day: 1 + d}, Timezone: zones[rng.IntN(len(zones))]}
			for range 1 + rng.IntN(4) {
				start := time.Date(2027, time.March, 1+d, 8+rng.IntN(9), 0, 0, 0, time.UTC)
				c := 1 + rng.IntN(4)
				day.Slots = append(day.Slots, booking.Slot{ID: uuid.New(), ProviderID: uuid.New(), LocationID: uuid.New(),
					ConsultationTypeID: uuid.New(), StartAt: start, EndAt: start.Add(30 * time.Minute),
					Capacity: c, Booked: rng.IntN(c), Status: booking.SlotOpen})
			}
			days = append(days, day)
		}
		body, err := encodeAvailability(days)
		if err != nil {
			t.Fatal(err)
		}
		di := rng.IntN(len(days))
		si := rng.IntN(len(days[di].Slots))
		sl := days[di].Slots[si]
		start, end, ok := findSlot(body, sl.ID)
		if !ok {
			t.Fatalf("round %d: slot %s not found in %s", round, sl.ID, body)
		}
		if _, _, ok := findSlot(body, uuid.New()); ok {
			t.Fatalf("round %d: found a slot the answer does not hold", round)
		}
		want := make([]booking.Day, len(days))
		for i, d := range days {
			want[i] = booking.Day{Date: d.Date, Timezone: d.Timezone, Slots: slices.Clone(d.Slots)}
		}
		var got []byte
		if rng.IntN(2) == 0 {
			n := 1 + rng.IntN(12)
			want[di].Slots[si].Booked = want[di].Slots[si].Capacity - n
			got, _ = setRemaining(body, start, end, n)
		} else {
			want[di].Slots = slices.Delete(want[di].Slots, si, si+1)
			if len(want[di].Slots) == 0 {
				want = slices.Delete(want, di, di+1)
			}
			got = removeSlot(body, start, end)
		}
		wantBody, err := encodeAvailability(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBody) {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, wantBody)
		}
	}
}
