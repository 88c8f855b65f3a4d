package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/limit"
)

// Repository is the storage the auth service needs. Implementations return
// errors matching booking.ErrNotFound for unknown ids and emails and
// booking.ErrDuplicate when an email is taken.
type Repository interface {
	CreateStaff(ctx context.Context, s Staff) error
	StaffByID(ctx context.Context, id uuid.UUID) (Staff, error)
	StaffByEmail(ctx context.Context, normalizedEmail string) (Staff, error)
	// UpdateStaff loads the staff member, applies fn and saves the result in
	// one transaction; an error from fn aborts it.
	UpdateStaff(ctx context.Context, id uuid.UUID, fn func(*Staff) error) (Staff, error)
	ListStaff(ctx context.Context, cursor string, limit int) ([]Staff, string, error)
	CountStaff(ctx context.Context) (int64, error)

	SaveRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken marks the token with tokenHash used at now, atomically,
	// and returns it with firstUse false when it had been used already.
	UseRefreshToken(ctx context.Context, tokenHash string, now time.Time) (t RefreshToken, firstUse bool, err error)
	RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID, now time.Time) error
	RevokeStaffRefreshTokens(ctx context.Context, staffID uuid.UUID, now time.Time) error
	// StaffSession returns the staff member with staffID and whether their
	// session (refresh token family) sessionID has been revoked, in one
	// read; with uuid.Nil no session is revoked.
	StaffSession(ctx context.Context, staffID, sessionID uuid.UUID) (st Staff, revoked bool, err error)

	RecordAudit(ctx context.Context, e AuditEvent) error
	ListAudit(ctx context.Context, cursor string, limit int) ([]AuditEvent, string, error)
}

// Options configure a Service.
type Options struct {
	JWTSecret       []byte
	Issuer          string
	Audience        string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// LoginRateLimit is the failed logins a minute allowed for one account
	// from one address; 0 turns it off.
	LoginRateLimit int
	// LoginAddressRateLimit is the failed logins a minute allowed from one
	// address, whatever the accounts; 0 turns it off.
	LoginAddressRateLimit int
	// LoginAccountRateLimit is the failed logins a minute allowed for one
	// account from all addresses together; meant to be higher than
	// LoginRateLimit, so that one stranger cannot lock an account while
	// guessing from many addresses is still stopped; 0 turns it off.
	LoginAccountRateLimit int
	// Counter holds the throttles' counts; nil means a new in-memory one
	// (one process). Several instances need a shared one.
	Counter limit.Counter
	// PasswordCost is the bcrypt cost; 0 means 12. Only tests set it lower,
	// to keep hashing fast.
	PasswordCost int
	Now          func() time.Time
	Log          *slog.Logger
}

// Service authenticates staff and manages their accounts.
type Service struct {
	repo       Repository
	tokens     tokenIssuer
	refreshTTL time.Duration
	cost       int
	now        func() time.Time
	log        *slog.Logger
	counter    limit.Counter
	limits     loginLimits
	dummyHash  []byte
}

// NewService returns a Service. The JWT secret must be at least 32 bytes.
func NewService(repo Repository, o Options) (*Service, error) {
	if len(o.JWTSecret) < 32 {
		return nil, errors.New("auth: JWT secret must be at least 32 bytes")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PasswordCost == 0 {
		o.PasswordCost = 12
	}
	if o.Counter == nil {
		o.Counter = limit.NewMemory()
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = 15 * time.Minute
	}
	if o.RefreshTokenTTL <= 0 {
		o.RefreshTokenTTL = 7 * 24 * time.Hour
	}
	// Unknown emails are checked against this hash so that they take as long
	// as a wrong password for a real account.
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a real password, only for timing"), o.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Service{
		repo:       repo,
		tokens:     tokenIssuer{key: o.JWTSecret, issuer: o.Issuer, audience: o.Audience, ttl: o.AccessTokenTTL},
		refreshTTL: o.RefreshTokenTTL,
		cost:       o.PasswordCost,
		now:        o.Now,
		log:        o.Log,
		counter:    o.Counter,
		limits:     loginLimits{pair: o.LoginRateLimit, address: o.LoginAddressRateLimit, account: o.LoginAccountRateLimit},
		dummyHash:  dummy,
	}, nil
}

// Session is what a successful login or refresh returns.
type Session struct {
	AccessToken  string
	ExpiresIn    time.Duration
	RefreshToken string
	// RefreshExpiresIn is how long RefreshToken lasts unused, for a cookie
	// that should not outlive it.
	RefreshExpiresIn time.Duration
	Staff            Staff
}

