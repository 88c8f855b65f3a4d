package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

type providerRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Title     string
	StaffID   *string
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (providerRow) TableName() string { return "providers" }

func providerToRow(p booking.Provider, updated time.Time) providerRow {
	return providerRow{
		ID: p.ID.String(), Name: p.Name, Title: p.Title, StaffID: uuidPtrString(p.StaffID),
		Active: p.Active, CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(updated),
	}
}

func (r providerRow) toDomain() (booking.Provider, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Provider{}, fmt.Errorf("provider row %q: %w", r.ID, err)
	}
	return booking.Provider{
		ID: id, Name: r.Name, Title: r.Title, StaffID: parseUUIDPtr(r.StaffID),
		Active: r.Active, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

type locationRow struct {
	ID           string `gorm:"primaryKey"`
	Name         string
	Description  string
	Address      string
	Timezone     string
	Phone        string
	OpeningHours string
	Translations string // JSON, see translationsJSON
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (locationRow) TableName() string { return "locations" }

func locationToRow(l booking.Location, updated time.Time) locationRow {
	return locationRow{
		ID: l.ID.String(), Name: l.Name, Description: l.Description, Address: l.Address, Timezone: l.Timezone,
		Phone: l.Phone, OpeningHours: l.OpeningHours, Translations: translationsToJSON(l.Translations),
		Active: l.Active, CreatedAt: utc(l.CreatedAt), UpdatedAt: utc(updated),
	}
}

func (r locationRow) toDomain() (booking.Location, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Location{}, fmt.Errorf("location row %q: %w", r.ID, err)
	}
	ts, err := translationsFromJSON(r.Translations)
	if err != nil {
		return booking.Location{}, fmt.Errorf("location row %q: %w", r.ID, err)
	}
	return booking.Location{
		ID: id, Name: r.Name, Description: r.Description, Address: r.Address, Timezone: r.Timezone,
		Phone: r.Phone, OpeningHours: r.OpeningHours, Translations: ts,
		Active: r.Active, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

type consultationTypeRow struct {
	ID                   string `gorm:"primaryKey"`
	Name                 string
	Description          string
	DurationMinutes      int
	RequiresConfirmation bool
	Translations         string // JSON, see translationsJSON
	Active               bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (consultationTypeRow) TableName() string { return "consultation_types" }

func consultationTypeToRow(c booking.ConsultationType, updated time.Time) consultationTypeRow {
	return consultationTypeRow{
		ID: c.ID.String(), Name: c.Name, Description: c.Description, DurationMinutes: c.DurationMinutes,
		RequiresConfirmation: c.RequiresConfirmation, Translations: translationsToJSON(c.Translations),
		Active: c.Active, CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(updated),
	}
}

func (r consultationTypeRow) toDomain() (booking.ConsultationType, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.ConsultationType{}, fmt.Errorf("consultation type row %q: %w", r.ID, err)
	}
	ts, err := translationsFromJSON(r.Translations)
	if err != nil {
		return booking.ConsultationType{}, fmt.Errorf("consultation type row %q: %w", r.ID, err)
	}
	return booking.ConsultationType{
		ID: id, Name: r.Name, Description: r.Description, DurationMinutes: r.DurationMinutes,
		RequiresConfirmation: r.RequiresConfirmation, Translations: ts, Active: r.Active, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// catalogRow is a row type of the catalogue.
type catalogRow interface {
	providerRow | locationRow | consultationTypeRow
}

// takeByID reads the row with id into a T; booking.ErrNotFound when there is
// none. what names the entity in error messages.
func takeByID[T catalogRow](db *gorm.DB, what string, id uuid.UUID) (T, error) {
	var row T
	if err := db.Where("id = ?", id.String()).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return row, fmt.Errorf("%s: %w", what, booking.ErrNotFound)
		}
		return row, fmt.Errorf("%s: %w", what, err)
	}
	return row, nil
}

// CreateProvider inserts p; the caller sets its ID and CreatedAt.
func (s *Store) CreateProvider(ctx context.Context, p booking.Provider) error {
	row := providerToRow(p, p.CreatedAt)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create provider: %w", booking.ErrDuplicate)
		}
		return fmt.Errorf("create provider: %w", err)
	}
	return nil
}

// Provider returns one provider, active or not; booking.ErrNotFound when
// unknown.
func (s *Store) Provider(ctx context.Context, id uuid.UUID) (booking.Provider, error) {
	row, err := takeByID[providerRow](s.db.WithContext(ctx), "provider", id)
	if err != nil {
		return booking.Provider{}, err
	}
	return row.toDomain()
}

// CreateLocation inserts l; the caller sets its ID and CreatedAt and has
// validated its timezone.
func (s *Store) CreateLocation(ctx context.Context, l booking.Location) error {
	row := locationToRow(l, l.CreatedAt)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create location: %w", booking.ErrDuplicate)
		}
		return fmt.Errorf("create location: %w", err)
	}
	return nil
}

