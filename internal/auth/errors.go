package auth

import "time"

// Code is a stable, machine-readable authentication or authorization error
// code; the HTTP layer maps it to a status.
type Code string

// Authentication and authorization error codes.
const (
	CodeUnauthenticated    Code = "unauthenticated"     // no, bad or expired credentials (401)
	CodeInvalidCredentials Code = "invalid_credentials" // wrong email or password (401)
	CodeForbidden          Code = "forbidden"           // authenticated, but the role may not (403)
	CodeRateLimited        Code = "rate_limited"        // too many attempts (429)
)

// Error is an authentication or authorization failure. Its message is safe to
// show to a client; it never says whether an account exists.
type Error struct {
	Code       Code
	Message    string
	RetryAfter time.Duration // with CodeRateLimited: when to try again
	// Reason, when set, is a short phrase for the WWW-Authenticate
	// header's error_description (RFC 6750), such as "token expired".
	Reason string
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors; match with errors.Is.
var (
	ErrUnauthenticated    = &Error{Code: CodeUnauthenticated, Message: "authentication required"}
	ErrInvalidCredentials = &Error{Code: CodeInvalidCredentials, Message: "wrong email or password"}
	ErrForbidden          = &Error{Code: CodeForbidden, Message: "your role does not allow this"}
	ErrRateLimited        = &Error{Code: CodeRateLimited, Message: "too many attempts; try again later"}
	// ErrTokenExpired is an access token past its expiry. It has
	// ErrUnauthenticated's code (so errors.Is matches either), but says why,
	// so that a client knows to refresh rather than log in again.
	ErrTokenExpired = &Error{Code: CodeUnauthenticated, Reason: "token expired",
		Message: "token expired: get a new access token with your refresh token (POST /v1/auth/refresh)"}
)
