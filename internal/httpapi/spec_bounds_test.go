package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
	"github.com/clinic/consult/internal/webhook"
)

// TestSpecBoundsDriveServer walks every write route of openapi.yaml and
// drives the bounds its request schema states: for each maxLength and
// minLength, minimum and maximum, pattern, format, enum, x-format-minimum,
// required property, minProperties and additionalProperties: false, the
// value at the bound is accepted (the server answers anything but 400 or
// 422) and one past it is refused with 422 naming the field. Lengths are
// probed with a two-byte character, so a bound counted in bytes fails.
//
// The base body of each route is the first example the spec gives for it,
// with ids and times replaced by the fixtures below; a route added to the
// spec is covered without touching this test, as long as its path ids
// resolve (fixtureID) and its example is a valid request.
func TestSpecBoundsDriveServer(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	eachBoundBackend(t, func(t *testing.T, e *env) {
		fx := newBoundFixtures(t, e)
		paths := doc.Paths.InMatchingOrder()
		slices.Sort(paths)
		for _, path := range paths {
			item := doc.Paths.Value(path)
			for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				op := item.GetOperation(method)
				if op == nil || op.RequestBody == nil {
					continue
				}
				mt := op.RequestBody.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil {
					continue
				}
				t.Run(method+" "+path, func(t *testing.T) {
					fx.driveRoute(t, method, path, op, mt)
				})
			}
		}
	}, noRateLimit)
}

// boundFixtures are the resources the routes' ids and headers refer to.
type boundFixtures struct {
	e                    *env
	admin                string
	ids                  map[string]string // property or path-collection name -> id
	reference, token     string            // a booking request and its manage token
	slotStart            time.Time
	selfServiceAuthToken string // for POST /v1/auth/password, so the admin's session survives
}

func newBoundFixtures(t *testing.T, e *env) *boundFixtures {
	t.Helper()
	fx := &boundFixtures{e: e, admin: e.token(auth.RoleAdmin), ids: map[string]string{}}
	_, fx.selfServiceAuthToken = e.staff(auth.RoleReception)
	cat := e.seedCatalog(fx.admin, "America/Los_Angeles")
	fx.ids["provider_id"], fx.ids["location_id"], fx.ids["consultation_type_id"] = cat.provider, cat.location, cat.ctype
	fx.ids["providers"], fx.ids["locations"], fx.ids["consultation-types"] = cat.provider, cat.location, cat.ctype
	fx.ids["versions"] = booking.IntakeFormVersion()
	// A second location without slots, so its timezone may still change.
	fx.ids["locations"] = e.seedCatalog(fx.admin, "America/Los_Angeles").location

	mkSlot := func(start time.Time) string {
		r := e.do("POST", "/v1/slots", map[string]any{
			"provider_id": cat.provider, "location_id": cat.location, "consultation_type_id": cat.ctype,
			"start_at": start.Format(time.RFC3339), "end_at": start.Add(30 * time.Minute).Format(time.RFC3339), "capacity": 100,
		}, fx.admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create slot: got %d %s", r.Status, r.Body)
		}
		return idOf(t, r)
	}
	day := time.Now().Add(10 * 24 * time.Hour).Truncate(24 * time.Hour)
	fx.ids["slot_id"] = mkSlot(day.Add(17 * time.Hour))
	fx.ids["slots"] = mkSlot(day.Add(18 * time.Hour))
	fx.slotStart = day.Add(48 * time.Hour) // new slots the routes create go here, clear of the fixtures

	r := e.do("POST", "/v1/schedules", map[string]any{
		"provider_id": cat.provider, "location_id": cat.location, "consultation_type_id": cat.ctype,
		"slot_minutes": 30, "valid_from": "2027-01-04", "valid_to": "2027-01-31",
		// A window long enough for the longest slot the spec allows.
		"windows": []map[string]any{{"weekday": "monday", "start": "08:00", "end": "16:00"}},
	}, fx.admin)
	if r.Status != http.StatusCreated {
		t.Fatalf("create schedule: got %d %s", r.Status, r.Body)
	}
	fx.ids["schedules"] = idOf(t, r)

	r = e.do("POST", "/v1/booking-requests", requestBody(uuid.MustParse(fx.ids["slot_id"])))
	if r.Status != http.StatusCreated {
		t.Fatalf("booking request: got %d %s", r.Status, r.Body)
	}
	var c created
	r.decode(t, &c)
	fx.reference, fx.token, fx.ids["bookings"] = c.Reference, c.ManageToken, c.ID
	st, _ := e.staff(auth.RoleClinician)
	fx.ids["staff"], fx.ids["staff_id"] = st.ID.String(), st.ID.String()

	r = e.do("POST", "/v1/providers/"+cat.provider+"/calendar-feed", nil, fx.admin)
	var feed struct {
		Token string `json:"token"`
	}
	r.decode(t, &feed)
	fx.ids["calendar-feeds"] = feed.Token
	fx.ids["desk"] = "today" // a screen of the reception desk
	return fx
}

