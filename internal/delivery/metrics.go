package delivery

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	pendingDesc = prometheus.NewDesc("outbox_pending",
		"Messages due and not yet delivered: waiting for a worker, being delivered, or waiting for a retry.", nil, nil)
	oldestDesc = prometheus.NewDesc("outbox_oldest_age_seconds",
		"How long the oldest message waiting for a worker (or being delivered) has been due; 0 when none is.", nil, nil)
)

// Collector returns the queue's backlog metrics, read from the database at
// each scrape.
func (q *Queue) Collector() prometheus.Collector { return backlogCollector{q} }

type backlogCollector struct{ q *Queue }

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- oldestDesc
}

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pending, oldest, err := c.q.Backlog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		ch <- prometheus.NewInvalidMetric(oldestDesc, err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
