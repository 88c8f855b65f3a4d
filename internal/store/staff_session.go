package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// staffSessionSQL reads a staff row and whether the session given ended
// (1) or not (0), with ? placeholders (Store.staffSessionSQL holds it for
// the store's database).
const staffSessionSQL = `SELECT s.id, s.email, s.email_lower, s.name, s.role, s.active, s.password_hash,
	s.password_changed_at, s.created_at, s.updated_at,
	CASE WHEN EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = ? AND r.revoked_at IS NOT NULL) THEN 1 ELSE 0 END
FROM staff s WHERE s.id = ?`

// StaffSession returns the staff member with staffID and whether the
// session (refresh token family) sessionID has any revoked token: logging
// out and reuse detection revoke the whole family, so one is enough. It is
// one query, as every authenticated request makes it; uuid.Nil matches no
// family. An unknown staff id is booking.ErrNotFound.
//
// Every staff request asks it, so answers are kept for staffSessionTTL
// (see staffSessions): a change made through this store (an account
// updated or deactivated, a password changed, a session revoked) is seen
// by the next call; one made by another process (another instance, a
// script) within staffSessionTTL.
func (s *Store) StaffSession(ctx context.Context, staffID, sessionID uuid.UUID) (auth.Staff, bool, error) {
	key := [2]uuid.UUID{staffID, sessionID}
	if e, ok := s.sessions.get(key); ok {
		return e.st, e.revoked, nil
	}
	gen := s.sessions.generation()
	st, revoked, err := s.readStaffSession(ctx, staffID, sessionID)
	if err != nil {
		return auth.Staff{}, false, err
	}
	s.sessions.put(key, gen, st, revoked)
	return st, revoked, nil
}

// readStaffSession is StaffSession's read: one fixed statement on the pool
// itself (prepared once per connection: SQLite's statement cache, pgx's),
// scanned without GORM's statement building and reflection.
func (s *Store) readStaffSession(ctx context.Context, staffID, sessionID uuid.UUID) (auth.Staff, bool, error) {
	var (
		row     staffRow
		revoked int
	)
	err := s.sqlDB.QueryRowContext(ctx, s.staffSessionSQL, sessionID.String(), staffID.String()).Scan(
		&row.ID, &row.Email, &row.EmailLower, &row.Name, &row.Role, &row.Active, &row.PasswordHash,
		&row.PasswordChangedAt, &row.CreatedAt, &row.UpdatedAt, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Staff{}, false, fmt.Errorf("staff session: %w", booking.ErrNotFound)
	}
	if err != nil {
		return auth.Staff{}, false, fmt.Errorf("staff session: %w", err)
	}
	st, err := row.toDomain()
	if err != nil {
		return auth.Staff{}, false, err
	}
	return st, revoked == 1, nil
}

// staffSessionTTL is how long a StaffSession answer is kept: the bound on
// how late this process sees a deactivation, a password change or a
// revoked session that another process wrote. Its own writes take effect
// at once.
const staffSessionTTL = time.Second

// staffSessionMax bounds the answers kept (one per staff member and
// session in the last staffSessionTTL); past it they are all dropped.
const staffSessionMax = 4096

// staffSessions keeps StaffSession's answers for staffSessionTTL. Every
// write of this store to staff or refresh_tokens moves the generation
// (changed) once it has committed, before it returns; an answer is only
// served while the generation is the one read before its query ran, so an
// answer read before a write, even one stored after it, is never served
// after it. The age is measured on the monotonic clock, not the store's
// (tests pin that one).
type staffSessions struct {
	mu      sync.Mutex
	gen     uint64
	entries map[[2]uuid.UUID]staffSessionEntry
}

type staffSessionEntry struct {
	st      auth.Staff
	revoked bool
	gen     uint64
	at      time.Time
}

func (c *staffSessions) get(key [2]uuid.UUID) (staffSessionEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.gen != c.gen || time.Since(e.at) >= staffSessionTTL {
		return staffSessionEntry{}, false
	}
	return e, true
}

func (c *staffSessions) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps an answer read under generation gen, unless a write has moved
// the generation since.
func (c *staffSessions) put(key [2]uuid.UUID, gen uint64, st auth.Staff, revoked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= staffSessionMax {
		c.entries = map[[2]uuid.UUID]staffSessionEntry{}
	}
	c.entries[key] = staffSessionEntry{st: st, revoked: revoked, gen: gen, at: time.Now()}
}

// changed drops every answer: a write to staff or refresh_tokens has
// committed (or failed: dropping is always safe).
func (c *staffSessions) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
