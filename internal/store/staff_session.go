package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
// Every staff request pays for it, so it is one fixed statement on the
// pool itself (prepared once per connection: SQLite's statement cache,
// pgx's), scanned without GORM's statement building and reflection.
func (s *Store) StaffSession(ctx context.Context, staffID, sessionID uuid.UUID) (auth.Staff, bool, error) {
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