// Location returns one location, active or not; booking.ErrNotFound when
// unknown.
func (s *Store) Location(ctx context.Context, id uuid.UUID) (booking.Location, error) {
	row, err := takeByID[locationRow](s.db.WithContext(ctx), "location", id)
	if err != nil {
		return booking.Location{}, err
	}
	return row.toDomain()
}

// CreateConsultationType inserts ct; the caller sets its ID and CreatedAt.
func (s *Store) CreateConsultationType(ctx context.Context, ct booking.ConsultationType) error {
	row := consultationTypeToRow(ct, ct.CreatedAt)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("create consultation type: %w", booking.ErrDuplicate)
		}
		return fmt.Errorf("create consultation type: %w", err)
	}
	return nil
}

// ConsultationType returns one consultation type, active or not;
// booking.ErrNotFound when unknown.
func (s *Store) ConsultationType(ctx context.Context, id uuid.UUID) (booking.ConsultationType, error) {
	row, err := takeByID[consultationTypeRow](s.db.WithContext(ctx), "consultation type", id)
	if err != nil {
		return booking.ConsultationType{}, err
	}
	return row.toDomain()
}

// ListProviders returns the providers ordered by name, then id; only the
// active ones unless includeInactive. The catalogue is small: no paging.
func (s *Store) ListProviders(ctx context.Context, includeInactive bool) ([]booking.Provider, error) {
	var rows []providerRow
	if err := catalogQuery(s.db.WithContext(ctx), includeInactive).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	return mapRows(rows, providerRow.toDomain)
}

// ListLocations returns the locations ordered by name, then id; only the
// active ones unless includeInactive.
func (s *Store) ListLocations(ctx context.Context, includeInactive bool) ([]booking.Location, error) {
	var rows []locationRow
	if err := catalogQuery(s.db.WithContext(ctx), includeInactive).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	return mapRows(rows, locationRow.toDomain)
}

// ListConsultationTypes returns the consultation types ordered by name, then
// id; only the active ones unless includeInactive.
func (s *Store) ListConsultationTypes(ctx context.Context, includeInactive bool) ([]booking.ConsultationType, error) {
	var rows []consultationTypeRow
	if err := catalogQuery(s.db.WithContext(ctx), includeInactive).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list consultation types: %w", err)
	}
	return mapRows(rows, consultationTypeRow.toDomain)
}

func catalogQuery(db *gorm.DB, includeInactive bool) *gorm.DB {
	q := db.Order("name, id")
	if !includeInactive {
		q = q.Where("active = ?", true)
	}
	return q
}

