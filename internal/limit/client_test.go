package limit

import "testing"

func TestClientKey(t *testing.T) {
	tests := []struct {
		name, addr, want string
	}{
		{"IPv4 as it is", "203.0.113.5", "203.0.113.5"},
		{"IPv4 neighbours apart", "203.0.113.6", "203.0.113.6"},
		{"IPv6 by its /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"another address of the same /64", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"the next /64 apart", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"IPv6 in another spelling", "2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 as IPv4", "::ffff:203.0.113.5", "203.0.113.5"},
		{"zone ignored", "fe80::1%eth0", "fe80::/64"},
		{"loopback", "::1", "::/64"},
		{"not an address", "unknown", "unknown"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClientKey(tt.addr); got != tt.want {
				t.Errorf("ClientKey(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