// Login checks email and password and starts a session. It returns
// ErrRateLimited (with RetryAfter) while the account or the client address is
// locked, even for the right password, and ErrInvalidCredentials for an
// unknown email, a wrong password or an inactive account alike.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (Session, error) {
	now := s.now()
	norm := NormalizeEmail(email)
	rules := s.limits.rules(norm, clientIP)
	ok, wait, err := limit.Take(ctx, s.counter, now, rules...)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if !ok {
		s.audit(ctx, AuditEvent{Type: AuditLoginThrottled, Email: norm, ClientIP: clientIP})
		return Session{}, &Error{Code: CodeRateLimited, Message: ErrRateLimited.Message, RetryAfter: wait}
	}
	st, err := s.repo.StaffByEmail(ctx, norm)
	found := err == nil
	if err != nil && !errors.Is(err, booking.ErrNotFound) {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	hash := s.dummyHash
	if found {
		hash = []byte(st.PasswordHash)
	}
	ok = bcrypt.CompareHashAndPassword(hash, bcryptInput(password)) == nil && found && st.Active
	if !ok {
		ev := AuditEvent{Type: AuditLoginFailed, Email: norm, ClientIP: clientIP}
		if found {
			ev.SubjectStaffID = &st.ID
		}
		s.audit(ctx, ev)
		return Session{}, ErrInvalidCredentials
	}
	// A success was not a failure: it is given back to the address and the
	// account, and clears this account's failures from this address.
	if err := s.limits.succeeded(ctx, s.counter, now, rules); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	sess, err := s.startSession(ctx, st, uuid.New(), now)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	s.audit(ctx, AuditEvent{Type: AuditLoginSucceeded, ActorStaffID: &st.ID, SubjectStaffID: &st.ID, Email: norm, ClientIP: clientIP})
	return sess, nil
}

func (s *Service) startSession(ctx context.Context, st Staff, family uuid.UUID, now time.Time) (Session, error) {
	access, err := s.tokens.issue(st, family, now)
	if err != nil {
		return Session{}, err
	}
	raw, err := randomToken()
	if err != nil {
		return Session{}, err
	}
	rt := RefreshToken{
		ID: uuid.New(), StaffID: st.ID, FamilyID: family, TokenHash: hashToken(raw),
		ExpiresAt: now.Add(s.refreshTTL), CreatedAt: now,
	}
	if err := s.repo.SaveRefreshToken(ctx, rt); err != nil {
		return Session{}, fmt.Errorf("save refresh token: %w", err)
	}
	return Session{AccessToken: access, ExpiresIn: s.tokens.ttl, RefreshToken: raw, RefreshExpiresIn: s.refreshTTL, Staff: st}, nil
}

