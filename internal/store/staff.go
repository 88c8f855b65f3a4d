package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

var _ auth.Repository = (*Store)(nil)

type staffRow struct {
	ID                string `gorm:"primaryKey"`
	Email             string
	EmailLower        string
	Name              string
	Role              string
	Active            bool
	PasswordHash      string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (staffRow) TableName() string { return "staff" }

func staffToRow(s auth.Staff) staffRow {
	return staffRow{
		ID: s.ID.String(), Email: s.Email, EmailLower: auth.NormalizeEmail(s.Email), Name: s.Name,
		Role: string(s.Role), Active: s.Active, PasswordHash: s.PasswordHash,
		PasswordChangedAt: utc(s.PasswordChangedAt), CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
	}
}

func (r staffRow) toDomain() (auth.Staff, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return auth.Staff{}, fmt.Errorf("staff row %q: %w", r.ID, err)
	}
	return auth.Staff{
		ID: id, Email: r.Email, Name: r.Name, Role: auth.Role(r.Role), Active: r.Active,
		PasswordHash: r.PasswordHash, PasswordChangedAt: r.PasswordChangedAt.UTC(),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// CreateStaff inserts s; booking.ErrDuplicate when its email is taken.
func (s *Store) CreateStaff(ctx context.Context, st auth.Staff) error {
	defer s.sessions.changed()
	row := staffToRow(st)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create staff: %w", booking.ErrDuplicate)
		}
		return fmt.Errorf("create staff: %w", err)
	}
	return nil
}

// StaffByID returns one staff member; booking.ErrNotFound when unknown.
func (s *Store) StaffByID(ctx context.Context, id uuid.UUID) (auth.Staff, error) {
	return s.staffWhere(s.db.WithContext(ctx), "id = ?", id.String())
}

// StaffByEmail finds a staff member by normalized email; booking.ErrNotFound
// when unknown.
func (s *Store) StaffByEmail(ctx context.Context, normalizedEmail string) (auth.Staff, error) {
	return s.staffWhere(s.db.WithContext(ctx), "email_lower = ?", normalizedEmail)
}

func (s *Store) staffWhere(db *gorm.DB, query string, args ...any) (auth.Staff, error) {
	var row staffRow
	if err := db.Where(query, args...).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return auth.Staff{}, fmt.Errorf("staff: %w", booking.ErrNotFound)
		}
		return auth.Staff{}, fmt.Errorf("staff: %w", err)
	}
	return row.toDomain()
}

// UpdateStaff applies fn to the staff member in one transaction.
func (s *Store) UpdateStaff(ctx context.Context, id uuid.UUID, fn func(*auth.Staff) error) (auth.Staff, error) {
	defer s.sessions.changed() // after the commit, before the caller sees it
	var out auth.Staff
	err := s.tx(ctx, func(tx *gorm.DB) error {
		st, err := s.staffWhere(tx.Clauses(clause.Locking{Strength: "UPDATE"}), "id = ?", id.String())
		if err != nil {
			return err
		}
		if err := fn(&st); err != nil {
			return err
		}
		row := staffToRow(st)
		if err := tx.Save(&row).Error; err != nil {
			return fmt.Errorf("save staff: %w", err)
		}
		out = st
		return nil
	})
	if err != nil {
		return auth.Staff{}, fmt.Errorf("update staff: %w", err)
	}
	return out, nil
}

