package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/mailpit"
)

// The tool runs end to end on a tiny clinic in seconds and prints every
// scenario with its ratio; the ratios of such short runs mean nothing, so
// only the correctness checks are held here (the burst has exactly one
// winner every round, no 5xx anywhere).
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	args := []string{"-quick"}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" && os.Getenv("LOADTEST_SMOKE_POSTGRES") != "" {
		args = append(args, "-db", url)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	if err != nil && !errors.Is(err, errGoalsMissed) {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	report := out.String()
	for _, want := range []string{
		"HTTP floor: fixed bytes (200)", "availability, 2 weeks (200)", "availability, 2 weeks (browser mix)",
		"write floor: GORM tx insert", "booking requests (POST)", "reception search", "peak RSS (VmHWM",
		"2/2 rounds exactly one winner",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	// Patient messages: measured when Mailpit is installed (CI installs it).
	if _, err := mailpit.Binary(); err == nil || os.Getenv("CI") == "true" {
		for _, want := range []string{"booking, messages off", "booking, email + SMS on (jobs written)", "delivery lag, email (commit -> SMTP accept)"} {
			if !strings.Contains(report, want) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}
		}
		for _, line := range strings.Split(report, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "delivery lag, email") && strings.Contains(line, " 0 ") {
				t.Errorf("no email was delivered: %s", line)
			}
		}
	}
	for _, line := range strings.Split(report, "\n") {
		if strings.Contains(line, " 500:") || strings.Contains(line, " err:") || strings.Contains(line, "burst") && strings.Contains(line, "FAIL") {
			t.Errorf("server errors or a failed burst: %s", line)
		}
	}
	// The searches are timed in the server too: their rows carry a server
	// p50 and p99 (two more figures than the floor's), and the p99 goal is
	// the server's.
	if !strings.Contains(report, "server p50") || !strings.Contains(report, "server p99") {
		t.Errorf("report lacks the server columns:\n%s", report)
	}
	for _, search := range []string{"reception search", "patient search"} {
		line := lineOf(report, search)
		if got := len(figureMS.FindAllString(line, -1)); got != 5 {
			t.Errorf("%s: %d figures in ms, want 5 (p50, p95, p99, server p50, server p99): %q", search, got, line)
		}
		if !strings.Contains(line, "server p99 < 20ms") {
			t.Errorf("%s: goal is not the server's p99: %q", search, line)
		}
	}
	if line := lineOf(report, "HTTP floor: the same search bytes"); len(figureMS.FindAllString(line, -1)) != 3 {
		t.Errorf("the floor's row has server figures: %q", line)
	}
}

// figureMS is a latency figure of the report, "12.34ms".
var figureMS = regexp.MustCompile(`\b\d+\.\d\dms\b`)

// lineOf is the first line of report that starts with prefix after its
// indentation (the table is right-aligned), or "".
func lineOf(report, prefix string) string {
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), prefix) {
			return line
		}
	}
	return ""
}

// The waitlist scenarios run at a tiny size on SQLite, and on PostgreSQL
// when TEST_DATABASE_URL is set (a fresh schema there, dropped after): each
// freed place is offered and emailed exactly once, the offer lag is
// measured on every email, no request fails. The ratio and the p99 of so
// short a run mean nothing and are not held here.
func TestWaitlistScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mailpit.BinaryFor(t)
	onEachDatabase(t, []string{"-quick", "-only", "waitlist-offer,waitlist-flood", "-waitlist-cancels", "6", "-waitlist-entries", "12", "-waitlist-freed", "5"}, func(t *testing.T, report string) {
		for _, want := range []string{
			"waitlist: reception cancels at 20/s", "6/6 freed places offered and emailed once each, 12 entries waiting",
			"booking, no waitlist", "booking, nobody waiting, 5 cancelled at once", "booking, 12 waiting, 5 cancelled at once",
			"waitlist flood: 5 cancels at once x 2", "2/2 floods exactly 5 offers and emails, none twice",
		} {
			if !strings.Contains(report, want) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}
		}
		for _, line := range strings.Split(report, "\n") {
			if strings.Contains(line, " 500:") || strings.Contains(line, " err:") ||
				strings.HasPrefix(line, "waitlist flood") && strings.Contains(line, "FAIL") {
				t.Errorf("server errors or a broken flood: %s", line)
			}
		}
	})
}

// The clinic group's shape at a tiny size, on SQLite and, when
// TEST_DATABASE_URL is set, on PostgreSQL: 20 providers at 6 locations,
// two server instances on the one database with the clients spread across
// them, the burst across both with exactly one winner, and the taken place
// gone from both instances' availability (the other one's through the
// database's notice of the commit).
func TestGroupQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	onEachDatabase(t, []string{"-quick", "-scale", "group", "-only", "availability,booking,burst,mixed", "-bookings", "200", "-past-days", "3", "-future-days", "10"}, func(t *testing.T, report string) {
		for _, want := range []string{
			"20 providers, 6 locations", "14 days), 200 bookings", "2 server instance(s)",
			"availability, 2 weeks (200)", "booking requests (POST)", "availability while booking (browser mix)",
			"2/2 rounds exactly one winner; the taken place gone from the other instance's availability within",
		} {
			if !strings.Contains(report, want) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}
		}
		for _, line := range strings.Split(report, "\n") {
			if strings.Contains(line, " 500:") || strings.Contains(line, " err:") || strings.Contains(line, "burst") && strings.Contains(line, "FAIL") {
				t.Errorf("server errors or a failed burst: %s", line)
			}
		}
	})
}

// The load tool runs with the soft memory limit of the image, so its peak
// RSS is the deployed server's.
func TestMemoryLimitIsTheImages(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`GOMEMLIMIT=(\d+)MiB\b`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Dockerfile sets no GOMEMLIMIT in MiB")
	}
	mib, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := imageMemoryLimitText, string(m[1])+"MiB"; got != want {
		t.Errorf("load tool's limit %s, want the image's %s", got, want)
	}
	if got, want := imageMemoryLimit, mib<<20; got != want {
		t.Errorf("load tool's limit %d bytes, want the image's %d", got, want)
	}
}

// The load tool runs with glibc's arena limit of the image.
func TestArenaMaxIsTheImages(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`MALLOC_ARENA_MAX=(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Dockerfile sets no MALLOC_ARENA_MAX")
	}
	if got, want := strconv.Itoa(imageArenaMax), string(m[1]); got != want {
		t.Errorf("load tool's MALLOC_ARENA_MAX %s, want the image's %s", got, want)
	}
}

// onEachDatabase runs the load tool with args on a fresh SQLite file and,
// when TEST_DATABASE_URL is set, on PostgreSQL (a fresh schema there,
// dropped after), and hands check each run's report. A run that misses a
// goal is not a failure here: so short a run's ratios mean nothing.
func onEachDatabase(t *testing.T, args []string, check func(t *testing.T, report string)) {
	t.Helper()
	dbs := map[string]string{"sqlite": ""}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		dbs["postgres"] = url
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			args := args
			if db != "" {
				args = append(slices.Clip(args), "-db", db)
			}
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
			if err != nil && !errors.Is(err, errGoalsMissed) {
				t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
			}
			check(t, out.String())
		})
	}
}
