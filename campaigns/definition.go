// Package campaigns owns the campaign definition language: it parses a YAML definition while
// keeping the position of every node, validates it (every problem as file:line:col: message)
// and compiles it into a Definition, the read-only form the engine runs.
package campaigns

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Definition is a compiled, validated campaign. The engine treats it as read-only: one value
// may be shared by every participant and goroutine.
type Definition struct {
	ID    string
	Title string
	// Languages lists the languages messages are written in; the first is the fallback when a
	// participant's language has no text.
	Languages []string
	// Channels the campaign runs on (webchat, whatsapp, telegram, messenger); empty means all.
	Channels []string
	// WhatsAppNumber is the phone_number_id the campaign answers on; empty means any number.
	WhatsAppNumber string
	Schedule       Schedule
	// Keywords are what a stranger sends to join (compared case-insensitively, whole message).
	Keywords []string
	// KeywordLanguages is the language of each keyword written under one (keywords: {en:
	// [NEWS]}), by the keyword lower-cased with its spaces tidied: a stranger joining with it
	// speaks that language. See KeywordLanguage.
	KeywordLanguages map[string]string
	// Consent is asked before the first state, when set, with a yes and a no button: only a
	// yes (a tap, or a yes word of ConsentAnswers) enters the start state; a no ends the
	// participation; anything else asks again.
	Consent        Text
	ConsentAnswers ConsentAnswers
	Persona        Persona
	Pools          map[string]*Pool
	// Teams is set when participants are teams (group chats) rather than people.
	Teams  *Teams
	Rounds []*Round
	Rubric *Rubric
	// Judging is how entries are judged (panels, blind judging, score locks, normalisation);
	// nil when the definition has no judging key.
	Judging *Judging
	// Ranking, when set, ranks participants on a numeric variable ({{rank}}, winners by rank).
	Ranking *Ranking
	// Templates are the pre-approved WhatsApp templates, by the key messages refer to them.
	Templates map[string]*Template
	// RetentionDays is how long participant data is kept after the campaign ends; 0 = forever.
	RetentionDays int
	// OptOut words end the participation in any state (added to the platform defaults).
	OptOut []string
	// OptOutSay is said once on opting out.
	OptOutSay Text
	// Rejoin are the words (besides Keywords) that bring an opted-out participant back:
	// DefaultRejoin unless the definition lists its own.
	Rejoin []string
	// Repeat lets a participant who finished (or opted out after the run began) start a new
	// participation with an entry keyword or a Rejoin word; without it each person gets one
	// try, and such a word answers with Finished.
	Repeat bool
	// Finished is said to a finished participant who writes again, unless their state has its
	// own Finished; the engine has a default.
	Finished Text

	// Start is the state a new participant enters.
	Start string
	// Fallback is said when a participant's message matches no transition of their state.
	Fallback Text
	States   map[string]*State
	// Order lists the state names in the order of the file, for stable listings and diagrams.
	Order []string
	// Version identifies the definition by its content (a hash of the source bytes).
	Version string
	// File is where the definition was read from; Source its bytes.
	File   string
	Source []byte
	// Path is File made absolute when the definition was read from disk (LoadFile); empty
	// when it came as bytes (a launch). The engine keys "has this file changed" by it.
	Path string

	// Numbers are the variables the definition counts with (add:, or set: to a number): a
	// text shows one not set yet as 0.
	Numbers []string

	idNode       *yaml.Node   // where the id is written, for clashes between files
	keywordNodes []*yaml.Node // where each of Keywords is written
	rejoinNodes  []*yaml.Node // where each of Rejoin is written; nil for DefaultRejoin
}

// RunsOn reports whether the campaign runs on the channel (an empty Channels means all).
func (d *Definition) RunsOn(channel string) bool {
	return len(d.Channels) == 0 || contains(d.Channels, channel)
}

// ChannelNames are the channels a campaign can run on.
var ChannelNames = []string{"webchat", "whatsapp", "telegram", "messenger"}

// DefaultRejoin is the word that brings an opted-out participant back when the definition
// lists no rejoin words of its own (entry keywords do it too).
var DefaultRejoin = []string{"START"}

// DefaultOptOut are the opt-out words every campaign honours, whatever its definition adds.
var DefaultOptOut = []string{"STOP", "STOPPEN", "AFMELDEN", "UIT", "ABMELDEN", "UNSUBSCRIBE"}

