package httpapi

import (
	"maps"
	"sync"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/store"
)

// AccessControl exposes the route rules to the black-box tests.
func AccessControl() map[string][]auth.Role { return accessControl }

// servers are the Servers made, by their store.
var servers sync.Map // *store.Store -> *Server

func init() { testHookServer = func(s *Server) { servers.Store(s.store, s) } }

// CachedAvailability returns what the server on st would answer from its
// availability cache now: the body of every entry still valid, by its
// key (from|to|consultation_type_id|provider_id|location_id), and how many
// place changes it has patched in since it started.
func CachedAvailability(st *store.Store, now time.Time) (bodies map[string][]byte, patches uint64) {
	v, ok := servers.Load(st)
	if !ok {
		return nil, 0
	}
	s := v.(*Server)
	c := s.availCache
	c.mu.Lock()
	entries := maps.Clone(c.entries)
	patches = c.seq
	c.mu.Unlock()
	bodies = map[string][]byte{}
	for key, a := range entries {
		version, ok := st.AvailabilityVersion(a.q)
		if ok && version == a.version && a.validAt(now) {
			bodies[key] = a.body
		}
	}
	return bodies, patches
}
