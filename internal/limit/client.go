package limit

import "net/netip"

// ClientKey is the key a client address is counted under by the public
// limits: an IPv4 address as it is, an IPv6 address by its /64 (the
// smallest prefix a home or a server is given, so one client can pick
// among 2^64 addresses of it at will). An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) counts as its IPv4 address, and an IPv6 zone is
// ignored. A string that is no IP address is its own key.
func ClientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
