// Package demo seeds a believable demo clinic so that a newcomer can try
// every route with curl: providers, a main office and a telehealth location,
// consultation types, weekly schedules with two weeks of generated slots, a
// few bookings in different states, an admin and a reception account.
//
// Seeding is idempotent: catalogue rows have fixed ids and are created only
// when missing, slot generation skips what exists, and the sample bookings
// are made only on the run that created the catalogue. The demo accounts get
// fresh random passwords on every demo start; they are returned to be
// printed once and are never stored in clear.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// Emails of the demo accounts.
const (
	AdminEmail     = "admin@demo-clinic.example"
	ReceptionEmail = "reception@demo-clinic.example"
)

// Timezone is the demo clinic's time zone.
const Timezone = "America/Los_Angeles"

// namespace makes the demo's fixed ids; any UUID that is not random would do.
var namespace = uuid.MustParse("5b1d3a7e-0c4f-4e8a-9d55-6f1c2b7a9e10")

func id(name string) uuid.UUID { return uuid.NewSHA1(namespace, []byte(name)) }

// Fixed ids of the demo catalogue, so docs and tests can name them.
var (
	ProviderReyes   = id("provider:reyes")
	ProviderHaddad  = id("provider:haddad")
	ProviderPark    = id("provider:park")
	LocationMain    = id("location:main")
	LocationTele    = id("location:telehealth")
	TypeNewPatient  = id("type:new-patient")
	TypeFollowUp    = id("type:follow-up")
	TypeTelehealth  = id("type:telehealth")
	TypeSecondOpion = id("type:second-opinion")
)

// Credentials are the demo accounts' passwords for this start.
type Credentials struct {
	AdminEmail, AdminPassword         string
	ReceptionEmail, ReceptionPassword string
}

// Result says what Seed did.
type Result struct {
	Credentials
	CatalogCreated bool
	SlotsCreated   int
	Bookings       int
}

// Seed makes the demo clinic in st as of now (slots for the 14 days from
// now's date in the clinic's time zone).
func Seed(ctx context.Context, st *store.Store, authSvc *auth.Service, now time.Time) (Result, error) {
	var res Result
	var err error
	if res.Credentials, err = accounts(ctx, st, authSvc); err != nil {
		return res, fmt.Errorf("demo accounts: %w", err)
	}
	if res.CatalogCreated, err = catalog(ctx, st, now); err != nil {
		return res, fmt.Errorf("demo catalogue: %w", err)
	}
	loc, err := booking.ParseTimezone(Timezone)
	if err != nil {
		return res, err
	}
	from := booking.DateOf(now, loc)
	for _, sc := range schedules(from) {
		if _, err := st.Schedule(ctx, sc.ID); errors.Is(err, booking.ErrNotFound) {
			if err := st.CreateSchedule(ctx, sc); err != nil {
				return res, fmt.Errorf("demo schedule: %w", err)
			}
		} else if err != nil {
			return res, fmt.Errorf("demo schedule: %w", err)
		}
		g, err := st.GenerateSlots(ctx, sc.ID, from, from.AddDays(13), now)
		if err != nil {
			return res, fmt.Errorf("demo slots: %w", err)
		}
		res.SlotsCreated += g.Created
	}
	if res.CatalogCreated {
		if res.Bookings, err = sampleBookings(ctx, st, now); err != nil {
			return res, fmt.Errorf("demo bookings: %w", err)
		}
	}
	return res, nil
}

