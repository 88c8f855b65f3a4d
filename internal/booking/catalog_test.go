package booking_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

func TestCatalogueValidate(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want []string
	}{
		{"provider ok", func() error {
			p := booking.Provider{Name: "  Dr. Dana Reyes ", Title: "Spine surgeon"}
			err := p.Validate()
			if p.Name != "Dr. Dana Reyes" {
				t.Errorf("Provider.Validate left Name %q untrimmed", p.Name)
			}
			return err
		}, nil},
		{"provider bad", func() error {
			p := booking.Provider{Name: " ", Title: strings.Repeat("t", 201)}
			return p.Validate()
		}, []string{"name", "title"}},
		{"location ok", func() error {
			l := booking.Location{Name: "Main office", Address: "1 Main St\nSuite 2", Timezone: "America/Los_Angeles"}
			return l.Validate()
		}, nil},
		{"location bad", func() error {
			l := booking.Location{Name: strings.Repeat("n", 201), Timezone: "Mars/Olympus"}
			return l.Validate()
		}, []string{"name", "timezone"}},
		{"location Local", func() error {
			l := booking.Location{Name: "Main", Timezone: "Local"}
			return l.Validate()
		}, []string{"timezone"}},
		{"type ok at the limits", func() error {
			c := booking.ConsultationType{Name: "Check", DurationMinutes: 5}
			if err := c.Validate(); err != nil {
				return err
			}
			c.DurationMinutes = 480
			return c.Validate()
		}, nil},
		{"type bad", func() error {
			c := booking.ConsultationType{Name: "", DurationMinutes: 481}
			return c.Validate()
		}, []string{"duration_minutes", "name"}},
		{"type too short", func() error {
			c := booking.ConsultationType{Name: "x", DurationMinutes: 4}
			return c.Validate()
		}, []string{"duration_minutes"}},
	}
	for _, tt := range tests {
		if got := fields(t, tt.err()); !slices.Equal(got, tt.want) {
			t.Errorf("%s: fields = %v, want %v", tt.name, got, tt.want)
		}
	}
}