// publicResolver answers every name with one public address: the bound
// tests drive the spec's bounds, not DNS, which a test machine may lack.
type publicResolver struct{}

func (publicResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return []net.IPAddr{{IP: net.ParseIP("93.184.215.14")}}, nil
}

// boundWebhooks checks webhook URLs as the server does, names resolved by
// publicResolver; nothing is delivered in these tests.
type boundWebhooks struct{}

func (boundWebhooks) CheckURL(ctx context.Context, rawURL string) error {
	return webhook.Guard{Resolver: publicResolver{}}.CheckURL(ctx, rawURL)
}

func (boundWebhooks) Redeliver(context.Context, uuid.UUID) (webhook.Delivery, error) {
	return webhook.Delivery{}, errors.New("no deliveries in the bound tests")
}

// eachBoundBackend is eachBackend with boundWebhooks.
func eachBoundBackend(t *testing.T, fn func(t *testing.T, e *env), opts ...envOption) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newEnvOn(t, storetest.Open(t, b.URL(t)), func(d *httpapi.Deps) { d.Webhooks = boundWebhooks{} }, opts...))
		})
	}
}

func idOf(t testing.TB, r resp) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	r.decode(t, &v)
	return v.ID
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// target turns a spec path into a URL of the fixtures, and the headers the
// operation requires.
func (fx *boundFixtures) target(t *testing.T, path string, op *openapi3.Operation) (string, []string) {
	t.Helper()
	segs := strings.Split(path, "/")
	for i, s := range segs {
		m := pathParamRE.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		switch {
		case m[1] == "reference":
			segs[i] = fx.reference
		default:
			collection := strings.Join(segs[:i], "/")
			id, ok := fx.ids[segs[i-1]]
			if !ok {
				id = fx.discover(t, collection)
			}
			if id == "" {
				t.Fatalf("no fixture for {%s} in %s: list %s is empty and a POST of its example made none; add one to newBoundFixtures", m[1], path, collection)
			}
			fx.ids[segs[i-1]] = id
			segs[i] = strings.Replace(s, m[0], id, 1) // "{token}.ics" keeps its ".ics"
		}
	}
	headers := []string{"Authorization: " + strings.TrimPrefix(fx.admin, "Authorization: ")}
	if path == "/v1/auth/password" {
		headers = []string{fx.selfServiceAuthToken}
	}
	for _, p := range op.Parameters {
		if p.Value.In != "header" {
			continue
		}
		switch p.Value.Name {
		case "If-Match":
			headers = append(headers, "If-Match: *")
		case "X-Booking-Token":
			headers = append(headers, "X-Booking-Token: "+fx.token)
		default:
			if !p.Value.Required {
				continue
			}
			if p.Value.Example == nil && (p.Value.Schema == nil || p.Value.Schema.Value.Example == nil) {
				t.Fatalf("required header %s of %s has no example to send", p.Value.Name, path)
			}
			ex := p.Value.Example
			if ex == nil {
				ex = p.Value.Schema.Value.Example
			}
			headers = append(headers, fmt.Sprintf("%s: %v", p.Value.Name, ex))
		}
	}
	return strings.Join(segs, "/"), headers
}

// discover finds an id in a collection the fixtures do not know (one a
// later route added): the first item its GET lists, else the id of what a
// POST of the spec's example creates.
func (fx *boundFixtures) discover(t *testing.T, collection string) string {
	t.Helper()
	r := fx.e.do("GET", collection+"?limit=1", nil, fx.admin)
	if r.Status == http.StatusOK {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if json.Unmarshal(r.Body, &page) == nil && len(page.Items) > 0 && page.Items[0].ID != "" {
			return page.Items[0].ID
		}
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Find(collection)
	if item == nil || item.Post == nil || item.Post.RequestBody == nil {
		return ""
	}
	mt := item.Post.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		return ""
	}
	r = fx.e.do("POST", collection, fx.baseBody(t, mt), fx.admin)
	if r.Status != http.StatusCreated {
		return ""
	}
	return idOf(t, r)
}

