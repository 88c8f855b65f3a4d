package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

// triageOverrideJSON is the triage_override column.
type triageOverrideJSON struct {
	AdvisedEmergencyCare bool      `json:"advised_emergency_care"`
	Note                 string    `json:"note"`
	StaffID              string    `json:"staff_id"`
	At                   time.Time `json:"at"`
}

// triageCols are a booking's triage columns as written.
type triageCols struct {
	version  *string
	level    string
	rules    string
	override *string
}

func triageColumns(b booking.Booking) (triageCols, error) {
	out := triageCols{level: string(b.Triage.Level)}
	if out.level == "" {
		out.level = string(booking.TriageRoutine)
	}
	if b.IntakeFormVersion != "" {
		v := b.IntakeFormVersion
		out.version = &v
	}
	rules := b.Triage.Rules
	if rules == nil {
		rules = []string{}
	}
	raw, err := json.Marshal(rules)
	if err != nil {
		return triageCols{}, fmt.Errorf("booking triage: %w", err)
	}
	out.rules = string(raw)
	if o := b.TriageOverride; o != nil {
		raw, err := json.Marshal(triageOverrideJSON{AdvisedEmergencyCare: o.AdvisedEmergencyCare, Note: o.Note,
			StaffID: o.StaffID.String(), At: utc(o.At)})
		if err != nil {
			return triageCols{}, fmt.Errorf("booking triage override: %w", err)
		}
		s := string(raw)
		out.override = &s
	}
	return out, nil
}

type triageRead struct {
	booking.Triage
	version  string
	override *booking.TriageOverride
}

func (r bookingRow) triage() (triageRead, error) {
	out := triageRead{Triage: booking.Triage{Level: booking.TriageLevel(r.TriageLevel), Rules: []string{}}}
	if out.Level == "" {
		out.Level = booking.TriageRoutine
	}
	if r.IntakeFormVersion != nil {
		out.version = *r.IntakeFormVersion
	}
	if r.TriageRules != "" {
		if err := json.Unmarshal([]byte(r.TriageRules), &out.Rules); err != nil {
			return triageRead{}, fmt.Errorf("booking row %q: triage rules: %w", r.ID, err)
		}
	}
	if r.TriageOverride != nil {
		var o triageOverrideJSON
		if err := json.Unmarshal([]byte(*r.TriageOverride), &o); err != nil {
			return triageRead{}, fmt.Errorf("booking row %q: triage override: %w", r.ID, err)
		}
		staff, err := uuid.Parse(o.StaffID)
		if err != nil {
			return triageRead{}, fmt.Errorf("booking row %q: triage override staff: %w", r.ID, err)
		}
		out.override = &booking.TriageOverride{AdvisedEmergencyCare: o.AdvisedEmergencyCare, Note: o.Note, StaffID: staff, At: o.At.UTC()}
	}
	return out, nil
}

// intakeFormRow is a row of intake_forms.
type intakeFormRow struct {
	Version    string    `gorm:"column:version;primaryKey"`
	Definition string    `gorm:"column:definition"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (intakeFormRow) TableName() string { return "intake_forms" }

// IntakeFormVersion is one version of the intake form as it was served.
type IntakeFormVersion struct {
	Version    string
	Definition json.RawMessage // booking.IntakeFormDocument
	CreatedAt  time.Time       // when this database first served it
}

// SaveIntakeForm keeps version of the intake form with its definition,
// unless it is kept already: a version's definition never changes (the
// version is a digest of it), so the first row stays.
func (s *Store) SaveIntakeForm(ctx context.Context, version string, definition []byte) error {
	row := intakeFormRow{Version: version, Definition: string(definition), CreatedAt: utc(s.now())}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save intake form %s: %w", version, err)
	}
	return nil
}

// IntakeForm returns the kept version of the intake form, or
// booking.ErrNotFound.
func (s *Store) IntakeForm(ctx context.Context, version string) (IntakeFormVersion, error) {
	var row intakeFormRow
	err := s.db.WithContext(ctx).Where("version = ?", version).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return IntakeFormVersion{}, fmt.Errorf("intake form %s: %w", version, booking.ErrNotFound)
	}
	if err != nil {
		return IntakeFormVersion{}, fmt.Errorf("intake form %s: %w", version, err)
	}
	return IntakeFormVersion{Version: row.Version, Definition: json.RawMessage(row.Definition), CreatedAt: row.CreatedAt.UTC()}, nil
}

// IntakeFormVersions lists the kept versions of the intake form, newest
// first, without their definitions.
func (s *Store) IntakeFormVersions(ctx context.Context) ([]IntakeFormVersion, error) {
	var rows []intakeFormRow
	if err := s.db.WithContext(ctx).Select("version, created_at").Order("created_at DESC, version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("intake form versions: %w", err)
	}
	out := make([]IntakeFormVersion, 0, len(rows))
	for _, r := range rows {
		out = append(out, IntakeFormVersion{Version: r.Version, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}
