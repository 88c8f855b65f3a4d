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

// StaffSession's answers are kept a moment (staffSessionTTL): a change
// made through the same store is seen by the very next call, one made by
// another store on the database (another instance) within the bound.
func TestStaffSessionSeesChangesAtOnceHereAndWithinASecondElsewhere(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			here, there := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			now := time.Now()
			st := auth.Staff{ID: uuid.New(), Email: "kim@clinic.example", Name: "Kim", Role: auth.RoleReception, Active: true,
				PasswordHash: "x", PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
			if err := here.CreateStaff(ctx, st); err != nil {
				t.Fatal(err)
			}
			session := uuid.New()
			if err := here.SaveRefreshToken(ctx, auth.RefreshToken{ID: uuid.New(), StaffID: st.ID, FamilyID: session,
				TokenHash: "h1", ExpiresAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			check := func(s *store.Store, what string, wantActive, wantRevoked bool) {
				t.Helper()
				got, revoked, err := s.StaffSession(ctx, st.ID, session)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got.Active != wantActive || revoked != wantRevoked {
					t.Errorf("%s: got active=%v revoked=%v, want active=%v revoked=%v", what, got.Active, revoked, wantActive, wantRevoked)
				}
			}
			// Both stores keep the standing answer.
			check(here, "before", true, false)
			check(there, "before, other instance", true, false)

			// A revoked session and a deactivation through this store:
			// seen by its next call, while the other may still keep its
			// answer, but no longer than the bound.
			if err := here.RevokeRefreshFamily(ctx, session, time.Now()); err != nil {
				t.Fatal(err)
			}
			check(here, "after logout, same store", true, true)
			if _, err := here.UpdateStaff(ctx, st.ID, func(s *auth.Staff) error { s.Active = false; return nil }); err != nil {
				t.Fatal(err)
			}
			check(here, "after deactivation, same store", false, true)
			deadline := time.Now().Add(1500 * time.Millisecond) // the bound, and slack for a loaded machine
			for {
				got, revoked, err := there.StaffSession(ctx, st.ID, session)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Active && revoked {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the other instance still let the session in %s after the change", time.Since(deadline.Add(-1500*time.Millisecond)))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
