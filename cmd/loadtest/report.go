package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// rssGoal is the peak resident memory the whole run must stay under.
const rssGoal = 150 << 20

// row is one line of the report.
type row struct {
	res      result
	baseline bool    // a baseline: no ratio, no goal
	base     *result // what the ratio is taken against
	goal     float64 // minimum ratio to base; 0 for none
	goalText string
	no5xx    bool          // any 5xx or transport error fails the row
	maxP99   time.Duration // when set, a p99 above it fails the row
	// serverP99: maxP99 is judged on the server-side p99 (res.server)
	// rather than the clients'; a row without server samples fails.
	serverP99 bool
	// checked rows are judged by checkOK, a correctness check (the burst's
	// one winner, the waitlist's one offer a place), with no 5xx and, when
	// maxP99 is set, a p99 under it.
	checked bool
	checkOK bool
	// peak, when set, is the row's own peak RSS, judged against rssGoal
	// when rssJudged.
	peak      int64
	rssJudged bool
}

// verdict is "PASS", "FAIL" or "" for rows without a goal.
func (r row) verdict() string {
	switch {
	case r.baseline:
		return ""
	case r.checked:
		return passFail(r.checkOK && r.res.count5xx() == 0 && (r.maxP99 == 0 || r.res.requests > 0 && r.p99() < r.maxP99))
	case r.rssJudged:
		ok := r.peak > 0 && r.peak < rssGoal
		for st := range r.res.statuses {
			ok = ok && (st != 0 && (st < 500 || st == 503))
		}
		return passFail(ok)
	case r.maxP99 > 0 && r.base == nil: // a latency goal alone
		return passFail(r.res.requests > 0 && r.p99() < r.maxP99)
	case r.goal > 0:
		return passFail(r.ratio() >= r.goal && (!r.no5xx || r.res.count5xx() == 0) && (r.maxP99 == 0 || r.p99() < r.maxP99))
	case r.no5xx:
		return passFail(r.res.count5xx() == 0)
	}
	return ""
}

// p99 is the p99 the row's latency goal is judged on: the server's when
// serverP99 (never met without samples), else the clients'.
func (r row) p99() time.Duration {
	if !r.serverP99 {
		return r.res.pct(0.99)
	}
	if len(r.res.server) == 0 {
		return time.Duration(1<<63 - 1)
	}
	return r.res.serverPct(0.99)
}

func (r row) ratio() float64 {
	if r.base == nil || r.base.rate() == 0 {
		return 0
	}
	return r.res.rate() / r.base.rate()
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// report is the table the run prints.
type report struct {
	rows          []row
	peak, current int64
	fatal         error
}

func (rp *report) add(r row) { rp.rows = append(rp.rows, r) }

func (rp *report) failed() bool {
	if rp.fatal != nil || rp.peak >= rssGoal {
		return true
	}
	for _, r := range rp.rows {
		if r.verdict() == "FAIL" {
			return true
		}
	}
	return false
}

func (rp *report) print(w io.Writer) {
	if rp.fatal != nil {
		fmt.Fprintf(w, "run stopped: %v\n", rp.fatal)
	}
	width := len("scenario")
	for _, r := range rp.rows {
		width = max(width, len(r.res.name))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-len(s)) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\trequests\treq/s\tp50\tp95\tp99\tserver p50\tserver p99\tstatuses\tratio\t\tgoal\n", pad("scenario"))
	for _, r := range rp.rows {
		ratio := ""
		switch {
		case r.baseline:
			ratio = "baseline"
		case r.base != nil:
			ratio = fmt.Sprintf("%.0f%%", 100*r.ratio())
		}
		goal := r.goalText
		if v := r.verdict(); v != "" {
			goal += " " + v
		}
		srv50, srv99 := "", ""
		if len(r.res.server) > 0 {
			srv50, srv99 = ms(r.res.serverPct(0.50)), ms(r.res.serverPct(0.99))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t%s\n", pad(r.res.name), r.res.requests, r.res.rate(),
			ms(r.res.pct(0.50)), ms(r.res.pct(0.95)), ms(r.res.pct(0.99)), srv50, srv99, statuses(r.res.statuses), ratio, goal)
	}
	tw.Flush()
	for _, r := range rp.rows {
		if r.res.note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.res.name, r.res.note)
		}
	}
	fmt.Fprintf(w, "\npeak RSS (VmHWM, whole process: seeding, server, clients): %.1f MB (now %.1f MB), goal < %d MB %s\n",
		float64(rp.peak)/(1<<20), float64(rp.current)/(1<<20), rssGoal>>20, passFail(rp.peak < rssGoal))
	if rp.failed() {
		fmt.Fprintln(w, "RESULT: FAIL")
	} else {
		fmt.Fprintln(w, "RESULT: PASS")
	}
}

// statuses prints counts by status, "200:1234 304:99"; status 0 is "err".
func statuses(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "err"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", name, m[k]))
	}
	return strings.Join(parts, " ")
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
}

func sortDurations(d []time.Duration) { slices.Sort(d) }
