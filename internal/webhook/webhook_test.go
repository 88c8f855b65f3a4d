package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/webhook"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"172.31.255.255", false},
		{"172.32.0.1", true},
		{"192.168.0.1", false},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"fd12:3456::1", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"192.0.2.10", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"198.18.0.1", false},
		{"240.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:93.184.215.14", true},
		{"64:ff9b::a00:1", false},
		{"2002:a00:1::", false},
	} {
		if got := webhook.PublicAddr(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PublicAddr(%s): got %v, want %v", tc.ip, got, tc.want)
		}
	}
}

// fakeResolver answers from a map, as DNS would.
type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []net.IPAddr
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
	}
	return out, nil
}

func TestGuardCheckURL(t *testing.T) {
	g := webhook.Guard{Resolver: fakeResolver{
		"hooks.example.com":    {"93.184.215.14"},
		"rebind.example.com":   {"93.184.215.14", "10.0.0.5"},
		"metadata.example.com": {"169.254.169.254"},
	}}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/clinic", true},
		{"https://93.184.215.14:8443/x", true},
		{"https://rebind.example.com/", false}, // one private address is enough to refuse
		{"https://metadata.example.com/", false},
		{"https://unknown.example.com/", false},
		{"http://hooks.example.com/", false},
		{"https://127.0.0.1/", false},
		{"https://hooks.example.com/#frag", false},
		{"//hooks.example.com/", false},
	} {
		err := g.CheckURL(context.Background(), tc.url)
		var ve *booking.ValidationError
		switch {
		case tc.ok && err != nil:
			t.Errorf("CheckURL(%s): got %v, want nil", tc.url, err)
		case !tc.ok && (!errors.As(err, &ve) || ve.Fields[0].Field != "url"):
			t.Errorf("CheckURL(%s): got %v, want a validation error on url", tc.url, err)
		}
	}
	if err := (webhook.Guard{AllowPrivate: true}).CheckURL(context.Background(), "http://127.0.0.1:9/x"); err != nil {
		t.Errorf("AllowPrivate: got %v, want nil", err)
	}
}

// The dial-time check refuses a private address however the URL got
// stored, before anything is sent.
func TestGuardClientRefusesPrivateAddressesWhenDialling(t *testing.T) {
	c := webhook.Guard{}.Client(2 * time.Second)
	_, err := c.Post("http://127.0.0.1:9/hook", "application/json", nil)
	if !errors.Is(err, webhook.ErrBlockedAddress) {
		t.Fatalf("got %v, want ErrBlockedAddress", err)
	}
}

func TestCheckEventTypes(t *testing.T) {
	for _, tc := range []struct {
		types []string
		field string // "" when valid
	}{
		{[]string{"*"}, ""},
		{[]string{"booking.created", "booking.no_show"}, ""},
		{nil, "event_types"},
		{[]string{"*", "booking.created"}, "event_types"},
		{[]string{"booking.created", "booking.created"}, "event_types[1]"},
		{[]string{"booking.updated"}, "event_types[0]"},
	} {
		var p booking.Problems
		webhook.CheckEventTypes(&p, tc.types)
		err := p.Err()
		var ve *booking.ValidationError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%v: got %v, want valid", tc.types, err)
		case tc.field != "" && (!errors.As(err, &ve) || ve.Fields[0].Field != tc.field):
			t.Errorf("%v: got %v, want an error on %s", tc.types, err, tc.field)
		}
	}
}

func TestNextAttemptFollowsTheStandardWebhooksSchedule(t *testing.T) {
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, w := range want {
		got, ok := webhook.NextAttempt(i+1, 1)
		if !ok || got != w {
			t.Errorf("after failure %d: got %s %v, want %s", i+1, got, ok, w)
		}
	}
	if _, ok := webhook.NextAttempt(len(want)+1, 1); ok {
		t.Errorf("after failure %d: want the schedule exhausted", len(want)+1)
	}
	if got, _ := webhook.NextAttempt(2, 0.001); got != 300*time.Millisecond {
		t.Errorf("scaled: got %s, want 300ms", got)
	}
}

func TestEndpointWants(t *testing.T) {
	all := webhook.Endpoint{Active: true, EventTypes: []string{"*"}}
	some := webhook.Endpoint{Active: true, EventTypes: []string{"booking.cancelled"}}
	off := webhook.Endpoint{Active: false, EventTypes: []string{"*"}}
	for _, tc := range []struct {
		e    webhook.Endpoint
		typ  string
		want bool
	}{
		{all, "booking.created", true},
		{some, "booking.cancelled", true},
		{some, "booking.created", false},
		{off, "booking.created", false},
	} {
		if got := tc.e.Wants(tc.typ); got != tc.want {
			t.Errorf("%v wants %s: got %v, want %v", tc.e.EventTypes, tc.typ, got, tc.want)
		}
	}
}