// accounts creates the demo admin and receptionist, or gives them new
// passwords when they exist, so the printed ones always work.
func accounts(ctx context.Context, st *store.Store, authSvc *auth.Service) (Credentials, error) {
	c := Credentials{AdminEmail: AdminEmail, ReceptionEmail: ReceptionEmail}
	for _, a := range []struct {
		email, name string
		role        auth.Role
		pw          *string
	}{
		{AdminEmail, "Demo Admin", auth.RoleAdmin, &c.AdminPassword},
		{ReceptionEmail, "Demo Reception", auth.RoleReception, &c.ReceptionPassword},
	} {
		pw, err := password()
		if err != nil {
			return c, err
		}
		*a.pw = pw
		existing, err := st.StaffByEmail(ctx, a.email)
		switch {
		case errors.Is(err, booking.ErrNotFound):
			_, err = authSvc.CreateStaff(ctx, nil, auth.NewStaff{Email: a.email, Name: a.name, Role: string(a.role), Password: pw}, "")
		case err == nil:
			err = authSvc.SetPassword(ctx, existing.ID, pw)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func password() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// catalog creates the providers, locations and types that are missing and
// reports whether it created the first provider (a fresh clinic).
func catalog(ctx context.Context, st *store.Store, now time.Time) (bool, error) {
	_, err := st.Provider(ctx, ProviderReyes)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, booking.ErrNotFound) {
		return false, err
	}
	for _, l := range []booking.Location{
		{ID: LocationMain, Name: "Main office", Address: "1200 Wilshire Blvd, Suite 400, Los Angeles, CA 90017", Timezone: Timezone,
			Translations: booking.Translations{"es": {Name: "Centro principal"}}},
		{ID: LocationTele, Name: "Telehealth", Address: "Video visit; the link is sent by email", Timezone: Timezone,
			Translations: booking.Translations{"es": {Name: "Teleconsulta"}}},
	} {
		l.Active, l.CreatedAt = true, now
		if err := st.CreateLocation(ctx, l); err != nil {
			return false, err
		}
	}
	for _, ct := range []booking.ConsultationType{
		{ID: TypeNewPatient, Name: "New patient consultation", Description: "First visit: history, examination and a treatment plan.", DurationMinutes: 45, RequiresConfirmation: true,
			Translations: booking.Translations{"es": {Name: "Primera consulta", Description: "Primera visita: historia clínica, exploración y plan de tratamiento."}}},
		{ID: TypeFollowUp, Name: "Follow-up", Description: "Review of progress, imaging or a treatment plan.", DurationMinutes: 20,
			Translations: booking.Translations{"es": {Name: "Revisión", Description: "Revisión de la evolución, de las pruebas de imagen o del plan de tratamiento."}}},
		{ID: TypeTelehealth, Name: "Telehealth consultation", Description: "A video consultation from home.", DurationMinutes: 30,
			Translations: booking.Translations{"es": {Name: "Consulta por vídeo", Description: "Una consulta por videollamada desde casa."}}},
		{ID: TypeSecondOpion, Name: "Second opinion", Description: "A surgeon's opinion on a diagnosis or a proposed surgery; bring your imaging.", DurationMinutes: 60, RequiresConfirmation: true,
			Translations: booking.Translations{"es": {Name: "Segunda opinión", Description: "La opinión de un cirujano sobre un diagnóstico o una cirugía propuesta; traiga sus pruebas de imagen."}}},
	} {
		ct.Active, ct.CreatedAt = true, now
		if err := st.CreateConsultationType(ctx, ct); err != nil {
			return false, err
		}
	}
	for _, p := range []booking.Provider{
		{ID: ProviderHaddad, Name: "Dr. Omar Haddad", Title: "Neurosurgeon"},
		{ID: ProviderPark, Name: "Lena Park, PA-C", Title: "Physician assistant, spine care"},
		{ID: ProviderReyes, Name: "Dr. Dana Reyes", Title: "Spine surgeon"}, // last: its presence marks a finished catalogue
	} {
		p.Active, p.CreatedAt = true, now
		if err := st.CreateProvider(ctx, p); err != nil {
			return false, err
		}
	}
	return true, nil
}

func schedules(from booking.Date) []booking.Schedule {
	w := func(d time.Weekday, start, end string) booking.Window {
		s, _ := booking.ParseClock(start)
		e, _ := booking.ParseClock(end)
		return booking.Window{Weekday: d, Start: s, End: e}
	}
	weekdays := func(start, end string) []booking.Window {
		var out []booking.Window
		for d := time.Monday; d <= time.Friday; d++ {
			out = append(out, w(d, start, end))
		}
		return out
	}
	list := []booking.Schedule{
		{ID: id("schedule:reyes-new"), ProviderID: ProviderReyes, LocationID: LocationMain, ConsultationTypeID: TypeNewPatient,
			SlotMinutes: 45, Capacity: 1, Windows: []booking.Window{w(time.Monday, "09:00", "12:00"), w(time.Wednesday, "09:00", "12:00"), w(time.Friday, "09:00", "12:00")}},
		{ID: id("schedule:reyes-follow-up"), ProviderID: ProviderReyes, LocationID: LocationMain, ConsultationTypeID: TypeFollowUp,
			SlotMinutes: 20, Capacity: 1, Windows: []booking.Window{w(time.Tuesday, "13:00", "17:00"), w(time.Thursday, "13:00", "17:00")}},
		{ID: id("schedule:haddad-second-opinion"), ProviderID: ProviderHaddad, LocationID: LocationMain, ConsultationTypeID: TypeSecondOpion,
			SlotMinutes: 60, Capacity: 1, Windows: []booking.Window{w(time.Tuesday, "09:00", "16:00"), w(time.Thursday, "09:00", "16:00")}},
		{ID: id("schedule:park-telehealth"), ProviderID: ProviderPark, LocationID: LocationTele, ConsultationTypeID: TypeTelehealth,
			SlotMinutes: 30, Capacity: 1, Windows: weekdays("10:00", "16:00")},
	}
	validTo := from.AddDays(365)
	for i := range list {
		list[i].ValidFrom = from.AddDays(-1)
		list[i].ValidTo = &validTo
		list[i].Active = true
	}
	return list
}

// sampleBookings books a few fictional patients into the demo's slots in
// different states, as a reception desk would see them on a normal week.
func sampleBookings(ctx context.Context, st *store.Store, now time.Time) (int, error) {
	loc, _ := booking.ParseTimezone(Timezone)
	today := booking.DateOf(now, loc)
	days := booking.DateRange{From: today.AddDays(2), To: today.AddDays(13)}
	policy := booking.Policy{MinNotice: 0, MaxAdvance: 30 * 24 * time.Hour}
	pick := func(typ uuid.UUID, n int) (uuid.UUID, bool) {
		out, err := st.Availability(ctx, store.AvailabilityQuery{Days: days, ConsultationTypeID: &typ, Policy: policy, Now: now})
		if err != nil {
			return uuid.Nil, false
		}
		for _, d := range out {
			for _, sl := range d.Slots {
				if n == 0 {
					return sl.ID, true
				}
				n--
			}
		}
		return uuid.Nil, false
	}
	reception, err := st.StaffByEmail(ctx, ReceptionEmail)
	if err != nil {
		return 0, err
	}
	staff := booking.StaffActor(reception.ID)
	samples := []struct {
		typ          uuid.UUID
		nth          int
		source       booking.Source
		first, last  string
		dob, phone   string
		pain         int
		freq         string
		relief       []string
		conditions   []string
		reason       string
		then         []booking.Action
		actionReason string
	}{
		{TypeNewPatient, 0, booking.SourceWeb, "Ana", "Lopez", "1980-04-02", "+14245550123", 7, "daily",
			[]string{"heat_or_ice", "position"}, []string{"herniated_disc"}, "Lower back spasms since moving house", nil, ""},
		{TypeNewPatient, 2, booking.SourceWeb, "Marcus", "Webb", "1972-09-15", "+13105550188", 5, "weekly",
			[]string{"medication"}, []string{"spinal_stenosis"}, "Numbness in the left leg when walking", []booking.Action{booking.ActionConfirm}, ""},
		{TypeFollowUp, 1, booking.SourcePhone, "Grace", "Kim", "1990-01-23", "+12135550147", 3, "monthly",
			[]string{"massage"}, []string{"prior_spine_surgery"}, "Six-week check after microdiscectomy", nil, ""},
		{TypeSecondOpion, 0, booking.SourceWeb, "Tom", "Becker", "1965-06-30", "+16265550111", 6, "rarely",
			[]string{"nothing"}, []string{"spinal_arthritis"}, "Second opinion on a proposed fusion", []booking.Action{booking.ActionCancel}, "Feeling better; will call again if needed"},
		{TypeTelehealth, 3, booking.SourceWeb, "Priya", "Natarajan", "1985-11-08", "+17145550190", 4, "weekly",
			[]string{"foam_roller", "position"}, nil, "Neck stiffness working from home", nil, ""},
	}
	made := 0
	for _, smp := range samples {
		slotID, ok := pick(smp.typ, smp.nth)
		if !ok {
			continue // a clinic with no free slot of that type this fortnight
		}
		pain, active, accepted, sms := smp.pain, false, true, true
		req, err := booking.ParseRequest(booking.RequestInput{
			SlotID:  slotID.String(),
			Patient: booking.PatientInput{FirstName: smp.first, LastName: smp.last, DateOfBirth: smp.dob, Phone: smp.phone, Email: fmt.Sprintf("%s.%s@example.com", strings.ToLower(smp.first), strings.ToLower(smp.last))},
			Intake: booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &pain, RelievedBy: smp.relief, PreExistingConditions: smp.conditions,
				SpasmFrequency: smp.freq, RecentPhysicalActivity: &active, Reason: &smp.reason},
			Consent: booking.ConsentInput{PrivacyPolicyAccepted: &accepted, ContactBySMS: &sms},
		}, now)
		if err != nil {
			return made, err
		}
		actor := booking.Actor{Type: booking.ActorPatient}
		if smp.source == booking.SourcePhone {
			actor = staff
		}
		created, err := st.CreateBooking(ctx, slotID, func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
			b, ev, _, err := booking.NewBooking(req, smp.source, booking.InitialStatus(smp.source, info.Type.RequiresConfirmation), actor, now)
			return b, ev, err
		}, nil)
		if err != nil {
			return made, err
		}
		for _, a := range smp.then {
			_, _, err := st.UpdateBooking(ctx, created.Booking.ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
				ev, err := b.Apply(a, staff, smp.actionReason, now)
				return []booking.Event{ev}, err
			})
			if err != nil {
				return made, err
			}
		}
		made++
	}
	return made, nil
}
