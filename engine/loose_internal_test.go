package engine

import (
	"strings"
	"testing"
	"unicode"

	"github.com/chatcampaigns/campaign/campaigns"
)

// looseWord is the loose form looseEqual compares without building: punctuation turned into
// spaces, the spaces tidied. It was the code before; the tests hold looseEqual to it.
func looseWord(text string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) {
			return ' '
		}
		return r
	}, text)), " ")
}

func TestLooseEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"stop", "STOP", true},
		{"Stop!", "stop", true},
		{"  stop.  ", "STOP", true},
		{"NRCQ-UIT", "nrcq uit", true},
		{"yes please!", "Yes please", true},
		{"yes  please", "yes please", true},
		{"yes\u00a0please", "yes please", true}, // a no-break space is a space
		{"stopp", "stop", false},
		{"stop now", "stop", false},
		{"stop", "stop now", false},
		{"", "", true},
		{"!?", "", true},
		{"!?", "stop", false},
		{"stop", "", false},
		{"\xff", "\ufffd", true}, // invalid UTF-8 reads as the replacement rune, as before
		{"Ķelvin", "ķelvin", true},
		{"\u212a", "k", true}, // the Kelvin sign folds to k
		{"straße", "STRASSE", false},
	} {
		if got := looseEqual(c.a, c.b); got != c.want {
			t.Errorf("looseEqual(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if old := strings.EqualFold(looseWord(c.a), looseWord(c.b)); old != c.want {
			t.Errorf("the loose forms of %q and %q: EqualFold = %v, want %v", c.a, c.b, old, c.want)
		}
	}
}

// FuzzLooseEqual holds looseEqual to comparing the loose forms it no longer builds.
func FuzzLooseEqual(f *testing.F) {
	for _, s := range []string{"stop", "Stop!", "NRCQ-UIT", " a\tb ", "\xff\xfe", "¡STOP!", "a.b", "\u00a0x\u0085"} {
		f.Add(s, "stop")
		f.Add(s, s+"!")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := strings.EqualFold(looseWord(a), looseWord(b))
		if got := looseEqual(a, b); got != want {
			t.Fatalf("looseEqual(%q, %q) = %v, the loose forms say %v", a, b, got, want)
		}
	})
}

// BenchmarkIsOptOut is the opt-out check every text message of a participant playing goes
// through, against the default words: words compares them where they lie (isOptOut),
// loose_forms builds both loose forms for each word first (the code before).
func BenchmarkIsOptOut(b *testing.B) {
	def := &campaigns.Definition{}
	const text = "Let me in, I know the DJ"
	b.Run("words", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if isOptOut(def, text) {
				b.Fatal("taken for an opt-out")
			}
		}
	})
	b.Run("loose_forms", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			norm, hit := looseWord(text), false
			for _, words := range [][]string{campaigns.DefaultOptOut, def.OptOut} {
				for _, w := range words {
					hit = hit || strings.EqualFold(norm, looseWord(w))
				}
			}
			if hit {
				b.Fatal("taken for an opt-out")
			}
		}
	})
}
