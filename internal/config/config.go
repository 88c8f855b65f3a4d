// Package config reads the server's configuration from environment variables
// into one typed struct, with documented defaults, and rejects bad values at
// start-up naming the variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// Config is the whole configuration of the server. The README documents every
// variable; keep the two in step.
type Config struct {
	HTTPAddr                string        // HTTP_ADDR
	MetricsAddr             string        // METRICS_ADDR: when set, /metrics is served there and not on HTTP_ADDR
	DatabaseURL             string        // DATABASE_URL: sqlite://path or postgres://...
	JWTSecret               []byte        // JWT_SECRET; empty means "make a random one"
	JWTIssuer               string        // JWT_ISSUER
	JWTAudience             string        // JWT_AUDIENCE
	AccessTokenTTL          time.Duration // ACCESS_TOKEN_TTL
	RefreshTokenTTL         time.Duration // REFRESH_TOKEN_TTL
	BootstrapAdminEmail     string        // BOOTSTRAP_ADMIN_EMAIL
	BootstrapAdminPassword  string        // BOOTSTRAP_ADMIN_PASSWORD
	CORSAllowedOrigins      []string      // CORS_ALLOWED_ORIGINS, comma separated
	MinNotice               time.Duration // MIN_NOTICE
	MaxAdvance              time.Duration // MAX_ADVANCE
	PatientChangeCutoff     time.Duration // PATIENT_CHANGE_CUTOFF
	PendingExpiry           time.Duration // PENDING_EXPIRY; 0 turns expiry off
	ExpiryInterval          time.Duration // EXPIRY_INTERVAL: how often the expiry job runs
	PublicRateLimit         int           // PUBLIC_RATE_LIMIT, requests a minute per client address; 0 off
	HoldTTL                 time.Duration // HOLD_TTL: how long a slot hold keeps a place
	WaitlistOfferTTL        time.Duration // WAITLIST_OFFER_TTL: how long a waitlist offer holds its place
	PublicHoldLimit         int           // PUBLIC_HOLD_LIMIT: live slot holds per client address
	HoldMaxShare            float64       // HOLD_MAX_SHARE: the share of a provider's local day's free places live holds may keep, (0, 1]
	MaxLivePerPatient       int           // MAX_LIVE_PER_PATIENT: live future online bookings per patient email and per phone; 0 off
	CheckinOpens            time.Duration // CHECKIN_OPENS
	LoginRateLimit          int           // LOGIN_RATE_LIMIT, failed logins a minute per account from one address; 0 off
	LoginAddressRateLimit   int           // LOGIN_ADDRESS_RATE_LIMIT, failed logins a minute per address, any accounts; 0 off
	LoginAccountRateLimit   int           // LOGIN_ACCOUNT_RATE_LIMIT, failed logins a minute per account, all addresses; 0 off
	BodyLimit               int64         // BODY_LIMIT_BYTES
	LogLevel                slog.Level    // LOG_LEVEL: debug, info, warn, error
	LogFormat               string        // LOG_FORMAT: json or text
	Demo                    bool          // DEMO: seed a demo clinic
	ShutdownTimeout         time.Duration // SHUTDOWN_TIMEOUT
	ShutdownDrain           time.Duration // SHUTDOWN_DRAIN: /readyz answers 503 this long before the listener closes
	AvailabilityConcurrency int           // AVAILABILITY_CONCURRENCY: availability queries computed at once; more wait briefly, then 503
	TrustedProxies          []string      // TRUSTED_PROXIES: addresses whose X-Forwarded-For is believed
	FeedMaxStreamsPerStaff  int           // FEED_MAX_STREAMS_PER_STAFF: live-feed streams one staff member holds open on an instance; 0 off
	MaxIdleConnsPerClient   int           // MAX_IDLE_CONNS_PER_CLIENT: idle keep-alive connections one client address (IPv6: /64) holds; 0 off

	// Patient messages.
	SMTP           *SMTP         // SMTP_URL; nil: email off
	SMTPFrom       string        // SMTP_FROM: the sender address of patient email
	ClinicName     string        // CLINIC_NAME: how messages name the clinic
	PublicBaseURL  string        // PUBLIC_BASE_URL: where patients reach the server (links in email, feed URLs); default from HTTP_ADDR
	ClinicPhone    string        // CLINIC_PHONE: E.164; the number patients call when a location has none (widget, emails, the emergency screen)
	PrivacyPolicy  string        // PRIVACY_POLICY_URL: the clinic's privacy policy, linked from the consent box
	ReminderBefore time.Duration // REMINDER_BEFORE: reminder this long before a confirmed appointment; 0 off
	DeliveryGiveUp time.Duration // DELIVERY_GIVE_UP: a message still failing this long after its first failure fails for good
	RetryBase      time.Duration // DELIVERY_RETRY_BASE: the first retry waits up to this long, doubling per attempt (up to an hour)
	DeliveryLease  time.Duration // DELIVERY_LEASE: a message in delivery longer than this is taken to have lost its worker and retried
	Twilio         *Twilio       // TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM; nil: SMS off

	// Triage.
	ClinicAlertEmail string // CLINIC_ALERT_EMAIL: where urgent requests are announced by email; "" for none

	// Integrations.
	// WebhookAllowPrivate (WEBHOOK_ALLOW_PRIVATE=1) lets webhook endpoints
	// be http URLs on private, loopback and link-local addresses: for local
	// development and tests only.
	WebhookAllowPrivate bool

	// PublicBaseURLFromAddr is true when PUBLIC_BASE_URL is unset and
	// PublicBaseURL was made from HTTP_ADDR (see BaseURLFromAddr): fine on
	// this machine, not in a patient's email.
	PublicBaseURLFromAddr bool
	// databaseURLSet: DATABASE_URL was given, so the demo uses it too.
	databaseURLSet bool
}

