package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// staffSessionRow is a staff row with whether one of its sessions ended.
type staffSessionRow struct {
	Staff          staffRow `gorm:"embedded"`
	SessionRevoked int
}

// StaffSession returns the staff member with staffID and whether the
// session (refresh token family) sessionID has any revoked token: logging
// out and reuse detection revoke the whole family, so one is enough. It is
// one query, as every authenticated request makes it; uuid.Nil matches no
// family. An unknown staff id is booking.ErrNotFound.
func (s *Store) StaffSession(ctx context.Context, staffID, sessionID uuid.UUID) (auth.Staff, bool, error) {
	var row staffSessionRow
	err := s.db.WithContext(ctx).Table("staff").
		Select(`staff.*, CASE WHEN EXISTS (SELECT 1 FROM refresh_tokens r
			WHERE r.family_id = ? AND r.revoked_at IS NOT NULL) THEN 1 ELSE 0 END AS session_revoked`, sessionID.String()).
		Where("staff.id = ?", staffID.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.Staff{}, false, fmt.Errorf("staff session: %w", booking.ErrNotFound)
	}
	if err != nil {
		return auth.Staff{}, false, fmt.Errorf("staff session: %w", err)
	}
	st, err := row.Staff.toDomain()
	if err != nil {
		return auth.Staff{}, false, err
	}
	return st, row.SessionRevoked == 1, nil
}
