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
		{"::ffff:0:127.0.0.1%eth0", false},
		{"2001:db8::1%1", false},
	} {
		if got := webhook.PublicAddr(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PublicAddr(%s): got %v, want %v", tc.ip, got, tc.want)
		}
	}
}

// ipv4Forms are the IPv6 forms that carry an IPv4 address, each writing
// v4 into one address of its range.
var ipv4Forms = []struct {
	name string
	in   func(v4 netip.Addr) netip.Addr
}{
	{"IPv4-mapped ::ffff:0:0/96", func(v4 netip.Addr) netip.Addr { return embed("::ffff:0.0.0.0", 12, v4) }},
	{"IPv4-translated ::ffff:0:0:0/96", func(v4 netip.Addr) netip.Addr { return embed("::ffff:0:0.0.0.0", 12, v4) }},
	{"IPv4-compatible ::/96", func(v4 netip.Addr) netip.Addr { return embed("::", 12, v4) }},
	{"NAT64 64:ff9b::/96", func(v4 netip.Addr) netip.Addr { return embed("64:ff9b::", 12, v4) }},
	{"NAT64 local-use 64:ff9b:1::/48", func(v4 netip.Addr) netip.Addr { return embed("64:ff9b:1::", 12, v4) }},
	{"6to4 2002::/16", func(v4 netip.Addr) netip.Addr { return embed("2002::1", 2, v4) }},
}

// embed writes v4 into the IPv6 address base at byte offset at.
func embed(base string, at int, v4 netip.Addr) netip.Addr {
	b := netip.MustParseAddr(base).As16()
	a := v4.As4()
	copy(b[at:at+4], a[:])
	return netip.AddrFrom16(b)
}

// Every IPv6 form that carries an IPv4 address is judged by that address,
// when a URL is saved and when a delivery dials.
func TestPublicAddrJudgesEmbeddedIPv4(t *testing.T) {
	ipv4s := []struct {
		name string
		v4   string
		want bool
	}{
		{"loopback", "127.0.0.1", false},
		{"private", "10.1.2.3", false},
		{"private", "192.168.1.1", false},
		{"link-local", "169.254.169.254", false},
		{"this network", "0.0.0.0", false},
		{"public", "93.184.215.14", true},
	}
	g := webhook.Guard{}
	for _, form := range ipv4Forms {
		for _, v := range ipv4s {
			ip := form.in(netip.MustParseAddr(v.v4))
			if got := webhook.PublicAddr(ip); got != v.want {
				t.Errorf("%s with %s %s (%s): got public %v, want %v", form.name, v.name, v.v4, ip, got, v.want)
			}
			url := "https://[" + ip.String() + "]/h"
			if err := g.CheckURL(context.Background(), url); (err == nil) != v.want {
				t.Errorf("CheckURL(%s): got %v, want accepted %v", url, err, v.want)
			}
		}
	}
	// The ones the report named.
	for _, url := range []string{"https://[::ffff:0:127.0.0.1]/h", "https://[::127.0.0.1]/h", "https://[::ffff:0:127.0.0.1%25eth0]/h"} {
		if err := g.CheckURL(context.Background(), url); err == nil {
			t.Errorf("CheckURL(%s): got nil, want refused", url)
		}
	}
}

// The local-use NAT64 prefix lets a network put the IPv4 address after a
// /48, /56 or /64 too; an address that is not the /96 layout cannot be
// judged, so it is refused.
func TestPublicAddrRefusesAmbiguousLocalUseNAT64(t *testing.T) {
	for _, ip := range []string{"64:ff9b:1:7f00:1::", "64:ff9b:1:5db8:d70e::", "64:ff9b:1::1:5db8:d70e"} {
		if webhook.PublicAddr(netip.MustParseAddr(ip)) {
			t.Errorf("PublicAddr(%s): got true, want false", ip)
		}
	}
}

// The dial-time check judges the IPv4 address inside the IPv6 address
// dialled, so a stored URL of any of these forms reaches nothing.
func TestGuardClientRefusesEmbeddedLoopbackWhenDialling(t *testing.T) {
	c := webhook.Guard{}.Client(2 * time.Second)
	for _, form := range ipv4Forms {
		ip := form.in(netip.MustParseAddr("127.0.0.1"))
		_, err := c.Post("http://["+ip.String()+"]:9/hook", "application/json", nil)
		if !errors.Is(err, webhook.ErrBlockedAddress) {
			t.Errorf("%s (%s): got %v, want ErrBlockedAddress", form.name, ip, err)
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
