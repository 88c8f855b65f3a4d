package httpapi

import (
	"container/list"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/clinic/consult/internal/limit"
)

// LimitIdleConns caps the idle keep-alive connections one client address
// holds on srv: when a connection going idle leaves its address with more
// than perAddr idle ones, the one idle the longest is closed (a browser
// opens a new one when it needs it). An IPv6 client counts by its /64, as
// the public rate limit does, since one host holds the whole /64.
//
// The server's IdleTimeout alone lets one client hold thousands of idle
// connections, each a file descriptor and a goroutine, for minutes.
// Addresses in exempt (IP addresses or CIDR ranges, such as the trusted
// proxies, which pool many connections for all their clients) are not
// capped. perAddr <= 0 leaves srv as it is. It chains srv's own ConnState,
// if any; call it before the server starts.
func LimitIdleConns(srv *http.Server, perAddr int, exempt []string) error {
	if perAddr <= 0 {
		return nil
	}
	l := &idleConns{max: perAddr, conns: map[net.Conn]*connEntry{}, idle: map[string]*list.List{}}
	for _, e := range exempt {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil {
				return fmt.Errorf("idle connection cap: exempt address %q: %w", e, err)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		l.exempt = append(l.exempt, p.Masked())
	}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		l.track(c, s)
		if next != nil {
			next(c, s)
		}
	}
	return nil
}

// idleConns tracks the idle connections of each client address (or /64).
type idleConns struct {
	max    int
	exempt []netip.Prefix

	mu    sync.Mutex
	conns map[net.Conn]*connEntry // every connection of a capped address
	idle  map[string]*list.List   // per client key, its idle connections, longest idle first
}

type connEntry struct {
	client string        // limit.ClientKey of its address
	idle   *list.Element // in idle[client] while idle, else nil
}

func (l *idleConns) track(c net.Conn, s http.ConnState) {
	var evict net.Conn
	l.mu.Lock()
	e, known := l.conns[c]
	if !known {
		client, ok := l.client(c)
		if !ok {
			l.mu.Unlock()
			return
		}
		e = &connEntry{client: client}
		l.conns[c] = e
	}
	switch s {
	case http.StateIdle:
		q := l.idle[e.client]
		if q == nil {
			q = list.New()
			l.idle[e.client] = q
		}
		if e.idle == nil {
			e.idle = q.PushBack(c)
		}
		if q.Len() > l.max {
			evict = q.Remove(q.Front()).(net.Conn)
			l.conns[evict].idle = nil
		}
	case http.StateClosed, http.StateHijacked:
		l.unidle(e)
		delete(l.conns, c)
	default: // new or active: not idle
		l.unidle(e)
	}
	l.mu.Unlock()
	if evict != nil {
		// Outside the lock: the server's goroutine for it reports the
		// close through track.
		evict.Close()
	}
}

// unidle takes e off its address's idle list; l.mu is held.
func (l *idleConns) unidle(e *connEntry) {
	if e.idle == nil {
		return
	}
	q := l.idle[e.client]
	q.Remove(e.idle)
	e.idle = nil
	if q.Len() == 0 {
		delete(l.idle, e.client)
	}
}

// client returns the key c counts against (limit.ClientKey: the address,
// or an IPv6 address's /64, as for the public limits), or false when it is
// exempt or not an IP connection.
func (l *idleConns) client(c net.Conn) (string, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return "", false
	}
	a := ap.Addr().Unmap()
	for _, p := range l.exempt {
		if p.Contains(a) {
			return "", false
		}
	}
	return limit.ClientKey(a.String()), true
}
