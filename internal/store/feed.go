package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// The live feed is the clinic-wide, numbered list of booking changes that
// reception screens follow (and webhooks are made from). Each change a
// booking goes through (creation and every status change or move; not the
// edits of notes or contact details) appends one feed event in the
// transaction of the change, through insertEvents, so a change that commits
// always has its feed event and one that rolls back never does. The
// waitlist's steps that the feed reports (an offer made, accepted, or
// lapsed; an entry lapsed) append theirs the same way, through
// insertWaitlistEvents (appendWaitlistFeed).
//
// Feed ids increase in commit order, on both databases: a reader that has
// seen id n will never see an id below n appear later, so "everything after
// n" is a safe resume point (the SSE stream's Last-Event-ID, the cursors of
// FollowFeed: webhooks, patient messages, the waitlist). (Ids from a
// sequence taken by the writers would not be: a transaction that took 7 may
// commit after one that took 8 was read.) The events are only queued during
// the change (appendFeed) and written as the transaction's last statements
// (flushFeed); how they are numbered depends on the database:
//
//   - SQLite numbers them there, with an UPDATE of feed_counter's one row,
//     inside its single writing transaction: no other writer can commit in
//     between, and none waits on the counter but for the writer it waits for
//     anyway.
//   - PostgreSQL numbers them after commit (see numberFeed). The writer
//     appends them unnumbered to feed_pending and takes no lock that another
//     writer waits for: holding the counter's row from the UPDATE to the
//     commit made every booking writer of every instance take turns over a
//     commit latency. A numbering is one short transaction that locks the
//     counter row (only numberings take it), then, in a snapshot taken after
//     the lock, moves every committed pending row into feed_events with the
//     next ids, in the order of feed_pending.seq, and commits. Numberings
//     take turns on the counter, and each sees what the previous one
//     committed, so each one's ids are above the previous one's and become
//     visible after them; a row that commits after a numbering's snapshot
//     waits for the next numbering and gets a higher id. Readers only read
//     feed_events, numbered rows. Every instance numbers (batches: one
//     numbering for everything pending), after its own commits, before its
//     readers read (FeedEvents, LastFeedID, FollowFeed), when the feed
//     watcher wakes, and at startup; so rows a crash left unnumbered between
//     a commit and its numbering are numbered by the next one, never lost.
//     The numbering, not the writer, sends the pg_notify that wakes the
//     other instances' watchers: a NOTIFY makes its transaction's commit
//     take a database-wide lock until the commit is durable, which would
//     serialise the writers again.

// FeedEvent is one entry of the live feed: a booking's change, or (when
// Waitlist is set) a waitlist entry's step.
type FeedEvent struct {
	ID         int64
	Type       string // one of booking.FeedEventTypes
	OccurredAt time.Time
	// Booking and Slot are as they were after the change (zero for a
	// waitlist step). Booking.Intake is always empty: the feed never
	// carries health answers.
	Booking booking.Booking
	Slot    booking.Slot
	// Waitlist is the waitlist step, for the waitlist.* types; nil for a
	// booking's change.
	Waitlist *booking.WaitlistChange
	// Actor is who made the change; StaffReason the reason staff gave for
	// it (a cancellation or decline), empty for anyone else's: a patient's
	// own reason is not repeated to them.
	Actor       booking.ActorType
	StaffReason string
	// EventID is the id of the booking event in the booking's history, or
	// of the step in the waitlist entry's (uuid.Nil for feed events written
	// before it was recorded).
	EventID uuid.UUID
}

// BookingEvent returns the type of the booking event e reports (see
// booking.EventOfFeedType), "" for a waitlist step.
func (e FeedEvent) BookingEvent() booking.EventType {
	if e.Waitlist != nil {
		return ""
	}
	return booking.EventOfFeedType(e.Type)
}

