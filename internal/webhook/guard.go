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
// reserved space, NAT64 and 6to4 (which can embed any IPv4 address),
// Teredo, and documentation IPv6.
var notPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2001:db8::/32", "2002::/16", "100::/64",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// PublicAddr reports whether ip is a public internet address: global
// unicast, and neither private, loopback, link-local (169.254.0.0/16, where
// cloud metadata services answer), multicast, unspecified nor in a reserved
// or special-purpose range.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
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
