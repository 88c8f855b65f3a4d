package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// feedChannel is the PostgreSQL NOTIFY channel on which a numbering of the
// live feed (see numberFeed) announces the events it numbered, at commit.
const feedChannel = "clinic_feed"

// How often the feed watcher looks for new feed events without being told:
// on SQLite, to see other processes' commits to the same file (an indexed
// MAX(id) every 100 ms costs a few microseconds); on PostgreSQL only as a
// fallback should a notification be missed (the listener reconnecting).
const (
	feedPollSQLite   = 100 * time.Millisecond
	feedPollPostgres = time.Second
)

// feedWatch tells subscribers when the live feed has grown. Commits by this
// process wake it directly (Store.tx on SQLite, the numbering that follows
// the commit on PostgreSQL); other processes' reach it through PostgreSQL
// LISTEN/NOTIFY (their numberings') or, on SQLite, by polling. On
// PostgreSQL each look numbers first (LastFeedID): the poll also numbers
// what an instance that died left unnumbered. It only says
// "look again": subscribers read the events themselves (FeedEvents), so a
// wake-up that finds nothing new, or two merged into one, are harmless.
type feedWatch struct {
	s     *Store
	pgURL string
	log   *slog.Logger

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
	last int64 // the newest id announced

	kick      chan struct{}
	startOnce sync.Once
	stop      context.CancelFunc
	done      chan struct{}
}

func newFeedWatch(s *Store, pgURL string, log *slog.Logger) *feedWatch {
	return &feedWatch{s: s, pgURL: pgURL, log: log, subs: map[chan struct{}]struct{}{}, kick: make(chan struct{}, 1)}
}

// SubscribeFeed returns a channel that receives a value soon after the
// live feed has grown (within milliseconds for this process's commits and,
// on PostgreSQL, for other instances' too; within feedPollSQLite for other
// processes on one SQLite file), and a function that ends the subscription.
// Values are not queued: a subscriber that is busy gets one for many
// changes, so it must read everything after the last id it has seen
// (FeedEvents) each time. The first subscription starts the watcher.
func (s *Store) SubscribeFeed() (<-chan struct{}, func()) {
	w := s.feed
	w.startOnce.Do(w.start)
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.subs, ch)
		w.mu.Unlock()
	}
}

// wake asks the watcher to look for new events now.
func (w *feedWatch) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *feedWatch) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.done = make(chan struct{})
	var listener sync.WaitGroup
	poll := feedPollSQLite
	if w.s.dialect == Postgres {
		poll = feedPollPostgres
		listener.Go(func() { w.listen(ctx) })
	}
	go func() {
		defer close(w.done)
		defer listener.Wait()
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.kick:
			case <-t.C:
			}
			w.announce(ctx)
		}
	}()
}

// announce wakes every subscriber when the feed holds an id newer than the
// last one announced.
func (w *feedWatch) announce(ctx context.Context) {
	w.mu.Lock()
	n := len(w.subs)
	w.mu.Unlock()
	if n == 0 {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	last, err := w.s.LastFeedID(qctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("live feed: cannot read the newest event id", "error", err.Error())
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if last == w.last {
		return
	}
	w.last = last
	for ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// listen holds a LISTEN connection for feedChannel until ctx ends,
// reconnecting after a second when it fails, and wakes the watcher on every
// notification (and on every reconnection: a notification may have been
// missed meanwhile).
func (w *feedWatch) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pgx.Connect(ctx, w.pgURL)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if _, err := conn.Exec(ctx, "LISTEN "+feedChannel); err != nil {
				return err
			}
			w.wake()
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				w.wake()
			}
		}()
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("live feed listener disconnected; polling until it reconnects", "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// close stops the watcher, if it runs, and waits for it.
func (w *feedWatch) close() {
	w.startOnce.Do(func() {}) // no watcher may start after this
	if w.stop != nil {
		w.stop()
		<-w.done
	}
}