// SMTPSecurity says how the connection to the mail server is protected.
type SMTPSecurity string

// SMTP security modes.
const (
	// STARTTLSOpportunistic upgrades with STARTTLS when the server offers it
	// (smtp://).
	STARTTLSOpportunistic SMTPSecurity = "starttls"
	// STARTTLSRequired refuses to send unless STARTTLS succeeds
	// (smtp://...?starttls=required).
	STARTTLSRequired SMTPSecurity = "starttls-required"
	// ImplicitTLS speaks TLS from the first byte (smtps://).
	ImplicitTLS SMTPSecurity = "tls"
)

// SMTP is the mail server patient email goes through, from SMTP_URL.
type SMTP struct {
	Host     string
	Port     int
	Security SMTPSecurity
	Username string // optional; with Password, authenticates
	Password string
}

// Twilio is the Twilio account patient texts go through.
type Twilio struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN
	From       string // TWILIO_FROM: the sending number (E.164) or messaging service
	APIURL     string // TWILIO_API_URL: the API's base address, default https://api.twilio.com
}

// DefaultPendingExpiry is PENDING_EXPIRY's default: a request nobody
// answers frees its place by itself after three days (long enough for a
// front desk closed over a weekend to answer it), so unanswered requests
// cannot keep a calendar full.
const DefaultPendingExpiry = 72 * time.Hour

// DefaultHoldMaxShare is HOLD_MAX_SHARE's default: live slot holds may keep
// at most half of a provider's free places of a local day (at least one
// place), so that whoever takes holds from many addresses can block no more
// than half a day, while the few visitors who fill in the form at one time
// on a real day are never refused a hold.
const DefaultHoldMaxShare = 0.5

// DefaultDatabaseURL is where the server keeps its data when DATABASE_URL is
// not set: an SQLite file under ./data, created on first start.
const DefaultDatabaseURL = "sqlite://data/clinic.db"

