package campaigns

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// ConsentAnswers says which replies to a definition's Consent agree or decline, and what a
// participant hears around them. The zero value uses the built-in words and texts of the
// campaign's languages (ConsentLanguages).
type ConsentAnswers struct {
	// Yes and No are words that agree or decline, added to the built-in ones.
	Yes, No []string
	// Declined is said on a no; Hint before the question is asked again after a reply that is
	// neither a yes nor a no.
	Declined, Hint Text
	// YesButton and NoButton are the titles of the two buttons offered with the consent text.
	YesButton, NoButton Text
}

// The ids of the consent buttons; a tap on one is a KindChoice with this id.
const (
	ConsentYesID = "consent_yes"
	ConsentNoID  = "consent_no"
)

// ConsentLanguage is what a language brings to a consent question when the definition does
// not say otherwise.
type ConsentLanguage struct {
	Yes, No             []string
	YesButton, NoButton string
	Hint, Declined      string
	// Restart follows Declined in a campaign with entry keywords; %s is the first keyword.
	Restart string
}

// ConsentLanguages are the built-in consent words and texts, by language (the part of the
// code before any "-": pt-BR uses pt). A campaign language without an entry uses English
// plus the definition's own words.
var ConsentLanguages = map[string]ConsentLanguage{
	"en": {
		Yes:       []string{"yes", "y", "yeah", "yep", "yes please", "ok", "okay", "k", "sure", "agree", "i agree", "agreed", "of course", "fine", "👍"},
		No:        []string{"no", "n", "nope", "no thanks", "no thank you", "i don't agree", "i do not agree", "disagree", "👎"},
		YesButton: "Yes, I agree", NoButton: "No thanks",
		Hint:     "Please answer yes or no.",
		Declined: "No problem, you're not taking part.",
		Restart:  "If you change your mind, send %s.",
	},
	"nl": {
		Yes:       []string{"ja", "jazeker", "ja graag", "jawel", "jep", "ok", "oké", "oke", "okee", "akkoord", "ik ga akkoord", "goed", "prima", "zeker", "👍"},
		No:        []string{"nee", "neen", "nee dank je", "nee bedankt", "nee dankjewel", "liever niet", "niet akkoord", "👎"},
		YesButton: "Ja, akkoord", NoButton: "Nee, bedankt",
		Hint:     "Antwoord alsjeblieft met ja of nee.",
		Declined: "Geen probleem, je doet niet mee.",
		Restart:  "Bedenk je je, stuur dan %s.",
	},
	"de": {
		Yes:       []string{"ja", "jawohl", "jep", "ok", "okay", "einverstanden", "ich stimme zu", "gerne", "klar", "sicher", "👍"},
		No:        []string{"nein", "nee", "nein danke", "lieber nicht", "nicht einverstanden", "👎"},
		YesButton: "Ja, einverstanden", NoButton: "Nein, danke",
		Hint:     "Bitte antworte mit Ja oder Nein.",
		Declined: "Kein Problem, du machst nicht mit.",
		Restart:  "Wenn du es dir anders überlegst, sende %s.",
	},
	"fr": {
		Yes:       []string{"oui", "ouais", "ok", "okay", "d'accord", "d’accord", "daccord", "j'accepte", "j’accepte", "bien sûr", "volontiers", "👍"},
		No:        []string{"non", "non merci", "pas d'accord", "pas d’accord", "je refuse", "👎"},
		YesButton: "Oui, j'accepte", NoButton: "Non merci",
		Hint:     "Réponds par oui ou par non, s'il te plaît.",
		Declined: "Pas de souci, tu ne participes pas.",
		Restart:  "Si tu changes d'avis, envoie %s.",
	},
	"es": {
		Yes:       []string{"sí", "si", "ok", "okay", "vale", "de acuerdo", "acepto", "claro", "por supuesto", "👍"},
		No:        []string{"no", "no gracias", "no, gracias", "no acepto", "👎"},
		YesButton: "Sí, acepto", NoButton: "No, gracias",
		Hint:     "Responde sí o no, por favor.",
		Declined: "No pasa nada, no participas.",
		Restart:  "Si cambias de opinión, envía %s.",
	},
	"pt": {
		Yes:       []string{"sim", "ok", "okay", "claro", "concordo", "aceito", "pode ser", "com certeza", "👍"},
		No:        []string{"não", "nao", "não obrigado", "não, obrigado", "não obrigada", "não, obrigada", "não aceito", "👎"},
		YesButton: "Sim, aceito", NoButton: "Não, obrigado",
		Hint:     "Responda sim ou não, por favor.",
		Declined: "Sem problema, você não participa.",
		Restart:  "Se mudar de ideia, envie %s.",
	},
}

// LanguageBase is the language of a code without its region, lower-case: the key of tables
// of built-in texts by language ("pt-BR" finds "pt").
func LanguageBase(code string) string {
	base, _, _ := strings.Cut(code, "-")
	return strings.ToLower(base)
}

