package store

import (
	"context"

	"github.com/google/uuid"
)

// ScheduleSlotRows returns how many slot rows schedule id has generated and
// how many distinct start times they have (fewer means duplicates).
func ScheduleSlotRows(ctx context.Context, s *Store, id uuid.UUID) (rows, starts int, err error) {
	err = s.sqlDB.QueryRowContext(ctx, bindFor(s.dialect == Postgres)("SELECT COUNT(*), COUNT(DISTINCT start_at) FROM slots WHERE schedule_id = ?"), id.String()).
		Scan(&rows, &starts)
	return rows, starts, err
}