// baseBody is the operation's first example with fixture ids and times.
func (fx *boundFixtures) baseBody(t *testing.T, mt *openapi3.MediaType) map[string]any {
	t.Helper()
	var ex any
	switch {
	case mt.Example != nil:
		ex = mt.Example
	case len(mt.Examples) > 0:
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		slices.Sort(names)
		ex = mt.Examples[names[0]].Value.Value
	case mt.Schema.Value.Example != nil:
		ex = mt.Schema.Value.Example
	default:
		ex = map[string]any{}
	}
	body, ok := clone(ex).(map[string]any)
	if !ok {
		t.Fatalf("example %v is not an object", ex)
	}
	fx.fill(body)
	return body
}

// fill replaces ids and instants anywhere in v with the fixtures'.
func (fx *boundFixtures) fill(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if id, ok := fx.ids[k]; ok {
				x[k] = id
				continue
			}
			switch k {
			case "start_at":
				x[k] = fx.slotStart.Format(time.RFC3339)
			case "end_at":
				x[k] = fx.slotStart.Add(30 * time.Minute).Format(time.RFC3339)
			default:
				fx.fill(val)
			}
		}
	case []any:
		for _, it := range x {
			fx.fill(it)
		}
	}
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// probe is one request body and what the server must do with it.
type probe struct {
	what   string
	body   any
	accept bool
	field  string // with !accept: the field the 422 must name
}

func (fx *boundFixtures) driveRoute(t *testing.T, method, path string, op *openapi3.Operation, mt *openapi3.MediaType) {
	url, headers := fx.target(t, path, op)
	base := fx.baseBody(t, mt)
	send := func(p probe) {
		t.Helper()
		r := fx.e.do(method, url, p.body, headers...)
		switch {
		case p.accept && r.Status == http.StatusUnprocessableEntity && strings.Contains(string(r.Body), `"code":"triage_emergency"`):
			// The schema allows the answer; the triage rules refuse the
			// request for what it says (emergency red flags), as the
			// spec's description of the route documents.
		case p.accept && (r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity || r.Status >= 500):
			t.Errorf("%s: got %d %s, want it accepted (the spec allows it)", p.what, r.Status, r.Body)
		case !p.accept && r.Status != http.StatusUnprocessableEntity:
			t.Errorf("%s: got %d %s, want 422 naming %s (the spec forbids it)", p.what, r.Status, r.Body, p.field)
		case !p.accept && !slices.Contains(problemFields(t, r), p.field):
			t.Errorf("%s: 422 names %v, want %s among them", p.what, problemFields(t, r), p.field)
		}
	}
	send(probe{what: "the spec's example", body: base, accept: true})
	ps := probes(mt.Schema.Value, base, nil)
	t.Logf("%d probes", len(ps))
	for _, p := range ps {
		send(p)
	}
}

