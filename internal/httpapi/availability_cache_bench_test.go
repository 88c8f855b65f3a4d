package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkAvailabilityCache measures GET /v1/availability end to end over
// real HTTP with the response cache and without it (every request queried
// and encoded), for the widget's question (two weeks of one provider) and
// the largest one (62 days of all five providers), on a year of slots.
// With the cache, nothing is written during the run, so every request after
// the first is a hit: this is the cost of a hit.
//
//	go test ./internal/httpapi -run '^$' -bench AvailabilityCache
func BenchmarkAvailabilityCache(b *testing.B) {
	for _, be := range storetest.Backends() {
		for _, cached := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/cache=%v", be.Name, cached), func(b *testing.B) {
				e := newEnv(b, be.URL(b), func(o *httpapi.Options, _ *auth.Options) { o.NoAvailabilityCache = !cached })
				seedYearOfSlots(b, e)
				var provider string
				r := e.do("GET", "/v1/providers", nil)
				var list struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
				}
				r.decode(b, &list)
				provider = list.Items[0].ID
				start := time.Now().UTC().AddDate(0, 0, 7)
				client := &http.Client{}
				for _, q := range []struct {
					name, query string
				}{
					{"two_weeks_one_provider", days(start, start.AddDate(0, 0, 13)) + "&provider_id=" + provider},
					{"62_days_all", days(start, start.AddDate(0, 0, 61))},
				} {
					b.Run(q.name, func(b *testing.B) {
						url := e.URL + "/v1/availability?" + q.query
						size := 0
						b.ReportAllocs()
						for b.Loop() {
							res, err := client.Get(url)
							if err != nil {
								b.Fatal(err)
							}
							n, _ := io.Copy(io.Discard, res.Body)
							res.Body.Close()
							if res.StatusCode != http.StatusOK {
								b.Fatalf("got %d", res.StatusCode)
							}
							size = int(n)
						}
						b.ReportMetric(float64(size), "body_bytes")
					})
				}
			})
		}
	}
}