// ListStaff pages through staff by creation time.
func (s *Store) ListStaff(ctx context.Context, cur string, limit int) ([]auth.Staff, string, error) {
	rows, next, err := pageByTime(s.db.WithContext(ctx), listStaff, cur, limit, "created_at", false,
		func(r staffRow) (time.Time, string) { return r.CreatedAt, r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list staff: %w", err)
	}
	out, err := mapRows(rows, staffRow.toDomain)
	return out, next, err
}

// CountStaff counts staff accounts.
func (s *Store) CountStaff(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&staffRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	return n, nil
}

type refreshTokenRow struct {
	ID        string `gorm:"primaryKey"`
	StaffID   string
	FamilyID  string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func (r refreshTokenRow) toDomain() (auth.RefreshToken, error) {
	var ids [3]uuid.UUID
	for i, s := range []string{r.ID, r.StaffID, r.FamilyID} {
		id, err := uuid.Parse(s)
		if err != nil {
			return auth.RefreshToken{}, fmt.Errorf("refresh token row: %w", err)
		}
		ids[i] = id
	}
	return auth.RefreshToken{
		ID: ids[0], StaffID: ids[1], FamilyID: ids[2], TokenHash: r.TokenHash,
		ExpiresAt: r.ExpiresAt.UTC(), UsedAt: r.UsedAt, RevokedAt: r.RevokedAt, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// SaveRefreshToken stores a new refresh token (its hash only).
func (s *Store) SaveRefreshToken(ctx context.Context, t auth.RefreshToken) error {
	row := refreshTokenRow{
		ID: t.ID.String(), StaffID: t.StaffID.String(), FamilyID: t.FamilyID.String(), TokenHash: t.TokenHash,
		ExpiresAt: utc(t.ExpiresAt), CreatedAt: utc(t.CreatedAt),
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// UseRefreshToken spends the token atomically: of two concurrent uses only
// one sees firstUse true, because the conditional update is what decides.
// A token whose family has any revoked member is returned as revoked: a
// family revoked for reuse stays revoked even for a token that a racing
// refresh saved after the revocation.
func (s *Store) UseRefreshToken(ctx context.Context, tokenHash string, now time.Time) (auth.RefreshToken, bool, error) {
	defer s.sessions.changed()
	var row refreshTokenRow
	var first bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("token_hash = ?", tokenHash).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return booking.ErrNotFound
			}
			return err
		}
		res := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", row.ID).Update("used_at", utc(now))
		if res.Error != nil {
			return res.Error
		}
		first = res.RowsAffected == 1
		if row.RevokedAt == nil {
			var revoked refreshTokenRow
			err := tx.Where("family_id = ? AND revoked_at IS NOT NULL", row.FamilyID).Limit(1).Find(&revoked).Error
			if err != nil {
				return err
			}
			row.RevokedAt = revoked.RevokedAt
		}
		return nil
	})
	if err != nil {
		return auth.RefreshToken{}, false, fmt.Errorf("use refresh token: %w", err)
	}
	t, err := row.toDomain()
	return t, first, err
}

// RevokeRefreshFamily revokes every token of one session family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID, now time.Time) error {
	return s.revokeTokens(ctx, "family_id = ?", familyID.String(), now)
}

// RevokeStaffRefreshTokens revokes every token of one staff member.
func (s *Store) RevokeStaffRefreshTokens(ctx context.Context, staffID uuid.UUID, now time.Time) error {
	return s.revokeTokens(ctx, "staff_id = ?", staffID.String(), now)
}

func (s *Store) revokeTokens(ctx context.Context, where, id string, now time.Time) error {
	defer s.sessions.changed() // after the update, before the caller sees it
	err := s.db.WithContext(ctx).Model(&refreshTokenRow{}).
		Where(where+" AND revoked_at IS NULL", id).Update("revoked_at", utc(now)).Error
	if err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

type auditRow struct {
	ID             string `gorm:"primaryKey"`
	Type           string
	ActorStaffID   *string
	SubjectStaffID *string
	Email          *string
	ClientIP       string
	Detail         string
	At             time.Time
}

func (auditRow) TableName() string { return "audit_events" }

// RecordAudit appends a security event.
func (s *Store) RecordAudit(ctx context.Context, e auth.AuditEvent) error {
	row := auditRow{
		ID: e.ID.String(), Type: string(e.Type), ActorStaffID: uuidPtrString(e.ActorStaffID),
		SubjectStaffID: uuidPtrString(e.SubjectStaffID), ClientIP: e.ClientIP, Detail: e.Detail, At: utc(e.At),
	}
	if e.Email != "" {
		row.Email = &e.Email
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	return nil
}

// ListAudit pages through audit events, newest first.
func (s *Store) ListAudit(ctx context.Context, cur string, limit int) ([]auth.AuditEvent, string, error) {
	rows, next, err := pageByTime(s.db.WithContext(ctx), listAudit, cur, limit, "at", true,
		func(r auditRow) (time.Time, string) { return r.At, r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	out := make([]auth.AuditEvent, 0, len(rows))
	for _, r := range rows {
		e := auth.AuditEvent{Type: auth.AuditType(r.Type), ClientIP: r.ClientIP, Detail: r.Detail, At: r.At.UTC()}
		e.ID, _ = uuid.Parse(r.ID)
		e.ActorStaffID = parseUUIDPtr(r.ActorStaffID)
		e.SubjectStaffID = parseUUIDPtr(r.SubjectStaffID)
		if r.Email != nil {
			e.Email = *r.Email
		}
		out = append(out, e)
	}
	return out, next, nil
}

func uuidPtrString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func parseUUIDPtr(s *string) *uuid.UUID {
	if s == nil {
		return nil
	}
	id, err := uuid.Parse(*s)
	if err != nil {
		return nil
	}
	return &id
}
