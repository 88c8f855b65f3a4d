// Command loadtest measures the booking API under load on a realistic
// clinic, against baselines measured in the same run.
//
// It seeds a fresh database (a new SQLite file in a temporary folder, or a
// fresh schema on the PostgreSQL server that -db names, dropped afterwards)
// with 5 providers, 2 locations, a year of slots generated from weekly
// schedules and 50,000 past and future bookings; starts the real server
// in-process on a loopback port; and drives it over real HTTP with
// concurrent clients. With -scale group it seeds a clinic group instead:
// 20 providers at 6 locations, three years of slots (two back, one ahead)
// and 500,000 bookings, and runs two server instances on the one
// database, each with its own store, availability cache and watch of the
// other's commits, the clients of every scenario spread across both
// (-instances sets the number for either scale). The scenarios:
//
//   - availability: GET /v1/availability, a two-week window for one provider,
//     every answer in full, then as browsers ask (revalidating with
//     If-None-Match);
//   - booking: POST /v1/booking-requests over many free places;
//   - burst: 200 requests at once for one last place, several times; exactly
//     one may win, the others get 409, and afterwards no instance offers
//     the place;
//   - search: reception's GET /v1/bookings?q= and GET /v1/patients?q=,
//     each also timed inside the server (from the handler chain's start to
//     the response written), whose p99 is the goal: on a small machine the
//     clients' own share of the cores weighs on the latency they see;
//   - webhooks: booking requests while the delivery workers work through
//     10,000 webhook deliveries to a dead endpoint, against the same with
//     the workers stopped;
//   - waitlist-offer: reception cancels, 20 a second, places that waiting
//     entries want; the time from each cancellation to the offer email
//     accepted by a real SMTP server (Mailpit);
//   - waitlist-flood: 100 places cancelled at once with 1,000 entries
//     waiting: exactly one offer and one email a place, no slot or entry
//     offered twice, and booking requests meanwhile against the same
//     without a waitlist.
//
// The baselines use the same client and concurrency: a bare Gin route that
// serves the very same availability bodies as fixed bytes (the HTTP floor),
// and a bare Gin route that does one transactional GORM insert into a scratch
// table of the same database (the write floor). Machines are shared and
// noisy, so figures are judged only as ratios to these.
//
//	go run ./cmd/loadtest                       # SQLite, defaults, under 3 minutes
//	go run ./cmd/loadtest -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./cmd/loadtest -only availability -cpuprofile cpu.out
//	go run ./cmd/loadtest -scale group -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// See BENCHMARKS.md for the figures and what limits each scenario.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(os.Stdout, "memory:", applyMemoryLimit(os.Getenv), applyArenaMax(os.Getenv))
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// run parses the flags, seeds the clinic, runs the scenarios and prints the
// report on stdout. It returns an error when it cannot run, and errGoalsMissed
// when it ran but a goal failed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	return cfg.execute(ctx, stdout, stderr)
}
