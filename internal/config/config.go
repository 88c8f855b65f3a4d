// Package config reads the server's configuration from environment variables
// into one typed struct, with documented defaults, and rejects bad values at
// start-up naming the variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of the server. The README documents every
// variable; keep the two in step.
type Config struct {
	HTTPAddr               string        // HTTP_ADDR
	DatabaseURL            string        // DATABASE_URL: sqlite://path or postgres://...
	JWTSecret              []byte        // JWT_SECRET; empty means "make a random one"
	JWTIssuer              string        // JWT_ISSUER
	JWTAudience            string        // JWT_AUDIENCE
	AccessTokenTTL         time.Duration // ACCESS_TOKEN_TTL
	RefreshTokenTTL        time.Duration // REFRESH_TOKEN_TTL
	BootstrapAdminEmail    string        // BOOTSTRAP_ADMIN_EMAIL
	BootstrapAdminPassword string        // BOOTSTRAP_ADMIN_PASSWORD
	CORSAllowedOrigins     []string      // CORS_ALLOWED_ORIGINS, comma separated
	MinNotice              time.Duration // MIN_NOTICE
	MaxAdvance             time.Duration // MAX_ADVANCE
	PatientChangeCutoff    time.Duration // PATIENT_CHANGE_CUTOFF
	CheckinOpens           time.Duration // CHECKIN_OPENS
	PendingExpiry          time.Duration // PENDING_EXPIRY; 0 turns expiry off
	ExpiryInterval         time.Duration // EXPIRY_INTERVAL: how often the expiry job runs
	PublicRateLimit        int           // PUBLIC_RATE_LIMIT, requests a minute per client address; 0 off
	LoginRateLimit         int           // LOGIN_RATE_LIMIT, failed logins a minute per account and per address; 0 off
	BodyLimit              int64         // BODY_LIMIT_BYTES
	LogLevel               slog.Level    // LOG_LEVEL: debug, info, warn, error
	LogFormat              string        // LOG_FORMAT: json or text
	Demo                   bool          // DEMO: seed a demo clinic
	ShutdownTimeout        time.Duration // SHUTDOWN_TIMEOUT
	TrustedProxies         []string      // TRUSTED_PROXIES: addresses whose X-Forwarded-For is believed
}

// DefaultDatabaseURL is where the server keeps its data when DATABASE_URL is
// not set: an SQLite file under ./data, created on first start.
const DefaultDatabaseURL = "sqlite://data/clinic.db"

// Load reads the configuration through getenv. It returns an error naming
// every variable whose value it cannot use.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		HTTPAddr:               r.str("HTTP_ADDR", ":8080"),
		DatabaseURL:            r.databaseURL("DATABASE_URL", DefaultDatabaseURL),
		JWTSecret:              []byte(getenv("JWT_SECRET")),
		JWTIssuer:              r.str("JWT_ISSUER", "clinic-booking"),
		JWTAudience:            r.str("JWT_AUDIENCE", "clinic-staff"),
		AccessTokenTTL:         r.duration("ACCESS_TOKEN_TTL", 15*time.Minute, time.Minute),
		RefreshTokenTTL:        r.duration("REFRESH_TOKEN_TTL", 7*24*time.Hour, time.Minute),
		BootstrapAdminEmail:    strings.TrimSpace(getenv("BOOTSTRAP_ADMIN_EMAIL")),
		BootstrapAdminPassword: getenv("BOOTSTRAP_ADMIN_PASSWORD"),
		CORSAllowedOrigins:     r.list("CORS_ALLOWED_ORIGINS"),
		MinNotice:              r.duration("MIN_NOTICE", 2*time.Hour, 0),
		MaxAdvance:             r.duration("MAX_ADVANCE", 120*24*time.Hour, time.Hour),
		PatientChangeCutoff:    r.duration("PATIENT_CHANGE_CUTOFF", 24*time.Hour, 0),
		CheckinOpens:           r.duration("CHECKIN_OPENS", 3*time.Hour, 0),
		PendingExpiry:          r.duration("PENDING_EXPIRY", 0, 0),
		ExpiryInterval:         r.duration("EXPIRY_INTERVAL", time.Minute, time.Second),
		PublicRateLimit:        r.integer("PUBLIC_RATE_LIMIT", 30),
		LoginRateLimit:         r.integer("LOGIN_RATE_LIMIT", 10),
		BodyLimit:              int64(r.integer("BODY_LIMIT_BYTES", 64<<10)),
		LogLevel:               r.level("LOG_LEVEL", slog.LevelInfo),
		LogFormat:              r.oneOf("LOG_FORMAT", "json", "json", "text"),
		Demo:                   r.boolean("DEMO", false),
		ShutdownTimeout:        r.duration("SHUTDOWN_TIMEOUT", 15*time.Second, time.Second),
		TrustedProxies:         r.list("TRUSTED_PROXIES"),
	}
	if c.BodyLimit == 0 && r.getenv("BODY_LIMIT_BYTES") != "" {
		r.fail("BODY_LIMIT_BYTES", "must be at least 1")
	}
	if len(c.JWTSecret) > 0 && len(c.JWTSecret) < 32 {
		r.fail("JWT_SECRET", "must be at least 32 bytes")
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPassword == "") {
		r.fail("BOOTSTRAP_ADMIN_EMAIL", "and BOOTSTRAP_ADMIN_PASSWORD must be set together")
	}
	if c.MaxAdvance <= c.MinNotice {
		r.fail("MAX_ADVANCE", "must be longer than MIN_NOTICE")
	}
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// reader parses variables and collects every problem so that one start-up
// reports all bad values at once.
type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) duration(name string, def, minimum time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("is not a Go duration such as 90m or 24h: %q", v))
		return def
	}
	if d < minimum {
		r.fail(name, fmt.Sprintf("must be at least %s, got %s", minimum, d))
		return def
	}
	return d
}

func (r *reader) integer(name string, def int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.fail(name, fmt.Sprintf("must be a whole number of 0 or more, got %q", v))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be true or false (or 1 or 0), got %q", v))
		return def
	}
	return b
}

func (r *reader) list(name string) []string {
	var out []string
	for _, part := range strings.Split(r.getenv(name), ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(strings.TrimSpace(r.getenv(name)))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
	return def
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return def
	}
	return l
}

func (r *reader) databaseURL(name, def string) string {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil {
		r.fail(name, "is not a URL such as sqlite://data/clinic.db or postgres://user@host/db")
		return v
	}
	switch u.Scheme {
	case "sqlite", "postgres", "postgresql":
	default:
		r.fail(name, fmt.Sprintf("has unknown scheme %q: use sqlite:// or postgres://", u.Scheme))
	}
	return v
}
