package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/demo"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

func TestSeedIsIdempotentAndUsable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, err := auth.NewService(st, auth.Options{JWTSecret: make([]byte, 32), PasswordCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		first, err := demo.Seed(ctx, st, a, now)
		if err != nil {
			t.Fatal(err)
		}
		if !first.CatalogCreated || first.SlotsCreated < 50 || first.Bookings < 4 {
			t.Errorf("first seed: got %+v, want a catalogue, 50+ slots and 4+ bookings", first)
		}
		second, err := demo.Seed(ctx, st, a, now)
		if err != nil {
			t.Fatal(err)
		}
		if second.CatalogCreated || second.SlotsCreated != 0 || second.Bookings != 0 {
			t.Errorf("second seed: got %+v, want nothing new", second)
		}
		if n, _ := st.CountStaff(ctx); n != 2 {
			t.Errorf("staff: got %d, want 2", n)
		}
		// Only the newest passwords work.
		if _, err := a.Login(ctx, demo.AdminEmail, first.AdminPassword, "127.0.0.1"); err == nil {
			t.Error("the first run's admin password still works")
		}
		for _, c := range [][2]string{{second.AdminEmail, second.AdminPassword}, {second.ReceptionEmail, second.ReceptionPassword}} {
			if _, err := a.Login(ctx, c[0], c[1], "127.0.0.1"); err != nil {
				t.Errorf("login %s: %v", c[0], err)
			}
		}
		providers, err := st.ListProviders(ctx, false)
		if err != nil || len(providers) != 3 {
			t.Errorf("providers: got %d (%v), want 3", len(providers), err)
		}
		// The widget speaks Spanish: so does the demo's catalogue.
		types, err := st.ListConsultationTypes(ctx, false)
		if err != nil || len(types) == 0 {
			t.Fatalf("consultation types: got %d (%v), want some", len(types), err)
		}
		for _, ct := range types {
			if es := ct.Localized("es"); es.Name == ct.Name || es.Description == ct.Description {
				t.Errorf("consultation type %q in Spanish: %q, %q; want a translated name and description", ct.Name, es.Name, es.Description)
			}
		}
		locations, err := st.ListLocations(ctx, false)
		if err != nil || len(locations) == 0 {
			t.Fatalf("locations: got %d (%v), want some", len(locations), err)
		}
		for _, l := range locations {
			if es := l.Localized("es"); es.Name == l.Name {
				t.Errorf("location %q in Spanish: %q, want a translated name", l.Name, es.Name)
			}
		}
	})
}
