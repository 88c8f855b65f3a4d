package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/calendar"
	"github.com/clinic/consult/internal/calendar/icaltest"
)

// parseScript reads an iCalendar file with Python's icalendar and prints,
// for each event, its fields and its start and end as UTC instants twice:
// once read through the file's own VTIMEZONE (the wall-clock time and the
// TZID's definition in the file), once through Python's time zone database.
const parseScript = `
import sys, json, datetime
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
zones = {str(tz['TZID']): tz.to_tz() for tz in cal.walk('VTIMEZONE')}
out = {"method": str(cal.get('METHOD', '')), "events": []}
def utc(prop):
    dt = prop.dt
    tzid = prop.params.get('TZID')
    naive = dt.replace(tzinfo=None)
    own = zones[tzid].localize(naive).astimezone(datetime.timezone.utc)
    return own.strftime('%Y-%m-%dT%H:%M:%SZ'), dt.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), tzid
for ev in cal.walk('VEVENT'):
    s = utc(ev['DTSTART']); e = utc(ev['DTEND'])
    out["events"].append({"uid": str(ev['UID']), "sequence": int(ev['SEQUENCE']), "status": str(ev['STATUS']),
        "summary": str(ev['SUMMARY']), "location": str(ev.get('LOCATION', '')),
        "start_own": s[0], "start_db": s[1], "end_own": e[0], "end_db": e[1], "tzid": s[2]})
print(json.dumps(out))
`

type parsed struct {
	Method string `json:"method"`
	Events []struct {
		UID      string `json:"uid"`
		Sequence int    `json:"sequence"`
		Status   string `json:"status"`
		Summary  string `json:"summary"`
		Location string `json:"location"`
		StartOwn string `json:"start_own"`
		StartDB  string `json:"start_db"`
		EndOwn   string `json:"end_own"`
		EndDB    string `json:"end_db"`
		TZID     string `json:"tzid"`
	} `json:"events"`
}

func parseWithPython(t *testing.T, ics []byte) parsed {
	t.Helper()
	var p parsed
	icaltest.Parse(t, icaltest.Python(t), parseScript, ics, &p)
	return p
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestEncodeReadsBackInAnotherParserAcrossDST(t *testing.T) {
	la := mustZone(t, "America/Los_Angeles")
	berlin := mustZone(t, "Europe/Berlin")
	kolkata := mustZone(t, "Asia/Kolkata")
	events := []calendar.Event{
		// The day before and the day after the autumn change, the first
		// morning after the spring one, and an appointment on the change's
		// own day, after it.
		{UID: "a@test", Sequence: 0, Status: calendar.Tentative, Start: time.Date(2026, 10, 31, 9, 0, 0, 0, la), Zone: la, Summary: "New patient consultation with Dr. Reyes", Location: "Main office, 1 Spine Way, Springfield"},
		{UID: "b@test", Sequence: 3, Status: calendar.Confirmed, Start: time.Date(2026, 11, 2, 9, 0, 0, 0, la), Zone: la, Summary: "Follow-up; Dr. Reyes", Location: "Main office"},
		{UID: "c@test", Sequence: 1, Status: calendar.Cancelled, Start: time.Date(2027, 3, 15, 8, 30, 0, 0, la), Zone: la, Summary: "Post-op check", Location: "Main office"},
		{UID: "d@test", Sequence: 2, Status: calendar.Confirmed, Start: time.Date(2026, 11, 1, 10, 0, 0, 0, la), Zone: la, Summary: "Second opinion", Location: "Main office"},
		{UID: "e@test", Status: calendar.Confirmed, Start: time.Date(2027, 3, 29, 9, 0, 0, 0, berlin), Zone: berlin, Summary: "Berlin, after its spring change", Location: "Praxis"},
		{UID: "f@test", Status: calendar.Confirmed, Start: time.Date(2026, 12, 24, 17, 0, 0, 0, kolkata), Zone: kolkata, Summary: "No DST here", Location: "Clinic"},
	}
	for i := range events {
		events[i].End = events[i].Start.Add(45 * time.Minute)
		events[i].Updated = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	}
	ics, err := calendar.Encode(calendar.Calendar{ProductID: "-//Test//Clinic//EN", Events: events})
	if err != nil {
		t.Fatal(err)
	}
	p := parseWithPython(t, ics)
	if p.Method != "PUBLISH" {
		t.Errorf("METHOD: got %q, want PUBLISH", p.Method)
	}
	if len(p.Events) != len(events) {
		t.Fatalf("events: got %d, want %d", len(p.Events), len(events))
	}
	for i, want := range events {
		got := p.Events[i]
		ws, we := want.Start.UTC().Format(time.RFC3339), want.End.UTC().Format(time.RFC3339)
		if got.UID != want.UID || got.Sequence != want.Sequence || got.Status != string(want.Status) ||
			got.Summary != want.Summary || got.Location != want.Location || got.TZID != want.Zone.String() {
			t.Errorf("event %d: got %+v, want %+v", i, got, want)
		}
		if got.StartOwn != ws || got.EndOwn != we {
			t.Errorf("event %s read through the file's VTIMEZONE: got %s to %s, want %s to %s", want.UID, got.StartOwn, got.EndOwn, ws, we)
		}
		if got.StartDB != ws || got.EndDB != we {
			t.Errorf("event %s read through Python's zone database: got %s to %s, want %s to %s", want.UID, got.StartDB, got.EndDB, ws, we)
		}
	}
}

func TestEncodeCancel(t *testing.T) {
	la := mustZone(t, "America/Los_Angeles")
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, la)
	ics, err := calendar.Encode(calendar.Calendar{Method: calendar.Cancel, Organizer: "mailto:clinic@example.com",
		Events: []calendar.Event{{UID: "x@test", Sequence: 4, Status: calendar.Cancelled, Start: start, End: start.Add(time.Hour), Zone: la, Summary: "Consultation"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ics), "\r\n") {
		t.Errorf("lines do not end in CRLF")
	}
	p := parseWithPython(t, ics)
	if p.Method != "CANCEL" || len(p.Events) != 1 || p.Events[0].Status != "CANCELLED" || p.Events[0].Sequence != 4 {
		t.Errorf("got %+v, want METHOD CANCEL and one CANCELLED event with SEQUENCE 4", p)
	}
}