// consentLanguage returns the built-in consent words and texts of lang, and whether there
// are any (English stands in when there are not).
func consentLanguage(lang string) (ConsentLanguage, bool) {
	if l, ok := ConsentLanguages[LanguageBase(lang)]; ok {
		return l, true
	}
	return ConsentLanguages["en"], false
}

// normConsent is how a reply is compared with consent words: case, spaces and punctuation
// ("Yes!", "ok.", "No, thanks") do not count; apostrophes do ("d'accord").
func normConsent(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) && r != '\'' && r != '’' {
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// ConsentReply reports whether a typed reply to the consent question agrees (yes) or
// declines (no); neither is set for anything else. The words are the definition's and the
// built-in ones of every campaign language.
func (d *Definition) ConsentReply(text string) (yes, no bool) {
	norm := normConsent(text)
	if norm == "" {
		return false, false
	}
	in := func(words []string) bool {
		for _, w := range words {
			if normConsent(w) == norm {
				return true
			}
		}
		return false
	}
	a := d.ConsentAnswers
	if in(a.Yes) {
		return true, false
	}
	if in(a.No) {
		return false, true
	}
	for _, l := range d.consentLanguages() {
		if in(l.Yes) {
			return true, false
		}
	}
	for _, l := range d.consentLanguages() {
		if in(l.No) {
			return false, true
		}
	}
	return false, false
}

func (d *Definition) consentLanguages() []ConsentLanguage {
	langs := d.Languages
	if len(langs) == 0 {
		langs = []string{defaultLanguage}
	}
	out := make([]ConsentLanguage, 0, len(langs)+1)
	english := false
	for _, l := range langs {
		cl, ok := consentLanguage(l)
		if !ok {
			if english {
				continue
			}
			english = true
		}
		out = append(out, cl)
	}
	return out
}

// ConsentMessage is the consent question as the persona asks it: the text with a yes and a
// no button, titled in every campaign language.
func (d *Definition) ConsentMessage() Message {
	a := d.ConsentAnswers
	return Message{Text: d.Consent, Buttons: []Button{
		{ID: ConsentYesID, Title: d.consentText(a.YesButton, func(l ConsentLanguage) string { return l.YesButton })},
		{ID: ConsentNoID, Title: d.consentText(a.NoButton, func(l ConsentLanguage) string { return l.NoButton })},
	}}
}

// ConsentHint is said before the question is asked again.
func (d *Definition) ConsentHint() Text {
	return d.consentText(d.ConsentAnswers.Hint, func(l ConsentLanguage) string { return l.Hint })
}

// ConsentDeclined is said on a no: the definition's text, or the built-in one followed by how
// to start again (the first entry keyword) when the campaign has keywords.
func (d *Definition) ConsentDeclined() Text {
	if !d.ConsentAnswers.Declined.IsZero() {
		return d.ConsentAnswers.Declined
	}
	t := d.consentText(nil, func(l ConsentLanguage) string { return l.Declined })
	if len(d.Keywords) == 0 {
		return t
	}
	for lang, s := range t {
		cl, _ := consentLanguage(lang)
		t[lang] = s + " " + strings.ReplaceAll(cl.Restart, "%s", d.KeywordIn(lang))
	}
	return t
}

// KeywordIn is the first entry keyword written under lang (keywords: {en: [NEWS]}), else the
// first entry keyword: the one to tell a participant who speaks lang to send.
func (d *Definition) KeywordIn(lang string) string {
	for _, k := range d.Keywords {
		if d.KeywordLanguage(k) == lang {
			return k
		}
	}
	if len(d.Keywords) == 0 {
		return ""
	}
	return d.Keywords[0]
}

// consentText is own where the definition wrote it, the built-in text otherwise, in every
// campaign language.
func (d *Definition) consentText(own Text, builtin func(ConsentLanguage) string) Text {
	langs := d.Languages
	if len(langs) == 0 {
		langs = []string{defaultLanguage}
	}
	t := Text{}
	for _, l := range langs {
		if s, ok := own[l]; ok && s != "" {
			t[l] = s
			continue
		}
		if s, ok := own[langs[0]]; ok && s != "" {
			// A definition that wrote its own text in the first language only means it for
			// everyone, as any other text.
			t[l] = s
			continue
		}
		cl, _ := consentLanguage(l)
		t[l] = builtin(cl)
	}
	return t
}

// ConsentVersion identifies what a participant agreed to: a short hash of the consent text
// in their language, and the definition's version.
func (d *Definition) ConsentVersion(lang string) string {
	first := ""
	if len(d.Languages) > 0 {
		first = d.Languages[0]
	}
	sum := sha256.Sum256([]byte(d.Consent.In(lang, first)))
	return hex.EncodeToString(sum[:4]) + "@" + d.Version
}
