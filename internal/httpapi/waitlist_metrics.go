package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// The waitlist's figures are read from the database at each scrape (as
// the delivery queue's backlog is), not counted in the process: offers are
// made by whichever instance's feed reader or sweep gets there, and
// accepted on whichever instance the patient reaches, so only the
// database knows the clinic's totals. Every instance reports the same
// values; aggregate them with max, not sum. The counters only grow because
// an entry's history is append-only.
var (
	waitlistWaitingDesc = prometheus.NewDesc("waitlist_entries_waiting",
		"Waitlist entries waiting for a place (status waiting, without an offer).", nil, nil)
	waitlistOfferedDesc = prometheus.NewDesc("waitlist_offers_live",
		"Waitlist entries holding an offer now (status offered).", nil, nil)
	waitlistOffersDesc = prometheus.NewDesc("waitlist_offers_total",
		"Places offered to waitlist entries (by the feed follower, the sweep or staff), clinic-wide.", nil, nil)
	waitlistAcceptedDesc = prometheus.NewDesc("waitlist_offers_accepted_total",
		"Waitlist offers the patient accepted (a booking was made), clinic-wide.", nil, nil)
	waitlistLapsedDesc = prometheus.NewDesc("waitlist_lapsed_total",
		"Waitlist lapses, clinic-wide: what=offer, an offer ran out unaccepted (the place went on); what=entry, an entry's latest date passed.",
		[]string{"what"}, nil)
)

// waitlistCollector reports the waitlist's figures (store.WaitlistCounts).
type waitlistCollector struct{ store *store.Store }

func (c waitlistCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{waitlistWaitingDesc, waitlistOfferedDesc, waitlistOffersDesc, waitlistAcceptedDesc, waitlistLapsedDesc} {
		ch <- d
	}
}

func (c waitlistCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.store.WaitlistCounts(ctx)
	if err != nil {
		for _, d := range []*prometheus.Desc{waitlistWaitingDesc, waitlistOfferedDesc, waitlistOffersDesc, waitlistAcceptedDesc, waitlistLapsedDesc} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(waitlistWaitingDesc, prometheus.GaugeValue, float64(n.Waiting))
	ch <- prometheus.MustNewConstMetric(waitlistOfferedDesc, prometheus.GaugeValue, float64(n.Offered))
	ch <- prometheus.MustNewConstMetric(waitlistOffersDesc, prometheus.CounterValue, float64(n.Steps[booking.WaitlistOfferMade]))
	ch <- prometheus.MustNewConstMetric(waitlistAcceptedDesc, prometheus.CounterValue, float64(n.Steps[booking.WaitlistAccepted]))
	ch <- prometheus.MustNewConstMetric(waitlistLapsedDesc, prometheus.CounterValue, float64(n.Steps[booking.WaitlistOfferLapsed]), string(booking.LapsedOffer))
	ch <- prometheus.MustNewConstMetric(waitlistLapsedDesc, prometheus.CounterValue, float64(n.Steps[booking.WaitlistEntryLapsed]), string(booking.LapsedEntry))
}