// Text is a message in one or more languages, by language code. A definition with a single
// language may write a plain string; it is stored under that language.
type Text map[string]string

// In returns the text in lang, or in fallback when lang has none.
func (t Text) In(lang, fallback string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	return t[fallback]
}

// IsZero reports whether the text is empty in every language.
func (t Text) IsZero() bool {
	for _, s := range t {
		if s != "" {
			return false
		}
	}
	return true
}

// Schedule is when a campaign accepts new participants, and when it stops answering those
// who joined before its end. Times written as a duration after launch are zero here until the
// engine anchors the definition (Anchor).
type Schedule struct {
	Start, End time.Time // zero: no bound
	// HardStop is when the participants who joined before End stop being answered; zero means
	// they play on until the campaign is closed.
	HardStop time.Time
	Location *time.Location

	// start, end and hardStop are the bounds as written.
	start, end, hardStop moment
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

// Pool is a limited number of places (a guest list, prizes), or a list of codes handed out one
// to each participant who takes from it (partner vouchers): then its capacity is the number of
// codes.
type Pool struct {
	Name     string
	Capacity int
	// Codes are the pool's codes in the order they are handed out, read from the definition
	// (codes: [A1, B2]) or from CodesFile (codes: FILE, relative to the definition file).
	// Codes is nil for a CodesFile pool parsed from bytes without its file (a launch): the
	// codes are then the ones stored when the file was loaded.
	Codes     []string
	CodesFile string

	node *yaml.Node // where problems with the pool's codes are reported
}

// HasCodes reports whether the pool hands out codes rather than places.
func (p *Pool) HasCodes() bool { return p != nil && (p.Codes != nil || p.CodesFile != "") }

// Teams says participants are teams of MinSize to MaxSize members (a group chat each).
type Teams struct {
	MinSize, MaxSize int
}

// Round is one round of a team race.
type Round struct {
	Name       string
	Assignment Text
	// Starts is when the round starts (zero: when the previous round closes); Deadline when
	// it closes. Duration is used when Deadline is zero: Deadline = start + Duration.
	Starts   time.Time
	Deadline time.Time
	Duration time.Duration
	// starts and deadline are Starts and Deadline as written (a date or a time after launch).
	starts, deadline moment
	// Advance is how many teams go on to the next round (0: all that were not eliminated).
	Advance int
}

// Rubric is how entries are scored.
type Rubric struct {
	Criteria []Criterion
	// ScaleMin and ScaleMax bound each criterion's score.
	ScaleMin, ScaleMax int
}

// Ranking ranks a campaign's participants on a number one of their variables holds.
type Ranking struct {
	// By is the variable ranked on; participants without a number in it are not ranked.
	By string
	// Ascending ranks the lowest value first (a time, a number of tries); by default the
	// highest is first.
	Ascending bool
	// TieBreak decides between equal values: TieEarliest or TieNone.
	TieBreak string
	// Top is how many win (0: the campaign picks no winners by rank). Those tied with the
	// last of the top are winners too.
	Top int
}

// The tie-breaks of a ranking.
const (
	// TieEarliest ranks, of two equal values, the one reached first higher: the engine keeps
	// when each participant's ranked variable last changed.
	TieEarliest = "earliest"
	// TieNone lets equal values share a rank.
	TieNone = "none"
)

// TieBreaks lists the tie-breaks.
var TieBreaks = []string{TieEarliest, TieNone}

// Rule says the ranking rule in words, as the dashboard publishes it.
func (r *Ranking) Rule() string {
	order := "highest " + r.By + " first"
	if r.Ascending {
		order = "lowest " + r.By + " first"
	}
	tie := "equal " + r.By + " share a rank"
	if r.TieBreak == TieEarliest {
		tie = "of equal " + r.By + ", who reached it first ranks higher; equal at the same second share a rank"
	}
	s := "Ranked by " + order + "; " + tie + "."
	if r.Top > 0 {
		s += fmt.Sprintf(" The top %d win; anyone tied with number %d wins too.", r.Top, r.Top)
	}
	return s
}

// Criterion is one scored aspect of an entry; weights of a rubric add up to 1 (or 100).
type Criterion struct {
	Name   string
	Weight float64
}

// Template is a pre-approved WhatsApp template message.
type Template struct {
	Key  string
	Name string
	// Language is the WhatsApp language code of the first language's template; Languages
	// has the code for each campaign language it was approved in, when written as a mapping.
	Language  string
	Languages map[string]string
	// Params are the variables filled into the template body, in order.
	Params []string
	// Broadcast says the template is for broadcasts (the dashboard's, a rehearsal's
	// /broadcast), so no message of the definition needs to name it.
	Broadcast bool
	// Category is the category Meta approved the template in (CategoryMarketing when the
	// definition does not say); it decides what a template message costs.
	Category string
}

// The template categories Meta prices separately.
const (
	CategoryMarketing      = "marketing"
	CategoryUtility        = "utility"
	CategoryAuthentication = "authentication"
)

// Categories are the template categories a definition may name, in the order they are shown.
var Categories = []string{CategoryMarketing, CategoryUtility, CategoryAuthentication}

// Message is one thing the persona says.
type Message struct {
	Text Text
	// Buttons are quick replies (at most 3 on WhatsApp; more become a list).
	Buttons []Button
	// Media is a URL or a media key sent with the text as caption.
	Media string
	// Template is the key of the template to send instead when the participant's 24-hour
	// window is closed.
	Template string

	node *yaml.Node // where problems with the message are reported
}

// Button is one choice offered with a message.
type Button struct {
	ID    string
	Title Text
}

// State is one step of the conversation.
type State struct {
	Name string
	// Say is what the persona says on entering the state.
	Say []Message
	// Final states end the participant's run; no transition leaves them.
	Final bool
	// Finished is said to a participant whose run ended in this state (a final state, or an
	// end: true transition of it) when they write again; empty means the campaign's.
	Finished Text
	// Handoff names the human team the conversation is handed to on entering this state; the
	// bot stays silent until an agent hands it back (a KindHandback event).
	Handoff string
	// Fallback is said when a message matches none of On; empty means the campaign's.
	Fallback Text
	On       []*Transition

	node        *yaml.Node // where problems with the state are reported
	keyNode     *yaml.Node // the state's name
	handoffNode *yaml.Node // the handoff: team name
}

// HandoffPos is where the state names its hand-off team, as file:line:col, so a warning
// about the team (no users in it) points at the line to check.
func (d *Definition) HandoffPos(st *State) string { return d.pos(st.handoffNode) }

// TriggerKind says which kind of participant, moderator or clock event a transition answers.
type TriggerKind string

// The trigger kinds.
const (
	OnText     TriggerKind = "text"
	OnMedia    TriggerKind = "media"
	OnChoice   TriggerKind = "choice"
	OnLocation TriggerKind = "location"
	// OnTimeout fires After the participant entered the state, unless another transition
	// moved them on first. With no Goto it is a reminder: it says and stays.
	OnTimeout  TriggerKind = "after"
	OnVerdict  TriggerKind = "verdict"
	OnRound    TriggerKind = "round"
	OnHandback TriggerKind = "handback"
	OnOptOut   TriggerKind = "optout"
	// OnEntered fires right after the participant entered the state (after its say): the
	// first such transition whose If holds runs, which branches on entry.
	OnEntered TriggerKind = "entered"
)

// Verdicts a moderator or the judge can give.
const (
	VerdictApproved    = "approved"
	VerdictRejected    = "rejected"
	VerdictShortlisted = "shortlisted"
	VerdictWinner      = "winner"
	VerdictEliminated  = "eliminated"
	VerdictAdvanced    = "advanced"
)

// Verdicts lists every verdict.
var Verdicts = []string{VerdictApproved, VerdictRejected, VerdictShortlisted, VerdictWinner, VerdictEliminated, VerdictAdvanced}

// Round events.
const (
	RoundStarted  = "started"
	RoundDeadline = "deadline"
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
	// Media triggers: the kinds accepted (empty means any kind), how many items complete the
	// entry (0 or 1: one), and the largest item accepted in bytes (0: the server's limit).
	Media    []string
	Count    int
	MaxBytes int64
	// Choice triggers: the button or list row ids that fire it (empty: any choice).
	Choices []string
	// Location triggers: Area is where the shared location must be (nil: anywhere); Outside
	// is said when it is farther away (empty: the engine's text), and the participant stays.
	Area    *Area
	Outside Text
	// Timeout triggers: how long after entering the state.
	After time.Duration
	// Verdict triggers: which verdict.
	Verdict string
	// Round triggers: which round (empty: any) and which event.
	Round      string
	RoundEvent string

	// If, when set, must hold for the transition to fire; when it does not, the next
	// transition of the state in file order is tried. It is read before any action runs.
	If *Condition

	// Actions, run in this order: Save, Collect, Set, Add, Take, IssueCode, Notify, Say, then
	// Goto (or End). A failed Save says Save.Invalid and stays; a full Take goes to TakeFull
	// instead.
	Save    *Save
	Collect bool
	// Set gives variables a value as written (a number or a text); Add adds to number
	// variables (a variable not set counts as 0).
	Set       map[string]string
	Add       map[string]float64
	Take      string
	TakeFull  string
	IssueCode bool
	// Notify is a message to the moderators (shown in the dashboard).
	Notify Text
	Say    []Message
	// Goto is the state to enter; empty means stay without re-entering.
	Goto string
	// End ends the participation (as a final state would) after the other actions.
	End bool

	node        *yaml.Node // the transition
	triggerNode *yaml.Node // its trigger's key
	ifNode      *yaml.Node
	gotoNode    *yaml.Node
	fullNode    *yaml.Node
	outsideKey  *yaml.Node
	areaWritten bool // location: is a mapping (a place), whether or not it parsed
}

// VarLanguage is the participant variable that holds their language, one of the campaign's
// Languages: a save to it (save: {var: lang}) takes only a language code.
const VarLanguage = "lang"

// VarSender is the participant variable that holds the business address they last wrote to
// (for WhatsApp the phone_number_id): replies to them go out from it. The engine sets it.
const VarSender = "wa_number"

// Save stores the participant's answer in a variable after checking it.
type Save struct {
	Var string
	// As is the kind of answer: text, number, email, phone, or date (YYYY-MM-DD).
	As       string
	Min, Max *float64 // bounds for number (and for date, as age in years when As is "age")
	// Invalid is said when the answer does not pass; the participant stays in the state.
	Invalid Text
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

// MatchChoice reports whether choosing the button or row id fires t.
func (t *Transition) MatchChoice(id string) bool {
	if t.Kind != OnChoice {
		return false
	}
	if len(t.Choices) == 0 {
		return true
	}
	for _, c := range t.Choices {
		if c == id {
			return true
		}
	}
	return false
}

// MatchVerdict reports whether a moderator verdict fires t.
func (t *Transition) MatchVerdict(v string) bool {
	return t.Kind == OnVerdict && t.Verdict == v
}

// MatchRound reports whether a round event fires t.
func (t *Transition) MatchRound(round, event string) bool {
	return t.Kind == OnRound && t.RoundEvent == event && (t.Round == "" || t.Round == round)
}

// LanguageFor is the WhatsApp language code of the template to send to a participant who
// speaks lang: theirs when the template was approved in it, else the first language's.
func (t *Template) LanguageFor(lang string) string {
	if code, ok := t.Languages[lang]; ok && code != "" {
		return code
	}
	return t.Language
}

// KeywordLanguage is the language of the entry keyword text is, when it was written under one;
// "" otherwise.
func (d *Definition) KeywordLanguage(text string) string {
	return d.KeywordLanguages[normKeyword(text)]
}

// MatchLanguage maps a language code from outside (a browser's nl-BE, a saved answer "EN",
// a platform's pt_BR) to one of the campaign's languages: the same code, else the same base
// language (nl-BE → nl, or nl → nl-BE when the campaign writes nl-BE); "" when none fits.
func (d *Definition) MatchLanguage(code string) string {
	code = strings.ReplaceAll(strings.TrimSpace(code), "_", "-")
	if code == "" {
		return ""
	}
	for _, l := range d.Languages {
		if strings.EqualFold(l, code) {
			return l
		}
	}
	base := LanguageBase(code)
	for _, l := range d.Languages {
		if strings.EqualFold(l, base) {
			return l
		}
	}
	for _, l := range d.Languages {
		if LanguageBase(l) == base {
			return l
		}
	}
	return ""
}