// Refresh exchanges a refresh token for a new session; the token is spent.
// Presenting a token that was already spent revokes its whole family (it
// has leaked) and returns ErrUnauthenticated, as do unknown, expired and
// revoked tokens and inactive accounts.
func (s *Service) Refresh(ctx context.Context, refreshToken, clientIP string) (Session, error) {
	now := s.now()
	rt, firstUse, err := s.repo.UseRefreshToken(ctx, hashToken(refreshToken), now)
	if errors.Is(err, booking.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if !firstUse {
		if err := s.repo.RevokeRefreshFamily(ctx, rt.FamilyID, now); err != nil {
			return Session{}, fmt.Errorf("refresh: revoke family: %w", err)
		}
		s.audit(ctx, AuditEvent{Type: AuditRefreshTokenReused, SubjectStaffID: &rt.StaffID, ClientIP: clientIP,
			Detail: "a spent refresh token was presented; its session family was revoked"})
		return Session{}, ErrUnauthenticated
	}
	if rt.RevokedAt != nil || !now.Before(rt.ExpiresAt) {
		return Session{}, ErrUnauthenticated
	}
	st, err := s.repo.StaffByID(ctx, rt.StaffID)
	if err != nil || !st.Active {
		return Session{}, ErrUnauthenticated
	}
	sess, err := s.startSession(ctx, st, rt.FamilyID, now)
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	return sess, nil
}

// Logout ends the session that refreshToken belongs to: its whole family
// is revoked, so neither it nor any token rotated from it works again. An
// unknown token is not an error: the session is over either way.
func (s *Service) Logout(ctx context.Context, refreshToken, clientIP string) error {
	now := s.now()
	rt, _, err := s.repo.UseRefreshToken(ctx, hashToken(refreshToken), now)
	if errors.Is(err, booking.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.repo.RevokeRefreshFamily(ctx, rt.FamilyID, now); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.audit(ctx, AuditEvent{Type: AuditLogout, ActorStaffID: &rt.StaffID, SubjectStaffID: &rt.StaffID, ClientIP: clientIP})
	return nil
}

// Authenticate checks a bearer access token and returns who holds it. It
// returns ErrTokenExpired for an expired token, and ErrUnauthenticated for a
// bad or forged token, for an account that is gone or inactive, for a token
// issued before the account's last password change, and for one whose
// session has ended (logged out, or revoked for a reused refresh token).
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	p, err := s.tokens.verify(bearer, s.now())
	if err != nil {
		return Principal{}, err
	}
	return s.standing(ctx, p)
}

// Recheck tells whether p, a principal Authenticate returned, still holds:
// for a connection that outlives its request. It returns p with its current
// role, or ErrTokenExpired once the token's expiry has passed (to the
// second, without the leeway Authenticate gives clock skew) and
// ErrUnauthenticated once the account is inactive or gone, its password
// has changed or the token's session has ended.
func (s *Service) Recheck(ctx context.Context, p Principal) (Principal, error) {
	if !s.now().Before(p.ExpiresAt) {
		return Principal{}, ErrTokenExpired
	}
	return s.standing(ctx, p)
}

// standing reads p's account and session and returns p with its role, or
// ErrUnauthenticated when they no longer let p in.
func (s *Service) standing(ctx context.Context, p Principal) (Principal, error) {
	st, revoked, err := s.repo.StaffSession(ctx, p.StaffID, p.Session)
	if errors.Is(err, booking.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !st.Active || st.PasswordChangedAt.UnixMicro() != p.passwordStamp || revoked {
		return Principal{}, ErrUnauthenticated
	}
	p.Role = st.Role
	return p, nil
}

// Me returns the staff member behind p.
func (s *Service) Me(ctx context.Context, p Principal) (Staff, error) {
	return s.repo.StaffByID(ctx, p.StaffID)
}

// ChangePassword sets a new password after checking the current one
// (ErrInvalidCredentials when wrong) and ends every session of the account,
// this one included. A too short new password is a *booking.ValidationError.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	var probs booking.Problems
	checkPassword(&probs, "new_password", next)
	if err := probs.Err(); err != nil {
		return err
	}
	st, err := s.repo.StaffByID(ctx, p.StaffID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(st.PasswordHash), bcryptInput(current)) != nil {
		return ErrInvalidCredentials
	}
	return s.setPassword(ctx, p.StaffID, next, &p.StaffID, "")
}

// SetPassword sets a staff member's password without the current one, as
// an operator's reset does, and ends all their sessions. A too short
// password is a *booking.ValidationError naming "password"; an unknown id
// is booking.ErrNotFound.
func (s *Service) SetPassword(ctx context.Context, id uuid.UUID, password string) error {
	var probs booking.Problems
	checkPassword(&probs, "password", password)
	if err := probs.Err(); err != nil {
		return err
	}
	return s.setPassword(ctx, id, password, nil, "password reset")
}

// setPassword stores a new hash and revokes every refresh token; the new
// password stamp invalidates every access token issued before.
func (s *Service) setPassword(ctx context.Context, id uuid.UUID, password string, actor *uuid.UUID, detail string) error {
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := s.repo.UpdateStaff(ctx, id, func(st *Staff) error {
		st.PasswordHash = hash
		st.PasswordChangedAt = now
		st.UpdatedAt = now
		return nil
	}); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.repo.RevokeStaffRefreshTokens(ctx, id, now); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	s.audit(ctx, AuditEvent{Type: AuditPasswordChanged, ActorStaffID: actor, SubjectStaffID: &id, Detail: detail})
	return nil
}

// CreateStaff adds a staff account. It returns a *booking.ValidationError
// naming every bad field, or booking.ErrDuplicate when the email is taken
// (compared case-insensitively).
func (s *Service) CreateStaff(ctx context.Context, actor *Principal, in NewStaff, clientIP string) (Staff, error) {
	var probs booking.Problems
	email := strings.TrimSpace(in.Email)
	checkEmail(&probs, "email", email)
	checkName(&probs, "name", in.Name)
	role, ok := ParseRole(in.Role)
	if !ok {
		probs.AddEnum("role", []string{string(RoleAdmin), string(RoleReception), string(RoleClinician)}, "must be admin, reception or clinician")
	}
	checkPassword(&probs, "password", in.Password)
	if err := probs.Err(); err != nil {
		return Staff{}, err
	}
	hash, err := s.hash(in.Password)
	if err != nil {
		return Staff{}, err
	}
	now := s.now()
	st := Staff{
		ID: uuid.New(), Email: email, Name: strings.TrimSpace(in.Name), Role: role, Active: true,
		PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.repo.CreateStaff(ctx, st); err != nil {
		if errors.Is(err, booking.ErrDuplicate) {
			return Staff{}, booking.Errorf(booking.CodeDuplicate, "a staff account with this email already exists")
		}
		return Staff{}, fmt.Errorf("create staff: %w", err)
	}
	ev := AuditEvent{Type: AuditStaffCreated, SubjectStaffID: &st.ID, Email: NormalizeEmail(email), ClientIP: clientIP,
		Detail: "role " + string(role)}
	if actor != nil {
		ev.ActorStaffID = &actor.StaffID
	}
	s.audit(ctx, ev)
	return st, nil
}

// UpdateStaff changes a staff member's name, role or active flag.
// Deactivating ends the member's sessions. An admin cannot deactivate or
// demote themself, so the clinic is never left without an admin by mistake
// (booking.ErrConflict). Unknown ids give booking.ErrNotFound.
func (s *Service) UpdateStaff(ctx context.Context, actor Principal, id uuid.UUID, in StaffPatch, clientIP string) (Staff, error) {
	var probs booking.Problems
	var role Role
	if in.Name != nil {
		checkName(&probs, "name", *in.Name)
	}
	if in.Role != nil {
		var ok bool
		role, ok = ParseRole(*in.Role)
		if !ok {
			probs.AddEnum("role", []string{string(RoleAdmin), string(RoleReception), string(RoleClinician)}, "must be admin, reception or clinician")
		}
	}
	if err := probs.Err(); err != nil {
		return Staff{}, err
	}
	if id == actor.StaffID && ((in.Active != nil && !*in.Active) || (in.Role != nil && role != RoleAdmin)) {
		return Staff{}, booking.Errorf(booking.CodeConflict, "you cannot deactivate or demote your own account")
	}
	var before Staff
	now := s.now()
	after, err := s.repo.UpdateStaff(ctx, id, func(st *Staff) error {
		before = *st
		if in.Name != nil {
			st.Name = strings.TrimSpace(*in.Name)
		}
		if in.Role != nil {
			st.Role = role
		}
		if in.Active != nil {
			st.Active = *in.Active
		}
		st.UpdatedAt = now
		return nil
	})
	if err != nil {
		return Staff{}, fmt.Errorf("update staff: %w", err)
	}
	ev := func(t AuditType, detail string) {
		s.audit(ctx, AuditEvent{Type: t, ActorStaffID: &actor.StaffID, SubjectStaffID: &id, ClientIP: clientIP, Detail: detail})
	}
	if before.Role != after.Role {
		ev(AuditRoleChanged, fmt.Sprintf("role %s -> %s", before.Role, after.Role))
	}
	if before.Active && !after.Active {
		if err := s.repo.RevokeStaffRefreshTokens(ctx, id, now); err != nil {
			return Staff{}, fmt.Errorf("update staff: %w", err)
		}
		ev(AuditStaffDeactivated, "")
	}
	if !before.Active && after.Active {
		ev(AuditStaffReactivated, "")
	}
	if before.Name != after.Name {
		ev(AuditStaffUpdated, "name changed")
	}
	return after, nil
}

// Bootstrap creates the first admin when there is no staff at all; on any
// later start it does nothing, so it never duplicates or resets an account.
// It reports whether it created one.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (bool, error) {
	n, err := s.repo.CountStaff(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, err = s.CreateStaff(ctx, nil, NewStaff{Email: email, Name: "Administrator", Role: string(RoleAdmin), Password: password}, "")
	if errors.Is(err, booking.ErrDuplicate) {
		return false, nil // another instance won the race
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	return true, nil
}

// Staff returns one staff account (booking.ErrNotFound when unknown).
func (s *Service) Staff(ctx context.Context, id uuid.UUID) (Staff, error) {
	return s.repo.StaffByID(ctx, id)
}

// ListStaff pages through staff accounts.
func (s *Service) ListStaff(ctx context.Context, cursor string, limit int) ([]Staff, string, error) {
	return s.repo.ListStaff(ctx, cursor, limit)
}

// ListAudit pages through audit events, newest first.
func (s *Service) ListAudit(ctx context.Context, cursor string, limit int) ([]AuditEvent, string, error) {
	return s.repo.ListAudit(ctx, cursor, limit)
}

// audit records e. A login must not fail because the audit table is busy,
// so a failure to record is logged (with the event type only) rather than
// returned.
func (s *Service) audit(ctx context.Context, e AuditEvent) {
	e.ID = uuid.New()
	e.At = s.now()
	if err := s.repo.RecordAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "record audit event", "type", string(e.Type), "error", err.Error())
	}
}

func (s *Service) hash(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(bcryptInput(pw), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// bcryptInput is what bcrypt hashes for pw. bcrypt reads at most 72 bytes,
// and 72 characters of UTF-8 can be four times that; a longer password is
// first reduced to the base64 of its SHA-256 (44 bytes), so every character
// counts. Passwords of at most 72 bytes are hashed as they are, as they
// always were, so existing hashes keep working.
func bcryptInput(pw string) []byte {
	if len(pw) <= 72 {
		return []byte(pw)
	}
	sum := sha256.Sum256([]byte(pw))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}
