// Package auth holds staff accounts and their sessions: password hashing,
// JWT access tokens, rotating refresh tokens with reuse detection, login
// throttling, roles and the audit trail of security events. It knows nothing
// of HTTP or of the database; storage comes in through Repository.
package auth

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// Role is what a staff member may do.
type Role string

// Roles, from most to least privileged.
const (
	RoleAdmin     Role = "admin"
	RoleReception Role = "reception"
	RoleClinician Role = "clinician"
)

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleAdmin, RoleReception, RoleClinician:
		return r, true
	}
	return "", false
}

// Staff is a staff account.
type Staff struct {
	ID                uuid.UUID
	Email             string
	Name              string
	Role              Role
	Active            bool
	PasswordHash      string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// MaxPasswordLength is the longest password accepted, in characters (a
// passphrase in Greek or with emoji counts as many characters as it shows).
// Passwords longer than bcrypt's 72-byte input are pre-hashed (see
// bcryptInput), so no character is silently ignored.
const MaxPasswordLength = 72

// NormalizeEmail returns the canonical form used for uniqueness and lookup.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkPassword adds a problem for field when pw is not acceptable.
func checkPassword(p *booking.Problems, field, pw string) {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		p.AddLimit(field, booking.FieldTooShort, MinPasswordLength, fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case utf8.RuneCountInString(pw) > MaxPasswordLength:
		p.AddLimit(field, booking.FieldTooLong, MaxPasswordLength, fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	}
}

func checkEmail(p *booking.Problems, field, email string) {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		p.Add(field, booking.FieldFormat, "must be an email address such as name@clinic.example")
	}
}

func checkName(p *booking.Problems, field, name string) {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	if p.CheckLimit(n >= 1, field, booking.FieldTooShort, 1, "must be 1 to 200 characters") {
		p.CheckLimit(n <= 200, field, booking.FieldTooLong, 200, "must be 1 to 200 characters")
	}
}

// NewStaff is the input of CreateStaff.
type NewStaff struct {
	Email, Name, Role, Password string
}

// StaffPatch is the input of UpdateStaff; nil fields stay as they are.
type StaffPatch struct {
	Name   *string
	Role   *string
	Active *bool
}

// Principal is the authenticated staff member behind a request.
type Principal struct {
	StaffID uuid.UUID
	Role    Role
	// Session is the session (refresh token family) the access token was
	// issued in, so that logging out ends the token with it; uuid.Nil for
	// a token from before tokens named their session.
	Session uuid.UUID
	// ExpiresAt is when the access token expires: a connection that
	// outlives the request (the live feed) ends then.
	ExpiresAt time.Time
	// passwordStamp is the password change the token was issued after.
	passwordStamp int64
}

// AuditType names a security event.
type AuditType string

// Audit event types.
const (
	AuditLoginSucceeded     AuditType = "login_succeeded"
	AuditLoginFailed        AuditType = "login_failed"
	AuditLoginThrottled     AuditType = "login_throttled"
	AuditRefreshTokenReused AuditType = "refresh_token_reused"
	AuditStaffCreated       AuditType = "staff_created"
	AuditStaffUpdated       AuditType = "staff_updated"
	AuditRoleChanged        AuditType = "role_changed"
	AuditStaffDeactivated   AuditType = "staff_deactivated"
	AuditStaffReactivated   AuditType = "staff_reactivated"
	AuditPasswordChanged    AuditType = "password_changed"
	AuditLogout             AuditType = "logout"
	AuditPatientMerged      AuditType = "patient_merged" // reception merged two patient records
)

// AuditEvent is one recorded security event. It never holds a password or
// token.
type AuditEvent struct {
	ID             uuid.UUID
	Type           AuditType
	ActorStaffID   *uuid.UUID
	SubjectStaffID *uuid.UUID
	Email          string
	ClientIP       string
	Detail         string
	At             time.Time
}

// RefreshToken is a stored refresh token; only its hash is kept.
type RefreshToken struct {
	ID        uuid.UUID
	StaffID   uuid.UUID
	FamilyID  uuid.UUID
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}
