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

// StaffSession is what every authenticated request reads: the account, and
// whether the token's session has ended. A session ends when any token of
// its family is revoked (logout, reuse detection); other sessions of the
// same account stand.
func TestStaffSessionSaysWhetherTheSessionEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		st := auth.Staff{ID: uuid.New(), Email: "sam@clinic.example", Name: "Sam", Role: auth.RoleReception, Active: true,
			PasswordHash: "x", PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
		ended, standing := uuid.New(), uuid.New()
		for i, fam := range []uuid.UUID{ended, ended, standing} {
			tok := auth.RefreshToken{ID: uuid.New(), StaffID: st.ID, FamilyID: fam, TokenHash: fam.String() + string(rune('a'+i)),
				ExpiresAt: now.Add(time.Hour), CreatedAt: now}
			if err := s.SaveRefreshToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RevokeRefreshFamily(ctx, ended, now); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name        string
			session     uuid.UUID
			wantRevoked bool
		}{
			{"logged out", ended, true},
			{"other session", standing, false},
			{"unknown session", uuid.New(), false},
			{"no session", uuid.Nil, false},
		} {
			got, revoked, err := s.StaffSession(ctx, st.ID, tc.session)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if revoked != tc.wantRevoked || got.ID != st.ID || got.Role != st.Role || !got.Active {
				t.Errorf("%s: got %v %s active=%v revoked=%v, want %v %s active=true revoked=%v",
					tc.name, got.ID, got.Role, got.Active, revoked, st.ID, st.Role, tc.wantRevoked)
			}
		}
		if _, _, err := s.StaffSession(ctx, uuid.New(), standing); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown staff: got %v, want ErrNotFound", err)
		}
	})
}
