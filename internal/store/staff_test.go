package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

func TestStaffEmailIsUniqueCaseInsensitively(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		a := auth.Staff{ID: uuid.New(), Email: "Ana@Clinic.example", Name: "Ana", Role: auth.RoleAdmin, Active: true,
			PasswordHash: "x", PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateStaff(ctx, a); err != nil {
			t.Fatalf("create: %v", err)
		}
		b := a
		b.ID = uuid.New()
		b.Email = "ana@clinic.EXAMPLE"
		if err := s.CreateStaff(ctx, b); !errors.Is(err, booking.ErrDuplicate) {
			t.Fatalf("second create: got %v, want ErrDuplicate", err)
		}
		got, err := s.StaffByEmail(ctx, "ana@clinic.example")
		if err != nil {
			t.Fatalf("by email: %v", err)
		}
		if got.ID != a.ID || got.Email != a.Email {
			t.Errorf("got %v %q, want %v %q", got.ID, got.Email, a.ID, a.Email)
		}
		if !got.PasswordChangedAt.Equal(now.UTC().Truncate(time.Microsecond)) {
			t.Errorf("password_changed_at: got %v, want %v", got.PasswordChangedAt, now)
		}
	})
}

func TestRefreshTokenIsSpentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		st := auth.Staff{ID: uuid.New(), Email: "r@clinic.example", Name: "R", Role: auth.RoleReception, Active: true,
			PasswordHash: "x", PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
		tok := auth.RefreshToken{ID: uuid.New(), StaffID: st.ID, FamilyID: uuid.New(), TokenHash: "h1",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		if err := s.SaveRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		const n = 10
		firsts := make(chan bool, n)
		for range n {
			go func() {
				_, first, err := s.UseRefreshToken(ctx, "h1", now)
				if err != nil {
					t.Errorf("use: %v", err)
				}
				firsts <- first
			}()
		}
		wins := 0
		for range n {
			if <-firsts {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("first uses: got %d, want 1", wins)
		}
		if _, _, err := s.UseRefreshToken(ctx, "nope", now); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown token: got %v, want ErrNotFound", err)
		}
	})
}
