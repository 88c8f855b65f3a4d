package booking_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

func TestNewReference(t *testing.T) {
	format := regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}$`)
	seen := make(map[string]bool, 10000)
	for range 10000 {
		ref, err := booking.NewReference()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(ref) {
			t.Fatalf("NewReference() = %q, want XXXX-XXXX from the alphabet", ref)
		}
		if strings.ContainsAny(ref, "01ILOU") {
			t.Fatalf("NewReference() = %q holds an ambiguous character", ref)
		}
		if seen[ref] {
			t.Fatalf("NewReference() returned %q twice in 10000", ref)
		}
		seen[ref] = true
	}
}

func TestNormalizeReference(t *testing.T) {
	tests := []struct {
		in, want string // want "" when in must be rejected
	}{
		{"K7QM-4T2P", "K7QM-4T2P"},
		{"k7qm-4t2p", "K7QM-4T2P"},
		{"K7QM4T2P", "K7QM-4T2P"},
		{"  k7qm4t2p\n", "K7QM-4T2P"},
		{"K7QM-4T2", ""},
		{"K7QM-4T2PP", ""},
		{"K7QM--T2P", ""},
		{"K7Q-M4T2P", ""},
		{"K7QO-4T2P", ""}, // O is not in the alphabet
		{"K7Q1-4T2P", ""},
		{"K7QM 4T2P", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := booking.NormalizeReference(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("NormalizeReference(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestManageToken(t *testing.T) {
	token, err := booking.NewManageToken()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(token), 43; got != want {
		t.Errorf("len(token) = %d, want %d", got, want)
	}
	other, _ := booking.NewManageToken()
	if token == other {
		t.Error("two manage tokens are equal")
	}
	hash := booking.HashToken(token)
	if got, want := len(hash), 64; got != want {
		t.Errorf("len(hash) = %d, want %d", got, want)
	}
	tests := []struct {
		hash, token string
		want        bool
	}{
		{hash, token, true},
		{hash, other, false},
		{hash, "", false},
		{"", token, false},
		{strings.ToUpper(hash), token, false},
	}
	for i, tt := range tests {
		if got := booking.TokenMatches(tt.hash, tt.token); got != tt.want {
			t.Errorf("case %d: TokenMatches = %v, want %v", i, got, tt.want)
		}
	}
}
