package booking

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// ReferenceAlphabet is the characters of booking references: digits and
// upper-case letters without 0, 1, I, L, O and U, which people misread or
// mistype on the phone. 30 characters, 8 to a reference: about 6.6e11
// references, and without the manage token a reference shows nothing.
const ReferenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReference returns a new random booking reference such as "K7QM-4T2P".
// References are unique only by chance: the store's unique index has the
// last word, and the caller makes another on a clash. It returns an error
// when the system's random source fails.
func NewReference() (string, error) {
	const n = len(ReferenceAlphabet)
	// Bytes at or above the largest multiple of n are rejected, so that
	// every character is equally likely.
	const limit = 256 / n * n
	out := make([]byte, 0, 9)
	buf := make([]byte, 16)
	for len(out) < 9 {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if len(out) == 9 {
				break
			}
			if int(b) >= limit {
				continue
			}
			if len(out) == 4 {
				out = append(out, '-')
			}
			out = append(out, ReferenceAlphabet[int(b)%n])
		}
	}
	return string(out), nil
}

// NormalizeReference returns the canonical form "XXXX-XXXX" of a reference
// as a person typed it: surrounding space trimmed, any case, with or without
// the dash. It returns ok=false when s cannot be a reference.
func NormalizeReference(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 9 && s[4] == '-' {
		s = s[:4] + s[5:]
	}
	if len(s) != 8 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(ReferenceAlphabet, s[i]) < 0 {
			return "", false
		}
	}
	return s[:4] + "-" + s[4:], true
}

// NewManageToken returns a new manage token: 32 random bytes, base64url
// without padding (43 characters). Give it to the patient once and store
// only HashToken of it. It returns an error when the system's random source
// fails.
func NewManageToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of token, the form in which manage
// tokens are stored. A plain hash is enough: the token has 256 random bits,
// so there is nothing to guess from it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether token hashes to hash, in time independent of
// where they differ. To answer an unknown reference in the same time as a
// wrong token, call it with any well-formed hash.
func TokenMatches(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashToken(token))) == 1
}
