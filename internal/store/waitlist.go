package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

// The waitlist's offers keep rule 1 by being slot holds: an offer inserts a
// row of slot_holds (client_hash "waitlist:<entry id>", a random token
// known only by its hash to waitlist_offers), under the slot row's lock,
// after counting the live holds, exactly as CreateHold does. So a staff
// booking or a widget hold racing the offer, or its accept, sees the held
// place as taken (occupySlot counts live holds after its lock), and the
// accept consumes the hold and takes the place in one transaction, as a
// widget's booking with a hold does (CreateHeldBooking). An offer whose hold
// expired counts for nothing by itself, like any hold.

// waitlistEntryRow is a row of waitlist_entries.
type waitlistEntryRow struct {
	ID                 string     `gorm:"column:id;primaryKey"`
	Reference          string     `gorm:"column:reference"`
	ConsultationTypeID string     `gorm:"column:consultation_type_id"`
	ProviderID         *string    `gorm:"column:provider_id"`
	LocationID         *string    `gorm:"column:location_id"`
	EarliestDate       string     `gorm:"column:earliest_date"`
	LatestDate         string     `gorm:"column:latest_date"`
	TimesOfDay         string     `gorm:"column:times_of_day"`
	PatientFirstName   string     `gorm:"column:patient_first_name"`
	PatientLastName    string     `gorm:"column:patient_last_name"`
	PatientDOB         string     `gorm:"column:patient_dob"`
	PatientPhone       string     `gorm:"column:patient_phone"`
	PatientEmail       string     `gorm:"column:patient_email"`
	Intake             string     `gorm:"column:intake"`
	ConsentPrivacy     bool       `gorm:"column:consent_privacy"`
	ConsentSMS         bool       `gorm:"column:consent_sms"`
	ConsentEmail       bool       `gorm:"column:consent_email"`
	TriageLevel        string     `gorm:"column:triage_level"`
	TriageRules        string     `gorm:"column:triage_rules"`
	Source             string     `gorm:"column:source"`
	Status             string     `gorm:"column:status"`
	BookingID          *string    `gorm:"column:booking_id"`
	Locale             string     `gorm:"column:locale"`
	LinkResentAt       *time.Time `gorm:"column:link_resent_at"`
	CreatedAt          time.Time  `gorm:"column:created_at"`
	UpdatedAt          time.Time  `gorm:"column:updated_at"`
}

func (waitlistEntryRow) TableName() string { return "waitlist_entries" }

// waitlistOfferRow is a row of waitlist_offers.
type waitlistOfferRow struct {
	ID            string    `gorm:"column:id;primaryKey"`
	EntryID       string    `gorm:"column:entry_id"`
	SlotID        string    `gorm:"column:slot_id"`
	HoldID        string    `gorm:"column:hold_id"`
	HoldTokenHash string    `gorm:"column:hold_token_hash"`
	StartAt       int64     `gorm:"column:start_at"`
	ExpiresAt     int64     `gorm:"column:expires_at"`
	Status        string    `gorm:"column:status"`
	Told          bool      `gorm:"column:told"`
	CreatedAt     time.Time `gorm:"column:created_at"`
}

func (waitlistOfferRow) TableName() string { return "waitlist_offers" }

// Offer row statuses.
const (
	offerLive      = "live"
	offerAccepted  = "accepted"
	offerDeclined  = "declined"
	offerLapsed    = "lapsed"
	offerWithdrawn = "withdrawn"
)

type waitlistEventRow struct {
	ID           string    `gorm:"column:id;primaryKey"`
	EntryID      string    `gorm:"column:entry_id"`
	Type         string    `gorm:"column:type"`
	SlotID       *string   `gorm:"column:slot_id"`
	ActorType    string    `gorm:"column:actor_type"`
	ActorStaffID *string   `gorm:"column:actor_staff_id"`
	At           time.Time `gorm:"column:at"`
}

func (waitlistEventRow) TableName() string { return "waitlist_events" }

