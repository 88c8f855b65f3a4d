package store

import (
	"slices"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

// A search document holds every name and email word folded as a search
// folds what is typed: without diacritics, and punctuation inside a name
// removed (the pieces joined); plain words and the phone's digits as before.
func TestSearchDocFoldsNames(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"Ana", "Lopez", "ana.lopez@example.com"}, "ana lopez ana.lopez@example.com"},
		{[]string{"Seán", "O'Brien", ""}, "seán sean o'brien obrien"},
		{[]string{"Ana", "O’Brien", ""}, "ana o’brien obrien"},
		{[]string{"Mary", "Smith-Jones", ""}, "mary smith-jones smithjones"},
		{[]string{"José", "Muñoz Pérez", ""}, "josé jose muñoz pérez munoz perez"},
		{[]string{"Lía", "D'Ángelo", "lia.d'angelo@example.com"}, "lía lia d'ángelo d'angelo dangelo lia.d'angelo@example.com dangelo"},
		{[]string{"O'", "-", ""}, "o' -"},
	} {
		if got := searchDoc(tt.words, "", ""); got != tt.want {
			t.Errorf("searchDoc(%q): got %q, want %q", tt.words, got, tt.want)
		}
	}
	// Phone and reference as before, after the words.
	got := searchDoc([]string{"Pérez"}, "K7QM-4T2P", "+34612345")
	if want := "pérez perez k7qm-4t2p k7qm4t2p +34612345 34612345 4612345 612345 12345 2345 345"; got != want {
		t.Errorf("searchDoc with reference and phone: got %q, want %q", got, want)
	}
}

// foldDiacritics takes the marks off letters, precomposed or not, and
// leaves everything else as it is.
func TestFoldDiacritics(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"perez", "perez"}, {"pérez", "perez"}, {"pe\u0301rez", "perez"}, {"muñoz", "munoz"},
		{"çağlar", "caglar"}, {"ǖ", "u"}, {"łukasz", "łukasz"}, {"straße", "straße"}, {"o’brien", "o’brien"},
		{"한국", "한국"}, {"åsa øberg", "asa øberg"}, {"", ""},
	} {
		if got := foldDiacritics(tt.in); got != tt.want {
			t.Errorf("foldDiacritics(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Search words are folded as the documents are; an email is looked for as
// typed; punctuation alone matches nothing.
func TestSearchTermsFold(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want [][]string
	}{
		{"obrien", [][]string{{"obrien"}}},
		{"O'Brien", [][]string{{"obrien"}}},
		{"o’brien", [][]string{{"obrien"}}},
		{"o brien", [][]string{{"o"}, {"brien"}}},
		{"Smith-Jones", [][]string{{"smithjones"}}},
		{"pérez", [][]string{{"perez"}}},
		{"MUÑOZ", [][]string{{"munoz"}}},
		{"ana.o'brien@example.com", [][]string{{"ana.o'brien@example.com"}}},
		{"smith - jones", [][]string{{"smith"}, {"jones"}}},
		{"'", [][]string{{}}},
		{"' - ''", [][]string{{}}},
		{"", nil},
	} {
		if got := searchTerms(booking.ParseSearch(tt.q)); !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("searchTerms(%q): got %q, want %q", tt.q, got, tt.want)
		}
		if _, got := patientGroups(tt.q); !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("patientGroups(%q): got %q, want %q", tt.q, got, tt.want)
		}
	}
	for _, q := range []string{"'", "-- ''"} {
		if got := ftsQuery(searchTerms(booking.ParseSearch(q))); got != "" {
			t.Errorf("ftsQuery of %q: got %q, want none", q, got)
		}
	}
	if !walkable(searchTerms(booking.ParseSearch("O'Brien"))) {
		t.Error("O'Brien: got not walkable, want walkable (obrien, one word of letters)")
	}
}

// BenchmarkSearchText is the search document of a booking, as every
// booking write computes it: plain names, and names with accents and
// punctuation.
func BenchmarkSearchText(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    booking.Patient
	}{
		{"plain", booking.Patient{FirstName: "Ana", LastName: "Lopez", Email: "ana.lopez@example.com", Phone: "+34612345678"}},
		{"folded", booking.Patient{FirstName: "José", LastName: "O'Brien-Pérez", Email: "jose.obrien@example.com", Phone: "+34612345678"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bk := booking.Booking{Reference: "K7QM-4T2P", Patient: bc.p}
			b.ReportAllocs()
			for b.Loop() {
				_ = searchText(bk)
			}
		})
	}
}