// DemoDatabaseURL is where the demo clinic lives when DATABASE_URL is not
// set: a file of its own, so that the clinic's real first start (with no
// -demo) never opens the demo's providers, bookings and admin.
const DemoDatabaseURL = "sqlite://data/demo.db"

// UseDemo turns the demo clinic on (-demo): its database is DemoDatabaseURL
// unless DATABASE_URL names one.
func (c *Config) UseDemo() {
	c.Demo = true
	if !c.databaseURLSet {
		c.DatabaseURL = DemoDatabaseURL
	}
}

// Load reads the configuration through getenv. It returns an error naming
// every variable whose value it cannot use.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		HTTPAddr:                r.httpAddr("HTTP_ADDR", ":8080"),
		MetricsAddr:             r.optionalAddr("METRICS_ADDR"),
		DatabaseURL:             r.databaseURL("DATABASE_URL", DefaultDatabaseURL),
		JWTSecret:               []byte(getenv("JWT_SECRET")),
		JWTIssuer:               r.str("JWT_ISSUER", "clinic-booking"),
		JWTAudience:             r.str("JWT_AUDIENCE", "clinic-staff"),
		AccessTokenTTL:          r.duration("ACCESS_TOKEN_TTL", 15*time.Minute, time.Minute),
		RefreshTokenTTL:         r.duration("REFRESH_TOKEN_TTL", 7*24*time.Hour, time.Minute),
		BootstrapAdminEmail:     strings.TrimSpace(getenv("BOOTSTRAP_ADMIN_EMAIL")),
		BootstrapAdminPassword:  getenv("BOOTSTRAP_ADMIN_PASSWORD"),
		CORSAllowedOrigins:      r.origins("CORS_ALLOWED_ORIGINS"),
		MinNotice:               r.duration("MIN_NOTICE", 2*time.Hour, 0),
		MaxAdvance:              r.duration("MAX_ADVANCE", 120*24*time.Hour, time.Hour),
		PatientChangeCutoff:     r.duration("PATIENT_CHANGE_CUTOFF", 24*time.Hour, 0),
		PendingExpiry:           r.duration("PENDING_EXPIRY", DefaultPendingExpiry, 0),
		ExpiryInterval:          r.duration("EXPIRY_INTERVAL", time.Minute, time.Second),
		PublicRateLimit:         r.integer("PUBLIC_RATE_LIMIT", 30),
		HoldTTL:                 r.duration("HOLD_TTL", 10*time.Minute, 30*time.Second),
		WaitlistOfferTTL:        r.duration("WAITLIST_OFFER_TTL", 30*time.Minute, time.Minute),
		PublicHoldLimit:         r.integer("PUBLIC_HOLD_LIMIT", 2),
		HoldMaxShare:            r.share("HOLD_MAX_SHARE", DefaultHoldMaxShare),
		MaxLivePerPatient:       r.integer("MAX_LIVE_PER_PATIENT", 3),
		CheckinOpens:            r.duration("CHECKIN_OPENS", 3*time.Hour, 0),
		LoginRateLimit:          r.integer("LOGIN_RATE_LIMIT", 10),
		BodyLimit:               int64(r.integer("BODY_LIMIT_BYTES", 64<<10)),
		LogLevel:                r.level("LOG_LEVEL", slog.LevelInfo),
		LogFormat:               r.oneOf("LOG_FORMAT", "json", "json", "text"),
		ShutdownTimeout:         r.duration("SHUTDOWN_TIMEOUT", 15*time.Second, time.Second),
		ShutdownDrain:           r.duration("SHUTDOWN_DRAIN", 0, 0),
		AvailabilityConcurrency: r.integer("AVAILABILITY_CONCURRENCY", 0), // 0: one a CPU
		TrustedProxies:          r.proxies("TRUSTED_PROXIES"),
		FeedMaxStreamsPerStaff:  r.integer("FEED_MAX_STREAMS_PER_STAFF", 5),
		MaxIdleConnsPerClient:   r.integer("MAX_IDLE_CONNS_PER_CLIENT", 32),
		SMTP:                    r.smtpURL("SMTP_URL"),
		SMTPFrom:                strings.TrimSpace(getenv("SMTP_FROM")),
		ClinicName:              r.str("CLINIC_NAME", "The clinic"),
		ClinicPhone:             r.phone("CLINIC_PHONE"),
		PrivacyPolicy:           r.optionalHTTPURL("PRIVACY_POLICY_URL"),
		ReminderBefore:          r.duration("REMINDER_BEFORE", 24*time.Hour, 0),
		DeliveryGiveUp:          r.duration("DELIVERY_GIVE_UP", 24*time.Hour, time.Second),
		RetryBase:               r.duration("DELIVERY_RETRY_BASE", 10*time.Second, 100*time.Millisecond),
		DeliveryLease:           r.duration("DELIVERY_LEASE", 2*time.Minute, 2*time.Second),
		WebhookAllowPrivate:     r.boolean("WEBHOOK_ALLOW_PRIVATE", false),
	}
	if strings.TrimSpace(getenv("PUBLIC_BASE_URL")) == "" {
		c.PublicBaseURL, c.PublicBaseURLFromAddr = BaseURLFromAddr(c.HTTPAddr), true
	} else {
		c.PublicBaseURL = strings.TrimSuffix(r.httpURL("PUBLIC_BASE_URL", ""), "/")
	}
	// The wider login limits default to multiples of the per-account-and-
	// address one, so raising LOGIN_RATE_LIMIT alone keeps them wider.
	c.LoginAddressRateLimit = r.integer("LOGIN_ADDRESS_RATE_LIMIT", 3*c.LoginRateLimit)
	c.LoginAccountRateLimit = r.integer("LOGIN_ACCOUNT_RATE_LIMIT", 5*c.LoginRateLimit)
	if c.AvailabilityConcurrency == 0 && r.getenv("AVAILABILITY_CONCURRENCY") != "" {
		r.fail("AVAILABILITY_CONCURRENCY", "must be at least 1")
	}
	for _, name := range []string{"JWT_ISSUER", "JWT_AUDIENCE"} {
		if v := r.getenv(name); v != "" && strings.TrimSpace(v) == "" {
			r.fail(name, "must not be blank")
		}
	}
	if c.SMTP != nil && c.SMTPFrom == "" {
		r.fail("SMTP_FROM", "must be set when SMTP_URL is (the address patient email comes from)")
	}
	if c.SMTPFrom != "" {
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			r.fail("SMTP_FROM", fmt.Sprintf("is not an email address such as \"Clinic <clinic@example.com>\": %q", c.SMTPFrom))
		}
	}
	sid, token, from := strings.TrimSpace(getenv("TWILIO_ACCOUNT_SID")), getenv("TWILIO_AUTH_TOKEN"), strings.TrimSpace(getenv("TWILIO_FROM"))
	switch {
	case sid == "" && token == "" && from == "":
	case sid == "" || token == "" || from == "":
		r.fail("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN and TWILIO_FROM must be set together")
	default:
		c.Twilio = &Twilio{AccountSID: sid, AuthToken: token, From: from,
			APIURL: strings.TrimSuffix(r.httpURL("TWILIO_API_URL", "https://api.twilio.com"), "/")}
	}
	if v := strings.TrimSpace(getenv("CLINIC_ALERT_EMAIL")); v != "" {
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			r.fail("CLINIC_ALERT_EMAIL", "must be an email address such as desk@clinic.example")
		} else {
			c.ClinicAlertEmail = v
		}
	}
	if c.BodyLimit == 0 && r.getenv("BODY_LIMIT_BYTES") != "" {
		r.fail("BODY_LIMIT_BYTES", "must be at least 1")
	}
	if len(c.JWTSecret) > 0 && len(c.JWTSecret) < 32 {
		r.fail("JWT_SECRET", "must be at least 32 bytes")
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPassword == "") {
		r.fail("BOOTSTRAP_ADMIN_EMAIL", "and BOOTSTRAP_ADMIN_PASSWORD must be set together")
	} else if c.BootstrapAdminEmail != "" {
		// Checked here, not at the first start's account creation, so that a
		// bad value stops start-up before the database is touched.
		if a, err := mail.ParseAddress(c.BootstrapAdminEmail); err != nil || a.Address != c.BootstrapAdminEmail {
			r.fail("BOOTSTRAP_ADMIN_EMAIL", "must be an email address such as admin@clinic.example")
		}
		if n := utf8.RuneCountInString(c.BootstrapAdminPassword); n < auth.MinPasswordLength || len(c.BootstrapAdminPassword) > 72 {
			r.fail("BOOTSTRAP_ADMIN_PASSWORD", fmt.Sprintf("must be %d characters to 72 bytes long", auth.MinPasswordLength))
		}
	}
	if c.PublicHoldLimit == 0 && r.getenv("PUBLIC_HOLD_LIMIT") != "" {
		r.fail("PUBLIC_HOLD_LIMIT", "must be at least 1")
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr && !strings.HasSuffix(c.MetricsAddr, ":0") { // :0 is any free port
		r.fail("METRICS_ADDR", "must differ from HTTP_ADDR (leave it unset to serve /metrics there)")
	}
	c.databaseURLSet = strings.TrimSpace(getenv("DATABASE_URL")) != ""
	if r.boolean("DEMO", false) {
		c.UseDemo()
	}
	if c.MaxAdvance <= c.MinNotice {
		r.fail("MAX_ADVANCE", "must be longer than MIN_NOTICE")
	}
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// BaseURLFromAddr returns the http URL of a listening address such as
// HTTP_ADDR: ":9090" (every interface) is http://localhost:9090,
// "127.0.0.1:7000" http://127.0.0.1:7000, "[::1]:8080" http://[::1]:8080.
// It is where links point when PUBLIC_BASE_URL is unset: right for someone
// on this machine, which is all it can know.
func BaseURLFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
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

// share reads a fraction greater than 0 and at most 1, such as 0.5.
func (r *reader) share(name string, def float64) float64 {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		r.fail(name, fmt.Sprintf("must be a fraction greater than 0 and at most 1, such as 0.5, got %q", v))
		return def
	}
	return f
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

// smtpURL parses an SMTP_URL: smtp://[user:pass@]host[:port][?starttls=required]
// or smtps://[user:pass@]host[:port]. Empty is nil (email off).
func (r *reader) smtpURL(name string) *SMTP {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return nil
	}
	const want = "is not a URL such as smtp://user:pass@mail.example.com:587, smtp://host:25?starttls=required or smtps://host:465"
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		r.fail(name, want)
		return nil
	}
	c := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		c.Security, c.Port = STARTTLSOpportunistic, 587
	case "smtps":
		c.Security, c.Port = ImplicitTLS, 465
	default:
		r.fail(name, want)
		return nil
	}
	for k, vals := range u.Query() {
		switch {
		case k == "starttls" && u.Scheme == "smtp" && len(vals) == 1 && vals[0] == "required":
			c.Security = STARTTLSRequired
		case k == "starttls" && u.Scheme == "smtp" && len(vals) == 1 && vals[0] == "opportunistic":
		default:
			r.fail(name, "has an unknown option "+strconv.Quote(k)+" (only starttls=required, with smtp://)")
			return nil
		}
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			r.fail(name, "has a bad port "+strconv.Quote(p))
			return nil
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c
}

