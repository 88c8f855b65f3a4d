package store

import (
	"context"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// SetWaitlistLatest writes a waitlist entry's latest date directly, so
// that a test can have an entry whose dates have passed (a join refuses
// them).
func SetWaitlistLatest(ctx context.Context, s *Store, id uuid.UUID, latest booking.Date) error {
	return s.db.WithContext(ctx).Exec("UPDATE waitlist_entries SET latest_date = ? WHERE id = ?", latest.String(), id.String()).Error
}
