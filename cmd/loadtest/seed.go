package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// clinicZone is the time zone of every location.
const clinicZone = "America/Los_Angeles"

// clinic is what the seeding made and the scenarios use.
type clinic struct {
	zone       *time.Location
	today      booking.Date // in clinicZone
	providers  []uuid.UUID
	locations  []uuid.UUID
	types      []uuid.UUID
	burstType  uuid.UUID // the consultation type of the burst slots
	staffEmail string
	staffPass  string
	staffID    uuid.UUID

	slots     int
	places    int
	occupying int
	released  int

	// timing is how long the seeding's parts took: the catalogue and the
	// slots' generation, listing the slots, the bookings.
	timing struct{ slots, list, bookings time.Duration }

	// search terms reception would type: last names, references, phone
	// fragments, "first last".
	searches []string
}

// slotRef is what seeding needs of a slot.
type slotRef struct {
	id       uuid.UUID
	start    time.Time
	capacity int
	typeID   uuid.UUID
}

var (
	firstNames = strings.Fields(`Ana Marcus Grace Tom Priya Liam Olivia Noah Emma James Sofia Lucas Mia Ethan Ava
		Mateo Isabella Daniel Chloe Omar Fatima Wei Mei Hiroshi Yuki Carlos Lucia Ivan Elena Samuel Ruth David
		Sarah Kofi Amara Raj Anika Diego Valentina Patrick Nora`)
	lastNames = strings.Fields(`Lopez Webb Kim Becker Natarajan Garcia Smith Johnson Williams Brown Jones Miller
		Davis Rodriguez Martinez Hernandez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez
		Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres
		Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Chen Okafor
		Haddad Park Reyes Singh Cohen`)
	reasons = []string{
		"Lower back spasms after lifting", "Sciatica down the left leg", "Neck stiffness and headaches",
		"Numbness in both hands", "Second opinion on a proposed fusion", "Follow-up after microdiscectomy",
		"Back pain since a fall", "Pain between the shoulder blades", "Tingling in the right foot",
	}
	areaCodes = []string{"424", "310", "213", "626", "714", "818", "562", "949"}
)

// seedClinic makes the catalogue, the schedules, the slots of the days
// asked (a year for the clinic, three for the group) and the
// bookings, and the reception account the search scenario logs in with.
func seedClinic(ctx context.Context, st *store.Store, authSvc *auth.Service, c config, now time.Time, rng *rand.Rand) (*clinic, error) {
	zone, err := time.LoadLocation(clinicZone)
	if err != nil {
		return nil, err
	}
	k := &clinic{zone: zone, today: booking.DateOf(now, zone)}
	t0 := time.Now()
	past := now.Add(-time.Duration(c.pastDays+2) * 24 * time.Hour)

	k.staffEmail, k.staffPass = "reception@loadtest.example", "load-test-reception-"+uuid.NewString()[:8]
	staff, err := authSvc.CreateStaff(ctx, nil, auth.NewStaff{Email: k.staffEmail, Name: "Load Test Reception", Role: string(auth.RoleReception), Password: k.staffPass}, "")
	if err != nil {
		return nil, fmt.Errorf("reception account: %w", err)
	}
	k.staffID = staff.ID

	locs, plan := clinicPlan()
	if c.scale == "group" {
		locs, plan = groupPlan()
	}
	for _, l := range locs {
		l.ID, l.Timezone, l.Active, l.CreatedAt = uuid.New(), clinicZone, true, past
		if err := st.CreateLocation(ctx, l); err != nil {
			return nil, err
		}
		k.locations = append(k.locations, l.ID)
	}
	typeConfirm := map[uuid.UUID]bool{}
	for _, t := range []booking.ConsultationType{
		{Name: "New patient consultation", RequiresConfirmation: true},
		{Name: "Follow-up"},
		{Name: "Telehealth consultation"},
		{Name: "Second opinion", RequiresConfirmation: true},
	} {
		t.ID, t.DurationMinutes, t.Active, t.CreatedAt = uuid.New(), 30, true, past
		if err := st.CreateConsultationType(ctx, t); err != nil {
			return nil, err
		}
		k.types = append(k.types, t.ID)
		typeConfirm[t.ID] = t.RequiresConfirmation
	}
	k.burstType = k.types[1]
	from, to := k.today.AddDays(-c.pastDays), k.today.AddDays(c.futureDays)
	for _, p := range plan {
		prov := booking.Provider{ID: uuid.New(), Name: p.name, Title: p.title, Active: true, CreatedAt: past}
		if err := st.CreateProvider(ctx, prov); err != nil {
			return nil, err
		}
		k.providers = append(k.providers, prov.ID)
		for _, w := range p.work {
			sc := booking.Schedule{
				ID: uuid.New(), ProviderID: prov.ID, LocationID: k.locations[w.loc], ConsultationTypeID: k.types[w.typ],
				SlotMinutes: 30, Capacity: p.cap, ValidFrom: from, ValidTo: &to, Active: true, CreatedAt: past,
			}
			for _, d := range w.days {
				sc.Windows = append(sc.Windows, booking.Window{Weekday: d, Start: clock("08:00"), End: clock("17:00")})
			}
			if err := sc.Validate(); err != nil {
				return nil, fmt.Errorf("schedule: %w", err)
			}
			if err := st.CreateSchedule(ctx, sc); err != nil {
				return nil, err
			}
			// "now" at the start of the range, so that the past is
			// generated too; at most booking.MaxGenerateDays a call.
			for d := from; !d.After(to); d = d.AddDays(booking.MaxGenerateDays) {
				if _, err := st.GenerateSlots(ctx, sc.ID, d, minDate(d.AddDays(booking.MaxGenerateDays-1), to), past); err != nil {
					return nil, err
				}
			}
		}
	}

	k.timing.slots = time.Since(t0)
	t0 = time.Now()
	slots, err := allSlots(ctx, st, from, to, zone)
	if err != nil {
		return nil, err
	}
	k.slots = len(slots)
	k.timing.list = time.Since(t0)
	t0 = time.Now()
	err = seedBookings(ctx, st, k, slots, typeConfirm, c.bookings, now, rng)
	k.timing.bookings = time.Since(t0)
	return k, err
}

