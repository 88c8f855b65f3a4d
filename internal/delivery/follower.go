package delivery

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Follower follows the live feed and writes the jobs of its kinds for each
// booking change, in the transaction that moves its cursor past the change
// (see store.ReadFeed), and handles those jobs. Every follower is set up
// in the same steps: built with its dependencies, Register its kinds on
// the workers before New, Attach the queue once New has built it, register
// its Collectors, and run Relay on every instance.
type Follower interface {
	// Register adds the handlers of the follower's kinds to ws.
	Register(ws *Workers)
	// Attach gives the follower the queue it writes its jobs to.
	Attach(q *Queue)
	// Relay follows the feed until ctx ends.
	Relay(ctx context.Context)
	// Collectors returns the follower's metrics, to register.
	Collectors() []prometheus.Collector
}
