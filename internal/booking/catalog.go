package booking

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Provider is a surgeon or clinician who sees patients, optionally linked to
// the staff account they log in with.
type Provider struct {
	ID        uuid.UUID
	Name      string // display name, "Dr. Dana Reyes"
	Title     string // "Spine surgeon"; optional
	StaffID   *uuid.UUID
	Active    bool
	CreatedAt time.Time
}

// Validate trims surrounding white space from the text fields, then checks
// them: name 1 to 200 characters, title at most 200. It returns a
// *ValidationError naming the JSON fields ("name", "title") that are wrong.
func (p *Provider) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	p.Title = strings.TrimSpace(p.Title)
	var pr Problems
	checkText(&pr, "name", p.Name, true, 200, false)
	checkText(&pr, "title", p.Title, false, 200, false)
	return pr.Err()
}

// Location is a place where patients are seen; telehealth is a location too.
// Its Timezone is the IANA zone its schedules' wall-clock times are in.
type Location struct {
	ID           uuid.UUID
	Name         string
	Description  string // optional, shown to patients; may span lines
	Address      string // optional; may span lines
	Timezone     string // IANA name, "America/Los_Angeles"
	Phone        string // optional, E.164: the number patients call about it
	OpeningHours string // optional, one line: "Mon-Fri 8:00-17:00"
	Translations Translations
	Active       bool
	CreatedAt    time.Time
}

// Validate trims surrounding white space from the text fields, then checks
// them: name 1 to 200 characters, description at most 2000, address at most
// 500, timezone a known IANA name (see ParseTimezone), phone an E.164
// number (separators dropped, see NormalizePhone), opening_hours one line of
// at most 200, and the translations (see Translations.Validate). It returns
// a *ValidationError naming the JSON fields that are wrong.
func (l *Location) Validate() error {
	l.Name = strings.TrimSpace(l.Name)
	l.Description = strings.TrimSpace(l.Description)
	l.Address = strings.TrimSpace(l.Address)
	l.Timezone = strings.TrimSpace(l.Timezone)
	l.OpeningHours = strings.TrimSpace(l.OpeningHours)
	var pr Problems
	checkText(&pr, "name", l.Name, true, 200, false)
	checkText(&pr, "description", l.Description, false, 2000, true)
	checkText(&pr, "address", l.Address, false, 500, true)
	if _, err := ParseTimezone(l.Timezone); err != nil {
		pr.Add("timezone", FieldFormat, err.Error())
	}
	if l.Phone = strings.TrimSpace(l.Phone); l.Phone != "" {
		if p, ok := NormalizePhone(l.Phone); ok {
			l.Phone = p
		} else {
			pr.Add("phone", FieldFormat, phoneMessage)
		}
	}
	checkText(&pr, "opening_hours", l.OpeningHours, false, 200, false)
	l.Translations.validate(&pr)
	return pr.Err()
}

// Localized returns l with its name and description in locale, where a
// translation gives them.
func (l Location) Localized(locale string) Location {
	t := l.Translations[locale]
	if t.Name != "" {
		l.Name = t.Name
	}
	if t.Description != "" {
		l.Description = t.Description
	}
	return l
}

// Duration limits of consultation types and schedule slots, in minutes: from
// a short check to a working day.
const (
	MinSlotMinutes = 5
	MaxSlotMinutes = 480
)

// ConsultationType is a kind of appointment: new patient consultation,
// follow-up, second opinion, telehealth, post-op check... A web request for a
// type that RequiresConfirmation starts pending (see InitialStatus).
type ConsultationType struct {
	ID                   uuid.UUID
	Name                 string
	Description          string // optional; may span lines
	DurationMinutes      int
	RequiresConfirmation bool
	Translations         Translations
	Active               bool
	CreatedAt            time.Time
}

// Localized returns c with its name and description in locale, where a
// translation gives them.
func (c ConsultationType) Localized(locale string) ConsultationType {
	t := c.Translations[locale]
	if t.Name != "" {
		c.Name = t.Name
	}
	if t.Description != "" {
		c.Description = t.Description
	}
	return c
}

// Validate trims surrounding white space from the text fields, then checks
// them: name 1 to 200 characters, description at most 2000, duration_minutes
// from 5 to 480, and the translations (see Translations.Validate). It returns a *ValidationError naming the JSON fields
// ("name", "description", "duration_minutes") that are wrong.
func (c *ConsultationType) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	var pr Problems
	checkText(&pr, "name", c.Name, true, 200, false)
	checkText(&pr, "description", c.Description, false, 2000, true)
	checkRange(&pr, "duration_minutes", c.DurationMinutes, MinSlotMinutes, MaxSlotMinutes)
	c.Translations.validate(&pr)
	return pr.Err()
}

// checkText records a problem for field when s (already trimmed) is empty
// although required, is longer than max characters, or holds control
// characters. Multi-line fields may hold line breaks and tabs; single-line
// ones, such as names, may not, because they end up in lists and messages.
func checkText(p *Problems, field, s string, required bool, max int, multiline bool) {
	switch {
	case s == "":
		p.Check(!required, field, FieldRequired, "is required")
	case utf8.RuneCountInString(s) > max:
		p.AddLimit(field, FieldTooLong, max, fmt.Sprintf("must be at most %d characters", max))
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}):
		p.Add(field, FieldPattern, "must not contain control characters")
	}
}

// checkRange records a problem for field when n is outside [min, max].
func checkRange(p *Problems, field string, n, min, max int) {
	msg := fmt.Sprintf("must be between %d and %d", min, max)
	if p.CheckLimit(n >= min, field, FieldTooSmall, min, msg) {
		p.CheckLimit(n <= max, field, FieldTooLarge, max, msg)
	}
}