// feedEventRow is a row of feed_events: exactly one of BookingID and
// WaitlistEntryID is set (migration 00089), and Booking is the JSON of a
// feedSnapshot or, for a waitlist step, of a waitlistSnapshot.
type feedEventRow struct {
	ID              int64     `gorm:"column:id;primaryKey;autoIncrement:false"`
	BookingID       *string   `gorm:"column:booking_id"`
	WaitlistEntryID *string   `gorm:"column:waitlist_entry_id"`
	Type            string    `gorm:"column:type"`
	OccurredAt      time.Time `gorm:"column:occurred_at"`
	Booking         string    `gorm:"column:booking"`
}

func (feedEventRow) TableName() string { return "feed_events" }

// feedSnapshot is the feed_events.booking column: the booking and its slot
// after the change, without intake and without the manage token's hash.
type feedSnapshot struct {
	ID                 string `json:"id"`
	Reference          string `json:"reference"`
	Status             string `json:"status"`
	Source             string `json:"source"`
	FirstName          string `json:"first_name"`
	LastName           string `json:"last_name"`
	DateOfBirth        string `json:"date_of_birth"`
	Phone              string `json:"phone"`
	Email              string `json:"email"`
	ConsentPrivacy     bool   `json:"consent_privacy"`
	ConsentSMS         bool   `json:"consent_sms"`
	ConsentEmail       bool   `json:"consent_email"`
	Notes              string `json:"notes"`
	CancellationReason string `json:"cancellation_reason"`
	Version            int    `json:"version"`
	// EventID, Actor and StaffReason are the change's, not the booking's
	// (see FeedEvent); events written before they were added have none.
	EventID     string    `json:"event_id,omitempty"`
	Actor       string    `json:"actor,omitempty"`
	StaffReason string    `json:"staff_reason,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Slot        struct {
		ID                 string `json:"id"`
		ProviderID         string `json:"provider_id"`
		LocationID         string `json:"location_id"`
		ConsultationTypeID string `json:"consultation_type_id"`
		StartAt            int64  `json:"start_at"`
		EndAt              int64  `json:"end_at"`
	} `json:"slot"`
}

func snapshotOf(b bookingRow, sl slotRow) feedSnapshot {
	s := feedSnapshot{
		ID: b.ID, Reference: b.Reference, Status: b.Status, Source: b.Source,
		FirstName: b.PatientFirstName, LastName: b.PatientLastName, DateOfBirth: b.PatientDOB,
		Phone: b.PatientPhone, Email: b.PatientEmail, ConsentPrivacy: b.ConsentPrivacy,
		ConsentSMS: b.ConsentSMS, ConsentEmail: b.ConsentEmail, Notes: b.Notes,
		CancellationReason: b.CancellationReason, Version: b.Version,
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
	}
	s.Slot.ID, s.Slot.ProviderID, s.Slot.LocationID, s.Slot.ConsultationTypeID = sl.ID, sl.ProviderID, sl.LocationID, sl.ConsultationTypeID
	s.Slot.StartAt, s.Slot.EndAt = sl.StartAt, sl.EndAt
	return s
}

func (s feedSnapshot) toDomain() (booking.Booking, booking.Slot, error) {
	ids := make([]uuid.UUID, 5)
	for i, raw := range []string{s.ID, s.Slot.ID, s.Slot.ProviderID, s.Slot.LocationID, s.Slot.ConsultationTypeID} {
		id, err := uuid.Parse(raw)
		if err != nil {
			return booking.Booking{}, booking.Slot{}, fmt.Errorf("feed snapshot: %w", err)
		}
		ids[i] = id
	}
	dob, err := booking.ParseDate(s.DateOfBirth)
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("feed snapshot: %w", err)
	}
	b := booking.Booking{
		ID: ids[0], Reference: s.Reference, SlotID: ids[1], Status: booking.Status(s.Status), Source: booking.Source(s.Source),
		Patient: booking.Patient{FirstName: s.FirstName, LastName: s.LastName, DateOfBirth: dob, Phone: s.Phone, Email: s.Email},
		Consent: booking.Consent{PrivacyPolicyAccepted: s.ConsentPrivacy, ContactBySMS: s.ConsentSMS, ContactByEmail: s.ConsentEmail},
		Notes:   s.Notes, CancellationReason: s.CancellationReason, Version: s.Version,
		CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(),
	}
	sl := booking.Slot{
		ID: ids[1], ProviderID: ids[2], LocationID: ids[3], ConsultationTypeID: ids[4],
		StartAt: time.Unix(s.Slot.StartAt, 0).UTC(), EndAt: time.Unix(s.Slot.EndAt, 0).UTC(),
	}
	return b, sl, nil
}

// appendFeed queues the feed events of events, which insertEvents has just
// written, each with a snapshot of its booking as it stands in tx, on the
// transaction's mark; flushFeed numbers and writes them as the transaction's
// last statements.
func appendFeed(tx *gorm.DB, events ...booking.Event) error {
	for _, e := range events {
		if !e.Type.InFeed() {
			continue
		}
		var b bookingRow
		if err := tx.Where("id = ?", e.BookingID.String()).Take(&b).Error; err != nil {
			return fmt.Errorf("feed: booking: %w", err)
		}
		var sl slotRow
		if err := tx.Where("id = ?", b.SlotID).Take(&sl).Error; err != nil {
			return fmt.Errorf("feed: slot: %w", err)
		}
		if err := appendFeedSnapshot(tx, e, b, sl); err != nil {
			return err
		}
	}
	return nil
}

// appendFeedSnapshot is appendFeed for one event whose booking and slot,
// as they stand in tx after the change, the caller holds already (a new
// booking: CreateBooking has just written them).
func appendFeedSnapshot(tx *gorm.DB, e booking.Event, b bookingRow, sl slotRow) error {
	m, ok := tx.Statement.Context.Value(txMarkKey{}).(*txMark)
	if !ok {
		return errors.New("feed: a booking change outside Store.tx")
	}
	if !e.Type.InFeed() {
		return nil
	}
	typ := e.Type.FeedType()
	snap := snapshotOf(b, sl)
	snap.EventID, snap.Actor = e.ID.String(), string(e.Actor.Type)
	if e.Actor.Type == booking.ActorStaff {
		snap.StaffReason = e.Reason
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	m.queueFeed(feedEventRow{BookingID: &b.ID, Type: typ, OccurredAt: utc(e.At), Booking: string(raw)})
	return nil
}

// queueFeed queues row to be numbered and written by flushFeed when the
// transaction marked m ends its work.
func (m *txMark) queueFeed(row feedEventRow) {
	m.mu.Lock()
	m.pendingFeed = append(m.pendingFeed, row)
	m.mu.Unlock()
}

// waitlistSnapshot is the feed_events.booking column of a waitlist step:
// booking.WaitlistChange, without the patient and without intake.
type waitlistSnapshot struct {
	EventID            string                 `json:"event_id"`
	EntryID            string                 `json:"entry_id"`
	Reference          string                 `json:"reference"`
	Status             string                 `json:"status"`
	ConsultationTypeID string                 `json:"consultation_type_id"`
	ProviderID         *string                `json:"provider_id,omitempty"`
	LocationID         *string                `json:"location_id,omitempty"`
	SlotID             *string                `json:"slot_id,omitempty"`
	Offer              *waitlistOfferSnapshot `json:"offer,omitempty"`
	BookingID          *string                `json:"booking_id,omitempty"`
	Lapse              string                 `json:"lapse,omitempty"`
	Actor              string                 `json:"actor"`
}

// waitlistOfferSnapshot is a waitlistSnapshot's offer, times in Unix
// seconds.
type waitlistOfferSnapshot struct {
	ID        string `json:"id"`
	SlotID    string `json:"slot_id"`
	StartAt   int64  `json:"start_at"`
	ExpiresAt int64  `json:"expires_at"`
}

func waitlistSnapshotOf(c booking.WaitlistChange) waitlistSnapshot {
	s := waitlistSnapshot{
		EventID: c.EventID.String(), EntryID: c.EntryID.String(), Reference: c.Reference, Status: string(c.Status),
		ConsultationTypeID: c.ConsultationTypeID.String(), ProviderID: uuidPtrString(c.ProviderID), LocationID: uuidPtrString(c.LocationID),
		SlotID: uuidPtrString(c.SlotID), BookingID: uuidPtrString(c.BookingID), Lapse: string(c.Lapse), Actor: string(c.Actor),
	}
	if o := c.Offer; o != nil {
		s.Offer = &waitlistOfferSnapshot{ID: o.ID.String(), SlotID: o.SlotID.String(), StartAt: o.StartAt.Unix(), ExpiresAt: o.ExpiresAt.Unix()}
	}
	return s
}

func (s waitlistSnapshot) toDomain(at time.Time) (booking.WaitlistChange, error) {
	ids := make([]uuid.UUID, 3)
	for i, raw := range []string{s.EventID, s.EntryID, s.ConsultationTypeID} {
		id, err := uuid.Parse(raw)
		if err != nil {
			return booking.WaitlistChange{}, fmt.Errorf("waitlist snapshot: %w", err)
		}
		ids[i] = id
	}
	c := booking.WaitlistChange{
		EventID: ids[0], EntryID: ids[1], Reference: s.Reference, Status: booking.WaitlistStatus(s.Status),
		ConsultationTypeID: ids[2], ProviderID: parseUUIDPtr(s.ProviderID), LocationID: parseUUIDPtr(s.LocationID),
		SlotID: parseUUIDPtr(s.SlotID), BookingID: parseUUIDPtr(s.BookingID), Lapse: booking.WaitlistLapse(s.Lapse),
		Actor: booking.ActorType(s.Actor), At: at.UTC(),
	}
	if o := s.Offer; o != nil {
		id, err := uuid.Parse(o.ID)
		if err != nil {
			return booking.WaitlistChange{}, fmt.Errorf("waitlist snapshot: offer: %w", err)
		}
		slot, err := uuid.Parse(o.SlotID)
		if err != nil {
			return booking.WaitlistChange{}, fmt.Errorf("waitlist snapshot: offer slot: %w", err)
		}
		c.Offer = &booking.WaitlistOffer{ID: id, SlotID: slot, StartAt: time.Unix(o.StartAt, 0).UTC(), ExpiresAt: time.Unix(o.ExpiresAt, 0).UTC()}
	}
	return c, nil
}

// appendWaitlistFeed queues, on the transaction's mark, the feed events of
// the steps of events that the feed reports, with entry e as it stands
// after them (see booking.FeedChange); flushFeed numbers and writes them
// with the transaction's other feed events. The waitlist's writers run in
// Store.tx, and a feed reader's steps (OfferFreedTx) in the transaction of
// its cursor, which is one too.
func appendWaitlistFeed(tx *gorm.DB, e booking.WaitlistEntry, events ...booking.WaitlistEvent) error {
	for _, ev := range events {
		c, typ, ok := booking.FeedChange(e, ev)
		if !ok {
			continue
		}
		m, ok := tx.Statement.Context.Value(txMarkKey{}).(*txMark)
		if !ok {
			return errors.New("feed: a waitlist change outside Store.tx")
		}
		raw, err := json.Marshal(waitlistSnapshotOf(c))
		if err != nil {
			return fmt.Errorf("feed: %w", err)
		}
		id := e.ID.String()
		m.queueFeed(feedEventRow{WaitlistEntryID: &id, Type: typ, OccurredAt: utc(ev.At), Booking: string(raw)})
	}
	return nil
}

// flushFeed writes the transaction's queued feed events. Store.tx calls it
// after the transaction's work, just before the commit. On SQLite it numbers
// them too (the counter row is updated inside the single writer); on
// PostgreSQL it appends them to feed_pending, unnumbered, for the numbering
// Store.tx asks for after the commit (see numberFeed).
func flushFeed(tx *gorm.DB, m *txMark) error {
	m.mu.Lock()
	rows := m.pendingFeed
	m.pendingFeed = nil
	m.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	rt, err := rawTxOf(tx)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	if tx.Dialector.Name() == "postgres" {
		// One statement for the transaction's events; seq is taken in the
		// order of VALUES, which is the order they were queued in.
		q := "INSERT INTO feed_pending (booking_id, waitlist_entry_id, type, occurred_at, booking) VALUES " +
			joinedCopies("(?, ?, ?, ?, ?)", len(rows))
		args := make([]any, 0, 5*len(rows))
		for _, r := range rows {
			args = append(args, r.BookingID, r.WaitlistEntryID, r.Type, r.OccurredAt, r.Booking)
		}
		if _, err := rt.exec(q, args...); err != nil {
			return fmt.Errorf("feed: append: %w", err)
		}
		m.feed.Store(true)
		return nil
	}
	var last int64
	err = rt.queryRow("UPDATE feed_counter SET last_id = last_id + ? WHERE id = 1 RETURNING last_id", []any{len(rows)}, &last)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && last == 0) {
		return errors.New("feed: the feed counter row is missing")
	}
	if err != nil {
		return fmt.Errorf("feed: next id: %w", err)
	}
	for i := range rows {
		r := rows[i]
		r.ID = last - int64(len(rows)) + 1 + int64(i)
		if _, err := rt.exec("INSERT INTO feed_events (id, booking_id, waitlist_entry_id, type, occurred_at, booking) VALUES (?, ?, ?, ?, ?, ?)",
			r.ID, r.BookingID, r.WaitlistEntryID, r.Type, r.OccurredAt, r.Booking); err != nil {
			return fmt.Errorf("feed: append: %w", err)
		}
	}
	m.feed.Store(true)
	return nil
}

// FeedEvents returns up to limit feed events with ids above after, oldest
// first. Every feed event committed before the call is numbered by then (see
// numberFeed), so a change the caller has made is among them.
func (s *Store) FeedEvents(ctx context.Context, after int64, limit int) ([]FeedEvent, error) {
	if err := s.numberFeed(ctx); err != nil {
		return nil, err
	}
	return feedEvents(s.db.WithContext(ctx), after, limit)
}

func feedEvents(db *gorm.DB, after int64, limit int) ([]FeedEvent, error) {
	var rows []feedEventRow
	if err := db.Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("feed events: %w", err)
	}
	out := make([]FeedEvent, 0, len(rows))
	for _, r := range rows {
		if r.WaitlistEntryID != nil {
			var snap waitlistSnapshot
			if err := json.Unmarshal([]byte(r.Booking), &snap); err != nil {
				return nil, fmt.Errorf("feed event %d: %w", r.ID, err)
			}
			c, err := snap.toDomain(r.OccurredAt)
			if err != nil {
				return nil, fmt.Errorf("feed event %d: %w", r.ID, err)
			}
			out = append(out, FeedEvent{ID: r.ID, Type: r.Type, OccurredAt: r.OccurredAt.UTC(), Waitlist: &c, Actor: c.Actor, EventID: c.EventID})
			continue
		}
		var snap feedSnapshot
		if err := json.Unmarshal([]byte(r.Booking), &snap); err != nil {
			return nil, fmt.Errorf("feed event %d: %w", r.ID, err)
		}
		b, sl, err := snap.toDomain()
		if err != nil {
			return nil, fmt.Errorf("feed event %d: %w", r.ID, err)
		}
		e := FeedEvent{ID: r.ID, Type: r.Type, OccurredAt: r.OccurredAt.UTC(), Booking: b, Slot: sl,
			Actor: booking.ActorType(snap.Actor), StaffReason: snap.StaffReason}
		if snap.EventID != "" {
			if e.EventID, err = uuid.Parse(snap.EventID); err != nil {
				return nil, fmt.Errorf("feed event %d: %w", r.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// LastFeedID returns the id of the newest feed event, 0 when there is none;
// every feed event committed before the call is numbered by then (see
// numberFeed), so its id is at most the one returned.
func (s *Store) LastFeedID(ctx context.Context) (int64, error) {
	if err := s.numberFeed(ctx); err != nil {
		return 0, err
	}
	return lastFeedID(s.db.WithContext(ctx))
}

func lastFeedID(db *gorm.DB) (int64, error) {
	var id *int64
	if err := db.Model(&feedEventRow{}).Select("MAX(id)").Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("last feed id: %w", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}
