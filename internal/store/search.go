package store

import (
	"context"
	"strings"
	"unicode"

	"github.com/clinic/consult/internal/booking"
)

// Search over bookings and patients is index-backed, on each database with
// what it has built in, and the index is kept in step by the transaction
// that changes the row:
//
//   - every row keeps a search document (search_text), written by the same
//     statement that writes the row: lower-cased names and email, the
//     reference with and without its dash, the phone in E.164 and every
//     suffix of its digits of three or more, so that a search by any run of
//     a phone's digits is a search by a word's beginning;
//   - on SQLite an FTS4 table (booking_search, patient_search; FTS4 and its
//     prefix indexes are compiled into mattn/go-sqlite3 without build tags)
//     is fed from search_text by triggers, through a map table whose integer
//     docids survive VACUUM, and a queue written into the index as the
//     transaction's last statements (search_queue.go). A search is one MATCH of quoted prefix terms
//     built here from the letters and digits of the query only, so quotes,
//     %, _, * and operators such as NEAR or OR in a query are never syntax;
//   - on PostgreSQL a pg_trgm GIN index on search_text serves the LIKE
//     '%term%' conditions, with LIKE's wildcards escaped.

// searchDoc builds a search document from words (names, email, reference),
// the reference and the phone.
func searchDoc(words []string, reference, phone string) string {
	parts := make([]string, 0, len(words)+16)
	for _, w := range words {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			parts = append(parts, w)
		}
	}
	if reference != "" {
		parts = append(parts, strings.ToLower(reference), strings.ToLower(strings.ReplaceAll(reference, "-", "")))
	}
	if phone != "" {
		parts = append(parts, phone)
		digits := digitsOf(phone)
		for i := 0; i+3 <= len(digits); i++ {
			parts = append(parts, digits[i:])
		}
	}
	return strings.Join(parts, " ")
}

// searchText is a booking's search document.
func searchText(b booking.Booking) string {
	return searchDoc([]string{b.Patient.FirstName, b.Patient.LastName, b.Patient.Email}, b.Reference, b.Patient.Phone)
}

// patientSearchText is a patient record's search document (the date of
// birth is searched on its own column).
func patientSearchText(p booking.Patient) string {
	return searchDoc([]string{p.FirstName, p.LastName, p.Email}, "", p.Phone)
}

// ftsTokens splits s into the runs of letters and digits an FTS4 unicode61
// tokenizer would see as tokens, lower-cased.
func ftsTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// ftsQuery turns search groups (see searchTerms: every group must match,
// through any of its alternatives) into an FTS4 MATCH expression: each
// alternative a quoted phrase of prefix terms, alternatives joined by OR,
// groups by the implicit AND. It returns "" when the query has no letter
// or digit at all, which can match nothing.
func ftsQuery(groups [][]string) string {
	var out []string
	for _, group := range groups {
		var alts []string
		for _, alt := range group {
			toks := ftsTokens(alt)
			if len(toks) == 0 {
				continue
			}
			for i, t := range toks {
				toks[i] = t + "*"
			}
			alts = append(alts, `"`+strings.Join(toks, " ")+`"`)
		}
		if len(alts) == 0 {
			return ""
		}
		out = append(out, strings.Join(alts, " OR "))
	}
	return strings.Join(out, " ")
}

// boundedQuery returns the context for a read whose size a page limit
// bounds. On SQLite it is not cancelled with the request: go-sqlite3 steps
// every row on a goroutine of its own when the context can be cancelled,
// which costs more than a short query (see Availability).
func (s *Store) boundedQuery(ctx context.Context) context.Context {
	if s.dialect == SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}
