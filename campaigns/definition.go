// Package campaigns owns the campaign definition language: it parses a YAML definition while
// keeping the position of every node, validates it (every problem as file:line:col: message)
// and compiles it into a Definition, the read-only form the engine runs.
package campaigns

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Definition is a compiled, validated campaign. The engine treats it as read-only: one value
// may be shared by every participant and goroutine.
type Definition struct {
	ID      string
	Title   string
	Persona Persona
	// Start is the state a new participant enters.
	Start string
	// Fallback is said when a participant's message matches no transition of their state.
	Fallback string
	States   map[string]*State
	// Order lists the state names in the order of the file, for stable listings and diagrams.
	Order []string
	// Version identifies the definition by its content (a hash of the source bytes).
	Version string
	// File is where the definition was read from.
	File string
}

// Persona is who the participant talks to, and how fast that someone types.
type Persona struct {
	Name string
	// A reply waits DelayMin + DelayPerChar*len(text), capped at DelayMax, before it goes out:
	// an instant bot answer feels less human than one that seems typed.
	DelayMin     time.Duration
	DelayPerChar time.Duration
	DelayMax     time.Duration
}

// Delay is how long the persona seems to type text.
func (p Persona) Delay(text string) time.Duration {
	d := p.DelayMin + time.Duration(len([]rune(text)))*p.DelayPerChar
	if p.DelayMax > 0 && d > p.DelayMax {
		d = p.DelayMax
	}
	return d
}

// State is one step of the conversation.
type State struct {
	Name string
	// Say is what the persona says on entering the state.
	Say string
	// Final states end the participant's run; no transition leaves them.
	Final bool
	On    []*Transition

	node *yaml.Node // where problems with the state are reported
}

// TriggerKind says which kind of participant or moderator event a transition answers.
type TriggerKind string

// The trigger kinds of the first cut of the language.
const (
	OnText    TriggerKind = "text"
	OnMedia   TriggerKind = "media"
	OnVerdict TriggerKind = "verdict"
)

// Verdicts a moderator can give on an entry.
const (
	VerdictApproved = "approved"
	VerdictRejected = "rejected"
)

// MediaKinds are the media kinds a transition can ask for.
var MediaKinds = []string{"photo", "video", "audio", "document"}

// Transition is one way out of (or back into) a state, with the actions it performs.
type Transition struct {
	// Name is unique within the definition (the state name and the index), so the engine can
	// name the looplab/fsm event after it.
	Name string
	Kind TriggerKind
	// Text triggers: AnyText matches every text; otherwise Keywords (case-insensitive, whole
	// message) or Pattern must match.
	AnyText  bool
	Keywords []string
	Pattern  *regexp.Regexp
	// Media triggers: the kinds accepted (empty means any kind).
	Media []string
	// Verdict triggers: which verdict.
	Verdict string

	// Actions, in this order: collect the media as an entry, issue a unique code, say, go to.
	Collect   bool
	IssueCode bool
	Say       string
	// Goto is the state to enter; empty means stay without re-entering.
	Goto string

	gotoNode *yaml.Node
}

// MatchText reports whether a text message fires t.
func (t *Transition) MatchText(text string) bool {
	if t.Kind != OnText {
		return false
	}
	if t.AnyText {
		return true
	}
	norm := strings.ToLower(strings.TrimSpace(text))
	for _, k := range t.Keywords {
		if norm == strings.ToLower(k) {
			return true
		}
	}
	return t.Pattern != nil && t.Pattern.MatchString(text)
}

// MatchMedia reports whether a media message of the given kind fires t.
func (t *Transition) MatchMedia(kind string) bool {
	if t.Kind != OnMedia {
		return false
	}
	if len(t.Media) == 0 {
		return true
	}
	for _, k := range t.Media {
		if k == kind {
			return true
		}
	}
	return false
}

// MatchVerdict reports whether a moderator verdict fires t.
func (t *Transition) MatchVerdict(v string) bool {
	return t.Kind == OnVerdict && t.Verdict == v
}
