package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Production hashing uses bcrypt cost 12 at least.
func TestDefaultPasswordCost(t *testing.T) {
	s, err := NewService(nil, Options{JWTSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.hash("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil || cost < 12 {
		t.Errorf("bcrypt cost: got %d (%v), want >= 12", cost, err)
	}
}

func TestNewServiceRejectsShortSecret(t *testing.T) {
	if _, err := NewService(nil, Options{JWTSecret: []byte("short")}); err == nil {
		t.Error("got nil error for a 5-byte secret")
	}
}
