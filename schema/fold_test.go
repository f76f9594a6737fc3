package schema_test

import (
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/contactcenter/profiled/schema"
)

// TestFold: index text is Unicode full case folding, so values that differ
// only in case match however they are typed (a Greek surname in capitals
// has no final sigma; ß folds to ss), and ASCII text is exactly what
// strings.ToLower made of it, which earlier releases stored.
func TestFold(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"ΠΑΠΑΔΌΠΟΥΛΟΣ", "Παπαδόπουλος"},
		{"STRASSE", "straße"},
		{"Straße", "STRASSE"},
		{"ﬁle", "FILE"},          // a ligature folds to its letters
		{"K", "k"},               // Kelvin sign
		{"ſ", "S"},               // long s
		{"ÉLODIE", "élodie"},     // precomposed either way
		{"İstanbul", "istanbul"}, // İ is i, as strings.ToLower made it
		{"İBRAHİM", "Ibrahim"},
	} {
		if fa, fb := schema.Fold(tc.a), schema.Fold(tc.b); fa != fb {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want equal", tc.a, fa, tc.b, fb)
		}
		if fa, fb := schema.IndexText(tc.a), schema.IndexText(tc.b); fa != fb {
			t.Errorf("IndexText(%q) = %q, IndexText(%q) = %q: want equal", tc.a, fa, tc.b, fb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"strasse", "strase"},
		{"e\u0301lodie", "élodie"}, // not normalised: NFD and NFC stay apart, as before
		{"σ", "s"},
	} {
		if schema.Fold(tc.a) == schema.Fold(tc.b) {
			t.Errorf("Fold(%q) == Fold(%q) = %q: want different", tc.a, tc.b, schema.Fold(tc.a))
		}
	}
	if got := schema.Fold("ΠΑΠΑΔΌΠΟΥΛΟΣ"); got != "παπαδόπουλοσ" {
		t.Errorf("Fold(ΠΑΠΑΔΌΠΟΥΛΟΣ) = %q", got)
	}
	// ASCII: byte for byte what strings.ToLower makes, so the entries of
	// ASCII values an earlier release stored are still what lookups compute.
	var all strings.Builder
	for b := 0; b < 0x80; b++ {
		all.WriteByte(byte(b))
		s := string(rune(b)) + "Mixed Case@Example.COM"
		if got, want := schema.Fold(s), strings.ToLower(s); got != want {
			t.Errorf("Fold(%q) = %q, want strings.ToLower's %q", s, got, want)
		}
	}
	if got, want := schema.Fold(all.String()), strings.ToLower(all.String()); got != want {
		t.Errorf("Fold(ASCII) = %q, want %q", got, want)
	}
	// Invalid UTF-8 (not accepted in values, but stored data is walked as
	// it is) does not panic or vanish.
	if got := schema.Fold("A\xffB"); got == "" {
		t.Error("Fold of invalid UTF-8 is empty")
	}
}

// TestFold_MatchesWhatLowerCasingMatched: every character is folded as
// its lower case is, so no two values that releases before folding found
// for each other (strings.ToLower alike) are told apart now: folding alone
// takes İ to i and a combining dot, and folds Cherokee letters to the
// other case.
func TestFold_MatchesWhatLowerCasingMatched(t *testing.T) {
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if s := string(r); schema.Fold(s) != schema.Fold(strings.ToLower(s)) {
			t.Errorf("Fold(%q) = %q but Fold(%q) = %q: lower-casing matched them", s, schema.Fold(s), strings.ToLower(s), schema.Fold(strings.ToLower(s)))
		}
	}
	for _, tc := range [][2]string{{"İBRAHİM YILMAZ", "ibrahim yilmaz"}, {"ᏣᎳᎩ", "ꮳꮃꭹ"}} {
		if a, b := schema.Fold(tc[0]), schema.Fold(tc[1]); a != b {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want equal", tc[0], a, tc[1], b)
		}
	}
}

// TestFold_Concurrent: one Caser serves every goroutine (cases.Fold's is
// documented stateless); run with -race.
func TestFold_Concurrent(t *testing.T) {
	inputs := []string{"ΠΑΠΑΔΌΠΟΥΛΟΣ", "Straße Nr. 5", "ﬁle ΣΊΣΥΦΟΣ", "ÀÉÎÕÜ çñ"}
	want := make([]string, len(inputs))
	for i, s := range inputs {
		want[i] = schema.Fold(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				j := (g + i) % len(inputs)
				if got := schema.Fold(inputs[j]); got != want[j] {
					t.Errorf("Fold(%q) = %q under concurrency, want %q", inputs[j], got, want[j])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkIndexText: the text of one value, as every index write and
// lookup computes it. ascii-lower is the common case (an e-mail address as
// stored), ascii-mixed one to lower, greek and latin-1 go through the Caser.
func BenchmarkIndexText(b *testing.B) {
	for _, bc := range []struct{ name, value string }{
		{"ascii-lower", "bruce.banner@marvelous.com"},
		{"ascii-mixed", "Bruce.Banner@Marvelous.COM"},
		{"latin1", "Müller-Straße"},
		{"greek", "ΠΑΠΑΔΌΠΟΥΛΟΣ"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = schema.IndexText(bc.value)
			}
		})
	}
}
