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
)