type waitlistTokenRow struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey"`
	EntryID   string    `gorm:"column:entry_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (waitlistTokenRow) TableName() string { return "waitlist_tokens" }

func entryToRow(e booking.WaitlistEntry) (waitlistEntryRow, error) {
	// The intake and patient columns are a booking's.
	br, err := bookingToRow(booking.Booking{Intake: e.Intake, Triage: e.Triage}, time.Time{})
	if err != nil {
		return waitlistEntryRow{}, fmt.Errorf("waitlist entry: %w", err)
	}
	times, err := json.Marshal(strs(e.TimesOfDay))
	if err != nil {
		return waitlistEntryRow{}, fmt.Errorf("waitlist entry times: %w", err)
	}
	return waitlistEntryRow{
		ID: e.ID.String(), Reference: e.Reference, ConsultationTypeID: e.ConsultationTypeID.String(),
		ProviderID: uuidPtrString(e.ProviderID), LocationID: uuidPtrString(e.LocationID),
		EarliestDate: e.Earliest.String(), LatestDate: e.Latest.String(), TimesOfDay: string(times),
		PatientFirstName: e.Patient.FirstName, PatientLastName: e.Patient.LastName,
		PatientDOB: e.Patient.DateOfBirth.String(), PatientPhone: e.Patient.Phone, PatientEmail: e.Patient.Email,
		Intake: br.Intake, ConsentPrivacy: e.Consent.PrivacyPolicyAccepted, ConsentSMS: e.Consent.ContactBySMS,
		ConsentEmail: e.Consent.ContactByEmail, TriageLevel: br.TriageLevel, TriageRules: br.TriageRules,
		Source: string(e.Source), Status: string(e.Status), BookingID: uuidPtrString(e.BookingID),
		Locale: localeOrDefault(e.Locale), LinkResentAt: utcPtr(e.LinkResentAt),
		CreatedAt: utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt),
	}, nil
}

func (r waitlistEntryRow) toDomain(offer *waitlistOfferRow) (booking.WaitlistEntry, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row %q: %w", r.ID, err)
	}
	typeID, err := uuid.Parse(r.ConsultationTypeID)
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row %q: type: %w", r.ID, err)
	}
	// The patient, intake and triage read as a booking's.
	b, err := bookingRow{ID: r.ID, SlotID: uuid.Nil.String(), PatientDOB: r.PatientDOB, Intake: r.Intake,
		TriageLevel: r.TriageLevel, TriageRules: r.TriageRules}.toDomain()
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row: %w", err)
	}
	earliest, err := booking.ParseDate(r.EarliestDate)
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row %q: earliest: %w", r.ID, err)
	}
	latest, err := booking.ParseDate(r.LatestDate)
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row %q: latest: %w", r.ID, err)
	}
	var times []string
	if err := json.Unmarshal([]byte(r.TimesOfDay), &times); err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist row %q: times: %w", r.ID, err)
	}
	e := booking.WaitlistEntry{
		ID: id, Reference: r.Reference, ConsultationTypeID: typeID,
		ProviderID: parseUUIDPtr(r.ProviderID), LocationID: parseUUIDPtr(r.LocationID),
		Earliest: earliest, Latest: latest,
		Patient: booking.Patient{FirstName: r.PatientFirstName, LastName: r.PatientLastName, DateOfBirth: b.Patient.DateOfBirth,
			Phone: r.PatientPhone, Email: r.PatientEmail},
		Intake:  b.Intake,
		Consent: booking.Consent{PrivacyPolicyAccepted: r.ConsentPrivacy, ContactBySMS: r.ConsentSMS, ContactByEmail: r.ConsentEmail},
		Triage:  b.Triage, Source: booking.Source(r.Source), Status: booking.WaitlistStatus(r.Status),
		BookingID: parseUUIDPtr(r.BookingID), Locale: localeOrDefault(r.Locale), LinkResentAt: utcPtr(r.LinkResentAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if len(times) > 0 {
		e.TimesOfDay = typed[booking.TimeOfDay](times)
	}
	if offer != nil && e.Status == booking.WaitlistOffered {
		e.Offer = &booking.WaitlistOffer{
			ID: uuid.MustParse(offer.ID), SlotID: uuid.MustParse(offer.SlotID),
			StartAt: time.Unix(offer.StartAt, 0).UTC(), ExpiresAt: time.Unix(offer.ExpiresAt, 0).UTC(),
			OfferedAt: offer.CreatedAt.UTC(),
		}
	}
	return e, nil
}

// insertWaitlistEvents appends events to entry e's history and, for the
// steps the live feed reports, their feed events (appendWaitlistFeed), in
// tx: e is the entry as it stands after the steps.
func insertWaitlistEvents(tx *gorm.DB, e booking.WaitlistEntry, events ...booking.WaitlistEvent) error {
	if err := appendWaitlistFeed(tx, e, events...); err != nil {
		return err
	}
	for _, ev := range events {
		row := waitlistEventRow{ID: ev.ID.String(), EntryID: ev.EntryID.String(), Type: string(ev.Type),
			SlotID: uuidPtrString(ev.SlotID), ActorType: string(ev.Actor.Type), ActorStaffID: uuidPtrString(ev.Actor.StaffID), At: utc(ev.At)}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert waitlist event: %w", err)
		}
	}
	return nil
}

func insertWaitlistToken(tx *gorm.DB, entryID uuid.UUID, hash string, at time.Time) error {
	if err := tx.Create(&waitlistTokenRow{TokenHash: hash, EntryID: entryID.String(), CreatedAt: utc(at)}).Error; err != nil {
		return fmt.Errorf("insert waitlist token: %w", err)
	}
	return nil
}

// saveEntry writes e's status and booking over its row.
func saveEntry(tx *gorm.DB, e booking.WaitlistEntry) error {
	res := tx.Model(&waitlistEntryRow{}).Where("id = ?", e.ID.String()).Updates(map[string]any{
		"status": string(e.Status), "booking_id": uuidPtrString(e.BookingID), "updated_at": utc(e.UpdatedAt),
	})
	if res.Error != nil {
		return fmt.Errorf("save waitlist entry: %w", res.Error)
	}
	return nil
}

// loadEntry reads entry id with its live offer; with lock, the row is
// locked for the rest of tx (PostgreSQL; SQLite's transaction excludes
// other writers). It returns booking.ErrNotFound for an unknown id.
func loadEntry(tx *gorm.DB, id uuid.UUID, lock bool) (booking.WaitlistEntry, *waitlistOfferRow, error) {
	q := tx
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []waitlistEntryRow
	if err := q.Where("id = ?", id.String()).Limit(1).Find(&rows).Error; err != nil {
		return booking.WaitlistEntry{}, nil, fmt.Errorf("read waitlist entry: %w", err)
	}
	if len(rows) == 0 {
		return booking.WaitlistEntry{}, nil, fmt.Errorf("waitlist entry: %w", booking.ErrNotFound)
	}
	var offers []waitlistOfferRow
	if err := tx.Where("entry_id = ? AND status = ?", id.String(), offerLive).Limit(1).Find(&offers).Error; err != nil {
		return booking.WaitlistEntry{}, nil, fmt.Errorf("read waitlist offer: %w", err)
	}
	var offer *waitlistOfferRow
	if len(offers) == 1 {
		offer = &offers[0]
	}
	e, err := rows[0].toDomain(offer)
	return e, offer, err
}

// JoinOptions are JoinWaitlist's rules: MaxLive (see JoinWaitlist), and
// with Idem, the Idempotency-Key of the call, whose response Render makes
// from the entry (Idem.Response is not used). Resend, when set, writes in
// the join's transaction the messages that send an existing entry's link
// again (see JoinWaitlist) and reports whether it wrote any.
type JoinOptions struct {
	MaxLive int
	Idem    *Idempotency
	Render  func(j Joined) (Response, error)
	Resend  func(tx *sql.Tx, e booking.WaitlistEntry) (bool, error)
}

// Joined is what JoinWaitlist did: the entry (a new one, or the same
// patient's live one when Existing, with LinkResent when its link was sent
// again), or, when the Idempotency-Key had been used with the same
// request, the first response in Replay.
type Joined struct {
	Entry      booking.WaitlistEntry
	Existing   bool
	LinkResent bool
	Replay     *Response
}

// JoinWaitlist adds entry e (with its joined event ev) to the waitlist, or,
// when a live entry with the same consultation type, dates and phone or
// email is there already, gives that entry back (Existing) without any
// token of it: whoever repeats a patient's details must not get the means
// to manage their entry. The entry's link goes to the patient instead:
// when booking.WaitlistEntry.LinkResendDue, o.Resend writes its messages
// in the same transaction (so one repeat sends it once, and a repeat
// whose transaction fails sends nothing), and the entry records when. For
// an entry from the web with o.MaxLive > 0, the patient's live online
// bookings and live entries together must stay under it: else
// booking.CheckLivePerPatient's error (booking.ErrPatientLimitReached).
// It returns booking.ErrIdempotencyKeyReused too.
func (s *Store) JoinWaitlist(ctx context.Context, e booking.WaitlistEntry, ev booking.WaitlistEvent, o JoinOptions) (Joined, error) {
	var out Joined
	if o.Idem != nil {
		if err := o.Idem.prepare(); err != nil {
			return Joined{}, fmt.Errorf("join waitlist: %w", err)
		}
	}
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		out = Joined{}
		now := s.now()
		var sec idempotencySecrets
		if o.Idem != nil {
			replay, secrets, err := claimIdempotencyKey(tx, o.Idem, now)
			if err != nil {
				return err
			}
			if replay != nil {
				out.Replay = replay
				return nil
			}
			sec = secrets
		}
		if err := s.joinWaitlist(tx, e, ev, o.MaxLive, now, &out); err != nil {
			return err
		}
		if out.Existing && o.Resend != nil && out.Entry.LinkResendDue(now) {
			if err := resendLink(tx, &out, now, o.Resend); err != nil {
				return err
			}
		}
		if o.Idem != nil {
			resp, err := o.Render(out)
			if err != nil {
				return err
			}
			return finishIdempotencyKey(tx, o.Idem, sec, resp)
		}
		return nil
	})
	if err != nil {
		return Joined{}, fmt.Errorf("join waitlist: %w", err)
	}
	return out, nil
}

func (s *Store) joinWaitlist(tx *gorm.DB, e booking.WaitlistEntry, ev booking.WaitlistEvent, maxLive int, now time.Time, out *Joined) error {
	email := booking.NormalizeEmail(e.Patient.Email)
	// The same locks as an online booking's (patient_limit.go), so a join
	// and a booking for one patient take turns.
	if err := s.lockOnlinePatient(tx, e.Patient.Phone, email); err != nil {
		return err
	}
	q := tx.Where("consultation_type_id = ? AND earliest_date = ? AND latest_date = ? AND status IN ?",
		e.ConsultationTypeID.String(), e.Earliest.String(), e.Latest.String(), []string{string(booking.WaitlistWaiting), string(booking.WaitlistOffered)})
	if email != "" {
		q = q.Where("(patient_phone = ? OR lower(patient_email) = ?)", e.Patient.Phone, email)
	} else {
		q = q.Where("patient_phone = ?", e.Patient.Phone)
	}
	var same []waitlistEntryRow
	if err := q.Order("created_at").Limit(1).Find(&same).Error; err != nil {
		return fmt.Errorf("find the same entry: %w", err)
	}
	if len(same) == 1 {
		id := uuid.MustParse(same[0].ID)
		// Locked: two repeats at once resend the link once.
		found, _, err := loadEntry(tx, id, true)
		if err != nil {
			return err
		}
		out.Entry, out.Existing = found, true
		return nil
	}
	if maxLive > 0 && booking.CountsOnline(e.Source) {
		live, err := countLiveOnline(tx, e.Patient.Phone, email, now)
		if err != nil {
			return err
		}
		if err := booking.CheckLivePerPatient(maxLive, live); err != nil {
			return err
		}
	}
	row, err := entryToRow(e)
	if err != nil {
		return err
	}
	if err := tx.Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return errRetry // the reference is taken
		}
		return fmt.Errorf("insert waitlist entry: %w", err)
	}
	if err := insertWaitlistToken(tx, e.ID, e.ManageTokenHash, e.CreatedAt); err != nil {
		return err
	}
	if err := insertWaitlistEvents(tx, e, ev); err != nil {
		return err
	}
	out.Entry, out.Existing = e, false
	return nil
}

// resendLink has resend write the messages of out.Entry's link in tx, and
// records when, if it wrote any.
func resendLink(tx *gorm.DB, out *Joined, now time.Time, resend func(*sql.Tx, booking.WaitlistEntry) (bool, error)) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("resend waitlist link: not in a database transaction")
	}
	sent, err := resend(sqlTx, out.Entry)
	if err != nil {
		return fmt.Errorf("resend waitlist link: %w", err)
	}
	if !sent {
		return nil
	}
	at := utc(now)
	if err := tx.Model(&waitlistEntryRow{}).Where("id = ?", out.Entry.ID.String()).Update("link_resent_at", at).Error; err != nil {
		return fmt.Errorf("record waitlist link resent: %w", err)
	}
	out.Entry.LinkResentAt, out.LinkResent = &at, true
	return nil
}

// WaitlistFilter selects ListWaitlist's entries: by Status and
// ConsultationTypeID when set, a page of Limit after Cursor.
type WaitlistFilter struct {
	Status             *booking.WaitlistStatus
	ConsultationTypeID *uuid.UUID
	Cursor             string
	Limit              int
}

// ListWaitlist returns a page of entries in the order places are offered
// (urgent first, then the oldest) and the next page's cursor ("" on the
// last). A cursor this list did not issue is a *booking.ValidationError
// naming cursor.
func (s *Store) ListWaitlist(ctx context.Context, f WaitlistFilter) ([]booking.WaitlistEntry, string, error) {
	limit := clampLimit(f.Limit)
	c, hasCursor, err := decodeCursor(listWaitlist, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&waitlistEntryRow{})
	if f.Status != nil {
		q = q.Where("status = ?", string(*f.Status))
	}
	if f.ConsultationTypeID != nil {
		q = q.Where("consultation_type_id = ?", f.ConsultationTypeID.String())
	}
	if hasCursor {
		level, at, ok := strings.Cut(c.key, ",")
		created, err := parseTimeKey(at)
		if !ok || err != nil || (level != string(booking.TriageRoutine) && level != string(booking.TriageUrgent)) {
			return nil, "", errBadCursor
		}
		q = q.Where("(triage_level < ? OR (triage_level = ? AND (created_at > ? OR (created_at = ? AND id > ?))))",
			level, level, created, created, c.id)
	}
	var rows []waitlistEntryRow
	if err := q.Order("triage_level DESC, created_at, id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list waitlist: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = cursor{list: listWaitlist, key: last.TriageLevel + "," + timeKey(last.CreatedAt), id: last.ID}.encode()
	}
	out := make([]booking.WaitlistEntry, 0, len(rows))
	for _, r := range rows {
		var offer *waitlistOfferRow
		if booking.WaitlistStatus(r.Status) == booking.WaitlistOffered {
			var offers []waitlistOfferRow
			if err := s.db.WithContext(ctx).Where("entry_id = ? AND status = ?", r.ID, offerLive).Limit(1).Find(&offers).Error; err != nil {
				return nil, "", fmt.Errorf("list waitlist offers: %w", err)
			}
			if len(offers) == 1 {
				offer = &offers[0]
			}
		}
		e, err := r.toDomain(offer)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return out, next, nil
}

// WaitlistEntryByRef returns the entry with reference ref (any case), or
// booking.ErrNotFound; for staff, who need no token.
func (s *Store) WaitlistEntryByRef(ctx context.Context, ref string) (booking.WaitlistEntry, error) {
	norm, ok := booking.NormalizeReference(ref)
	if !ok {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist entry: %w", booking.ErrNotFound)
	}
	var rows []waitlistEntryRow
	if err := s.db.WithContext(ctx).Select("id").Where("reference = ?", norm).Limit(1).Find(&rows).Error; err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("find waitlist entry: %w", err)
	}
	if len(rows) == 0 {
		return booking.WaitlistEntry{}, fmt.Errorf("waitlist entry: %w", booking.ErrNotFound)
	}
	return s.WaitlistEntry(ctx, uuid.MustParse(rows[0].ID))
}

// unknownWaitlistTokenHash is compared with the token given for an unknown
// reference, so that it costs what a wrong token does.
var unknownWaitlistTokenHash = booking.HashToken("no waitlist entry has this reference")

// WaitlistEntryByToken returns the entry with reference whose manage token
// is token. An unknown reference and a wrong token are the same
// booking.ErrNotFound.
func (s *Store) WaitlistEntryByToken(ctx context.Context, reference, token string) (booking.WaitlistEntry, error) {
	id, err := s.waitlistIDByToken(ctx, reference, token)
	if err != nil {
		return booking.WaitlistEntry{}, err
	}
	return s.WaitlistEntry(ctx, id)
}

func (s *Store) waitlistIDByToken(ctx context.Context, reference, token string) (uuid.UUID, error) {
	ref, ok := booking.NormalizeReference(reference)
	var rows []waitlistEntryRow
	if ok {
		if err := s.db.WithContext(ctx).Select("id").Where("reference = ?", ref).Limit(1).Find(&rows).Error; err != nil {
			return uuid.Nil, fmt.Errorf("find waitlist entry: %w", err)
		}
	}
	hash := booking.HashToken(token)
	if len(rows) == 0 {
		booking.TokenMatches(unknownWaitlistTokenHash, token)
		return uuid.Nil, fmt.Errorf("waitlist entry: %w", booking.ErrNotFound)
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&waitlistTokenRow{}).Where("entry_id = ? AND token_hash = ?", rows[0].ID, hash).Count(&n).Error; err != nil {
		return uuid.Nil, fmt.Errorf("check waitlist token: %w", err)
	}
	if n == 0 {
		return uuid.Nil, fmt.Errorf("waitlist entry: %w", booking.ErrNotFound)
	}
	return uuid.MustParse(rows[0].ID), nil
}

// WaitlistEntryIDByToken returns the id of the entry with reference whose
// manage token is token; booking.ErrNotFound as WaitlistEntryByToken.
func (s *Store) WaitlistEntryIDByToken(ctx context.Context, reference, token string) (uuid.UUID, error) {
	return s.waitlistIDByToken(ctx, reference, token)
}

// WaitlistEntry returns entry id with its live offer, or
// booking.ErrNotFound.
func (s *Store) WaitlistEntry(ctx context.Context, id uuid.UUID) (booking.WaitlistEntry, error) {
	e, _, err := loadEntry(s.db.WithContext(ctx), id, false)
	return e, err
}

// WaitlistHistory returns entry id's history, oldest first.
func (s *Store) WaitlistHistory(ctx context.Context, id uuid.UUID) ([]booking.WaitlistEvent, error) {
	var rows []waitlistEventRow
	if err := s.db.WithContext(ctx).Where("entry_id = ?", id.String()).Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("waitlist history: %w", err)
	}
	out := make([]booking.WaitlistEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, booking.WaitlistEvent{
			ID: uuid.MustParse(r.ID), EntryID: id, Type: booking.WaitlistEventType(r.Type), SlotID: parseUUIDPtr(r.SlotID),
			Actor: booking.Actor{Type: booking.ActorType(r.ActorType), StaffID: parseUUIDPtr(r.ActorStaffID)}, At: r.At.UTC(),
		})
	}
	return out, nil
}

// PlaceOffer asks OfferPlace to hold a place of SlotID for entry EntryID
// until ExpiresAt. Check decides whether the slot may be offered (for the
// public: booking.Policy.PublicHoldable); FullMatch requires the slot to
// fit the entry (booking.MatchesWaitlist), else only its consultation type
// must be the entry's (a staff member's choice).
type PlaceOffer struct {
	EntryID   uuid.UUID
	SlotID    uuid.UUID
	ExpiresAt time.Time
	Actor     booking.Actor
	Check     func(booking.SlotInfo) error
	FullMatch bool
	// Told says the caller writes the offer's messages in the same
	// transaction; else the next PassOn writes them.
	Told bool
}

// MadeOffer is an offer OfferPlace made: the entry as offered, and a new
// manage token of the entry for the offer's message (shown once).
type MadeOffer struct {
	Entry booking.WaitlistEntry
	Token string
}

// OfferPlace holds a place for a waiting entry (see the top of this file).
// It returns booking.ErrNotFound for an unknown entry; a
// *booking.ValidationError naming slot_id for an unknown slot or one that
// does not fit the entry (FieldSlotMismatch); booking.ErrSlotUnavailable
// when the slot has no free place; Check's errors; and the errors of
// WaitlistEntry.MakeOffer (ErrInvalidTransition: not waiting).
func (s *Store) OfferPlace(ctx context.Context, o PlaceOffer) (MadeOffer, error) {
	var out MadeOffer
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		if err := s.lockOffers(tx); err != nil {
			return err
		}
		var err error
		out, err = s.offerPlace(tx, o, s.now())
		return err
	})
	if err != nil {
		return MadeOffer{}, fmt.Errorf("offer a place: %w", err)
	}
	return out, nil
}

func (s *Store) offerPlace(tx *gorm.DB, o PlaceOffer, now time.Time) (MadeOffer, error) {
	// The slot row first, then the entry: the order of every writer here.
	if err := lockSlots(tx, o.SlotID); err != nil {
		return MadeOffer{}, err
	}
	slot, err := slotWhere(tx, o.SlotID)
	if errors.Is(err, booking.ErrNotFound) {
		return MadeOffer{}, booking.Invalid("slot_id", booking.FieldNotFound, "is not a known slot")
	}
	if err != nil {
		return MadeOffer{}, err
	}
	e, _, err := loadEntry(tx, o.EntryID, true)
	if err != nil {
		return MadeOffer{}, err
	}
	if slot.Held, err = countHeld(tx, o.SlotID, now); err != nil {
		return MadeOffer{}, err
	}
	info, err := slotInfo(tx, slot)
	if err != nil {
		return MadeOffer{}, err
	}
	fits := slot.ConsultationTypeID == e.ConsultationTypeID
	if o.FullMatch {
		loc, err := time.LoadLocation(info.Names.Timezone)
		if err != nil {
			return MadeOffer{}, fmt.Errorf("zone of the slot: %w", err)
		}
		fits = booking.MatchesWaitlist(e, slot, loc)
	}
	if !fits {
		return MadeOffer{}, booking.Invalid("slot_id", booking.FieldSlotMismatch, "does not fit the waitlist entry")
	}
	if o.Check != nil {
		if err := o.Check(info); err != nil {
			return MadeOffer{}, err
		}
	}
	if slot.Status != booking.SlotOpen || slot.Remaining() <= 0 {
		return MadeOffer{}, booking.ErrSlotUnavailable
	}
	holdToken, err := booking.NewManageToken()
	if err != nil {
		return MadeOffer{}, fmt.Errorf("hold token: %w", err)
	}
	offer := booking.WaitlistOffer{ID: uuid.New(), SlotID: o.SlotID, StartAt: slot.StartAt, ExpiresAt: o.ExpiresAt.Truncate(time.Second).UTC(), OfferedAt: utc(now)}
	ev, err := e.MakeOffer(offer, o.Actor, now)
	if err != nil {
		return MadeOffer{}, err
	}
	hold := slotHoldRow{ID: uuid.NewString(), SlotID: o.SlotID.String(), TokenHash: booking.HashToken(holdToken),
		ClientHash: "waitlist:" + e.ID.String(), ExpiresAt: offer.ExpiresAt.Unix(), CreatedAt: utc(now)}
	if err := tx.Create(&hold).Error; err != nil {
		return MadeOffer{}, fmt.Errorf("insert the offer's hold: %w", err)
	}
	row := waitlistOfferRow{ID: offer.ID.String(), EntryID: e.ID.String(), SlotID: o.SlotID.String(), HoldID: hold.ID,
		HoldTokenHash: hold.TokenHash, StartAt: slot.StartAt.Unix(), ExpiresAt: hold.ExpiresAt, Status: offerLive, Told: o.Told, CreatedAt: utc(now)}
	if err := tx.Create(&row).Error; err != nil {
		return MadeOffer{}, fmt.Errorf("insert offer: %w", err)
	}
	if err := saveEntry(tx, e); err != nil {
		return MadeOffer{}, err
	}
	if err := insertWaitlistEvents(tx, e, ev); err != nil {
		return MadeOffer{}, err
	}
	token, err := booking.NewManageToken()
	if err != nil {
		return MadeOffer{}, fmt.Errorf("waitlist token: %w", err)
	}
	if err := insertWaitlistToken(tx, e.ID, booking.HashToken(token), now); err != nil {
		return MadeOffer{}, err
	}
	return MadeOffer{Entry: e, Token: token}, nil
}

// endOffer closes the live offer row as status and deletes its hold, so
// the place is free again at once.
func endOffer(tx *gorm.DB, offer *waitlistOfferRow, status string) error {
	if offer == nil {
		return nil
	}
	if err := tx.Model(&waitlistOfferRow{}).Where("id = ?", offer.ID).Update("status", status).Error; err != nil {
		return fmt.Errorf("close offer: %w", err)
	}
	if err := tx.Exec("DELETE FROM slot_holds WHERE id = ?", offer.HoldID).Error; err != nil {
		return fmt.Errorf("release the offer's hold: %w", err)
	}
	return nil
}

// changeEntry reads entry id locked (after the slot of its live offer,
// when it has one: the order of every writer here), applies fn, and saves
// the entry, fn's events, and ends the live offer as offerStatus when fn
// took it away.
func (s *Store) changeEntry(ctx context.Context, id uuid.UUID, offerStatus string,
	fn func(e *booking.WaitlistEntry, now time.Time) ([]booking.WaitlistEvent, error)) (booking.WaitlistEntry, error) {
	var out booking.WaitlistEntry
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		_, offer, err := loadEntry(tx, id, false)
		if err != nil {
			return err
		}
		if offer != nil {
			if err := lockSlots(tx, uuid.MustParse(offer.SlotID)); err != nil {
				return err
			}
		}
		e, offer, err := loadEntry(tx, id, true)
		if err != nil {
			return err
		}
		events, err := fn(&e, now)
		if err != nil {
			return err
		}
		if e.Offer == nil {
			if err := endOffer(tx, offer, offerStatus); err != nil {
				return err
			}
		}
		if err := saveEntry(tx, e); err != nil {
			return err
		}
		if err := insertWaitlistEvents(tx, e, events...); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

// LeaveWaitlist takes entry id off the waitlist for actor, giving up its
// offer's place. It returns booking.ErrNotFound and
// booking.ErrInvalidTransition (the entry is not live).
func (s *Store) LeaveWaitlist(ctx context.Context, id uuid.UUID, actor booking.Actor) (booking.WaitlistEntry, error) {
	e, err := s.changeEntry(ctx, id, offerWithdrawn, func(e *booking.WaitlistEntry, now time.Time) ([]booking.WaitlistEvent, error) {
		ev, err := e.Leave(actor, now)
		return []booking.WaitlistEvent{ev}, err
	})
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("leave waitlist: %w", err)
	}
	return e, nil
}

// DeclineWaitlistOffer passes entry id's offer on: the entry waits again
// and the place is free. It returns booking.ErrNotFound and
// booking.ErrNoOffer.
func (s *Store) DeclineWaitlistOffer(ctx context.Context, id uuid.UUID, actor booking.Actor) (booking.WaitlistEntry, error) {
	e, err := s.changeEntry(ctx, id, offerDeclined, func(e *booking.WaitlistEntry, now time.Time) ([]booking.WaitlistEvent, error) {
		ev, err := e.Decline(actor, now)
		return []booking.WaitlistEvent{ev}, err
	})
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("decline waitlist offer: %w", err)
	}
	return e, nil
}

// LapseWaitlistOffer ends entry id's offer whose hold has expired: the
// entry waits again. It returns booking.ErrNotFound, booking.ErrNoOffer and
// booking.ErrConflict (the hold still lives).
func (s *Store) LapseWaitlistOffer(ctx context.Context, id uuid.UUID) (booking.WaitlistEntry, error) {
	e, err := s.changeEntry(ctx, id, offerLapsed, func(e *booking.WaitlistEntry, now time.Time) ([]booking.WaitlistEvent, error) {
		ev, err := e.LapseOffer(now)
		return []booking.WaitlistEvent{ev}, err
	})
	if err != nil {
		return booking.WaitlistEntry{}, fmt.Errorf("lapse waitlist offer: %w", err)
	}
	return e, nil
}

// WaitlistDraft builds the booking an accepted offer makes, for entry e in
// the slot info describes (for the public: booking.Policy.PublicRequest of
// the entry's request), with its manage token.
type WaitlistDraft func(e booking.WaitlistEntry, info booking.SlotInfo) (booking.Booking, booking.Event, error)

// Accepted is what AcceptWaitlistOffer made: the booking (Created), and
// when the offer it took was made, for the time a freed place took to
// fill (the booking's CreatedAt is the accept's time).
type Accepted struct {
	Created
	OfferedAt time.Time
}

// AcceptWaitlistOffer books entry id's offered place: in one transaction
// the offer's hold is consumed, the place taken, the booking draft builds
// inserted (with CreateBooking's steps and opts' rules) and the entry
// booked. It returns booking.ErrNotFound (unknown entry),
// booking.ErrNoOffer (no live offer, or its place is gone),
// booking.ErrOfferExpired (the hold expired: the entry waits again), and
// CreateBooking's and draft's errors.
func (s *Store) AcceptWaitlistOffer(ctx context.Context, id uuid.UUID, draft WaitlistDraft, opts ...CreateOption) (Accepted, error) {
	c, offeredAt, err := s.acceptWaitlistOffer(ctx, id, draft, opts)
	if err != nil {
		return Accepted{}, fmt.Errorf("accept waitlist offer: %w", err)
	}
	return Accepted{Created: c, OfferedAt: offeredAt}, nil
}

func (s *Store) acceptWaitlistOffer(ctx context.Context, id uuid.UUID, draft WaitlistDraft, opts []CreateOption) (Created, time.Time, error) {
	e, offer, err := loadEntry(s.db.WithContext(ctx), id, false)
	if err != nil {
		return Created{}, time.Time{}, err
	}
	if offer == nil {
		return Created{}, time.Time{}, booking.ErrNoOffer
	}
	accept := func(tx *gorm.DB, b booking.Booking) error {
		cur, live, err := loadEntry(tx, id, true)
		if err != nil {
			return err
		}
		if live == nil || live.ID != offer.ID {
			return booking.ErrNoOffer
		}
		events, err := cur.Accept(b.ID, s.now())
		if err != nil {
			return err
		}
		if err := tx.Model(&waitlistOfferRow{}).Where("id = ?", offer.ID).Update("status", offerAccepted).Error; err != nil {
			return fmt.Errorf("close offer: %w", err)
		}
		// The entry's booking row is inserted after this step, in the
		// same transaction; the column is set then (see below). The feed
		// tells the entry as booked as b.
		booked := cur
		cur.BookingID = nil
		if err := saveEntry(tx, cur); err != nil {
			return err
		}
		return insertWaitlistEvents(tx, booked, events...)
	}
	opts = append(opts, func(r *createRules) {
		r.inTx = accept
		r.afterInsert = func(tx *gorm.DB, b booking.Booking) error {
			return tx.Model(&waitlistEntryRow{}).Where("id = ?", id.String()).Update("booking_id", b.ID.String()).Error
		}
	})
	slotID := uuid.MustParse(offer.SlotID)
	c, err := s.createBooking(ctx, slotID, offer.HoldTokenHash, func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		return draft(e, info)
	}, nil, opts)
	switch {
	case errors.Is(err, booking.ErrHoldExpired):
		if _, lerr := s.LapseWaitlistOffer(ctx, id); lerr != nil && !errors.Is(lerr, booking.ErrNoOffer) {
			return Created{}, time.Time{}, lerr
		}
		return Created{}, time.Time{}, booking.ErrOfferExpired
	case errors.Is(err, booking.ErrNotFound), errors.Is(err, booking.ErrSlotUnavailable):
		// The hold is gone (released, or the slot closed): no place.
		return Created{}, time.Time{}, booking.ErrNoOffer
	case err != nil:
		return Created{}, time.Time{}, err
	}
	return c, offer.CreatedAt.UTC(), nil
}

// lockOffers serialises, on PostgreSQL, the transactions that make offers
// (the feed follower, the sweep, a staff offer): each locks several slots
// and entries, in an order the data decides, and two at once could wait
// for each other. It is taken before any slot or entry lock. SQLite runs
// one writing transaction at a time.
func (s *Store) lockOffers(tx *gorm.DB) error {
	if s.dialect != Postgres {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('waitlist_offers'))").Error; err != nil {
		return fmt.Errorf("lock waitlist offers: %w", err)
	}
	return nil
}

// FreedPlaceOffer says how OfferFreed offers a freed place: held until
// Expires(now) and only where Check (for the public:
// booking.Policy.PublicHoldable) lets it.
type FreedPlaceOffer struct {
	Expires func(now time.Time) time.Time
	Check   func(info booking.SlotInfo, now time.Time) error
}

// freesPlace reports whether a booking change of type t gives a place of
// its slot back.
func freesPlace(t booking.EventType) bool {
	switch t {
	case booking.EventCancelled, booking.EventDeclined, booking.EventExpired:
		return true
	}
	return false
}

// OfferFreedTx offers, in tx (the transaction of a feed reader's cursor,
// see FollowFeed), each place the booking changes of events freed to the
// first matching waiting entries (urgent first, then the oldest), one entry
// a free place. It returns the offers made. The waitlist's own feed events
// (its offers among them, written by this very reader) are passed over:
// their BookingEvent is none, so they neither free a place nor close an
// entry.
func (s *Store) OfferFreedTx(ctx context.Context, tx *sql.Tx, events []FeedEvent, o FreedPlaceOffer) ([]MadeOffer, error) {
	gtx := s.wdb.WithContext(ctx)
	gtx.Statement.ConnPool = tx
	work := slices.ContainsFunc(events, func(e FeedEvent) bool {
		return freesPlace(e.BookingEvent()) || e.BookingEvent() == booking.EventCreated
	})
	if !work {
		return nil, nil
	}
	if err := s.lockOffers(gtx); err != nil {
		return nil, err
	}
	var slots []uuid.UUID
	for _, e := range events {
		if freesPlace(e.BookingEvent()) && !slices.Contains(slots, e.Slot.ID) {
			slots = append(slots, e.Slot.ID)
		}
		if e.BookingEvent() == booking.EventCreated {
			if err := s.closeBookedElsewhere(gtx, e); err != nil {
				return nil, err
			}
		}
	}
	if len(slots) == 0 {
		return nil, nil
	}
	var out []MadeOffer
	for _, id := range slots {
		made, err := s.offerSlot(gtx, id, o)
		if err != nil {
			return nil, err
		}
		out = append(out, made...)
	}
	return out, nil
}

// offerSlot offers the free places of slot id to the first matching
// waiting entries, until none is left or no entry matches.
func (s *Store) offerSlot(tx *gorm.DB, id uuid.UUID, o FreedPlaceOffer) ([]MadeOffer, error) {
	now := s.now()
	slot, err := slotWhere(tx, id)
	if errors.Is(err, booking.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info, err := slotInfo(tx, slot)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(info.Names.Timezone)
	if err != nil {
		return nil, fmt.Errorf("zone of the slot: %w", err)
	}
	day := booking.DateOf(slot.StartAt, loc).String()
	// No free place (booked, or held: by an offer, among others), no entry
	// to read: the sweep visits every slot of a wanted type that is not
	// fully booked, held ones too.
	if slot.Held, err = countHeld(tx, id, now); err != nil {
		return nil, err
	}
	if slot.Status != booking.SlotOpen || slot.Remaining() <= 0 {
		return nil, nil
	}
	// The entries in serving order, a few first, then up to 200 in all: a
	// place mostly goes to the first entry, and reading 200 whole rows for
	// each freed place made 100 places cancelled at once hold the
	// database's writer for seconds (the load tool's waitlist-flood).
	var out []MadeOffer
	skipped := 0 // entries read that stay waiting: the next page starts after them
	for _, limit := range []int{8, 192} {
		var rows []waitlistEntryRow
		// An entry is offered a slot once: one that declined it, or let it
		// lapse, is not asked again.
		if err := tx.Where("status = ? AND consultation_type_id = ? AND earliest_date <= ? AND latest_date >= ?",
			string(booking.WaitlistWaiting), slot.ConsultationTypeID.String(), day, day).
			Where("NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.entry_id = waitlist_entries.id AND o.slot_id = ?)", id.String()).
			Order("triage_level DESC, created_at, id").Offset(skipped).Limit(limit).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("waiting entries: %w", err)
		}
		for _, r := range rows {
			e, err := r.toDomain(nil)
			if err != nil {
				return nil, err
			}
			if !booking.MatchesWaitlist(e, slot, loc) {
				skipped++
				continue
			}
			made, err := s.offerPlace(tx, PlaceOffer{
				EntryID: e.ID, SlotID: id, ExpiresAt: o.Expires(now), Actor: booking.Actor{Type: booking.ActorSystem},
				Check: func(info booking.SlotInfo) error { return o.Check(info, now) }, FullMatch: true, Told: true,
			}, now)
			if err != nil {
				var ve *booking.ValidationError
				if errors.Is(err, booking.ErrSlotUnavailable) || errors.As(err, &ve) {
					return out, nil // no place left, or not one the public may take
				}
				if errors.Is(err, booking.ErrInvalidTransition) {
					continue // no longer waiting
				}
				return nil, err
			}
			out = append(out, made)
		}
		if len(rows) < limit {
			break
		}
	}
	return out, nil
}

// PassOnTx ends, in tx, the live offers whose hold expired by now (the
// entry waits again), and offers the places of every offer that ended
// without a booking (declined, lapsed, withdrawn) and was not passed on
// yet to the next matching entries, marking them passed on. It returns the
// offers made.
func (s *Store) PassOnTx(ctx context.Context, tx *sql.Tx, o FreedPlaceOffer) ([]MadeOffer, error) {
	gtx := s.wdb.WithContext(ctx)
	gtx.Statement.ConnPool = tx
	if err := s.lockOffers(gtx); err != nil {
		return nil, err
	}
	now := s.now()
	var expired []waitlistOfferRow
	if err := gtx.Where("status = ? AND expires_at <= ?", offerLive, now.Unix()).Limit(200).Find(&expired).Error; err != nil {
		return nil, fmt.Errorf("expired offers: %w", err)
	}
	for _, off := range expired {
		e, live, err := loadEntry(gtx, uuid.MustParse(off.EntryID), true)
		if err != nil {
			return nil, err
		}
		if live == nil || live.ID != off.ID {
			continue
		}
		ev, err := e.LapseOffer(now)
		if err != nil {
			continue
		}
		if err := endOffer(gtx, live, offerLapsed); err != nil {
			return nil, err
		}
		if err := saveEntry(gtx, e); err != nil {
			return nil, err
		}
		if err := insertWaitlistEvents(gtx, e, ev); err != nil {
			return nil, err
		}
	}
	if err := s.lapseEntries(gtx, now); err != nil {
		return nil, err
	}
	var ended []waitlistOfferRow
	if err := gtx.Where("passed_on = ? AND status IN ?", false, []string{offerDeclined, offerLapsed, offerWithdrawn}).
		Order("created_at").Limit(200).Find(&ended).Error; err != nil {
		return nil, fmt.Errorf("ended offers: %w", err)
	}
	var out []MadeOffer
	var done []uuid.UUID
	for _, off := range ended {
		id := uuid.MustParse(off.SlotID)
		if !slices.Contains(done, id) {
			if err := lockSlots(gtx, id); err != nil {
				return nil, err
			}
			made, err := s.offerSlot(gtx, id, o)
			if err != nil {
				return nil, err
			}
			out = append(out, made...)
			done = append(done, id)
		}
		if err := gtx.Model(&waitlistOfferRow{}).Where("id = ?", off.ID).Update("passed_on", true).Error; err != nil {
			return nil, fmt.Errorf("mark offer passed on: %w", err)
		}
	}
	more, err := s.offerFreePlaces(gtx, now, o)
	if err != nil {
		return nil, err
	}
	out = append(out, more...)
	// Live offers not told yet (a staff member's): their messages now.
	var untold []waitlistOfferRow
	if err := gtx.Where("status = ? AND told = ? AND expires_at > ?", offerLive, false, now.Unix()).Limit(200).Find(&untold).Error; err != nil {
		return nil, fmt.Errorf("untold offers: %w", err)
	}
	for _, off := range untold {
		e, _, err := loadEntry(gtx, uuid.MustParse(off.EntryID), false)
		if err != nil {
			return nil, err
		}
		if err := gtx.Model(&waitlistOfferRow{}).Where("id = ?", off.ID).Update("told", true).Error; err != nil {
			return nil, fmt.Errorf("mark offer told: %w", err)
		}
		if e.Offer != nil && e.Offer.ID.String() == off.ID {
			out = append(out, MadeOffer{Entry: e})
		}
	}
	return out, nil
}

// closeBookedElsewhere closes the waiting entries for the consultation
// type of the booking e created whose patient (by phone or email) it is:
// they booked another way.
func (s *Store) closeBookedElsewhere(tx *gorm.DB, e FeedEvent) error {
	b := e.Booking
	q := tx.Model(&waitlistEntryRow{}).Select("id").Where("status = ? AND consultation_type_id = ?",
		string(booking.WaitlistWaiting), e.Slot.ConsultationTypeID.String())
	if email := booking.NormalizeEmail(b.Patient.Email); email != "" {
		q = q.Where("(patient_phone = ? OR lower(patient_email) = ?)", b.Patient.Phone, email)
	} else {
		q = q.Where("patient_phone = ?", b.Patient.Phone)
	}
	var ids []string
	if err := q.Limit(20).Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("entries of the patient: %w", err)
	}
	for _, id := range ids {
		entry, _, err := loadEntry(tx, uuid.MustParse(id), true)
		if err != nil {
			return err
		}
		ev, err := entry.BookedElsewhere(b.ID, s.now())
		if err != nil {
			continue
		}
		if err := saveEntry(tx, entry); err != nil {
			return err
		}
		if err := insertWaitlistEvents(tx, entry, ev); err != nil {
			return err
		}
	}
	return nil
}

// lapseEntries lapses the waiting entries whose latest date has passed
// everywhere (a day after it in UTC, so no zone's last day is cut short).
func (s *Store) lapseEntries(tx *gorm.DB, now time.Time) error {
	today := booking.DateOf(now, time.UTC)
	var rows []waitlistEntryRow
	if err := tx.Where("status = ? AND latest_date < ?", string(booking.WaitlistWaiting), today.AddDays(-1).String()).
		Limit(200).Find(&rows).Error; err != nil {
		return fmt.Errorf("entries past their dates: %w", err)
	}
	for _, r := range rows {
		e, err := r.toDomain(nil)
		if err != nil {
			return err
		}
		ev, ok := e.Expire(today.AddDays(-1), now)
		if !ok {
			continue
		}
		if err := saveEntry(tx, e); err != nil {
			return err
		}
		if err := insertWaitlistEvents(tx, e, ev); err != nil {
			return err
		}
	}
	return nil
}

// offerFreePlaces offers the free places of open slots that fit waiting
// entries (a place that appeared: capacity raised, slots generated or
// unblocked, a hold released or expired, a booking moved away), a bounded
// number of slots a sweep.
func (s *Store) offerFreePlaces(tx *gorm.DB, now time.Time, o FreedPlaceOffer) ([]MadeOffer, error) {
	var wanted []struct {
		ConsultationTypeID string
		Latest             string
	}
	if err := tx.Model(&waitlistEntryRow{}).Select("consultation_type_id, MAX(latest_date) AS latest").
		Where("status = ?", string(booking.WaitlistWaiting)).Group("consultation_type_id").Limit(100).Scan(&wanted).Error; err != nil {
		return nil, fmt.Errorf("wanted types: %w", err)
	}
	var out []MadeOffer
	for _, w := range wanted {
		latest, err := booking.ParseDate(w.Latest)
		if err != nil {
			return nil, fmt.Errorf("wanted types: %w", err)
		}
		var ids []string
		if err := tx.Model(&slotRow{}).Where("consultation_type_id = ? AND status = ? AND booked < capacity AND start_at > ? AND start_at < ?",
			w.ConsultationTypeID, string(booking.SlotOpen), now.Unix(), latest.AddDays(2).StartIn(time.UTC).Unix()).
			Order("start_at, id").Limit(50).Pluck("id", &ids).Error; err != nil {
			return nil, fmt.Errorf("free slots: %w", err)
		}
		for _, id := range ids {
			made, err := s.offerSlot(tx, uuid.MustParse(id), o)
			if err != nil {
				return nil, err
			}
			out = append(out, made...)
		}
	}
	return out, nil
}

// MintWaitlistToken makes a new manage token of entry id, for one message
// (every link in every message works), and returns it.
func (s *Store) MintWaitlistToken(ctx context.Context, id uuid.UUID) (string, error) {
	token, err := booking.NewManageToken()
	if err != nil {
		return "", fmt.Errorf("waitlist token: %w", err)
	}
	err = s.tx(ctx, func(tx *gorm.DB) error { return insertWaitlistToken(tx, id, booking.HashToken(token), s.now()) })
	if err != nil {
		return "", fmt.Errorf("mint waitlist token: %w", err)
	}
	return token, nil
}

// PassOn runs PassOnTx in a transaction of its own and then then(tx, the
// offers made), in the same transaction, so the offers' messages are
// written exactly when the offers are.
func (s *Store) PassOn(ctx context.Context, o FreedPlaceOffer, then func(tx *sql.Tx, made []MadeOffer) error) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("pass on: not in a database transaction")
		}
		made, err := s.PassOnTx(tx.Statement.Context, sqlTx, o)
		if err != nil {
			return err
		}
		return then(sqlTx, made)
	})
	if err != nil {
		return fmt.Errorf("pass on waitlist offers: %w", err)
	}
	return nil
}

// WaitlistCounts are the waitlist's figures for the metrics, read from the
// database, so every instance reports the same clinic-wide values.
type WaitlistCounts struct {
	Waiting int64 // entries waiting for a place, without an offer
	Offered int64 // entries holding an offer now
	// Steps counts the steps of every entry's history so far, by type
	// (offered, accepted, offer_lapsed, lapsed, ...); the history is
	// append-only, so each count only grows.
	Steps map[booking.WaitlistEventType]int64
}

// WaitlistCounts returns the waitlist's figures (see WaitlistCounts).
func (s *Store) WaitlistCounts(ctx context.Context) (WaitlistCounts, error) {
	db := s.db.WithContext(ctx)
	var statuses []struct {
		Status string
		N      int64
	}
	// Both statuses are in the lead of index waitlist_entries_queue.
	if err := db.Model(&waitlistEntryRow{}).Select("status, COUNT(*) AS n").
		Where("status IN ?", []string{string(booking.WaitlistWaiting), string(booking.WaitlistOffered)}).
		Group("status").Scan(&statuses).Error; err != nil {
		return WaitlistCounts{}, fmt.Errorf("waitlist counts: entries: %w", err)
	}
	var steps []struct {
		Type string
		N    int64
	}
	// Index waitlist_events_type (migration 00089) answers this alone.
	if err := db.Model(&waitlistEventRow{}).Select("type, COUNT(*) AS n").Group("type").Scan(&steps).Error; err != nil {
		return WaitlistCounts{}, fmt.Errorf("waitlist counts: steps: %w", err)
	}
	out := WaitlistCounts{Steps: make(map[booking.WaitlistEventType]int64, len(steps))}
	for _, r := range statuses {
		switch booking.WaitlistStatus(r.Status) {
		case booking.WaitlistWaiting:
			out.Waiting = r.N
		case booking.WaitlistOffered:
			out.Offered = r.N
		}
	}
	for _, r := range steps {
		out.Steps[booking.WaitlistEventType(r.Type)] = r.N
	}
	return out, nil
}
