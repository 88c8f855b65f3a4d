// Package booking is the clinic's domain: civil dates and wall clocks, the
// catalogue (providers, locations, consultation types), weekly schedules and
// the slots they generate, bookings and their state machine, the checks on
// patients' booking requests, and the reference codes and manage tokens that
// let patients find their booking again.
//
// It knows nothing of HTTP, SQL or any framework: the storage and HTTP layers
// build on its types and rules, and map its errors (see Error, Code and
// ValidationError) to responses in one place.
package booking
