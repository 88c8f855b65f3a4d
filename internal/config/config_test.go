package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"HTTP_ADDR", c.HTTPAddr, ":8080"},
		{"DATABASE_URL", c.DatabaseURL, "sqlite://data/clinic.db"},
		{"MIN_NOTICE", c.MinNotice, 2 * time.Hour},
		{"MAX_ADVANCE", c.MaxAdvance, 120 * 24 * time.Hour},
		{"PATIENT_CHANGE_CUTOFF", c.PatientChangeCutoff, 24 * time.Hour},
		{"PENDING_EXPIRY", c.PendingExpiry, 72 * time.Hour},
		{"PUBLIC_RATE_LIMIT", c.PublicRateLimit, 30},
		{"LOGIN_RATE_LIMIT", c.LoginRateLimit, 10},
		{"HOLD_TTL", c.HoldTTL, 10 * time.Minute},
		{"WAITLIST_OFFER_TTL", c.WaitlistOfferTTL, 30 * time.Minute},
		{"PUBLIC_HOLD_LIMIT", c.PublicHoldLimit, 2},
		{"HOLD_MAX_SHARE", c.HoldMaxShare, 0.5},
		{"MAX_LIVE_PER_PATIENT", c.MaxLivePerPatient, 3},
		{"BODY_LIMIT_BYTES", c.BodyLimit, int64(64 << 10)},
		{"LOG_FORMAT", c.LogFormat, "json"},
		{"JWT_SECRET", len(c.JWTSecret), 0},
		{"METRICS_ADDR", c.MetricsAddr, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestLoadRejectsBadValuesNamingTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"MIN_NOTICE", map[string]string{"MIN_NOTICE": "two hours"}},
		{"PENDING_EXPIRY", map[string]string{"PENDING_EXPIRY": "-5m"}},
		{"DATABASE_URL", map[string]string{"DATABASE_URL": "mysql://x"}},
		{"PUBLIC_RATE_LIMIT", map[string]string{"PUBLIC_RATE_LIMIT": "-1"}},
		{"LOGIN_RATE_LIMIT", map[string]string{"LOGIN_RATE_LIMIT": "lots"}},
		{"LOG_LEVEL", map[string]string{"LOG_LEVEL": "loud"}},
		{"LOG_FORMAT", map[string]string{"LOG_FORMAT": "xml"}},
		{"JWT_SECRET", map[string]string{"JWT_SECRET": "short"}},
		{"DEMO", map[string]string{"DEMO": "maybe"}},
		{"METRICS_ADDR", map[string]string{"METRICS_ADDR": "9090"}},
		{"METRICS_ADDR", map[string]string{"METRICS_ADDR": ":99999"}},
		{"METRICS_ADDR", map[string]string{"HTTP_ADDR": ":8080", "METRICS_ADDR": ":8080"}},
		{"BOOTSTRAP_ADMIN_EMAIL", map[string]string{"BOOTSTRAP_ADMIN_EMAIL": "a@b.example"}},
		{"MAX_ADVANCE", map[string]string{"MIN_NOTICE": "48h", "MAX_ADVANCE": "24h"}},
		{"HOLD_TTL", map[string]string{"HOLD_TTL": "5s"}},
		{"WAITLIST_OFFER_TTL", map[string]string{"WAITLIST_OFFER_TTL": "10s"}},
		{"CLINIC_PHONE", map[string]string{"CLINIC_PHONE": "call us"}},
		{"CLINIC_ALERT_EMAIL", map[string]string{"CLINIC_ALERT_EMAIL": "Desk <desk@clinic.example>"}},
		{"PUBLIC_HOLD_LIMIT", map[string]string{"PUBLIC_HOLD_LIMIT": "0"}},
		{"SMTP_URL", map[string]string{"SMTP_URL": "http://mail.example.com", "SMTP_FROM": "a@b.example"}},
		{"SMTP_URL", map[string]string{"SMTP_URL": "smtp://mail.example.com:99999", "SMTP_FROM": "a@b.example"}},
		{"SMTP_URL", map[string]string{"SMTP_URL": "smtp://mail.example.com?starttls=maybe", "SMTP_FROM": "a@b.example"}},
		{"SMTP_URL", map[string]string{"SMTP_URL": "smtps://mail.example.com?starttls=required", "SMTP_FROM": "a@b.example"}},
		{"SMTP_URL", map[string]string{"SMTP_URL": "smtp://", "SMTP_FROM": "a@b.example"}},
		{"SMTP_FROM", map[string]string{"SMTP_URL": "smtp://mail.example.com"}},
		{"SMTP_FROM", map[string]string{"SMTP_FROM": "not an address"}},
		{"PUBLIC_BASE_URL", map[string]string{"PUBLIC_BASE_URL": "clinic.example.com"}},
		{"REMINDER_BEFORE", map[string]string{"REMINDER_BEFORE": "a day"}},
		{"CLINIC_PHONE", map[string]string{"CLINIC_PHONE": "555-0100"}},
		{"PRIVACY_POLICY_URL", map[string]string{"PRIVACY_POLICY_URL": "clinic.example/privacy"}},
		{"PRIVACY_POLICY_URL", map[string]string{"PRIVACY_POLICY_URL": "ftp://clinic.example/privacy"}},
		{"DELIVERY_GIVE_UP", map[string]string{"DELIVERY_GIVE_UP": "0s"}},
		{"TWILIO_ACCOUNT_SID", map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}},
		{"TWILIO_API_URL", map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "x", "TWILIO_FROM": "+15005550006", "TWILIO_API_URL": "ftp://x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("got %v, want an error naming %s", err, tt.name)
			}
		})
	}
}

