package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// from makes requests appear to come from addr (the test server trusts
// the loopback proxy's X-Forwarded-For).
func from(addr string) string { return "X-Forwarded-For: " + addr }

func (e *env) loginFrom(addr, email, password string) int {
	e.t.Helper()
	return e.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": password}, from(addr)).Status
}

// Two server instances on one PostgreSQL database together allow the
// configured public limit and login throttle, not twice them.
func TestLimitsSharedByTwoInstances(t *testing.T) {
	url := storetest.PostgresURL(t)
	opts := func(o *httpapi.Options, a *auth.Options) {
		o.PublicRateLimit = 3
		a.LoginRateLimit = 4
		o.TrustedProxies = []string{"127.0.0.1"}
	}
	one, two := newEnv(t, url, opts), newEnv(t, url, opts)
	instances := []*env{one, two}
	k := newClinic(t, one)
	slot := k.slot(t, slotOpts{capacity: 20})

	created, limited := 0, 0
	for i := range 8 {
		r := instances[i%2].do("POST", "/v1/booking-requests", requestBody(slot), from("203.0.113.5"))
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("request %d: got %d %s", i, r.Status, r.Body)
		}
	}
	if created != 3 || limited != 5 {
		t.Errorf("public creates through two instances: got %d created and %d limited, want 3 and 5", created, limited)
	}

	one.newAccount(auth.RoleReception, "shared@clinic.example", "a long password 1")
	statuses := map[int]int{}
	for i := range 8 {
		statuses[instances[i%2].loginFrom("198.51.100.7", "shared@clinic.example", "wrong password "+strconv.Itoa(i))]++
	}
	if statuses[401] != 4 || statuses[429] != 4 {
		t.Errorf("failed logins through two instances: got %v, want 4 × 401 then 4 × 429", statuses)
	}
}

// The login throttle counts per account and address, per address, and per
// account over all addresses with a higher limit: a stranger cannot lock a
// receptionist out from their own address, while guessing one account from
// many addresses, or many accounts from one address, is still stopped. An
// IPv6 address counts by its /64, as for the public limits.
func TestLoginThrottleScopes(t *testing.T) {
	limits := func(o *httpapi.Options, a *auth.Options) {
		o.TrustedProxies = []string{"127.0.0.1"}
		a.LoginRateLimit = 3        // one account from one address
		a.LoginAddressRateLimit = 6 // one address, any accounts
		a.LoginAccountRateLimit = 8 // one account, all addresses
	}
	eachBackend(t, func(t *testing.T, e *env) {
		const password = "the right password"
		e.newAccount(auth.RoleReception, "rita@clinic.example", password)
		e.newAccount(auth.RoleReception, "sam@clinic.example", password)

		t.Run("a stranger locks only their own address out", func(t *testing.T) {
			for i := range 5 {
				e.loginFrom("192.0.2.66", "rita@clinic.example", "guess "+strconv.Itoa(i))
			}
			if got := e.loginFrom("192.0.2.66", "rita@clinic.example", password); got != http.StatusTooManyRequests {
				t.Errorf("the stranger's address: got %d, want 429", got)
			}
			if got := e.loginFrom("192.0.2.10", "rita@clinic.example", password); got != http.StatusOK {
				t.Errorf("the receptionist from her desk: got %d, want 200", got)
			}
		})

		t.Run("one address guessing many accounts is stopped", func(t *testing.T) {
			statuses := map[int]int{}
			for i := range 8 {
				statuses[e.loginFrom("192.0.2.77", "nobody"+strconv.Itoa(i)+"@clinic.example", "guess")]++
			}
			if statuses[401] != 6 || statuses[429] != 2 {
				t.Errorf("spraying from one address: got %v, want 6 × 401 then 429", statuses)
			}
			if got := e.loginFrom("192.0.2.77", "sam@clinic.example", password); got != http.StatusTooManyRequests {
				t.Errorf("right password from the spraying address: got %d, want 429", got)
			}
		})

		t.Run("guessing one account from many addresses is stopped", func(t *testing.T) {
			statuses := map[int]int{}
			for i := range 12 {
				statuses[e.loginFrom("198.51.100."+strconv.Itoa(i+1), "sam@clinic.example", "guess")]++
			}
			if statuses[401] != 8 || statuses[429] != 4 {
				t.Errorf("one guess from each of 12 addresses: got %v, want 8 × 401 then 429", statuses)
			}
			if got := e.loginFrom("192.0.2.20", "sam@clinic.example", password); got != http.StatusTooManyRequests {
				t.Errorf("the account during the lock: got %d, want 429", got)
			}
		})

		t.Run("an IPv6 guesser counts by its /64", func(t *testing.T) {
			e.newAccount(auth.RoleReception, "ines@clinic.example", password)
			statuses := map[int]int{}
			for i := range 5 {
				// A fresh address of one /64 for each guess.
				statuses[e.loginFrom("2001:db8:0:9::"+strconv.Itoa(i+1), "ines@clinic.example", "guess")]++
			}
			if statuses[401] != 3 || statuses[429] != 2 {
				t.Errorf("guesses from one /64: got %v, want 3 × 401 then 429", statuses)
			}
			if got := e.loginFrom("2001:db8:0:9::ff", "ines@clinic.example", password); got != http.StatusTooManyRequests {
				t.Errorf("the right password from that /64: got %d, want 429", got)
			}
			if got := e.loginFrom("2001:db8:0:a::1", "ines@clinic.example", password); got != http.StatusOK {
				t.Errorf("the right password from the next /64: got %d, want 200", got)
			}
		})
	}, limits)
}

// The public limits count an IPv6 client by its /64: the addresses of one
// /64 share the rate limit and the hold limit, the next /64 has its own,
// and an IPv4 client keeps counting by its address.
func TestPublicLimitsCountIPv6ByItsSlash64(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.PublicRateLimit = 3
		o.PublicHoldLimit = 100
		o.TrustedProxies = []string{"127.0.0.1"}
	})
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{capacity: 50})
	for _, tc := range []struct {
		addr string
		want int
	}{
		{"2001:db8:0:1::1", http.StatusCreated},
		{"2001:db8:0:1::2", http.StatusCreated},
		{"2001:db8:0:1:ffff:ffff:ffff:fffe", http.StatusCreated},
		{"2001:db8:0:1:1234::9", http.StatusTooManyRequests}, // the same /64, a fourth address
		{"2001:db8:0:2::1", http.StatusCreated},              // the next /64
		{"203.0.113.1", http.StatusCreated},
		{"203.0.113.2", http.StatusCreated},
	} {
		r := e.do("POST", "/v1/booking-requests", requestBody(slot), from(tc.addr))
		if r.Status != tc.want {
			t.Errorf("request from %s: got %d %s, want %d", tc.addr, r.Status, r.Body, tc.want)
		}
	}

	h := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.PublicRateLimit = 0
		o.PublicHoldLimit = 2
		o.TrustedProxies = []string{"127.0.0.1"}
	})
	hk := newClinic(t, h)
	for _, tc := range []struct {
		addr string
		want int
	}{
		{"2001:db8:0:7::a", http.StatusCreated},
		{"2001:db8:0:7::b", http.StatusCreated},
		{"2001:db8:0:7::c", http.StatusTooManyRequests},
		{"2001:db8:0:8::a", http.StatusCreated},
	} {
		r := h.do("POST", "/v1/slot-holds", map[string]any{"slot_id": hk.slot(t, slotOpts{}).String()}, from(tc.addr))
		if r.Status != tc.want {
			t.Errorf("hold from %s: got %d %s, want %d", tc.addr, r.Status, r.Body, tc.want)
		}
	}
}
