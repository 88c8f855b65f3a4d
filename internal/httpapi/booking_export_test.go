package httpapi

import (
	"net/http"
	"time"
)

// DecodeBookingRequest runs the booking request body decoder and checks on
// r, as the public (staff=false) or phone booking (staff=true) handler does,
// for the fuzz test.
func DecodeBookingRequest(r *http.Request, now time.Time, staff bool) error {
	_, err := readBookingBody(r, now, staff)
	return err
}

// ProblemStatus is the HTTP status the one error mapping gives err.
func ProblemStatus(err error) int {
	p, _ := toProblem(err)
	return p.Status
}
