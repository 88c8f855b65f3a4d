package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	dbURL        string
	clients      int
	duration     time.Duration
	warmup       time.Duration
	bookings     int
	pastDays     int
	futureDays   int
	burst        int
	burstRounds  int
	floodClients int
	messageRate  int // booking requests a second while measuring delivery lag
	// webhookBacklog is how many webhook deliveries to a dead endpoint the
	// webhooks scenario queues.
	webhookBacklog int
	// The waitlist scenarios: cancellations (and their rate a second)
	// whose offer lag waitlist-offer measures; entries waiting and places
	// cancelled at once in each waitlist-flood.
	waitlistCancels int
	waitlistRate    int
	waitlistEntries int
	waitlistFreed   int
	seed            uint64
	only            map[string]bool
	cpuProfile      string
	memProfile      string
	quick           bool
	// scale is the clinic seeded: "clinic" (one clinic's year) or "group"
	// (a clinic group's three years); see scales.
	scale string
	// instances is how many server instances, each with its own store,
	// serve the scenarios on the one database.
	instances int
	// bcrypt cost of the reception account: production's 12, or the
	// minimum with -quick, whose seconds are better spent elsewhere.
	passwordCost int
}

// maxDays is the longest range of slots the tool seeds: three years.
const maxDays = 3*366 + 1

// scales are the shapes -scale names (their providers and locations are
// clinicPlan's and groupPlan's) and the defaults each gives the flags it
// sets, unless they are given. The group's three years are two back and
// one ahead, with today between them.
var scales = map[string]struct{ bookings, pastDays, futureDays, instances int }{
	"clinic": {bookings: 50000, pastDays: 270, futureDays: 94, instances: 1},
	"group":  {bookings: 500000, pastDays: 730, futureDays: 365, instances: 2},
}

// scenarios that -only can name; each brings its baseline along.
var scenarioNames = []string{"availability", "uncached", "revalidate", "booking", "burst", "search", "mixed", "flood", "messages", "webhooks", "waitlist-offer", "waitlist-flood"}