// providerPlan is a provider and where, what and when they see patients:
// each work is a schedule of its own.
type providerPlan struct {
	name, title string
	cap         int // places a slot
	work        []work
}

type work struct {
	loc, typ int // indexes of the locations and the consultation types
	days     []time.Weekday
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// clinicPlan is the single clinic: 5 providers at 2 locations, each at one
// location every weekday.
func clinicPlan() ([]booking.Location, []providerPlan) {
	locs := []booking.Location{
		{Name: "Main office", Address: "1200 Wilshire Blvd, Suite 400, Los Angeles, CA 90017"},
		{Name: "Telehealth", Address: "Video visit; the link is sent by email"},
	}
	one := func(name, title string, loc, typ, cap int) providerPlan {
		return providerPlan{name: name, title: title, cap: cap, work: []work{{loc: loc, typ: typ, days: weekdays}}}
	}
	return locs, []providerPlan{
		one("Dr. Dana Reyes", "Spine surgeon", 0, 0, 1),
		one("Dr. Omar Haddad", "Neurosurgeon", 0, 3, 2),
		one("Lena Park, PA-C", "Physician assistant, spine care", 1, 2, 2),
		one("Dr. Wei Chen", "Physiatrist", 0, 1, 2),
		one("Dr. Amara Okafor", "Pain management", 1, 1, 2),
	}
}

// groupPlan is a clinic group: 20 providers at 6 locations (five offices
// and telehealth). Each provider sees patients at a home office Monday to
// Wednesday and at the next office (or by video) on Thursday and Friday,
// with a consultation type for each; 14 of them two places a slot, 6 one
// (1.7 a slot: the clinic's share of places taken, about two thirds of
// the bookings occupying one, at 500,000 bookings over three years).
func groupPlan() ([]booking.Location, []providerPlan) {
	locs := []booking.Location{
		{Name: "Downtown", Address: "1200 Wilshire Blvd, Suite 400, Los Angeles, CA 90017"},
		{Name: "Pasadena", Address: "75 S Grand Ave, Pasadena, CA 91105"},
		{Name: "Santa Monica", Address: "2200 Santa Monica Blvd, Santa Monica, CA 90404"},
		{Name: "Irvine", Address: "16300 Sand Canyon Ave, Irvine, CA 92618"},
		{Name: "Long Beach", Address: "2801 Atlantic Ave, Long Beach, CA 90806"},
		{Name: "Telehealth", Address: "Video visit; the link is sent by email"},
	}
	titles := []string{"Spine surgeon", "Neurosurgeon", "Physician assistant, spine care", "Physiatrist", "Pain management"}
	var plan []providerPlan
	for i := range 20 {
		home := i % 5
		second := (home + 1 + i/5) % 6
		cap := 2
		if i%10 < 3 {
			cap = 1
		}
		plan = append(plan, providerPlan{
			name:  fmt.Sprintf("Dr. %s %s", firstNames[(i*7)%len(firstNames)], lastNames[(i*11)%len(lastNames)]),
			title: titles[i%len(titles)], cap: cap,
			work: []work{
				{loc: home, typ: i % 4, days: weekdays[:3]},
				{loc: second, typ: (i + 1) % 4, days: weekdays[3:]},
			},
		})
	}
	return locs, plan
}

func minDate(a, b booking.Date) booking.Date {
	if a.After(b) {
		return b
	}
	return a
}

func clock(s string) booking.Clock {
	c, err := booking.ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

// allSlots pages through every slot, a day of start times at a time: a
// page's cursor then narrows a day's slots, not the whole table's (a
// group's three years listed in one run of pages took minutes).
func allSlots(ctx context.Context, st *store.Store, from, to booking.Date, zone *time.Location) ([]slotRef, error) {
	var out []slotRef
	for d := from; !d.After(to); d = d.AddDays(1) {
		start, _ := d.At(clock("00:00"), zone)
		end, _ := d.AddDays(1).At(clock("00:00"), zone)
		cursor := ""
		for {
			page, next, err := st.ListSlots(ctx, store.SlotFilter{StartFrom: start, StartBefore: end}, cursor, 200)
			if err != nil {
				return nil, err
			}
			for _, sl := range page {
				out = append(out, slotRef{id: sl.ID, start: sl.StartAt, capacity: sl.Capacity, typeID: sl.ConsultationTypeID})
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out, nil
}

// fill is the share of a slot's places that are taken: nearly all in the
// past, most of the next days, fewer further ahead, as a clinic's book looks.
func fill(start, now time.Time) float64 {
	if start.Before(now) {
		return 0.95
	}
	days := start.Sub(now).Hours() / 24
	return 0.1 + 0.75*math.Exp(-days/30)
}

// seedBookings books n patients: about 80% occupying places (slots in the
// past completed or no-show, future ones confirmed or pending), the rest
// cancelled, declined or expired, spread over past and future slots. It
// inserts them with a store.Seeder (store.SeedBookings a batch at a time),
// which keeps every slot's booked count equal to its occupying bookings.
func seedBookings(ctx context.Context, st *store.Store, k *clinic, slots []slotRef, confirm map[uuid.UUID]bool,
	n int, now time.Time, rng *rand.Rand) error {
	if n == 0 || len(slots) == 0 {
		return nil
	}
	expected := 0.0
	for _, sl := range slots {
		k.places += sl.capacity
		expected += float64(sl.capacity) * fill(sl.start, now)
	}
	scale := math.Min(1, 0.8*float64(n)/expected)
	staff := booking.StaffActor(k.staffID)
	seeder, err := st.NewSeeder(ctx)
	if err != nil {
		return err
	}
	if err := seeder.DeferIndexes(ctx); err != nil {
		return err
	}
	var batch []store.SeedBooking
	flush := func() error {
		err := seeder.Add(ctx, batch)
		batch = batch[:0]
		return err
	}
	add := func(sl slotRef, occupy bool) error {
		sb, err := fakeBooking(k, sl, confirm[sl.typeID], occupy, staff, now, rng)
		if err != nil {
			return err
		}
		batch = append(batch, sb)
		if occupy {
			k.occupying++
		} else {
			k.released++
		}
		if len(batch) == seedBatch {
			return flush()
		}
		return nil
	}
	for _, sl := range slots {
		for range sl.capacity {
			if k.occupying < n && rng.Float64() < fill(sl.start, now)*scale {
				if err := add(sl, true); err != nil {
					return err
				}
			}
		}
	}
	for k.occupying+k.released < n {
		if err := add(slots[rng.IntN(len(slots))], false); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return seeder.Finish(ctx)
}

// seedBatch is how many bookings one transaction of the seeding inserts.
const seedBatch = 5000

// fakeBooking makes one believable booking in slot sl, with the events of
// the path it took to its status.
func fakeBooking(k *clinic, sl slotRef, requiresConfirmation, occupy bool, staff booking.Actor, now time.Time, rng *rand.Rand) (store.SeedBooking, error) {
	created := sl.start.Add(-time.Duration(1+rng.IntN(30*24)) * time.Hour)
	if created.After(now) {
		created = now.Add(-time.Duration(rng.IntN(72*60)) * time.Minute)
	}
	source, actor := booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}
	if rng.IntN(4) == 0 {
		source, actor = booking.SourcePhone, staff
	}
	req, err := booking.ParseRequest(fakeRequest(sl.id, rng), created)
	if err != nil {
		return store.SeedBooking{}, fmt.Errorf("fake request: %w", err)
	}
	b, ev, _, err := booking.NewBooking(req, source, booking.InitialStatus(source, requiresConfirmation), actor, created)
	if err != nil {
		return store.SeedBooking{}, err
	}
	events := []booking.Event{ev}
	past := sl.start.Before(now)
	pending := b.Status == booking.StatusPending
	var path []booking.Action
	switch {
	case occupy && past:
		if pending {
			path = append(path, booking.ActionConfirm)
		}
		if rng.IntN(10) == 0 {
			path = append(path, booking.ActionNoShow)
		} else {
			path = append(path, booking.ActionCheckIn, booking.ActionComplete)
		}
	case occupy:
		if pending && rng.IntN(5) < 3 {
			path = append(path, booking.ActionConfirm)
		}
	case pending && rng.IntN(5) == 0:
		path = append(path, booking.ActionDecline)
	case pending && rng.IntN(5) == 0:
		path = append(path, booking.ActionExpire)
	default:
		path = append(path, booking.ActionCancel)
	}
	end := now
	if sl.start.Before(end) {
		end = sl.start.Add(30 * time.Minute)
	}
	at := created
	for _, a := range path {
		at = at.Add(time.Duration(rng.Int64N(int64(max(end.Sub(at), time.Minute))/int64(len(path)+1) + 1)))
		who, reason := staff, ""
		switch a {
		case booking.ActionCancel:
			reason = "Feeling better"
			if rng.IntN(2) == 0 && b.Source == booking.SourceWeb {
				who = booking.Actor{Type: booking.ActorPatient}
			}
		case booking.ActionDecline:
			reason = "Please see your primary care physician first"
		case booking.ActionExpire:
			who = booking.Actor{Type: booking.ActorSystem}
		}
		e, err := b.Apply(a, who, reason, at)
		if err != nil {
			return store.SeedBooking{}, fmt.Errorf("fake booking %s: %w", a, err)
		}
		events = append(events, e)
	}
	if b.Status.Occupies() != occupy {
		return store.SeedBooking{}, fmt.Errorf("fake booking: status %s, want occupying %v", b.Status, occupy)
	}
	if rng.IntN(50) == 0 && len(k.searches) < 2000 {
		k.searches = append(k.searches, b.Reference, b.Patient.LastName,
			b.Patient.Phone[len(b.Patient.Phone)-4:], b.Patient.FirstName+" "+b.Patient.LastName)
	}
	return store.SeedBooking{Booking: b, Events: events}, nil
}

// fakeRequest is a booking request as the widget would send it.
func fakeRequest(slot uuid.UUID, rng *rand.Rand) booking.RequestInput {
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	pain := rng.IntN(11)
	active := rng.IntN(3) == 0
	reason := reasons[rng.IntN(len(reasons))]
	accepted, sms := true, rng.IntN(2) == 0
	reliefs := booking.Reliefs()
	conditions := booking.Conditions()
	freq := booking.SpasmFrequencies()
	in := booking.RequestInput{
		SlotID: slot.String(),
		Patient: booking.PatientInput{
			FirstName: first, LastName: last,
			DateOfBirth: fmt.Sprintf("%d-%02d-%02d", 1940+rng.IntN(65), 1+rng.IntN(12), 1+rng.IntN(28)),
			Phone:       fmt.Sprintf("+1%s555%04d", areaCodes[rng.IntN(len(areaCodes))], rng.IntN(10000)),
			Email:       fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), rng.IntN(1000)),
		},
		Intake: booking.IntakeInput{
			RedFlags: []string{"none"}, PainSeverity: &pain, RelievedBy: []string{string(reliefs[rng.IntN(len(reliefs))])},
			SpasmFrequency: string(freq[rng.IntN(len(freq))]), RecentPhysicalActivity: &active, Reason: &reason,
		},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &accepted, ContactBySMS: &sms},
	}
	if rng.IntN(2) == 0 {
		in.Intake.PreExistingConditions = []string{string(conditions[rng.IntN(len(conditions))])}
	}
	if active {
		details := "moved house"
		in.Intake.ActivityDetails = &details
	}
	return in
}
