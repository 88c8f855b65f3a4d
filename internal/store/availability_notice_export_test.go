package store

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// MigratePostgresDownTo moves the PostgreSQL schema of the database at url
// (its search_path) down to version with the store's own migrations, as an
// operator rolling back would.
func MigratePostgresDownTo(ctx context.Context, url string, version int64) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithGoMigrations(goMigrations(true)...), goose.WithAllowOutofOrder(true))
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
