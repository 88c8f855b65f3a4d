package httpapi

import (
	"net/http"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// problemStatus is every problem code the server can send, with the one
// HTTP status it comes with. It is the whole vocabulary: toProblem answers
// 500 internal_error for a code that is not here (or that comes with another
// status), and tests check it against the spec's Problem.code enum in both
// directions, and that every code the domain, auth and HTTP layers declare is
// here.
//
// The 400 / 422 rule: 400 is for a request whose parameters (path, query,
// headers) break their schema in openapi.yaml, or whose body is not JSON at
// all; 422 is for a JSON body that breaks its schema or a business rule, and
// for parameters that match their schema but are refused for what they say
// (a `to` before `from`, a cursor this list did not issue).
var problemStatus = map[string]int{
	"invalid_parameter":                           http.StatusBadRequest,
	"malformed_json":                              http.StatusBadRequest,
	string(auth.CodeUnauthenticated):              http.StatusUnauthorized,
	string(auth.CodeInvalidCredentials):           http.StatusUnauthorized,
	string(auth.CodeForbidden):                    http.StatusForbidden,
	string(booking.CodeNotFound):                  http.StatusNotFound,
	"method_not_allowed":                          http.StatusMethodNotAllowed,
	string(booking.CodeConflict):                  http.StatusConflict,
	string(booking.CodeDuplicate):                 http.StatusConflict,
	string(booking.CodeSlotUnavailable):           http.StatusConflict,
	string(booking.CodeSlotOverlap):               http.StatusConflict,
	string(booking.CodeSlotInUse):                 http.StatusConflict,
	string(booking.CodeInvalidTransition):         http.StatusConflict,
	string(booking.CodeTransitionNotYetAllowed):   http.StatusConflict,
	string(booking.CodeTransitionNoLongerAllowed): http.StatusConflict,
	string(booking.CodeMergeConflict):             http.StatusConflict,
	string(booking.CodeChangeWindowClosed):        http.StatusConflict,
	string(booking.CodeTimezoneInUse):             http.StatusConflict,
	string(booking.CodeHoldExpired):               http.StatusConflict,
	string(booking.CodeOfferExpired):              http.StatusConflict,
	string(booking.CodeNoOffer):                   http.StatusConflict,
	string(booking.CodePatientLimitReached):       http.StatusConflict,
	string(booking.CodeHoldShareReached):          http.StatusConflict,
	string(booking.CodeIdempotencyKeyReused):      http.StatusConflict,
	string(booking.CodeVersionMismatch):           http.StatusPreconditionFailed,
	"payload_too_large":                           http.StatusRequestEntityTooLarge,
	"unsupported_media_type":                      http.StatusUnsupportedMediaType,
	string(booking.CodeValidation):                http.StatusUnprocessableEntity,
	string(booking.CodeTriageEmergency):           http.StatusUnprocessableEntity,
	"precondition_required":                       http.StatusPreconditionRequired,
	string(auth.CodeRateLimited):                  http.StatusTooManyRequests,
	string(booking.CodeHoldLimit):                 http.StatusTooManyRequests,
	"too_many_streams":                            http.StatusTooManyRequests,
	"internal_error":                              http.StatusInternalServerError,
	"not_ready":                                   http.StatusServiceUnavailable,
	"busy":                                        http.StatusServiceUnavailable,
}
