package store

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/clinic/consult/internal/booking"
)

// searchDoc101 is the search document as version 101 wrote it: the words
// lower-cased, without their folded forms.
func searchDoc101(words []string, reference, phone string) string {
	var parts []string
	for _, w := range words {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			parts = append(parts, w)
		}
	}
	if reference != "" {
		parts = append(parts, strings.ToLower(reference), strings.ToLower(strings.ReplaceAll(reference, "-", "")))
	}
	if phone != "" {
		parts = append(parts, phone)
		digits := booking.DigitsOf(phone)
		for i := 0; i+3 <= len(digits); i++ {
			parts = append(parts, digits[i:])
		}
	}
	return strings.Join(parts, " ")
}

// BackTo101 moves s's database down to version 101 as a server of that
// version left it: the schema version, and every search document in the
// form it wrote (searchDoc101), the bookings and the records made with them
// sharing one document on SQLite.
func BackTo101(ctx context.Context, s *Store) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if s.dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, s.sqlDB, fsys, goose.WithGoMigrations(goMigrations(s.dialect == Postgres)...))
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, 101); err != nil {
		return err
	}
	tx, err := s.wsqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	bind := bindFor(s.dialect == Postgres)
	for _, q := range []struct{ table, sel string }{
		{"bookings", "SELECT id, patient_first_name, patient_last_name, patient_email, reference, patient_phone FROM bookings"},
		{"patients", "SELECT id, first_name, last_name, email, '', phone FROM patients"},
	} {
		rows, err := tx.QueryContext(ctx, q.sel)
		if err != nil {
			return err
		}
		docs := map[string]string{}
		for rows.Next() {
			var id, first, last, email, ref, phone string
			if err := rows.Scan(&id, &first, &last, &email, &ref, &phone); err != nil {
				rows.Close()
				return err
			}
			docs[id] = searchDoc101([]string{first, last, email}, ref, phone)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for id, doc := range docs {
			if _, err := tx.ExecContext(ctx, bind("UPDATE "+q.table+" SET search_text = ? WHERE id = ?"), doc, id); err != nil {
				return fmt.Errorf("%s %s: %w", q.table, id, err)
			}
		}
	}
	if s.dialect == SQLite {
		if err := shareSearchDocs(ctx, tx); err != nil {
			return err
		}
		if err := flushSearchQueue(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