func TestLoadSMTPURL(t *testing.T) {
	tests := []struct {
		url  string
		want SMTP
	}{
		{"smtp://mail.example.com", SMTP{Host: "mail.example.com", Port: 587, Security: STARTTLSOpportunistic}},
		{"smtp://u%40x:p%3Aw@mail.example.com:2525", SMTP{Host: "mail.example.com", Port: 2525, Security: STARTTLSOpportunistic, Username: "u@x", Password: "p:w"}},
		{"smtp://mail.example.com:25?starttls=required", SMTP{Host: "mail.example.com", Port: 25, Security: STARTTLSRequired}},
		{"smtps://user:secret@mail.example.com", SMTP{Host: "mail.example.com", Port: 465, Security: ImplicitTLS, Username: "user", Password: "secret"}},
	}
	for _, tt := range tests {
		c, err := Load(env(map[string]string{"SMTP_URL": tt.url, "SMTP_FROM": "Clinic <clinic@example.com>"}))
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if c.SMTP == nil || *c.SMTP != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.url, c.SMTP, tt.want)
		}
	}
	c, err := Load(env(nil))
	if err != nil || c.SMTP != nil || c.Twilio != nil {
		t.Errorf("no SMTP_URL or TWILIO_*: got %+v, %+v, %v; want email and SMS off", c.SMTP, c.Twilio, err)
	}
	if c.ReminderBefore != 24*time.Hour || c.DeliveryGiveUp != 24*time.Hour || c.PublicBaseURL != "http://localhost:8080" {
		t.Errorf("defaults: got REMINDER_BEFORE %s, DELIVERY_GIVE_UP %s, PUBLIC_BASE_URL %s", c.ReminderBefore, c.DeliveryGiveUp, c.PublicBaseURL)
	}
}

