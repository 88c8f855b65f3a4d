package main

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/apiclient"
	"github.com/clinic/consult/internal/apitest"
)

// TestGeneratedClientScenario drives the booking flow through a Go client
// generated from openapi.yaml, against the real server started by run on a
// free port. A route whose spec is wrong for a generated client (a missing
// status, a wrong schema, a parameter in the wrong place) fails here.
func TestGeneratedClientScenario(t *testing.T) {
	// Check-in open days ahead: the demo's appointments are days away.
	base, printed := startServerWithOutput(t, map[string]string{"PUBLIC_RATE_LIMIT": "0", "CHECKIN_OPENS": "336h"}, "-demo")
	var email, password string
	for _, l := range printed {
		if f := strings.Fields(l); len(f) == 4 && f[1] == "login:" {
			email, password = f[2], f[3]
		}
	}
	hc := &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second}
	c, err := apiclient.NewClientWithResponses(base, apiclient.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	types, err := c.ListConsultationTypesWithResponse(ctx, nil)
	if err != nil || types.JSON200 == nil {
		t.Fatalf("list types: %v %s", err, body(types))
	}
	var typeID string
	for _, ct := range types.JSON200.Items {
		if ct.Name == "New patient consultation" {
			typeID = ct.Id.String()
		}
	}
	today := time.Now().UTC()
	avail, err := c.GetAvailabilityWithResponse(ctx, &apiclient.GetAvailabilityParams{
		From: today.Format(time.DateOnly), To: today.AddDate(0, 0, 13).Format(time.DateOnly), ConsultationTypeId: &typeID,
	})
	if err != nil || avail.JSON200 == nil || len(avail.JSON200.Days) == 0 {
		t.Fatalf("availability: %v %s", err, body(avail))
	}
	slot := avail.JSON200.Days[0].Slots[0]

	yes, key := true, "client-e2e-1"
	details := "carried boxes"
	req := apiclient.BookingRequestCreate{
		SlotId:  slot.Id.String(),
		Patient: apiclient.Patient{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123"},
		Intake: apiclient.Intake{RedFlags: []apiclient.RedFlag{"none"}, PainSeverity: 6, SpasmFrequency: apiclient.SpasmFrequency("weekly"), RecentPhysicalActivity: true,
			ActivityDetails: &details, Reason: "sciatica down the left leg",
			RelievedBy: []apiclient.ReliefMethod{"position"}, PreExistingConditions: []apiclient.PreExistingCondition{"herniated_disc"}},
		Consent: apiclient.ConsentInput{PrivacyPolicyAccepted: true, ContactBySms: &yes}, // contact_by_email left out
	}
	created, err := c.CreateBookingRequestWithResponse(ctx, &apiclient.CreateBookingRequestParams{IdempotencyKey: &key}, req)
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create request: %v %s", err, body(created))
	}
	b := created.JSON201
	if b.Status != "pending" || b.ManageToken == "" || b.Reference == "" {
		t.Fatalf("created: status %q, reference %q, token set %v", b.Status, b.Reference, b.ManageToken != "")
	}
	again, err := c.CreateBookingRequestWithResponse(ctx, &apiclient.CreateBookingRequestParams{IdempotencyKey: &key}, req)
	if err != nil || again.JSON201 == nil || again.JSON201.Id != b.Id {
		t.Fatalf("idempotent retry: %v %s", err, body(again))
	}
	full, err := c.CreateBookingRequestWithResponse(ctx, nil, req)
	if err != nil || full.ApplicationproblemJSON409 == nil || full.ApplicationproblemJSON409.Code != "slot_unavailable" {
		t.Fatalf("second patient into the taken slot: %v %s", err, body(full))
	}

	view, err := c.GetBookingRequestWithResponse(ctx, b.Reference, &apiclient.GetBookingRequestParams{XBookingToken: b.ManageToken})
	if err != nil || view.JSON200 == nil || view.JSON200.Id != b.Id {
		t.Fatalf("patient view: %v %s", err, body(view))
	}
	wrong, err := c.GetBookingRequestWithResponse(ctx, b.Reference, &apiclient.GetBookingRequestParams{XBookingToken: "wrong"})
	if err != nil || wrong.StatusCode() != http.StatusNotFound {
		t.Fatalf("wrong token: %v status %d", err, wrong.StatusCode())
	}

	login, err := c.LoginWithResponse(ctx, apiclient.LoginRequest{Email: email, Password: password})
	if err != nil || login.JSON200 == nil {
		t.Fatalf("login: %v %s", err, body(login))
	}
	auth := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+login.JSON200.AccessToken)
		return nil
	}
	confirmed, err := c.ConfirmBookingWithResponse(ctx, b.Id.String(), auth)
	if err != nil || confirmed.JSON200 == nil || confirmed.JSON200.Status != "confirmed" {
		t.Fatalf("confirm: %v %s", err, body(confirmed))
	}
	twice, err := c.ConfirmBookingWithResponse(ctx, b.Id.String(), auth)
	if err != nil || twice.StatusCode() != http.StatusConflict {
		t.Fatalf("confirm again: %v status %d", err, twice.StatusCode())
	}
	checkedIn, err := c.CheckInBookingWithResponse(ctx, b.Id.String(), auth)
	if err != nil || checkedIn.JSON200 == nil || checkedIn.JSON200.Status != "checked_in" {
		t.Fatalf("check in: %v %s", err, body(checkedIn))
	}
	events, err := c.ListBookingEventsWithResponse(ctx, b.Id.String(), auth)
	if err != nil || events.JSON200 == nil {
		t.Fatalf("events: %v %s", err, body(events))
	}
	var got []string
	for _, e := range events.JSON200.Items {
		got = append(got, string(e.Type))
	}
	if want := "created confirmed checked_in"; strings.Join(got, " ") != want {
		t.Errorf("events: got %q, want %q", got, want)
	}
	list, err := c.ListBookingsWithResponse(ctx, &apiclient.ListBookingsParams{Q: &b.Reference}, auth)
	if err != nil || list.JSON200 == nil || len(list.JSON200.Items) != 1 {
		t.Fatalf("search by reference: %v %s", err, body(list))
	}
}

// body returns a generated response's raw body for a failure message; every
// generated response type has a Body []byte field.
func body(r any) string {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return "(no response)"
	}
	return string(v.Elem().FieldByName("Body").Bytes())
}