// httpURL reads an absolute http or https URL.
func (r *reader) httpURL(name, def string) string {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.fail(name, fmt.Sprintf("is not an http or https URL such as https://booking.example.com: %q", v))
		return def
	}
	return v
}

// optionalHTTPURL reads an absolute http or https URL, or "" when unset.
func (r *reader) optionalHTTPURL(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("is not an http or https URL such as https://clinic.example/privacy: %q", v))
		return ""
	}
	return v
}

// phone reads an optional phone number in E.164 form; spaces, hyphens,
// dots and parentheses between the digits are dropped.
func (r *reader) phone(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return ""
	}
	p, ok := booking.NormalizePhone(v)
	if !ok {
		r.fail(name, fmt.Sprintf("is not a phone number in international E.164 form such as +14245550100: %q", v))
		return ""
	}
	return p
}

func (r *reader) databaseURL(name, def string) string {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil {
		r.fail(name, "is not a URL such as sqlite://data/clinic.db or postgres://user@host/db")
		return v
	}
	switch u.Scheme {
	case "sqlite":
		if strings.TrimPrefix(v, "sqlite://") == "" || !strings.HasPrefix(v, "sqlite://") {
			r.fail(name, "must name a file, such as sqlite://data/clinic.db")
		}
	case "postgres", "postgresql":
		if u.Host == "" && u.Query().Get("host") == "" {
			r.fail(name, "must name a server, such as postgres://user@host:5432/db")
		}
	default:
		r.fail(name, fmt.Sprintf("has unknown scheme %q: use sqlite:// or postgres://", u.Scheme))
	}
	return v
}

