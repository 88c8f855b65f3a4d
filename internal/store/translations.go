package store

import (
	"encoding/json"
	"fmt"

	"github.com/clinic/consult/internal/booking"
)

// translationsJSON is the translations column of consultation types and
// locations: {"es": {"name": "...", "description": "..."}}, in the API's
// names.
type translationsJSON map[string]struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

func translationsToJSON(ts booking.Translations) string {
	out := make(translationsJSON, len(ts))
	for lang, t := range ts {
		e := out[lang]
		e.Name, e.Description = t.Name, t.Description
		out[lang] = e
	}
	b, _ := json.Marshal(out) // a map of strings always marshals
	return string(b)
}

func translationsFromJSON(s string) (booking.Translations, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var in translationsJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("translations: %w", err)
	}
	ts := make(booking.Translations, len(in))
	for lang, t := range in {
		ts[lang] = booking.Translation{Name: t.Name, Description: t.Description}
	}
	return ts, nil
}
