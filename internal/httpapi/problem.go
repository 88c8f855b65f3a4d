package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
)

// problemTypeBase prefixes every problem "type" URI; the part after it is the
// code with dashes, e.g. .../problems/slot-unavailable.
const problemTypeBase = "https://consult.clinic.example/problems/"

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Code   string         `json:"code"`
	Errors []problemField `json:"errors,omitempty"`
	// OpensAt and ClosedAt say when a refused front-desk action opens, or
	// when it closed.
	OpensAt  *time.Time `json:"opens_at,omitempty"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// Limit names the limit a request reached (patient_limit_reached).
	Limit *int `json:"limit,omitempty"`
	// Triage is the guidance of a triage_emergency refusal.
	Triage *problemTriage  `json:"triage,omitempty"`
	triage *booking.Triage // for the message, in the caller's language
}

type problemTriage struct {
	Outcome string   `json:"outcome"`
	Message string   `json:"message"`
	Rules   []string `json:"rules"`
}

// problemField is one item of a problem's "errors": the field, the rule it
// breaks (a booking.FieldCode) and the bound, for clients to say in their
// own words, and the same in English.
type problemField struct {
	Field   string   `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Limit   any      `json:"limit,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
}

// fieldItems turns the field errors of any layer into the problem's
// "errors" items.
func fieldItems(in []booking.FieldError) []problemField {
	out := make([]problemField, len(in))
	for i, f := range in {
		out[i] = problemField{Field: f.Field, Code: string(f.Code), Message: f.Message, Limit: f.Limit, Allowed: f.Allowed}
	}
	return out
}

// httpError is an error the HTTP layer itself raises (bad JSON, wrong content
// type, rate limits...), carrying its status and code.
type httpError struct {
	status     int
	code       string
	detail     string
	retryAfter time.Duration
	fields     []booking.FieldError
}

func (e *httpError) Error() string { return e.detail }

func errBadRequest(code, detail string) error {
	return &httpError{status: http.StatusBadRequest, code: code, detail: detail}
}

func errUnprocessable(field string, code booking.FieldCode, message string) error {
	return &httpError{status: http.StatusUnprocessableEntity, code: string(booking.CodeValidation),
		detail: "the request has invalid fields", fields: []booking.FieldError{{Field: field, Code: code, Message: message}}}
}

func errTooManyRequests(retryAfter time.Duration) error {
	return &httpError{status: http.StatusTooManyRequests, code: "rate_limited",
		detail: "too many requests; try again later", retryAfter: retryAfter}
}

// toProblem turns any error into the problem a client sees. Errors it does
// not know become a bare 500 with no detail: internals never leak.
func toProblem(err error) (problem, time.Duration) {
	var he *httpError
	if errors.As(err, &he) && problemStatus[he.code] == he.status {
		p := newProblem(he.status, he.code, he.detail)
		if len(he.fields) > 0 {
			p.Errors = fieldItems(he.fields)
		}
		return p, he.retryAfter
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		return newProblem(problemStatus[string(ae.Code)], string(ae.Code), ae.Message), ae.RetryAfter
	}
	var ve *booking.ValidationError
	if errors.As(err, &ve) {
		p := newProblem(http.StatusUnprocessableEntity, string(booking.CodeValidation), "the request has invalid fields")
		p.Errors = fieldItems(ve.Fields)
		return p, 0
	}
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		return newProblem(http.StatusNotFound, string(booking.CodeNotFound), "no such message"), 0
	case errors.Is(err, delivery.ErrNotFailed):
		return newProblem(http.StatusConflict, string(booking.CodeConflict), "only a failed message can be retried"), 0
	}
	var de *booking.Error
	if errors.As(err, &de) {
		if status, ok := problemStatus[string(de.Code)]; ok {
			p := newProblem(status, string(de.Code), de.Message)
			p.OpensAt, p.ClosedAt, p.Limit = de.OpensAt, de.ClosedAt, de.Limit
			if de.Triage != nil {
				p.triage = de.Triage
				p.Triage = &problemTriage{Outcome: string(de.Triage.Level), Rules: de.Triage.Rules,
					Message: booking.TriageMessage(*de.Triage, booking.Locales[0])}
			}
			return p, 0
		}
	}
	// Reached also by an httpError or a domain code missing from
	// problemStatus (or sent with another status): the table is the whole
	// vocabulary, so a code outside it is a server bug, never sent as is.
	return newProblem(http.StatusInternalServerError, "internal_error", "something went wrong on our side; please try again"), 0
}

func newProblem(status int, code, detail string) problem {
	return problem{
		Type:   problemTypeBase + strings.ReplaceAll(code, "_", "-"),
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// fail writes err as a problem+json response and aborts the request. A 5xx
// is logged with the error (which never holds health data: domain errors
// carry no patient values); 4xx are the client's and are only counted.
func (s *Server) fail(c *gin.Context, err error) {
	if clientGone(c) {
		// Nobody is waiting for the answer: whatever err is (often the
		// cancelled query), it is not the server's failure. Logged by the
		// access log as a 499 at INFO.
		s.log.DebugContext(c.Request.Context(), "client went away",
			"request_id", requestID(c), "route", c.FullPath(), "error", err.Error())
		c.AbortWithStatus(statusClientClosedRequest)
		return
	}
	p, retry := toProblem(err)
	if p.triage != nil {
		p.Triage.Message = booking.TriageMessage(*p.triage, booking.PickLocale(c.Query("locale"), c.GetHeader("Accept-Language")))
	}
	if p.Status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed",
			"request_id", requestID(c), "route", c.FullPath(), "error", err.Error())
	}
	if retry > 0 {
		c.Header("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	}
	writeProblem(c, p)
}

func writeProblem(c *gin.Context, p problem) {
	c.Set(problemCodeKey, p.Code)
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// failf writes a problem of the HTTP layer's own.
func (s *Server) failf(c *gin.Context, status int, code, format string, args ...any) {
	s.fail(c, &httpError{status: status, code: code, detail: fmt.Sprintf(format, args...)})
}
