package store

import "context"

// PlanCacheModes returns the plan_cache_mode of a session of the main pool
// and of the search pool (PostgreSQL), and whether the two pools are one.
func PlanCacheModes(ctx context.Context, s *Store) (main, search string, same bool, err error) {
	if err = s.sqlDB.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&main); err != nil {
		return "", "", false, err
	}
	if err = s.searchSQLDB.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&search); err != nil {
		return "", "", false, err
	}
	return main, search, s.searchSQLDB == s.sqlDB, nil
}
