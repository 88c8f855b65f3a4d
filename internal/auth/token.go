package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// accessClaims are the claims of an access token. Pwd pins the token to the
// password in force when it was issued, so changing the password ends every
// session at once; Sid names the session (refresh token family), so logging
// out ends the access tokens issued in it; the role is not in the token but
// read on each request, so a role change takes effect at once too.
type accessClaims struct {
	jwt.RegisteredClaims
	Pwd int64  `json:"pwd"`
	Sid string `json:"sid,omitempty"`
}

// tokenIssuer signs and verifies access tokens with HMAC-SHA256. The
// algorithm is pinned: a token claiming another one (including "none") is
// refused.
type tokenIssuer struct {
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
}

func (t tokenIssuer) issue(s Staff, session uuid.UUID, now time.Time) (string, error) {
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   s.ID.String(),
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		Pwd: s.PasswordChangedAt.UnixMicro(),
		Sid: session.String(),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// verify checks signature, algorithm, issuer, audience, expiry and issue
// time, and returns the principal the token names, its role not yet known.
// An expired token is ErrTokenExpired; any other bad token is
// ErrUnauthenticated.
func (t tokenIssuer) verify(raw string, now time.Time) (Principal, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		if onlyExpired(err) {
			return Principal{}, errors.Join(ErrTokenExpired, err)
		}
		return Principal{}, errors.Join(ErrUnauthenticated, err)
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	var session uuid.UUID
	if claims.Sid != "" {
		if session, err = uuid.Parse(claims.Sid); err != nil {
			return Principal{}, ErrUnauthenticated
		}
	}
	return Principal{StaffID: id, Session: session, ExpiresAt: claims.ExpiresAt.Time, passwordStamp: claims.Pwd}, nil
}

// onlyExpired reports whether a token's one fault is its age. The claims are
// only checked once the signature is good, so an expired token is ours; one
// that is also for another issuer or audience is just invalid.
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenUsedBeforeIssued,
		jwt.ErrTokenNotValidYet, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenSignatureInvalid,
	} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}