// probes lists the bound probes of schema s at path within the body root.
func probes(s *openapi3.Schema, root map[string]any, path []string) []probe {
	var out []probe
	field := fieldName(path)
	at := func(what string, v any, accept bool) {
		out = append(out, probe{what: field + " " + what, body: setAt(root, path, v), accept: accept, field: field})
	}
	if len(s.AnyOf)+len(s.OneOf)+len(s.AllOf) > 0 {
		return nil // alternatives: their bounds are not one edge
	}
	switch {
	case s.Type.Is("object"):
		cur, _ := getAt(root, path).(map[string]any)
		if cur == nil {
			return nil
		}
		if s.MinProps > 0 {
			out = append(out, probe{what: field + " with no property (minProperties)", body: setAt(root, path, map[string]any{}), field: field})
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			out = append(out, probe{what: "unknown property", body: setAt(root, append(slices.Clone(path), "x_unknown"), "x"),
				field: fieldName(append(slices.Clone(path), "x_unknown"))})
		}
		for _, req := range s.Required {
			p := append(slices.Clone(path), req)
			out = append(out, probe{what: fieldName(p) + " missing (required)", body: deleteAt(root, p), field: fieldName(p)})
		}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			ps := s.Properties[n].Value
			p := append(slices.Clone(path), n)
			r := root
			if _, ok := cur[n]; !ok {
				v, ok := sample(ps)
				if !ok {
					continue
				}
				r = setAt(root, p, v)
			}
			out = append(out, probes(ps, r, p)...)
		}
	case s.Type.Is("array"):
		cur, _ := getAt(root, path).([]any)
		if s.MinItems > 0 && len(cur) >= int(s.MinItems) {
			at(fmt.Sprintf("with %d items (minItems %d)", s.MinItems-1, s.MinItems), cur[:s.MinItems-1], false)
		}
		if s.MaxItems != nil && len(cur) > 0 && !s.UniqueItems {
			long := make([]any, *s.MaxItems+1)
			for i := range long {
				long[i] = cur[0]
			}
			at(fmt.Sprintf("with %d items (maxItems %d)", len(long), *s.MaxItems), long, false)
		}
		if s.UniqueItems && len(cur) > 0 {
			at("with an item twice (uniqueItems)", append(slices.Clone(cur), cur[0]), false)
		}
		if len(cur) > 0 && s.Items != nil {
			// As few items as allowed, so that probing the first cannot
			// make it repeat or overlap another.
			r := setAt(root, path, cur[:max(1, min(len(cur), int(s.MinItems)))])
			out = append(out, probes(s.Items.Value, r, append(slices.Clone(path), "0"))...)
		}
	case s.Type.Is("string"):
		switch {
		case len(s.Enum) > 0:
			for _, v := range s.Enum {
				at(fmt.Sprintf("= %v (enum)", v), v, true)
			}
			at("outside the enum", "not_a_listed_value", false)
		case s.Format == "date" && s.Extensions["x-format-minimum"] != nil:
			min := s.Extensions["x-format-minimum"].(string)
			d, _ := time.Parse(time.DateOnly, min)
			r := root
			if other, ok := s.Extensions["x-not-before"].(string); ok {
				// The field this date may not precede goes to the minimum too.
				r = setAt(root, strings.Split(other, "."), min)
			}
			out = append(out, probe{what: field + " = " + min + " (x-format-minimum)", body: setAt(r, path, min), accept: true})
			at("a day before x-format-minimum", d.AddDate(0, 0, -1).Format(time.DateOnly), false)
		case s.Format != "" && s.Format != "password":
			at("not of format "+s.Format, "not-a-"+s.Format, false)
		default:
			var re *regexp.Regexp
			if s.Pattern != "" {
				re = regexp.MustCompile(s.Pattern)
				cur, _ := getAt(root, path).(string)
				// Each of these that the pattern refuses must be refused, and
				// the ones it allows accepted.
				seen := map[string]bool{}
				for _, v := range []string{cur + "!", "!" + cur, " ", "x\x01", "x\ny", "x\u0085y", "x\u00a0y", ""} {
					if seen[v] {
						continue
					}
					seen[v] = true
					ok := re.MatchString(v)
					if ok && (v == "" && s.MinLength > 0 || s.MaxLength != nil && utf8.RuneCountInString(v) > int(*s.MaxLength)) {
						continue // the pattern allows it, a length bound does not
					}
					at(fmt.Sprintf("%q (pattern %s)", v, s.Pattern), v, ok)
				}
			}
			// Lengths are probed with a two-byte character, so a bound counted
			// in bytes fails; only where such text fits the pattern.
			fits := func(v string) bool { return re == nil || re.MatchString(v) }
			if s.MinLength > 0 && fits(strings.Repeat("é", int(s.MinLength))) {
				at(fmt.Sprintf("of %d characters (minLength)", s.MinLength), strings.Repeat("é", int(s.MinLength)), true)
				if short := strings.Repeat("é", int(s.MinLength)-1); fits(short) || s.MinLength > 1 {
					at(fmt.Sprintf("of %d characters (minLength %d)", s.MinLength-1, s.MinLength), short, false)
				}
			}
			if s.MaxLength != nil && fits(strings.Repeat("é", int(*s.MaxLength))) {
				at(fmt.Sprintf("of %d characters (maxLength)", *s.MaxLength), strings.Repeat("é", int(*s.MaxLength)), true)
				at(fmt.Sprintf("of %d characters (maxLength %d)", *s.MaxLength+1, *s.MaxLength), strings.Repeat("é", int(*s.MaxLength)+1), false)
			}
		}
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			at(fmt.Sprintf("= %v (minimum)", *s.Min), *s.Min, true)
			at(fmt.Sprintf("= %v (minimum %v)", *s.Min-1, *s.Min), *s.Min-1, false)
		}
		if s.Max != nil {
			at(fmt.Sprintf("= %v (maximum)", *s.Max), *s.Max, true)
			at(fmt.Sprintf("= %v (maximum %v)", *s.Max+1, *s.Max), *s.Max+1, false)
		}
		at("as a string (type)", "1", false)
	case s.Type.Is("boolean"):
		if len(s.Enum) == 1 {
			at(fmt.Sprintf("= %v (enum)", !s.Enum[0].(bool)), !s.Enum[0].(bool), false)
		}
		at("as a string (type)", "true", false)
	}
	return out
}

