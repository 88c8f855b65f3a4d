package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/clinic/consult/internal/booking"
)

// Guard keeps webhook deliveries from reaching anything but the public
// internet (no server-side request forgery): the clinic's admin names the
// URL, but the server makes the request, from inside the clinic's network.
// A URL is checked when an endpoint is saved (so the admin hears of it), and
// every connection is checked again when it is made, on the address actually
// dialled, so a name that resolved to a public address when saved and to a
// private one later (DNS rebinding) is still refused.
type Guard struct {
	// AllowPrivate turns the guard off: http URLs and private, loopback and
	// link-local addresses are allowed. For local development and tests
	// only (WEBHOOK_ALLOW_PRIVATE=1).
	AllowPrivate bool
	// Resolver looks names up; nil is net.DefaultResolver.
	Resolver interface {
		LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	}
}

// ErrBlockedAddress is the dial error for an address the guard refuses.
var ErrBlockedAddress = errors.New("the address is not a public internet address")

// notPublic are the IPv4 and IPv6 ranges that are not the public internet
// beyond what netip's predicates cover: shared address space (carrier NAT),
// IETF protocol assignments, documentation and benchmarking networks,
// reserved space, Teredo (whose embedded addresses are obfuscated), and
// documentation IPv6. The IPv6 forms that carry an IPv4 address are judged
// by that address instead (see embeddedIPv4).
var notPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"2001::/32", "2001:db8::/32", "100::/64",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// The IPv6 ranges whose addresses carry an IPv4 address in their last 32
// bits: IPv4-mapped is handled by Unmap; IPv4-translated (RFC 2765),
// IPv4-compatible (RFC 4291, deprecated but still routed by some stacks) and
// the NAT64 well-known prefix (RFC 6052) are here. A NAT64 gateway or a
// dual stack sends a packet to such an address on to the IPv4 address
// inside it, so ::ffff:0:127.0.0.1 is 127.0.0.1.
var (
	ipv4Translated  = netip.MustParsePrefix("::ffff:0:0:0/96")
	ipv4Compatible  = netip.MustParsePrefix("::/96")
	nat64WellKnown  = netip.MustParsePrefix("64:ff9b::/96")
	nat64LocalUse   = netip.MustParsePrefix("64:ff9b:1::/48")
	nat64LocalUse96 = netip.MustParsePrefix("64:ff9b:1::/96")
	sixToFour       = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address an IPv6 address carries, and
// whether it is one of the forms that carry one. ok with an invalid v4
// means the form carries an address that cannot be told for sure: the
// NAT64 local-use prefix 64:ff9b:1::/48 lets each network choose where the
// IPv4 address sits (RFC 6052: after a /48, /56, /64 or /96 prefix), so
// only its /96 layout, where every other layout reads 0.0.0.0/8, is judged;
// any other address in it is refused.
func embeddedIPv4(ip netip.Addr) (v4 netip.Addr, ok bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	last32 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case ipv4Translated.Contains(ip), ipv4Compatible.Contains(ip), nat64WellKnown.Contains(ip):
		return last32, true
	case nat64LocalUse.Contains(ip):
		if nat64LocalUse96.Contains(ip) {
			return last32, true
		}
		return netip.Addr{}, true
	case sixToFour.Contains(ip):
		// 2002:AABB:CCDD::/48 is the 6to4 site of AA.BB.CC.DD.
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// PublicAddr reports whether ip is a public internet address: global
// unicast, and neither private, loopback, link-local (169.254.0.0/16, where
// cloud metadata services answer), multicast, unspecified nor in a reserved
// or special-purpose range. An IPv6 address that carries an IPv4 address
// (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4) is public
// only when the IPv4 address inside it is.
func PublicAddr(ip netip.Addr) bool {
	// A zone would make every prefix test below answer false.
	ip = ip.Unmap().WithZone("")
	if v4, ok := embeddedIPv4(ip); ok {
		return v4.IsValid() && PublicAddr(v4)
	}
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// CheckURL validates rawURL as a webhook endpoint: an absolute https URL
// whose host is, or resolves only to, public addresses. It returns a
// *booking.ValidationError naming "url", or nil.
func (g Guard) CheckURL(ctx context.Context, rawURL string) error {
	var p booking.Problems
	checkURLSyntax(&p, rawURL, g.AllowPrivate)
	if err := p.Err(); err != nil || g.AllowPrivate {
		return err
	}
	u, _ := url.Parse(rawURL)
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !PublicAddr(ip) {
			return booking.Invalid("url", booking.FieldPrivateAddress, "must not point to a private, loopback, link-local or reserved address")
		}
		return nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupIPAddr(lctx, host)
	if err != nil || len(addrs) == 0 {
		return booking.Invalid("url", booking.FieldUnresolvableHost, fmt.Sprintf("host %q cannot be resolved", host))
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || !PublicAddr(ip) {
			return booking.Invalid("url", booking.FieldPrivateAddress, fmt.Sprintf("host %q resolves to a private, loopback, link-local or reserved address", host))
		}
	}
	return nil
}

// Client returns the HTTP client deliveries are sent with: each attempt
// ends after timeout; redirects are not followed (a 3xx is the answer, and
// a failure); no proxy from the environment is used; and, unless
// AllowPrivate, every connection is refused before it is made when the
// address dialled is not public.
func (g Guard) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !g.AllowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return fmt.Errorf("dial %s: %w", address, ErrBlockedAddress)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          50,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
