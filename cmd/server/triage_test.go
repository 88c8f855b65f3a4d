package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

// TestTriageAlertEmail: an urgent request (red flags) is announced to
// CLINIC_ALERT_EMAIL through the message queue, arriving in Mailpit with
// the booking's reference and no intake answer; an emergency request is
// refused and sends nothing to anyone.
func TestTriageAlertEmail(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testTriageAlertEmail(t, b.URL(t)) })
	}
}

func testTriageAlertEmail(t *testing.T, dbURL string) {
	ctx := context.Background()
	mp := mailpit.Start(t)
	env := messageEnv(mp, newTwilioRecorder(t, "ACtest0001"), dbURL, time.Hour)
	env["CLINIC_ALERT_EMAIL"] = "desk@clinic.test"
	env["CLINIC_PHONE"] = "+14245550100"
	base := startServer(t, env)
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 1)
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	patient := newAPI(t, base)

	urgentBody := bookingBody(cl.slot(t, a, 0, start), "urgent@patients.test", true, false)
	urgentBody["intake"].(map[string]any)["red_flags"] = []string{"fever_or_unwell"}
	var urgent created
	patient.call("POST", "/v1/booking-requests", urgentBody, 201, &urgent)

	emergencyBody := bookingBody(cl.slot(t, a, 0, start.Add(time.Hour)), "emergency@patients.test", true, false)
	emergencyBody["intake"].(map[string]any)["red_flags"] = []string{"saddle_numbness"}
	patient.call("POST", "/v1/booking-requests", emergencyBody, 422, nil)

	var form struct {
		ClinicPhone *string `json:"clinic_phone"`
	}
	patient.call("GET", "/v1/intake-form", nil, 200, &form)
	if form.ClinicPhone == nil || *form.ClinicPhone != "+14245550100" {
		t.Errorf("intake form clinic_phone = %v, want CLINIC_PHONE", form.ClinicPhone)
	}

	waitUntil(t, "the alert email", 20*time.Second, func() bool { return len(subjects(t, mp, "desk@clinic.test")) >= 1 })
	waitUntil(t, "the urgent patient's request email", 20*time.Second, func() bool { return len(subjects(t, mp, "urgent@patients.test")) >= 1 })
	time.Sleep(time.Second) // anything wrongly sent has had its chance
	alerts, err := mp.To(ctx, "desk@clinic.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || !strings.Contains(alerts[0].Subject, urgent.Reference) || !strings.HasPrefix(alerts[0].Subject, "Urgent booking request") {
		t.Fatalf("alerts = %+v, want one urgent alert naming %s", alerts, urgent.Reference)
	}
	full, err := mp.Message(ctx, alerts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{intakeMarker, "fever", "Ana", "+14245550123"} {
		if strings.Contains(full.Text, secret) || strings.Contains(full.HTML, secret) {
			t.Errorf("the alert carries %q:\n%s", secret, full.Text)
		}
	}
	if got := subjects(t, mp, "emergency@patients.test"); len(got) != 0 {
		t.Errorf("the refused emergency request was sent %v, want nothing", got)
	}
}