// httpAddr checks a listen address of the form [host]:port. Whether the
// port is free is only known by listening, which run does before touching
// the database.
func (r *reader) httpAddr(name, def string) string {
	v := r.str(name, def)
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be host:port or :port, such as :8080, got %q", v))
		return v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail(name, fmt.Sprintf("has a bad port %q: use a number from 0 to 65535", port))
	}
	if strings.ContainsAny(host, " /?#@") {
		r.fail(name, fmt.Sprintf("has a bad host %q", host))
	}
	return v
}

// optionalAddr is httpAddr for a listen address with no default: "" when
// unset.
func (r *reader) optionalAddr(name string) string {
	if strings.TrimSpace(r.getenv(name)) == "" {
		return ""
	}
	return r.httpAddr(name, "")
}

// origins checks browser origins: scheme://host[:port], nothing more. A
// trailing slash or a path would never match the Origin header a browser
// sends, and "*" would let any website call the API.
func (r *reader) origins(name string) []string {
	list := r.list(name)
	for _, o := range list {
		if o == "*" {
			r.fail(name, "must list the website origins one by one; \"*\" (any website) is refused")
			continue
		}
		u, err := url.Parse(o)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			r.fail(name, fmt.Sprintf("has %q: an origin is http(s)://host[:port], such as https://www.clinic.example", o))
		case strings.ToLower(o) != o:
			// Browsers send the Origin header in lower case, and the
			// comparison is exact.
			r.fail(name, fmt.Sprintf("has %q: write origins in lower case, as browsers send them", o))
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#"):
			r.fail(name, fmt.Sprintf("has %q: an origin has no path, trailing slash, query or user, such as https://www.clinic.example", o))
		case strings.HasSuffix(u.Host, ":") || strings.Contains(u.Host, "*"):
			r.fail(name, fmt.Sprintf("has %q: an origin is http(s)://host[:port] with no wildcard, such as https://www.clinic.example", o))
		case u.Port() != "" && !validPort(u.Port()):
			r.fail(name, fmt.Sprintf("has %q: the port must be a number from 1 to 65535", o))
		}
	}
	return list
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// proxies checks TRUSTED_PROXIES entries: IP addresses or CIDR ranges, as
// Gin parses them.
func (r *reader) proxies(name string) []string {
	list := r.list(name)
	for _, p := range list {
		if _, _, err := net.ParseCIDR(p); err == nil {
			continue
		}
		if net.ParseIP(p) == nil {
			r.fail(name, fmt.Sprintf("has %q: use IP addresses or CIDR ranges such as 10.0.0.0/8", p))
		}
	}
	return list
}