// sample is a valid value for an optional property the example leaves
// out, when one can be made from the schema alone.
func sample(s *openapi3.Schema) (any, bool) {
	switch {
	case s.Example != nil:
		return s.Example, true
	case len(s.Enum) > 0:
		return s.Enum[0], true
	case s.Default != nil:
		return s.Default, true
	case s.Type.Is("boolean"):
		return false, true
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min, true
		}
		return 1, true
	case s.Type.Is("string") && s.Format == "" && (s.Pattern == "" || regexp.MustCompile(s.Pattern).MatchString("x")):
		return "x", true
	}
	return nil, false
}

func fieldName(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func getAt(root any, path []string) any {
	v := root
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// setAt returns a copy of root with path set to v.
func setAt(root map[string]any, path []string, v any) map[string]any {
	cp := clone(root).(map[string]any)
	if len(path) == 0 {
		m, _ := v.(map[string]any)
		return m
	}
	parent := getAt(cp, path[:len(path)-1])
	last := path[len(path)-1]
	switch x := parent.(type) {
	case map[string]any:
		x[last] = v
	case []any:
		var i int
		fmt.Sscan(last, &i)
		x[i] = v
	}
	return cp
}

func deleteAt(root map[string]any, path []string) map[string]any {
	cp := clone(root).(map[string]any)
	if m, ok := getAt(cp, path[:len(path)-1]).(map[string]any); ok {
		delete(m, path[len(path)-1])
	}
	return cp
}

// TestSpecParameterBoundsDriveServer walks every GET operation of the spec
// and drives the bounds of its query parameters: a value at a minimum or
// maximum is accepted, and one past it, a value outside an enum, of another
// format or over maxLength is 400 invalid_parameter naming the parameter.
func TestSpecParameterBoundsDriveServer(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	eachBoundBackend(t, func(t *testing.T, e *env) {
		fx := newBoundFixtures(t, e)
		paths := doc.Paths.InMatchingOrder()
		slices.Sort(paths)
		for _, path := range paths {
			op := doc.Paths.Value(path).Get
			if op == nil {
				continue
			}
			t.Run("GET "+path, func(t *testing.T) {
				u, headers := fx.target(t, path, op)
				base := url.Values{}
				for _, p := range op.Parameters {
					if p.Value.In == "query" && p.Value.Required {
						base.Set(p.Value.Name, fmt.Sprint(p.Value.Schema.Value.Example))
					}
				}
				send := func(name, value string, accept bool) {
					q := url.Values{}
					maps.Copy(q, base)
					q.Set(name, value)
					r := fx.e.do("GET", u+"?"+q.Encode(), nil, headers...)
					switch {
					case accept && r.Status == http.StatusBadRequest:
						t.Errorf("%s=%s: got %d %s, want it accepted", name, value, r.Status, r.Body)
					case !accept && (r.Status != http.StatusBadRequest || !slices.Contains(problemFields(t, r), name)):
						t.Errorf("%s=%s: got %d %s, want 400 naming %s", name, value, r.Status, r.Body, name)
					}
				}
				for _, p := range op.Parameters {
					if p.Value.In != "query" {
						continue
					}
					s := p.Value.Schema.Value
					switch {
					case len(s.Enum) > 0:
						for _, v := range s.Enum {
							send(p.Value.Name, fmt.Sprint(v), true)
						}
						send(p.Value.Name, "not_a_listed_value", false)
					case s.Type.Is("integer"):
						if s.Min != nil {
							send(p.Value.Name, fmt.Sprint(*s.Min), true)
							send(p.Value.Name, fmt.Sprint(*s.Min-1), false)
						}
						if s.Max != nil {
							send(p.Value.Name, fmt.Sprint(*s.Max), true)
							send(p.Value.Name, fmt.Sprint(*s.Max+1), false)
						}
						send(p.Value.Name, "one", false)
					case s.Format != "" || len(s.OneOf) > 0:
						send(p.Value.Name, "not-a-value-of-this-format", false)
					case s.MaxLength != nil:
						send(p.Value.Name, strings.Repeat("é", int(*s.MaxLength)+1), false)
					}
				}
			})
		}
	}, noRateLimit)
}
