package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync"
)

// The SQLite driver prepares, and throws away, a statement for every call:
// parsing and planning is about a fifth of a booking transaction's time.
// stmtCacheConnector opens the driver's connections wrapped in stmtCacheConn,
// which keeps each connection's prepared statements by SQL text and reuses
// them. database/sql never uses a connection from two goroutines at once,
// and a statement is lent to one call at a time: a query whose rows are
// still open when the same SQL runs again gets a fresh statement.
//
// Only statements that cannot leave a result half-read are cached: queries
// (their rows are closed, which resets the statement) and INSERT, UPDATE and
// DELETE without RETURNING through Exec. Anything else, and any text with a
// ';' (several statements), goes to the driver as before.

// maxCachedStmts bounds the statements one connection keeps.
const maxCachedStmts = 256

// openSQLiteDB opens a database/sql pool of the registered "sqlite3" driver
// on dsn whose connections cache their prepared statements.
func openSQLiteDB(dsn string) (*sql.DB, error) {
	probe, err := sql.Open("sqlite3", "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(stmtCacheConnector{drv: drv, dsn: dsn}), nil
}

type stmtCacheConnector struct {
	drv driver.Driver
	dsn string
}

func (c stmtCacheConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	for _, ok := range []bool{
		implements[driver.ExecerContext](conn), implements[driver.QueryerContext](conn),
		implements[driver.ConnPrepareContext](conn), implements[driver.ConnBeginTx](conn),
	} {
		if !ok {
			conn.Close()
			return nil, errors.New("sqlite driver: connection lacks a context method")
		}
	}
	return &stmtCacheConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.drv }

func implements[I any](v any) bool {
	_, ok := v.(I)
	return ok
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

// stmtCacheConn is a driver connection with a statement cache.
type stmtCacheConn struct {
	driver.Conn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

var (
	_ driver.ExecerContext      = (*stmtCacheConn)(nil)
	_ driver.QueryerContext     = (*stmtCacheConn)(nil)
	_ driver.ConnPrepareContext = (*stmtCacheConn)(nil)
	_ driver.ConnBeginTx        = (*stmtCacheConn)(nil)
	_ driver.Pinger             = (*stmtCacheConn)(nil)
)

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *stmtCacheConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtCacheConn) Close() error {
	c.mu.Lock()
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	c.stmts = nil
	c.mu.Unlock()
	return c.Conn.Close()
}

// lend returns a prepared statement for query and the function that gives
// it back, or a nil statement when query is not to be cached.
func (c *stmtCacheConn) lend(ctx context.Context, query string) (driver.Stmt, func(), error) {
	c.mu.Lock()
	if c.stmts == nil {
		c.mu.Unlock()
		return nil, nil, driver.ErrBadConn
	}
	if s := c.stmts[query]; s != nil && !s.busy {
		s.busy = true
		c.mu.Unlock()
		return s.stmt, func() { c.giveBack(s) }, nil
	}
	_, taken := c.stmts[query]
	c.mu.Unlock()
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if taken {
		// In use by open rows: this one is for this call only.
		return st, func() { st.Close() }, nil
	}
	s := &cachedStmt{stmt: st, busy: true}
	c.mu.Lock()
	if len(c.stmts) >= maxCachedStmts {
		for k, old := range c.stmts { // evict one idle statement, any
			if !old.busy {
				old.stmt.Close()
				delete(c.stmts, k)
				break
			}
		}
	}
	c.stmts[query] = s
	c.mu.Unlock()
	return st, func() { c.giveBack(s) }, nil
}

func (c *stmtCacheConn) giveBack(s *cachedStmt) {
	c.mu.Lock()
	s.busy = false
	c.mu.Unlock()
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !cacheableExec(query) {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	st, release, err := c.lend(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if strings.Contains(query, ";") {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	st, release, err := c.lend(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &lentRows{rows: rows, release: release}, nil
}

// cacheableExec reports whether an Exec of query runs to its end in one
// step: a single INSERT, UPDATE or DELETE that returns no rows.
func cacheableExec(query string) bool {
	q := skipLineComments(query)
	if len(q) < 6 || strings.Contains(q, ";") {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE":
		return !strings.Contains(strings.ToUpper(q), "RETURNING")
	}
	return false
}

// skipLineComments returns query without its leading white space and "--"
// comment lines (generated queries, such as the job queue's, start with a
// "-- name: ..." line).
func skipLineComments(query string) string {
	q := strings.TrimSpace(query)
	for strings.HasPrefix(q, "--") {
		nl := strings.IndexByte(q, '\n')
		if nl < 0 {
			return ""
		}
		q = strings.TrimSpace(q[nl+1:])
	}
	return q
}

// lentRows gives its statement back when closed. It passes on the column
// type information database/sql asks the driver's rows for.
type lentRows struct {
	rows    driver.Rows
	release func()
	closed  bool
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*lentRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*lentRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*lentRows)(nil)
	_ driver.RowsColumnTypeLength           = (*lentRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*lentRows)(nil)
)

func (r *lentRows) Columns() []string              { return r.rows.Columns() }
func (r *lentRows) Next(dest []driver.Value) error { return r.rows.Next(dest) }

func (r *lentRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.rows.Close()
	r.release()
	return err
}

func (r *lentRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *lentRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *lentRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *lentRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *lentRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
