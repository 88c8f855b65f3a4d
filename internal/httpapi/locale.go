package httpapi

import (
	"strings"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// requestLocale is the language a public read answers in: ?locale= when
// given (422 unless a supported language), else the first supported
// language of Accept-Language, else English.
func requestLocale(query, acceptLanguage *string) (string, error) {
	if query != nil {
		l := strings.ToLower(strings.TrimSpace(*query))
		if booking.PickLocale(l) != l {
			return "", booking.InvalidEnum("locale", booking.Locales, "must be "+strings.Join(booking.Locales, " or "))
		}
		return l, nil
	}
	return booking.PickLocale(deref(acceptLanguage)), nil
}

// translationsOf converts a request's translations; nil when none.
func translationsOf(in *api.CatalogTranslations) booking.Translations {
	if in == nil || in.Es == nil {
		return nil
	}
	return booking.Translations{"es": {Name: deref(in.Es.Name), Description: deref(in.Es.Description)}}
}

// translationsJSON is the response form of ts: every supported language
// present, empty when not translated, so clients need not guess.
func translationsJSON(ts booking.Translations) *api.CatalogTranslations {
	es := ts["es"]
	return &api.CatalogTranslations{Es: &api.CatalogTranslation{Name: &es.Name, Description: &es.Description}}
}