// errGoalsMissed is returned after a complete run in which a goal failed.
var errGoalsMissed = errors.New("goals missed (see FAIL above)")

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dbURL, "db", getenv("LOADTEST_DATABASE_URL"),
		"database: empty for a new SQLite file in a temporary folder; postgres://... for a fresh schema there, dropped afterwards (default $LOADTEST_DATABASE_URL)")
	fs.IntVar(&c.clients, "clients", 16, "concurrent clients in each timed scenario and baseline")
	fs.DurationVar(&c.duration, "duration", 4*time.Second, "measured time of each timed scenario and baseline")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each timed scenario and baseline")
	fs.StringVar(&c.scale, "scale", "clinic", "what to seed: clinic (5 providers, 2 locations, a year, 50,000 bookings, one server) or group (20 providers, 6 locations, three years, 500,000 bookings, two server instances); the flags below override")
	fs.IntVar(&c.instances, "instances", 1, "server instances on the one database, each with its own store, cache and watchers, the clients of every scenario spread across them (default 1, 2 with -scale group)")
	fs.IntVar(&c.bookings, "bookings", 50000, "bookings to seed, past and future (default 500000 with -scale group)")
	fs.IntVar(&c.pastDays, "past-days", 270, "days of slots before today (default 730 with -scale group)")
	fs.IntVar(&c.futureDays, "future-days", 94, "days of slots after today (default 365 with -scale group; past + future + 1 <= 1099)")
	fs.IntVar(&c.burst, "burst", 200, "concurrent requests for the last place in each burst")
	fs.IntVar(&c.burstRounds, "burst-rounds", 5, "bursts to run")
	fs.IntVar(&c.floodClients, "flood-clients", 64, "concurrent clients of the availability flood (distinct uncached 62-day questions)")
	fs.IntVar(&c.messageRate, "message-rate", 50, "booking requests a second while measuring the delivery lag of patient messages")
	fs.IntVar(&c.webhookBacklog, "webhook-backlog", 10000, "webhook deliveries to a dead endpoint queued in the webhooks scenario")
	fs.IntVar(&c.waitlistCancels, "waitlist-cancels", 200, "cancellations of places a waiting entry wants, whose offer lag (to SMTP) waitlist-offer measures")
	fs.IntVar(&c.waitlistRate, "waitlist-rate", 20, "cancellations a second in waitlist-offer")
	fs.IntVar(&c.waitlistEntries, "waitlist-entries", 1000, "entries waiting in waitlist-flood (and at least in waitlist-offer)")
	fs.IntVar(&c.waitlistFreed, "waitlist-freed", 100, "places cancelled at once in each waitlist-flood")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed of the data and the traffic")
	only := fs.String("only", "", "comma-separated scenarios to run, of "+strings.Join(scenarioNames, ", ")+" (default all)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the scenarios (not the seeding) to this file")
	fs.StringVar(&c.memProfile, "memprofile", "", "write an allocation profile (go tool pprof -sample_index=alloc_space) to this file at the end")
	fs.BoolVar(&c.quick, "quick", false, "tiny data and short runs: a smoke test of the tool in seconds")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.passwordCost = 12
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	sc, ok := scales[c.scale]
	if !ok {
		return c, fmt.Errorf("-scale: %q is neither clinic nor group", c.scale)
	}
	def("bookings", func() { c.bookings = sc.bookings })
	def("past-days", func() { c.pastDays = sc.pastDays })
	def("future-days", func() { c.futureDays = sc.futureDays })
	def("instances", func() { c.instances = sc.instances })
	if c.quick {
		c.passwordCost = 4
		def("clients", func() { c.clients = 4 })
		def("duration", func() { c.duration = 200 * time.Millisecond })
		def("warmup", func() { c.warmup = 50 * time.Millisecond })
		def("bookings", func() { c.bookings = 300 })
		def("past-days", func() { c.pastDays = 7 })
		def("future-days", func() { c.futureDays = 14 })
		def("burst", func() { c.burst = 50 })
		def("burst-rounds", func() { c.burstRounds = 2 })
		def("flood-clients", func() { c.floodClients = 8 })
		def("webhook-backlog", func() { c.webhookBacklog = 300 })
		def("waitlist-cancels", func() { c.waitlistCancels = 10 })
		def("waitlist-entries", func() { c.waitlistEntries = 40 })
		def("waitlist-freed", func() { c.waitlistFreed = 10 })
	}
	switch {
	case c.clients < 1:
		return c, errors.New("-clients must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return c, errors.New("-duration must be positive and -warmup not negative")
	case c.pastDays < 0 || c.futureDays < 7 || c.pastDays+c.futureDays+1 > maxDays:
		return c, fmt.Errorf("-past-days and -future-days: future at least 7, past + future + 1 at most %d", maxDays)
	case c.instances < 1 || c.instances > 8:
		return c, errors.New("-instances must be 1 to 8")
	case c.floodClients < 1:
		return c, errors.New("-flood-clients must be at least 1")
	case c.webhookBacklog < 0:
		return c, errors.New("-webhook-backlog must not be negative")
	case c.bookings < 0:
		return c, errors.New("-bookings must not be negative")
	case c.messageRate < 1:
		return c, errors.New("-message-rate must be at least 1")
	case c.waitlistCancels < 1 || c.waitlistRate < 1 || c.waitlistFreed < 1:
		return c, errors.New("-waitlist-cancels, -waitlist-rate and -waitlist-freed must be at least 1")
	case c.waitlistEntries < c.waitlistFreed:
		return c, errors.New("-waitlist-entries must be at least -waitlist-freed")
	case c.burst < 2 || c.burstRounds < 0:
		return c, errors.New("-burst must be at least 2 and -burst-rounds not negative")
	}
	if *only != "" {
		c.only = map[string]bool{}
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			known := false
			for _, k := range scenarioNames {
				known = known || k == n
			}
			if !known {
				return c, fmt.Errorf("-only: unknown scenario %q (know %s)", n, strings.Join(scenarioNames, ", "))
			}
			c.only[n] = true
		}
	}
	return c, nil
}

// runs reports whether scenario name is to run.
func (c config) runs(name string) bool { return c.only == nil || c.only[name] }
