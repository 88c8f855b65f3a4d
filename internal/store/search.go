package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// Search over bookings and patients is index-backed, on each database with
// what it has built in, and the index is kept in step by the transaction
// that changes the row:
//
//   - every row keeps a search document (search_text), written by the same
//     statement that writes the row: lower-cased names and email with their
//     forms folded as a search folds the words typed (without diacritics,
//     and without punctuation inside a name: "o'brien obrien"; see
//     foldedForms and queryTerm), the
//     reference with and without its dash, the phone in E.164 and every
//     suffix of its digits of three or more, so that a search by any run of
//     a phone's digits is a search by a word's beginning;
//   - on SQLite an FTS4 table (booking_search, for bookings and patient
//     records, one document for a booking and the record made with it; FTS4 and its
//     prefix indexes are compiled into mattn/go-sqlite3 without build tags)
//     is fed from search_text by triggers, through a map table whose integer
//     docids survive VACUUM, and a queue written into the index as the
//     transaction's last statements (search_queue.go). A search is one MATCH of quoted prefix terms
//     built here from the letters and digits of the query only, so quotes,
//     %, _, * and operators such as NEAR or OR in a query are never syntax;
//   - the map tables number their rows in creation order: a docid is the
//     row's creation millisecond times 2^20 plus a sequence number within
//     that millisecond (00043_search_order.sql), so a search reads its
//     matches from the full-text index newest first and stops after the
//     page (newestMatches), rather than sorting every match;
//   - on PostgreSQL a pg_trgm GIN index on search_text serves the LIKE
//     '%term%' conditions, with LIKE's wildcards escaped. Its matches come
//     in no useful order and each is a heap row to read and sort, so a
//     search for one word (a name, the common case of many matches) first
//     tests the newest rows in the order of the list's index, which holds
//     the document without the phone's digits (walk_text,
//     00099_walk_text.sql; 00043_search_walk.sql), and asks the trigram index only
//     when those do not fill the page (newestWalk). Phone digits are
//     looked for in the phone column, through a trigram index of its own
//     (00092_phone_search.sql): in search_text, where every suffix of the
//     digits is a word, digit trigrams are in nearly every document. A
//     reference is looked up in the reference column.

// searchDoc builds a search document from words (names, email, reference),
// the reference and the phone. Each word is followed by its folded forms
// (foldedForms), so that what a receptionist types for O'Brien, Smith-Jones
// or Pérez ("obrien", "smithjones", "perez") is in the document on both
// databases. The words, folded forms included, come before the reference:
// a booking's document is its patient record's with the reference inserted
// there (SQLite shares them, 00097_one_search_document.sql).
func searchDoc(words []string, reference, phone string) string {
	parts := make([]string, 0, len(words)+16)
	for _, w := range words {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			parts = append(parts, w)
			parts = foldedForms(parts, w)
		}
	}
	if reference != "" {
		parts = append(parts, strings.ToLower(reference), strings.ToLower(strings.ReplaceAll(reference, "-", "")))
	}
	if phone != "" {
		parts = append(parts, phone)
		digits := booking.DigitsOf(phone)
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

// foldedForms appends to parts the forms of w (a lower-cased name or email)
// that a search typed without its accents or punctuation looks for: w
// without diacritics when it has any ("pérez" → "perez"; PostgreSQL's LIKE
// does not fold them, SQLite's unicode61 does), and every piece of it
// between spaces, '@' and '.' that punctuation splits into several runs of
// letters and digits, joined ("o'brien" → "obrien", "smith-jones" →
// "smithjones", also in an email's local part). A word of ASCII letters,
// digits, spaces, '.' and '@' (most names and emails) has none.
func foldedForms(parts []string, w string) []string {
	if plainWord(w) {
		return parts
	}
	f := foldDiacritics(w)
	if f != w {
		parts = append(parts, f)
	}
	for start, i := 0, 0; i <= len(f); i++ {
		if i < len(f) && f[i] != ' ' && f[i] != '@' && f[i] != '.' {
			continue
		}
		if j, ok := joinLetters(f[start:i]); ok {
			parts = append(parts, j)
		}
		start = i + 1
	}
	return parts
}

// plainWord reports whether w is only ASCII letters, digits, spaces, '.'
// and '@': a word with no folded forms (see foldedForms).
func plainWord(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == ' ' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}

// foldDiacritics returns s without its diacritics: a letter whose
// canonical decomposition is a base and combining marks (é, ñ, ü) becomes
// its base, and a combining mark of its own goes. Other characters stay as
// they are. It reads the decompositions from the norm tables in place, with
// no allocation but the result's (a quarter of the time of decomposing the
// whole string, dropping the marks and composing it again).
func foldDiacritics(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder // written from the first change on
	changed := false
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if changed {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		keep, base := true, rune(0)
		if unicode.Is(unicode.Mn, r) {
			keep = false
		} else if d := norm.NFD.PropertiesString(s[i:]).Decomposition(); d != nil {
			first, n := utf8.DecodeRune(d)
			if onlyMarks(d[n:]) {
				keep, base = false, first
			}
		}
		if !keep && !changed {
			changed = true
			b.Grow(len(s))
			b.WriteString(s[:i])
		}
		switch {
		case !changed:
		case keep:
			b.WriteString(s[i : i+size])
		case base != 0:
			b.WriteRune(base)
		}
		i += size
	}
	if !changed {
		return s
	}
	return b.String()
}

// onlyMarks reports whether d (UTF-8) is only combining marks.
func onlyMarks(d []byte) bool {
	for len(d) > 0 {
		r, n := utf8.DecodeRune(d)
		if !unicode.Is(unicode.Mn, r) {
			return false
		}
		d = d[n:]
	}
	return true
}

// joinLetters returns the letters and digits of s joined, and true, when
// punctuation splits them into several runs in s ("o'brien" → "obrien");
// else false.
func joinLetters(s string) (string, bool) {
	runs, in := 0, false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !in {
				runs++
			}
			in = true
		} else {
			in = false
		}
	}
	if runs < 2 {
		return "", false
	}
	return letters(s), true
}

