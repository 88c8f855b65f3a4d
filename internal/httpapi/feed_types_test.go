package httpapi

import (
	"slices"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/webhook"
)

// TestFeedEventTypesMatchSpec holds the domain's list of live-feed event
// types (booking.FeedEventTypes), in order, to the spec's FeedEventType
// enum, and the webhook subscription's enum to the same list with "*".
func TestFeedEventTypesMatchSpec(t *testing.T) {
	schemas := specForTest(t).Components.Schemas
	enum := func(values []any) []string {
		var out []string
		for _, v := range values {
			out = append(out, v.(string))
		}
		return out
	}
	domain := booking.FeedEventTypes()
	tests := []struct {
		schema    string
		got, want []string
	}{
		{"FeedEventType", enum(schemas["FeedEventType"].Value.Enum), domain},
		{"WebhookEventTypes.items", enum(schemas["WebhookEventTypes"].Value.Items.Value.Enum), append([]string{webhook.AllEvents}, domain...)},
	}
	for _, tc := range tests {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("the spec's %s enum is %v, want the domain's %v", tc.schema, tc.got, tc.want)
		}
	}
	// A subscription may list every type by name.
	if max := schemas["WebhookEventTypes"].Value.MaxItems; max == nil || *max < uint64(len(domain)) {
		t.Errorf("the spec's WebhookEventTypes.maxItems = %v, want at least the %d event types", max, len(domain))
	}
	if !slices.Equal(webhook.EventTypes, domain) {
		t.Errorf("webhook.EventTypes = %v, want booking.FeedEventTypes() %v", webhook.EventTypes, domain)
	}
}
