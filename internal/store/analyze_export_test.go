package store

import "context"

// AnalyzeLikeAutovacuum refreshes PostgreSQL's planner statistics, as
// autovacuum does on a live database after a bulk insert; a benchmark that
// seeds thousands of rows and queries at once would otherwise measure
// plans made for empty tables. SQLite keeps no statistics unless asked: a
// no-op there.
func AnalyzeLikeAutovacuum(ctx context.Context, s *Store) error {
	if s.dialect != Postgres {
		return nil
	}
	return s.db.WithContext(ctx).Exec("ANALYZE").Error
}