// letters returns the letters and digits of s, joined.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// queryTerm returns what a search word is looked for as, folded as the
// documents are (foldedForms): without diacritics, and, unless it has an
// '@' or a '.' (part of an email, looked for as typed), without
// punctuation, joined ("O'Brien", "o’brien", "obrien" → "obrien";
// "smith-jones" → "smithjones"), which the documents hold for every such
// word. So a search finds the same rows on both databases, whatever their
// own folding. It reports false for a word of no letter or digit, which
// matches nothing.
func queryTerm(w string) (string, bool) {
	f := foldDiacritics(strings.ToLower(w))
	j := letters(f)
	if strings.ContainsAny(f, ".@") {
		return f, j != ""
	}
	return j, j != ""
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

// ftsIndex names an SQLite full-text index, what a search matches in it
// (the table's name: every column; a column's: that column), its map table
// and the map's id column. Bookings and patient records share one index
// (00097_one_search_document.sql): a record's words are in doc, and a
// booking's reference in ref besides, which a record's search leaves out.
type ftsIndex struct{ fts, match, ids, idCol string }

var (
	bookingFTS = ftsIndex{fts: "booking_search", match: "booking_search", ids: "booking_search_ids", idCol: "booking_id"}
	patientFTS = ftsIndex{fts: "booking_search", match: "doc", ids: "patient_search_ids", idCol: "patient_id"}
)

// docidMillisBits is how far a map docid's creation millisecond is shifted
// (see 00043_search_order.sql).
const docidMillisBits = 20

// ftsHit is a search match: its row's id and creation time.
type ftsHit struct {
	ID        string
	CreatedAt time.Time
}

// newestMatches returns the first n rows of ix that the FTS4 expression expr
// matches, in the lists' order (created_at DESC, id DESC), starting after the
// cursor position (before, id) when hasBefore. The index returns matches by
// docid, newest millisecond first; the rows of one millisecond may come in
// any order, so it reads on until the millisecond of the n-th match is
// complete and sorts what it read. A common name matches hundreds of rows;
// this reads a page's worth of them.
func newestMatches(db *gorm.DB, ix ftsIndex, expr string, before time.Time, beforeID string, hasBefore bool, n int) ([]ftsHit, error) {
	q := "SELECT s.docid, m.created_at, m." + ix.idCol + " FROM " + ix.fts + " s JOIN " + ix.ids + " m ON m.docid = s.docid WHERE s." + ix.match + " MATCH ?"
	args := []any{expr}
	if hasBefore {
		// The cursor's millisecond and older, then exactly after it.
		q += " AND s.docid < (CAST((julianday(?) - 2440587.5) * 86400000 AS INTEGER) + 1) * 1048576" +
			" AND (m.created_at < ? OR (m.created_at = ? AND m." + ix.idCol + " < ?))"
		args = append(args, before, before, before, beforeID)
	}
	rows, err := db.Raw(q+" ORDER BY s.docid DESC", args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", ix.fts, err)
	}
	defer rows.Close()
	hits := make([]ftsHit, 0, n+1)
	var nth int64
	for rows.Next() {
		var (
			docid int64
			h     ftsHit
		)
		if err := rows.Scan(&docid, &h.CreatedAt, &h.ID); err != nil {
			return nil, fmt.Errorf("search %s: %w", ix.fts, err)
		}
		if len(hits) >= n && docid>>docidMillisBits < nth>>docidMillisBits {
			break
		}
		if len(hits) == n-1 {
			nth = docid
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", ix.fts, err)
	}
	slices.SortFunc(hits, func(a, b ftsHit) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return hits[:min(n, len(hits))], nil
}

// searchPage reads the patient records of the first limit matches
// newestMatches finds in ix, in its order, and returns the last of them
// when more follow (the next page's cursor), else nil. An empty expr
// matches nothing.
func searchPage(db *gorm.DB, ix ftsIndex, expr string, before time.Time, beforeID string, hasBefore bool, limit int) ([]patientRow, *ftsHit, error) {
	if expr == "" {
		return nil, nil, nil
	}
	hits, err := newestMatches(db, ix, expr, before, beforeID, hasBefore, limit+1)
	if err != nil {
		return nil, nil, err
	}
	var more *ftsHit
	if len(hits) > limit {
		hits = hits[:limit]
		more = &hits[limit-1]
	}
	if len(hits) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	// In the page's order, which is readPatients' (a row deleted since the
	// index was read is left out).
	rows, err := readPatients(db, "id IN ?", ids)
	if err != nil {
		return nil, nil, fmt.Errorf("search %s: %w", ix.fts, err)
	}
	return rows, more, nil
}

// defaultWalkBudget is how many of the newest rows a one-word search on
// PostgreSQL tests, in the list's index, before it asks the trigram index
// instead: a word as common as a frequent last name (1-2% of the rows)
// fills a page within it. Store.walkBudget holds it (tests lower it).
const defaultWalkBudget = 2000

// walkable reports whether a search of groups (see searchTerms) is one word
// of letters, which newestWalk serves: a name, often common. References,
// phone digits and several words match few rows, which the trigram index
// finds at once.
func walkable(groups [][]string) bool {
	if len(groups) != 1 || len(groups[0]) != 1 || groups[0][0] == "" {
		return false
	}
	for _, r := range groups[0][0] {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// newestWalk returns, on PostgreSQL, the subquery of the ids of the first n
// rows of table (newest first: created_at DESC, id DESC), starting after the
// cursor position (before, beforeID) when hasBefore, whose search document
// holds term (and, with unmergedOnly, that are not merged away), among the
// budget newest rows. It reads the list's index only (created_at, id and
// the columns it includes). The walk itself has no condition but the cursor,
// so that the planner takes the index whatever its statistics say. When it
// yields fewer than n ids, rows beyond the budget may match too: the caller
// asks the trigram index instead.
func newestWalk(db *gorm.DB, budget int, table string, unmergedOnly bool, term string, before time.Time, beforeID string, hasBefore bool, n int) *gorm.DB {
	// walk_text: search_text without the phone's digits, which a word of
	// letters cannot match (00099_walk_text.sql); the index holds it.
	cols := "id, created_at, walk_text"
	if unmergedOnly {
		cols += ", merged_into"
	}
	inner := db.Table(table).Select(cols)
	if hasBefore {
		inner = inner.Where("(created_at < ? OR (created_at = ? AND id < ?))", before, before, beforeID)
	}
	inner = inner.Order("created_at DESC, id DESC").Limit(budget)
	walk := db.Table("(?) w", inner).Select("id").Where(`walk_text LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(term)+"%")
	if unmergedOnly {
		walk = walk.Where("merged_into IS NULL")
	}
	return walk.Order("created_at DESC, id DESC").Limit(n)
}
