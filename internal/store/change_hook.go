package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// BookingChange is one committed-to-be booking change as a ChangeHook sees
// it: the booking as saved, the slot it is in after the change, and the
// events the change appended (one, except for changes that do several
// things at once).
type BookingChange struct {
	Booking booking.Booking
	Slot    booking.Slot
	Events  []booking.Event
}

// ChangeHook runs inside the transaction of every booking change (creation,
// each transition, a reschedule, the expiry job's), after the change's
// events are appended. Whatever it writes through tx commits with the change
// or rolls back with it; an error undoes the change. It is how the messages
// a change causes (patient emails and texts, webhook deliveries) are written
// in the same transaction as the change itself.
//
// On SQLite tx may be shared with other calls batched into one commit, each
// in a savepoint of its own (see sqliteWriter): a hook must only write
// through tx, never open another transaction.
type ChangeHook func(ctx context.Context, tx *sql.Tx, c BookingChange) error

// AddChangeHook adds h to the hooks every booking change runs. Add hooks
// before the store is used: the list is not guarded against concurrent
// changes.
func (s *Store) AddChangeHook(h ChangeHook) {
	s.hooks = append(s.hooks, h)
}

// runChangeHooks runs the hooks in the change's transaction.
func (s *Store) runChangeHooks(tx *gorm.DB, c BookingChange) error {
	if len(s.hooks) == 0 {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("booking change hooks: the change is not running in a database transaction")
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for _, h := range s.hooks {
		if err := h(ctx, sqlTx, c); err != nil {
			return fmt.Errorf("booking change hook: %w", err)
		}
	}
	return nil
}

// QueueDB returns the connection pool a job queue working beside the store
// should use: on SQLite the store's single writer connection, so that the
// queue's own writes take turns with the store's transactions in Go instead
// of contending for the file lock; on PostgreSQL the store's pool.
func (s *Store) QueueDB() *sql.DB { return s.wsqlDB }