// The public limits of issue 21 (MAX_LIVE_PER_PATIENT, HOLD_MAX_SHARE,
// PENDING_EXPIRY): the values each takes, 0 turning the per-patient limit
// and the expiry off, and the values each refuses.
func TestLoadPublicLimits(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		got     func(Config) any
		want    any
		wantErr bool
	}{
		{"per-patient limit set", map[string]string{"MAX_LIVE_PER_PATIENT": "5"}, func(c Config) any { return c.MaxLivePerPatient }, 5, false},
		{"per-patient limit off", map[string]string{"MAX_LIVE_PER_PATIENT": "0"}, func(c Config) any { return c.MaxLivePerPatient }, 0, false},
		{"per-patient limit negative", map[string]string{"MAX_LIVE_PER_PATIENT": "-1"}, nil, nil, true},
		{"per-patient limit not a number", map[string]string{"MAX_LIVE_PER_PATIENT": "three"}, nil, nil, true},
		{"hold share set", map[string]string{"HOLD_MAX_SHARE": "0.25"}, func(c Config) any { return c.HoldMaxShare }, 0.25, false},
		{"hold share all", map[string]string{"HOLD_MAX_SHARE": "1"}, func(c Config) any { return c.HoldMaxShare }, 1.0, false},
		{"hold share zero", map[string]string{"HOLD_MAX_SHARE": "0"}, nil, nil, true},
		{"hold share over one", map[string]string{"HOLD_MAX_SHARE": "1.5"}, nil, nil, true},
		{"hold share a percentage", map[string]string{"HOLD_MAX_SHARE": "50%"}, nil, nil, true},
		{"hold share NaN", map[string]string{"HOLD_MAX_SHARE": "NaN"}, nil, nil, true},
		{"expiry off", map[string]string{"PENDING_EXPIRY": "0"}, func(c Config) any { return c.PendingExpiry }, time.Duration(0), false},
		{"expiry set", map[string]string{"PENDING_EXPIRY": "24h"}, func(c Config) any { return c.PendingExpiry }, 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr {
				for name := range tt.env {
					if err == nil || !strings.Contains(err.Error(), name) {
						t.Errorf("got %v, want an error naming %s", err, name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryBadVariable(t *testing.T) {
	_, err := Load(env(map[string]string{"MIN_NOTICE": "x", "LOG_LEVEL": "y"}))
	if err == nil || !strings.Contains(err.Error(), "MIN_NOTICE") || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("got %v, want both variables named", err)
	}
}

func TestLoadParsesValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://u@localhost/db", "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
		"PENDING_EXPIRY": "48h", "LOG_LEVEL": "debug", "DEMO": "1", "PUBLIC_RATE_LIMIT": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CORSAllowedOrigins) != 2 || c.CORSAllowedOrigins[1] != "https://b.example" {
		t.Errorf("CORS_ALLOWED_ORIGINS: got %q", c.CORSAllowedOrigins)
	}
	if c.PendingExpiry != 48*time.Hour || !c.Demo || c.PublicRateLimit != 0 {
		t.Errorf("got expiry %v demo %v public limit %d", c.PendingExpiry, c.Demo, c.PublicRateLimit)
	}
}

func TestLoadTriageContacts(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClinicPhone != "" || c.ClinicAlertEmail != "" {
		t.Errorf("defaults: phone %q alert %q, want none", c.ClinicPhone, c.ClinicAlertEmail)
	}
	c, err = Load(env(map[string]string{"CLINIC_PHONE": "+1 (424) 555-0100", "CLINIC_ALERT_EMAIL": "desk@clinic.example"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ClinicPhone, "+14245550100"; got != want {
		t.Errorf("CLINIC_PHONE = %q, want %q", got, want)
	}
	if got, want := c.ClinicAlertEmail, "desk@clinic.example"; got != want {
		t.Errorf("CLINIC_ALERT_EMAIL = %q, want %q", got, want)
	}
}

func TestLoadClinicContact(t *testing.T) {
	tests := []struct {
		env                map[string]string
		wantPhone, wantURL string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"CLINIC_PHONE": "+1 (424) 555-0100", "PRIVACY_POLICY_URL": "https://clinic.example/privacy"},
			"+14245550100", "https://clinic.example/privacy"},
	}
	for _, tt := range tests {
		c, err := Load(env(tt.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.ClinicPhone != tt.wantPhone || c.PrivacyPolicy != tt.wantURL {
			t.Errorf("%v: got CLINIC_PHONE %q, PRIVACY_POLICY_URL %q, want %q, %q", tt.env, c.ClinicPhone, c.PrivacyPolicy, tt.wantPhone, tt.wantURL)
		}
	}
}

func TestLoadAcceptsOrigins(t *testing.T) {
	for _, o := range []string{"https://www.clinic.example", "http://localhost:5173", "https://[::1]:8443", "https://xn--klinik-n2a.example"} {
		c, err := Load(env(map[string]string{"CORS_ALLOWED_ORIGINS": o}))
		if err != nil {
			t.Errorf("%s: got %v, want accepted", o, err)
			continue
		}
		if len(c.CORSAllowedOrigins) != 1 || c.CORSAllowedOrigins[0] != o {
			t.Errorf("%s: got %v", o, c.CORSAllowedOrigins)
		}
	}
}

func TestLoadLoginLimitsDefaultWiderThanThePairLimit(t *testing.T) {
	c, err := Load(env(map[string]string{"LOGIN_RATE_LIMIT": "4"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LoginAddressRateLimit != 12 || c.LoginAccountRateLimit != 20 {
		t.Errorf("got address %d account %d, want 12 and 20", c.LoginAddressRateLimit, c.LoginAccountRateLimit)
	}
}

// Without PUBLIC_BASE_URL, links are built from HTTP_ADDR, never from a
// fixed port.
func TestPublicBaseURLDefaultsToHTTPAddr(t *testing.T) {
	tests := []struct {
		addr, public string
		want         string
		fromAddr     bool
	}{
		{"", "", "http://localhost:8080", true},
		{":9090", "", "http://localhost:9090", true},
		{"127.0.0.1:7000", "", "http://127.0.0.1:7000", true},
		{"0.0.0.0:8081", "", "http://localhost:8081", true},
		{"[::]:8082", "", "http://localhost:8082", true},
		{"[::1]:8083", "", "http://[::1]:8083", true},
		{"booking.internal:80", "", "http://booking.internal:80", true},
		{":9090", "https://booking.clinic.example/", "https://booking.clinic.example", false},
	}
	for _, tt := range tests {
		c, err := Load(env(map[string]string{"HTTP_ADDR": tt.addr, "PUBLIC_BASE_URL": tt.public}))
		if err != nil {
			t.Errorf("HTTP_ADDR %q: %v", tt.addr, err)
			continue
		}
		if c.PublicBaseURL != tt.want || c.PublicBaseURLFromAddr != tt.fromAddr {
			t.Errorf("HTTP_ADDR %q, PUBLIC_BASE_URL %q: got %q (from address %v), want %q (%v)",
				tt.addr, tt.public, c.PublicBaseURL, c.PublicBaseURLFromAddr, tt.want, tt.fromAddr)
		}
	}
}

func TestMetricsAddr(t *testing.T) {
	c, err := Load(env(map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.MetricsAddr, "127.0.0.1:9090"; got != want {
		t.Errorf("MetricsAddr: got %q, want %q", got, want)
	}
}

// The demo clinic gets a database file of its own unless DATABASE_URL names
// one, whether turned on by DEMO=1 or by -demo (UseDemo).
func TestDemoUsesItsOwnDatabase(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		useDemo bool
		want    string
	}{
		{"no demo", nil, false, DefaultDatabaseURL},
		{"DEMO=1", map[string]string{"DEMO": "1"}, false, DemoDatabaseURL},
		{"-demo", nil, true, DemoDatabaseURL},
		{"-demo with DATABASE_URL", map[string]string{"DATABASE_URL": "sqlite://x/mine.db"}, true, "sqlite://x/mine.db"},
		{"DEMO=1 with DATABASE_URL", map[string]string{"DEMO": "1", "DATABASE_URL": "sqlite://x/mine.db"}, false, "sqlite://x/mine.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if tc.useDemo {
				c.UseDemo()
			}
			if c.DatabaseURL != tc.want {
				t.Errorf("DatabaseURL: got %q, want %q", c.DatabaseURL, tc.want)
			}
			if wantDemo := tc.want == DemoDatabaseURL || tc.useDemo || tc.env["DEMO"] != ""; c.Demo != wantDemo {
				t.Errorf("Demo: got %v, want %v", c.Demo, wantDemo)
			}
		})
	}
}
