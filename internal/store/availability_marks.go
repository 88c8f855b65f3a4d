package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// registerAvailabilityCallbacks hooks onWrite after GORM's create, update,
// delete and raw (Exec) statements.
func (s *Store) registerAvailabilityCallbacks() error {
	dbs := []*gorm.DB{s.db}
	if s.wdb != s.db {
		dbs = append(dbs, s.wdb)
	}
	for _, db := range dbs {
		cb := db.Callback()
		for _, err := range []error{
			cb.Create().After("gorm:create").Register("clinic:availability_create", s.onWrite),
			cb.Update().After("gorm:update").Register("clinic:availability_update", s.onWrite),
			cb.Delete().After("gorm:delete").Register("clinic:availability_delete", s.onWrite),
			cb.Raw().After("gorm:raw").Register("clinic:availability_raw", s.onWrite),
			// Raw(...).Rows() and Scan run here: UPDATE ... RETURNING.
			cb.Row().After("gorm:row").Register("clinic:availability_row", s.onWrite),
		} {
			if err != nil {
				return fmt.Errorf("register availability callbacks: %w", err)
			}
		}
	}
	return nil
}

// onWrite runs after each writing statement. A write to availabilityTables
// marks the transaction it belongs to (Store.tx moves the versions when the
// transaction ends), or, outside one, moves them at once: a single-statement
// write has committed when its Exec returns. (Outside a transaction a write
// must not be read with Rows, whose statement completes only as the rows are
// read; the store has none.) On SQLite the scopes written are read from
// availability_changes (see sqliteWatch.sync); on PostgreSQL, where the
// transaction-local record of an autocommitted statement is gone once it
// returns, everything moves (the other instances get the scoped
// notifications of the rows the triggers queued, sent by the step it asks
// for).
func (s *Store) onWrite(db *gorm.DB) {
	if !touchesAvailability(db.Statement) {
		return
	}
	if m, ok := db.Statement.Context.Value(txMarkKey{}).(*txMark); ok {
		m.dirty.Store(true)
		return
	}
	if s.dialect == Postgres {
		s.avail.bump()
		s.askFeedNumbering()
		return
	}
	s.watch.sync(s.avail)
}

// availabilityScopesSQL reads, inside a PostgreSQL transaction, the scopes
// its writes recorded (see migration 00070), space-separated, empty or
// NULL for none, and the seqs of the rows they queued in
// availability_pending for the step after the commit to announce
// (migration 00104).
const availabilityScopesSQL = "SELECT coalesce(current_setting('clinic.availability_scopes', true), ''), coalesce(current_setting('clinic.availability_pending', true), '')"

// availabilityInvalidateSQL records an explicit invalidation of a provider in
// the writing transaction, as the triggers do for the rows they see.
var availabilityInvalidateSQL = map[Dialect]string{
	SQLite:   "INSERT INTO availability_changes (scope) VALUES (?)",
	Postgres: "SELECT availability_changed(current_schema(), ?)",
}

// flushAvailability runs at the end of a transaction marked dirty, before
// its commit: it records the providers InvalidateAvailability named, and on
// PostgreSQL reads the scopes the transaction's writes recorded and the
// rows they queued.
func (s *Store) flushAvailability(tx *gorm.DB, m *txMark) error {
	if !m.dirty.Load() {
		return nil
	}
	for _, id := range m.invalidated {
		if err := tx.Exec(availabilityInvalidateSQL[s.dialect], id.String()).Error; err != nil {
			return fmt.Errorf("invalidate availability: %w", err)
		}
	}
	if s.dialect != Postgres {
		return nil
	}
	var scopes, queued string
	m.scopes, m.scopesErr, m.queued = nil, nil, nil
	if err := tx.Raw(availabilityScopesSQL).Row().Scan(&scopes, &queued); err != nil {
		// The versions move for everything instead (endAvailability); the
		// transaction itself need not fail for it.
		m.scopesErr = err
		return nil
	}
	seqs, err := parsePendingSeqs(queued)
	if err != nil {
		m.scopesErr = err
		return nil
	}
	m.scopes = strings.Fields(scopes)
	// This process reads the places its commit changed itself
	// (endAvailability): its listener need not read them again when the
	// notifications of its rows arrive. Told before the commit, so that it
	// knows however soon a step sends them.
	m.queued = seqs
	s.avail.expectRows(m.queued, time.Now())
	return nil
}

// endAvailability moves the versions once a transaction marked dirty has
// ended, committed or not (a needless move only costs cache misses): on
// SQLite those of the scopes availability_changes shows moved, on
// PostgreSQL those its triggers recorded, or everything when that record
// could not be read.
func (s *Store) endAvailability(m *txMark, committed bool) {
	if !m.dirty.Load() {
		return
	}
	if s.dialect != Postgres {
		s.watch.sync(s.avail)
		return
	}
	if !committed {
		// No row was queued by what was not committed. (Should a failed
		// commit have reached the server after all, its rows are read as
		// another instance's would be.)
		s.avail.forgetRows(m.queued)
	}
	if m.scopesErr != nil || (m.scopes == nil && len(m.invalidated) > 0) {
		s.avail.bump()
		return
	}
	var places []placeScope
	for _, sc := range m.scopes {
		if p, ok := parsePlaceScope(sc); ok {
			places = append(places, p)
			continue
		}
		s.avail.bumpScope(sc)
	}
	s.avail.placeMu.Lock()
	read := s.avail.readPlaces
	s.avail.placeMu.Unlock()
	s.avail.places(places, read)
}

// touchesAvailability reports whether the statement may have written to
// availabilityTables. A raw statement (Exec, Raw) counts when it is not a
// SELECT and names one of them.
func touchesAvailability(st *gorm.Statement) bool {
	sql := strings.ToLower(strings.TrimSpace(st.SQL.String()))
	if strings.HasPrefix(sql, "select") {
		return false
	}
	if st.Table != "" {
		return availabilityTables[st.Table]
	}
	for t := range availabilityTables {
		if strings.Contains(sql, t) {
			return true
		}
	}
	return false
}

// InvalidateAvailability says that what Availability answers for provider
// providerID may have changed through a write the store cannot see on its
// own (a write to a table outside availabilityTables). Called inside a
// Store transaction (with its context), it is recorded in that transaction
// for the other instances, and the version moves when it has committed;
// outside one, at once, and the other instances are told.
func (s *Store) InvalidateAvailability(ctx context.Context, providerID uuid.UUID) {
	if m, ok := ctx.Value(txMarkKey{}).(*txMark); ok {
		m.mu.Lock()
		m.invalidated = append(m.invalidated, providerID)
		m.mu.Unlock()
		m.dirty.Store(true)
		return
	}
	err := s.tx(context.WithoutCancel(ctx), func(tx *gorm.DB) error {
		s.InvalidateAvailability(tx.Statement.Context, providerID)
		return nil
	})
	if err != nil {
		// Not recorded for the other instances; this one at least forgets.
		s.avail.bump()
		s.avail.log.Warn("availability invalidation not recorded", "error", err.Error())
	}
}
