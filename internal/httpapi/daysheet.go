package httpapi

import (
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// maxDaySheetDays bounds the range of one CSV day sheet: a year, with room
// for a leap day.
const maxDaySheetDays = 366

// wantsCSV reports whether the Accept header asks for text/csv rather than
// JSON: text/csv is listed with a higher quality than application/json, or
// the same quality as a wildcard.
func wantsCSV(accept string) bool {
	csvQ, jsonQ, wildQ := -1.0, -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				q = 0
			}
		}
		switch mt {
		case "text/csv":
			csvQ = max(csvQ, q)
		case "application/json":
			jsonQ = max(jsonQ, q)
		case "application/*", "*/*":
			wildQ = max(wildQ, q)
		}
	}
	return csvQ > 0 && csvQ > jsonQ && csvQ >= wildQ
}

// checkDaySheet adds the problems of a CSV request: from and to are
// required and at most maxDaySheetDays apart, and the whole range is sent,
// so limit and cursor have no place. hasFrom and hasTo say whether they
// were given at all (one given but unreadable already has its problem).
func checkDaySheet(p *booking.Problems, f store.BookingFilter, hasFrom, hasTo bool) {
	p.Check(f.Cursor == "", "cursor", booking.FieldConflict, "is not used with text/csv: the CSV holds the whole range")
	p.Check(f.Limit == 0, "limit", booking.FieldConflict, "is not used with text/csv: the CSV holds the whole range")
	p.Check(hasFrom, "from", booking.FieldRequired, "is required for a CSV day sheet")
	p.Check(hasTo, "to", booking.FieldRequired, "is required for a CSV day sheet")
	if f.From.IsZero() || f.To.IsZero() {
		return
	}
	from, to := sheetDay(f.From), sheetDay(f.To)
	days := from.DaysUntil(to)
	if f.To.IsDate() {
		days++ // a date is an inclusive last day; an instant an exclusive end
	}
	p.CheckLimit(days <= maxDaySheetDays, "to", booking.FieldRangeTooLong, maxDaySheetDays, fmt.Sprintf("must be at most %d days after from for a CSV", maxDaySheetDays))
}

// sheetDay is a bound's calendar date (an instant's UTC date), for the
// range check only; the store reads the bounds exactly.
func sheetDay(b booking.Bound) booking.Date {
	if b.IsDate() {
		return b.Date
	}
	return booking.DateOf(b.Instant, time.UTC)
}

// daySheet writes every booking f selects as CSV, page by page, in the
// order asked for (by start when no order is given).
func (s *Server) daySheet(c *gin.Context, f store.BookingFilter) {
	ctx := c.Request.Context()
	if f.Sort == "" {
		f.Sort = store.SortStartAt
	}
	f.Limit = 200
	names, err := s.catalogueNames(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var rows [][]string
	for {
		items, next, err := s.store.ListBookings(ctx, f)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, it := range items {
			rows = append(rows, daySheetRow(it, names))
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="day-sheet.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"date", "time", "timezone", "patient", "phone", "consultation_type", "provider", "location", "status", "reference"})
	for _, r := range rows {
		_ = w.Write(r)
	}
	w.Flush()
}

// catalogue is the names and zones a day sheet shows for the ids it holds.
type catalogue struct {
	provider, ctype, location map[uuid.UUID]string
	zone                      map[uuid.UUID]*time.Location
}

func (s *Server) catalogueNames(c *gin.Context) (catalogue, error) {
	ctx := c.Request.Context()
	out := catalogue{provider: map[uuid.UUID]string{}, ctype: map[uuid.UUID]string{}, location: map[uuid.UUID]string{},
		zone: map[uuid.UUID]*time.Location{}}
	providers, err := s.store.ListProviders(ctx, true)
	if err != nil {
		return out, err
	}
	for _, p := range providers {
		out.provider[p.ID] = p.Name
	}
	types, err := s.store.ListConsultationTypes(ctx, true)
	if err != nil {
		return out, err
	}
	for _, t := range types {
		out.ctype[t.ID] = t.Name
	}
	locations, err := s.store.ListLocations(ctx, true)
	if err != nil {
		return out, err
	}
	for _, l := range locations {
		out.location[l.ID] = l.Name
		if loc, err := booking.ParseTimezone(l.Timezone); err == nil {
			out.zone[l.ID] = loc
		}
	}
	return out, nil
}

func daySheetRow(it store.BookingWithSlot, names catalogue) []string {
	loc := names.zone[it.Slot.LocationID]
	if loc == nil {
		loc = time.UTC
	}
	start := it.Slot.StartAt.In(loc)
	b := it.Booking
	return []string{
		start.Format("2006-01-02"), start.Format("15:04"), loc.String(),
		cell(b.Patient.LastName + ", " + b.Patient.FirstName), cell(b.Patient.Phone),
		cell(names.ctype[it.Slot.ConsultationTypeID]), cell(names.provider[it.Slot.ProviderID]),
		cell(names.location[it.Slot.LocationID]), string(b.Status), cell(b.Reference),
	}
}

// cell makes text safe to open in a spreadsheet: a cell that begins with a
// character a spreadsheet reads as the start of a formula (= + - @, or a
// tab or carriage return before one) gets a leading apostrophe, which
// spreadsheets show as text. The CSV writer quotes what needs quoting.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
