package booking

import (
	"strings"
)

// Translation is what patients read about a catalogue entry in another
// language than English. An empty field falls back to the English one.
type Translation struct {
	Name        string
	Description string
}

// Translations are a catalogue entry's translations by language (one of
// Locales other than the default, English).
type Translations map[string]Translation

// validate trims the translations' text and records a problem for each
// language that is not one of the translated Locales ("translations.fr")
// and each text that breaks the English field's bounds
// ("translations.es.name": one line, at most 200 characters;
// "translations.es.description": at most 2000). A translation with
// nothing in it is dropped.
func (ts Translations) validate(p *Problems) {
	for lang, t := range ts {
		field := "translations." + lang
		if lang == Locales[0] || PickLocale(lang) != lang {
			p.AddEnum(field, Locales[1:], "must be a language the clinic translates into: "+strings.Join(Locales[1:], ", "))
			continue
		}
		t.Name, t.Description = strings.TrimSpace(t.Name), strings.TrimSpace(t.Description)
		checkText(p, field+".name", t.Name, false, 200, false)
		checkText(p, field+".description", t.Description, false, 2000, true)
		if t == (Translation{}) {
			delete(ts, lang)
			continue
		}
		ts[lang] = t
	}
}

// BookingLocale returns the language a booking is made in: body, when
// given (it must be one of Locales; ok is false otherwise), else the first
// supported language of the Accept-Language header, else English.
func BookingLocale(body *string, acceptLanguage string) (locale string, ok bool) {
	if body != nil {
		l := strings.ToLower(strings.TrimSpace(*body))
		if PickLocale(l) != l {
			return "", false
		}
		return l, true
	}
	return PickLocale(acceptLanguage), true
}
