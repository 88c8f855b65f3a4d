package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// rawTx runs statements on the *sql.Tx behind a store transaction, without
// GORM. The booking create path uses it for its fixed statements: there,
// GORM's reflection, statement building and callbacks cost about as much
// as SQLite's own work, inside the one writer every booking waits for. The
// statements are written with ? placeholders; on PostgreSQL they are
// rewritten as $1, $2... Errors go through GORM's translator, so
// isUniqueViolation still recognises them.
type rawTx struct {
	ctx  context.Context
	tx   *sql.Tx
	db   *gorm.DB
	bind func(string) string
}

// rawTxOf returns the raw transaction behind tx, a transaction of Store.tx.
func rawTxOf(tx *gorm.DB) (rawTx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return rawTx{}, errors.New("not in a database transaction")
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	return rawTx{ctx: ctx, tx: sqlTx, db: tx, bind: bindFor(tx.Dialector.Name() == "postgres")}, nil
}

func (r rawTx) translate(err error) error {
	if t, ok := r.db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		if te := t.Translate(err); te != err {
			return fmt.Errorf("%w: %w", te, err)
		}
	}
	return err
}

// exec runs a statement that returns no rows.
func (r rawTx) exec(q string, args ...any) (sql.Result, error) {
	res, err := r.tx.ExecContext(r.ctx, r.bind(q), args...)
	return res, r.translate(err)
}

// queryRow runs a query and scans its first row into dest; it returns
// sql.ErrNoRows when there is none.
func (r rawTx) queryRow(q string, args []any, dest ...any) error {
	return r.translate(r.tx.QueryRowContext(r.ctx, r.bind(q), args...).Scan(dest...))
}
