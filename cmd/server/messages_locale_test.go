package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/calendar/icaltest"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

// icsScript prints the SUMMARY, its LANGUAGE and the LOCATION of each
// event, as Python's icalendar reads them.
const icsScript = `
import sys, json
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
print(json.dumps([{"summary": str(ev['SUMMARY']), "language": str(ev['SUMMARY'].params.get('LANGUAGE', '')),
    "location": str(ev.get('LOCATION', ''))} for ev in cal.walk('VEVENT')]))
`

// TestSpanishBookingHearsSpanish: a patient who books in Spanish gets the
// emails (subject and body), the text and the calendar file in Spanish,
// with the translated consultation and location names and the clinic's
// number.
func TestSpanishBookingHearsSpanish(t *testing.T) {
	ctx := context.Background()
	mp := mailpit.Start(t)
	tw := newTwilioRecorder(t, "ACtest0001")
	env := messageEnv(mp, tw, storetest.SQLiteURL(t), 3*time.Hour)
	env["CLINIC_PHONE"] = "+14245550100"
	base := startServer(t, env)
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 1)
	a.call("PATCH", "/v1/consultation-types/"+cl.ctype, map[string]any{
		"translations": map[string]any{"es": map[string]any{"name": "Primera consulta"}}}, 200, nil)
	a.call("PATCH", "/v1/locations/"+cl.location, map[string]any{
		"translations": map[string]any{"es": map[string]any{"name": "Consultorio principal"}}}, 200, nil)
	slot := cl.slot(t, a, 0, time.Now().Add(72*time.Hour).Truncate(time.Hour))

	var b created
	body := bookingBody(slot, "es@patients.test", true, true)
	body["locale"] = "es"
	newAPI(t, base).call("POST", "/v1/booking-requests", body, 201, &b)
	// A "received" still unsent when the confirmation is written is
	// superseded by it (never sent after it): wait for it first.
	waitUntil(t, "the received email", 20*time.Second, func() bool { return len(subjects(t, mp, "es@patients.test")) >= 1 })
	a.call("POST", "/v1/bookings/"+b.ID+"/confirm", nil, 200, nil)

	waitUntil(t, "two emails", 20*time.Second, func() bool { return len(subjects(t, mp, "es@patients.test")) >= 2 })
	waitUntil(t, "the text", 20*time.Second, func() bool { return len(tw.sent()) >= 1 })

	got := subjects(t, mp, "es@patients.test")
	for _, want := range []string{"Hemos recibido su solicitud (" + b.Reference + ")", "Su cita está confirmada: "} {
		if !hasPrefixIn(got, want) {
			t.Errorf("subjects: got %q, want one starting %q", got, want)
		}
	}
	msgs, err := mp.To(ctx, "es@patients.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range msgs {
		m, err := mp.Message(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Primera consulta con Dr. Dana Reyes 1 (Spine surgeon)", "Consultorio principal", "Cuándo", "Referencia",
			"Ver, cancelar o cambiar su cita", "Llame a la clínica: +14245550100"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%q: text lacks %q:\n%s", m.Subject, want, m.Text)
			}
		}
		if !strings.Contains(m.HTML, `lang="es"`) || !strings.Contains(m.HTML, "Primera consulta con Dr. Dana Reyes 1") {
			t.Errorf("%q: HTML is not the Spanish one:\n%s", m.Subject, m.HTML)
		}
		if !strings.HasPrefix(m.Subject, "Su cita está confirmada") {
			continue
		}
		if len(m.Attachments) != 1 {
			t.Fatalf("confirmation: got %d attachments, want the calendar file", len(m.Attachments))
		}
		ics, err := mp.Part(ctx, s.ID, m.Attachments[0].PartID)
		if err != nil {
			t.Fatal(err)
		}
		var events []struct{ Summary, Language, Location string }
		icaltest.Parse(t, icaltest.Python(t), icsScript, ics, &events)
		if len(events) != 1 || events[0].Summary != "Primera consulta con Dr. Dana Reyes 1" || events[0].Language != "es" ||
			!strings.HasPrefix(events[0].Location, "Consultorio principal") {
			t.Errorf("calendar file as python-icalendar reads it: got %+v, want the Spanish summary and location", events)
		}
	}

	texts := tw.sent()
	if len(texts) != 1 || !strings.HasPrefix(texts[0].Form.Get("Body"), "Spine Clinic: cita confirmada el ") {
		t.Errorf("texts: got %+v, want one Spanish confirmation", texts)
	}
}