func mapRows[R, T any](rows []R, toDomain func(R) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		v, err := toDomain(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateProvider applies fn to the provider in one transaction, with its row
// locked, and saves the result; booking.ErrNotFound when unknown. fn checks
// the change and returns its error to abort.
func (s *Store) UpdateProvider(ctx context.Context, id uuid.UUID, fn func(*booking.Provider) error) (booking.Provider, error) {
	var out booking.Provider
	err := s.tx(ctx, func(tx *gorm.DB) error {
		row, err := takeByID[providerRow](tx.Clauses(clause.Locking{Strength: "UPDATE"}), "provider", id)
		if err != nil {
			return err
		}
		p, err := row.toDomain()
		if err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		p.ID, p.CreatedAt = id, row.CreatedAt
		updated := providerToRow(p, s.now())
		if err := tx.Save(&updated).Error; err != nil {
			return err
		}
		if row.Active && !p.Active {
			if err := deleteProviderFeed(tx, id); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	if err != nil {
		return booking.Provider{}, fmt.Errorf("update provider: %w", err)
	}
	return out, nil
}

// UpdateLocation applies fn to the location in one transaction, with its row
// locked, and saves the result; booking.ErrNotFound when unknown.
//
// The timezone cannot change once the location has slots or schedules
// (booking.ErrTimezoneInUse): schedules are wall-clock times in it and
// booked slots were shown to patients in it, so a new zone would silently
// move them. The location row is locked first, and on PostgreSQL a slot or
// schedule insert takes a key-share lock on the row it references, so no
// slot can appear between the check and the change.
func (s *Store) UpdateLocation(ctx context.Context, id uuid.UUID, fn func(*booking.Location) error) (booking.Location, error) {
	var out booking.Location
	err := s.tx(ctx, func(tx *gorm.DB) error {
		row, err := takeByID[locationRow](tx.Clauses(clause.Locking{Strength: "UPDATE"}), "location", id)
		if err != nil {
			return err
		}
		l, err := row.toDomain()
		if err != nil {
			return err
		}
		if err := fn(&l); err != nil {
			return err
		}
		if l.Timezone != row.Timezone {
			if err := locationUnused(tx, id); err != nil {
				return err
			}
		}
		l.ID, l.CreatedAt = id, row.CreatedAt
		updated := locationToRow(l, s.now())
		if err := tx.Save(&updated).Error; err != nil {
			return err
		}
		out = l
		return nil
	})
	if err != nil {
		return booking.Location{}, fmt.Errorf("update location: %w", err)
	}
	return out, nil
}

// UpdateConsultationType applies fn to the consultation type in one
// transaction, with its row locked, and saves the result;
// booking.ErrNotFound when unknown.
func (s *Store) UpdateConsultationType(ctx context.Context, id uuid.UUID, fn func(*booking.ConsultationType) error) (booking.ConsultationType, error) {
	var out booking.ConsultationType
	err := s.tx(ctx, func(tx *gorm.DB) error {
		row, err := takeByID[consultationTypeRow](tx.Clauses(clause.Locking{Strength: "UPDATE"}), "consultation type", id)
		if err != nil {
			return err
		}
		ct, err := row.toDomain()
		if err != nil {
			return err
		}
		if err := fn(&ct); err != nil {
			return err
		}
		ct.ID, ct.CreatedAt = id, row.CreatedAt
		updated := consultationTypeToRow(ct, s.now())
		if err := tx.Save(&updated).Error; err != nil {
			return err
		}
		out = ct
		return nil
	})
	if err != nil {
		return booking.ConsultationType{}, fmt.Errorf("update consultation type: %w", err)
	}
	return out, nil
}

// CheckCatalogRefs returns a *booking.ValidationError naming provider_id,
// location_id or consultation_type_id for each that is unknown or
// inactive, and nil when all three may take slots. CreateSlot and
// CreateSchedule check this themselves; handlers call it to report these
// fields together with a request's other problems.
func (s *Store) CheckCatalogRefs(ctx context.Context, providerID, locationID, typeID uuid.UUID) error {
	_, err := checkRefs(s.db.WithContext(ctx), providerID, locationID, typeID, false)
	return err
}

// locationUnused returns booking.ErrTimezoneInUse when any slot or schedule
// refers to the location.
func locationUnused(tx *gorm.DB, id uuid.UUID) error {
	for _, table := range []string{"slots", "schedules"} {
		var n int64
		if err := tx.Table(table).Where("location_id = ?", id.String()).Limit(1).Count(&n).Error; err != nil {
			return fmt.Errorf("count %s: %w", table, err)
		}
		if n > 0 {
			return booking.ErrTimezoneInUse
		}
	}
	return nil
}
