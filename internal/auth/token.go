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
// session at once; the role is not in the token but read on each request, so
// a role change takes effect at once too.
type accessClaims struct {
	jwt.RegisteredClaims
	Pwd int64 `json:"pwd"`
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

func (t tokenIssuer) issue(s Staff, now time.Time) (string, error) {
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
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// verify checks signature, algorithm, issuer, audience, expiry and issue
// time, and returns the staff id and password stamp the token carries.
func (t tokenIssuer) verify(raw string, now time.Time) (uuid.UUID, int64, error) {
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
		return uuid.Nil, 0, errors.Join(ErrUnauthenticated, err)
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return uuid.Nil, 0, ErrUnauthenticated
	}
	return id, claims.Pwd, nil
}
