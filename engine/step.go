package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/looplab/fsm"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// step computes what one event does, without writing anything. A non-empty skip says why the
// event has no effect. full names the pools a previous attempt found full.
func (e *Engine) step(ctx context.Context, in StoredInbound, full map[string]bool) (Step, string, error) {
	cur, ok := e.Campaign(in.Campaign)
	if !ok {
		return Step{}, "campaign " + in.Campaign + " is not loaded", nil
	}
	// The step and the participant live in the run, which the step's methods keep: one
	// allocation where the three of them were moved to the heap apart.
	r := &run{e: e, ctx: ctx, full: full, in: in}
	s, p := &r.stepOf, &r.participant
	r.step, r.p = s, p
	now := e.now()
	s.InboundID = in.ID
	var err error
	*p, err = e.store.Participant(ctx, in.ParticipantID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		if !in.fromParticipant() && in.Kind != KindOptIn {
			return *s, fmt.Sprintf("%s event for unknown participant", in.Kind), nil
		}
		why := e.unavailable(cur, now, teamStart(in.Inbound))
		if why != "" && in.Kind == KindOptIn {
			return *s, "opt-in while the campaign takes no new participants", nil
		}
		if why != "" {
			// A stranger writing to a closed campaign, or outside its schedule, hears so (and
			// when it opens or closed), and nothing about them is kept.
			s.Outbox = []Outbound{{Campaign: cur.ID, Channel: in.Channel, To: in.From, From: in.To,
				Text: why, DueAt: now, Status: StatusPending}}
			return *s, "", nil
		}
		*p = Participant{
			ID: in.ParticipantID, Campaign: cur.ID, Channel: in.Channel, Address: in.From,
			Vars: map[string]string{}, DefVersion: cur.Version, CreatedAt: now,
		}
		p.Vars = freshVars(cur, in.Name, nil)
		s.Created = true
	case err != nil:
		return *s, "", fmt.Errorf("engine: load participant %s: %w", in.ParticipantID, err)
	}
	def := cur
	if !s.Created {
		if def, ok = e.definition(p.Campaign, p.DefVersion); !ok {
			return *s, "campaign " + p.Campaign + " is not loaded", nil
		}
	}
	s.PrevVersion = p.Version
	r.def, r.now = def, now
	if def.Ranking != nil {
		r.rankedBefore = p.Vars[def.Ranking.By]
	}
	r.recordInbound()
	if in.fromParticipant() {
		p.LastInboundAt = in.At
		if p.LastInboundAt.IsZero() {
			p.LastInboundAt = now
		}
		// The window that just opened is the one of the number they wrote to: replies go
		// out from it, not from the campaign's or the server's default number.
		if in.To != "" {
			p.Vars[campaigns.VarSender] = in.To
		}
	}

	// The schedule's end stops newcomers: whoever is playing plays on (their answers, timers
	// and rounds) until the hard stop or the campaign is closed. A finished participant
	// starting over is a newcomer; one who opted out during their run and comes back to it
	// (one try per person) is not: it is the try they began before the end.
	why := ""
	if !s.Created {
		resumes := p.State == StateOptedOut && !cur.Repeat && p.Vars[varStarted] != "" &&
			def.States[p.Vars[varLeft]] != nil
		why = e.unavailable(cur, now, !p.Finished || resumes)
	}
	switch {
	case s.Created:
		if err := r.begin(); err != nil {
			return *s, "", err
		}
	case p.State == StateOptedOut && why != "" && in.Kind == KindText && comesBack(cur, in.Text):
		// A way back while the campaign takes nobody new: they hear why.
		r.answers = true
		r.sayText(campaigns.Text{lang(def): why})
	case p.State == StateOptedOut:
		if err := r.optedOut(cur); err != nil {
			return *s, "", err
		}
	case why != "" && in.fromParticipant() && !(in.Kind == KindText && isOptOut(def, in.Text)):
		// Opting out works even then (below); anything else hears why nobody answers.
		r.sayText(campaigns.Text{lang(def): why})
	case why != "" && (in.Kind == KindTimer || in.Kind == KindRound):
		return *s, "campaign " + def.ID + " is not running: " + why, nil
	case p.State == StateDeclined:
		skip, err := r.declined(cur)
		if err != nil {
			return *s, "", err
		}
		if skip != "" {
			return *s, skip, nil
		}
	case p.Finished:
		if err := r.finished(cur); err != nil {
			return *s, "", err
		}
	default:
		if err := r.handle(); err != nil {
			return *s, "", err
		}
	}
	if r.skip != "" {
		return *s, r.skip, nil
	}
	if err := r.settle(); err != nil {
		return *s, "", err
	}
	r.hold()
	noteReached(r.def, p, r.rankedBefore, now)
	p.Version++
	p.UpdatedAt = now
	s.Participant = *p
	s.Timers = r.timers
	return *s, "", nil
}

// freshVars are a new participant's variables: their name, and their team's for a team
// campaign (a team is a group chat; its name is the group's).
func freshVars(def *campaigns.Definition, name string, old map[string]string) map[string]string {
	vars := map[string]string{}
	if name != "" {
		vars["name"] = name
	}
	if def.Teams != nil {
		if t := old["team"]; t != "" {
			vars["team"] = t
		} else if name != "" {
			vars["team"] = name
		}
	}
	if l := old["lang"]; l != "" {
		vars["lang"] = l
	}
	if n := old[campaigns.VarSender]; n != "" {
		vars[campaigns.VarSender] = n // starting over does not move the chat to another number
	}
	for k, v := range old {
		if strings.HasPrefix(k, varCode) {
			vars[k] = v // a code is handed out once per participant, however often they play
		}
	}
	return vars
}

// joinLanguage sets the language of a participant who begins (or begins again): the language
// of the entry keyword they sent (keywords: {en: [NEWS]}), else, when nothing set one before,
// the channel's locale (the browser's language on the web chat). A language they choose in
// the campaign (save: {var: lang}) comes later and wins over both.
func (r *run) joinLanguage() {
	vars := r.p.Vars
	if r.in.Kind == KindText {
		if l := r.def.KeywordLanguage(r.in.Text); l != "" {
			vars[campaigns.VarLanguage] = l
			return
		}
	}
	if vars[campaigns.VarLanguage] == "" {
		if l := r.def.MatchLanguage(r.in.Locale); l != "" {
			vars[campaigns.VarLanguage] = l
		}
	}
}

// Language is the language a participant is spoken to in: the one they have (see
// joinLanguage and save: {var: lang}) when the campaign has texts in it, else its first.
func Language(def *campaigns.Definition, p Participant) string {
	if l := p.Vars[campaigns.VarLanguage]; l != "" && slices.Contains(def.Languages, l) {
		return l
	}
	return lang(def)
}

func lang(def *campaigns.Definition) string {
	if len(def.Languages) == 0 {
		return ""
	}
	return def.Languages[0]
}

// matchWord reports whether text is one of words, case-insensitively, as a whole message.
func matchWord(words []string, text string) bool {
	norm := strings.TrimSpace(text)
	for _, w := range words {
		if strings.EqualFold(norm, strings.TrimSpace(w)) {
			return true
		}
	}
	return false
}

// isOptOut reports whether text is an opt-out word. Punctuation and spaces around and inside
// it do not count ("Stop!", "stop.", "NRCQ-UIT"): whoever wants to leave must not stay
// subscribed for an exclamation mark.
func isOptOut(def *campaigns.Definition, text string) bool {
	if first, _ := looseField(text); first == "" {
		return false
	}
	for _, words := range [][]string{campaigns.DefaultOptOut, def.OptOut} {
		for _, w := range words {
			if looseEqual(text, w) {
				return true
			}
		}
	}
	return false
}

// looseEqual says a and b are the same words, case-insensitively, with punctuation counted
// as space and spaces not counted ("Stop!" is "stop"). The words are compared one by one
// where they lie: building each side's loose form (punctuation mapped to spaces, the fields
// joined) took some twenty allocations a text message, compared with each opt-out word
// (BenchmarkIsOptOut).
func looseEqual(a, b string) bool {
	for {
		fa, ra := looseField(a)
		fb, rb := looseField(b)
		if fa == "" || fb == "" {
			return fa == fb
		}
		if !strings.EqualFold(fa, fb) {
			return false
		}
		a, b = ra, rb
	}
}

// looseField returns the first word of s, where spaces and punctuation separate words, and
// what follows it; "" when s has none.
func looseField(s string) (field, rest string) {
	start := -1
	for i, r := range s {
		sep := unicode.IsSpace(r) || unicode.IsPunct(r)
		switch {
		case start < 0 && !sep:
			start = i
		case start >= 0 && sep:
			return s[start:i], s[i:]
		}
	}
	if start < 0 {
		return "", ""
	}
	return s[start:], ""
}

// comesBack reports whether text is a way back in: an entry keyword or a rejoin word (START
// when the definition names none).
func comesBack(def *campaigns.Definition, text string) bool {
	rejoin := def.Rejoin
	if rejoin == nil {
		rejoin = campaigns.DefaultRejoin
	}
	return matchWord(def.Keywords, text) || matchWord(rejoin, text)
}

// varStarted marks a participant whose run began (they entered a state of the definition): for
// a campaign without repeat, that was their one try. No save can write it (a dot is not a
// variable name).
const varStarted = "run.started"

// varLeft and varEnded keep, while a participant is opted out, the state they left and whether
// their run had ended there, so that coming back without repeat resumes that one try.
const (
	varLeft  = "run.left"
	varEnded = "run.ended"
)

// NotSentOptedOut is recorded on a reply held back because its participant opted out, in the
// outbox and in the transcript.
const NotSentOptedOut = "not sent: participant opted out"

// run is the working state of one step.
type run struct {
	// stepOf and participant are what step and p point to (Engine.step).
	stepOf      Step
	participant Participant
	e           *Engine
	ctx         context.Context
	def         *campaigns.Definition
	step        *Step
	p           *Participant
	in          StoredInbound
	now         time.Time
	full        map[string]bool
	timers      []Timer
	lastDue     time.Time
	// pool is the pool {{places_left}} speaks of in this step.
	pool string
	skip string
	// typed is the text of a message taken as a tap on the button it names (see typedChoice).
	typed string
	// answers says this step's replies may reach a participant who opted out: they answer
	// the participant's own message (the goodbye of the step that opts them out).
	answers bool
	// arrived is the state this step entered last, whose entered transitions settle runs.
	arrived *campaigns.State
	// rankedBefore is the ranked variable's value when the step began; ranks the {{rank}}
	// and {{rank_of}} of this step, once a text asked for them.
	rankedBefore string
	ranks        map[string]string
	ranksFor     string // the ranked variable's value ranks was worked out for
}

func (r *run) recordInbound() {
	in := r.in
	l := Line{ParticipantID: r.p.ID, Direction: In, Text: in.Text, At: in.At}
	switch in.Kind {
	case KindText:
	case KindMedia:
		l.MediaKey = in.Media.Key
	case KindChoice:
		if l.Text == "" {
			l.Text = in.Choice
		}
	case KindLocation:
		loc := in.Location
		l.Text = fmt.Sprintf("[location %.6f,%.6f]", loc.Latitude, loc.Longitude)
		if loc.Name != "" {
			l.Text += " " + loc.Name
		}
	case KindUnsupported:
		l.Text = "[a message that cannot be shown here]"
		if in.Text != "" {
			l.Text += " " + in.Text
		}
	default:
		return
	}
	r.step.Lines = append(r.step.Lines, l)
}

// begin greets a new (or restarting) participant: consent first when the definition asks for
// it, otherwise the start state. Whatever the first message said, they are greeted rather than
// judged against the start state.
func (r *run) begin() error {
	r.joinLanguage()
	if !r.def.Consent.IsZero() {
		r.p.State = StateConsent
		r.p.Entered = r.p.Version + 1
		r.step.CancelTimers = true
		r.timers = nil
		r.say(r.def.ConsentMessage())
		return nil
	}
	return r.enterStart()
}

// enterStart puts a participant who begins to play in the start state and, when a round is
// running, into that round as if it had started for them: its start reached only those
// playing then, and without it a late joiner would wait in the lobby for a start that is
// over.
func (r *run) enterStart() error {
	r.enter(r.def.States[r.def.Start])
	if r.p.Finished {
		return nil
	}
	// enter may have put a returning participant back in the state they left.
	st := r.def.States[r.p.State]
	round, err := r.e.openRound(r.ctx, r.def, r.now)
	if err != nil || round == "" || r.p.Vars["round"] == round {
		return err
	}
	in := r.in
	defer func() { r.in = in }()
	r.in = StoredInbound{ID: in.ID, Inbound: Inbound{Channel: in.Channel, Campaign: in.Campaign,
		From: in.From, ParticipantID: in.ParticipantID, Kind: KindRound, Round: round,
		RoundEvent: campaigns.RoundStarted, At: r.now}}
	r.p.Vars["round"] = round
	if t := r.match(st); t != nil {
		if err := r.do(t); err != nil {
			return err
		}
	}
	r.sayAssignment(r.in)
	return nil
}

// optedOut applies an event to a participant who opted out: silence, except for a way back in
// (an entry keyword or a rejoin word). That starts them over, consent asked again, when the
// campaign repeats or their run had not begun; otherwise it gives them back the one try they
// had: the state they left, or the finished text when their run had ended.
//
// An opt-in event (KindOptIn) is a way back too: the opt-in form keys its event by the number
// and, once they opted out, by their version too, so a new form reaches here.
func (r *run) optedOut(cur *campaigns.Definition) error {
	in, p := r.in, r.p
	switch {
	case in.Kind != KindOptIn && !in.fromParticipant():
		r.skip = "participant opted out"
	case in.Kind == KindJoin:
		r.skip = "join of a participant who opted out"
	case in.Kind == KindOptIn || in.Kind == KindText && comesBack(cur, in.Text):
		left := r.def.States[p.Vars[varLeft]]
		if cur.Repeat || p.Vars[varStarted] == "" || left == nil {
			return r.restart(cur)
		}
		if p.Vars[varEnded] != "" {
			delete(p.Vars, varLeft)
			delete(p.Vars, varEnded)
			p.State = left.Name
			p.Entered = p.Version + 1
			r.sayFinished()
			return nil
		}
		// Consent first, when the campaign asks for it; agreeing enters the state they left
		// (enter reads varLeft), not the start.
		p.Finished = false
		if !r.def.Consent.IsZero() {
			return r.begin()
		}
		r.enter(left)
	}
	// Anything else is kept in the transcript and not answered.
	return nil
}

// finished applies an event to a participant whose run ended: nothing moves them into another
// state. Their messages hear the finished text; an entry keyword or a rejoin word starts a new
// participation when the campaign repeats; an opt-out word opts them out.
func (r *run) finished(cur *campaigns.Definition) error {
	in := r.in
	switch {
	case in.Kind == KindText && isOptOut(r.def, in.Text):
		r.optOut(true)
	case !in.fromParticipant():
		r.skip = "participant has finished"
	case in.Kind == KindJoin:
		// Opening the chat again (a reload) is no message to answer.
		r.skip = "join of a participant who finished"
	case in.Kind == KindText && comesBack(cur, in.Text) && (cur.Repeat || r.def.States[r.p.State] == nil && r.p.Vars[varStarted] == ""):
		// A run that ended before it began (declining consent) was no try.
		return r.restart(cur)
	default:
		r.sayFinished()
	}
	return nil
}

// restart begins a new participation: the current version, fresh variables, consent asked
// again.
func (r *run) restart(cur *campaigns.Definition) error {
	p := r.p
	r.def = cur
	p.DefVersion, p.Finished = cur.Version, false
	p.Vars = freshVars(cur, p.Vars["name"], p.Vars)
	return r.begin()
}

// sayFinished says the finished text of the participant's state, else the campaign's, else the
// engine's.
func (r *run) sayFinished() {
	text := r.def.Finished
	if st := r.def.States[r.p.State]; st != nil && !st.Finished.IsZero() {
		text = st.Finished
	}
	if text.IsZero() {
		text = builtIn(r.def, func(t builtInText) string { return t.Finished })
	}
	r.sayText(text)
}

// hold keeps every reply of the step from a participant who opted out, unless it answers their
// own message (r.answers): each is recorded as not sent, in the outbox and the transcript. It
// runs on every step, whatever produced its replies, so no path can forget it; AgentSay and
// Broadcast, which queue replies outside a step, use holdBack too.
func (r *run) hold() {
	if r.answers {
		return
	}
	r.step.Lines = append(r.step.Lines, holdBack(*r.p, r.step.Outbox, r.now)...)
}

// holdBack marks rows cancelled with NotSentOptedOut when p opted out, and returns the
// transcript lines that show them as not sent.
func holdBack(p Participant, rows []Outbound, now time.Time) []Line {
	if p.State != StateOptedOut {
		return nil
	}
	var lines []Line
	for i := range rows {
		rows[i].Status, rows[i].Error = StatusCancelled, NotSentOptedOut
		lines = append(lines, Line{ParticipantID: p.ID, Direction: Out, Text: "[" + NotSentOptedOut + "] " + rows[i].Text, At: now})
	}
	return lines
}

// handle applies an event to a participant who is playing.
func (r *run) handle() error {
	in, p := r.in, r.p
	if in.Kind == KindText && isOptOut(r.def, in.Text) {
		// An optout transition's actions replace the default goodbye; either way the
		// participant is opted out.
		if st := r.def.States[p.State]; st != nil {
			for _, t := range st.On {
				if t.Kind == campaigns.OnOptOut && r.holds(t) {
					if err := r.do(t); err != nil {
						return err
					}
					r.optOut(false)
					return nil
				}
			}
		}
		r.optOut(true)
		return nil
	}
	switch in.Kind {
	case KindVerdict:
		if in.Verdict == campaigns.VerdictEliminated {
			p.Vars["eliminated"] = "true"
		}
		if in.Verdict == campaigns.VerdictWinner {
			// Marks them in the ranking, so picking the winners again passes them by.
			p.Vars[varWinner] = "true"
		}
	case KindRound:
		if in.RoundEvent == campaigns.RoundStarted {
			if p.Vars["round"] == in.Round {
				// Brought into the round when they joined (enterStart).
				r.skip = "round " + in.Round + " started for the participant already"
				return nil
			}
			p.Vars["round"] = in.Round
		}
	case KindHandback:
		if p.Vars["handoff"] == "" {
			r.skip = "not handed off"
			return nil
		}
		delete(p.Vars, "handoff")
		delete(p.Vars, varHandoffAt)
	}
	if in.Kind == KindText {
		// Typing a button's title is tapping it, on every channel.
		if id, ok := r.typedChoice(in.Text); ok {
			r.in.Kind, r.in.Choice = KindChoice, id
			in = r.in
		}
	}
	if p.State == StateConsent {
		return r.consent()
	}
	if p.Vars["handoff"] != "" && in.fromParticipant() {
		// A human has the conversation: keep the message and tell them, say nothing.
		r.notify(fmt.Sprintf("%s wrote: %s", r.displayName(), r.lastLineText()))
		return nil
	}
	st := r.def.States[p.State]
	if st == nil {
		return fmt.Errorf("engine: participant %s is in state %q, which campaign %s (version %s) does not have", p.ID, p.State, r.def.ID, r.def.Version)
	}
	t := r.match(st)
	if in.Kind == KindTimer && (t == nil || in.Seq != p.Entered) {
		r.skip = "stale timer " + in.Timer
		if t == nil && in.Seq == p.Entered {
			r.skip = "timer " + in.Timer + ": no condition (if:) of its after: transitions holds"
		}
		return nil
	}
	if t != nil {
		if err := r.do(t); err != nil {
			return err
		}
		r.sayAssignment(in)
		return nil
	}
	switch in.Kind {
	case KindVerdict:
		if in.Verdict != campaigns.VerdictEliminated {
			r.skip = fmt.Sprintf("no %s transition in state %s", in.Verdict, p.State)
		}
	case KindRound:
		r.sayAssignment(in)
	case KindHandback:
	case KindJoin:
		// Opening the chat again (a reload) is no message to answer.
		r.skip = "join of a participant who joined before"
	case KindOptIn:
		r.skip = "opt-in of a participant who is already playing"
	case KindUnsupported:
		r.sayText(builtIn(r.def, func(t builtInText) string { return t.Unsupported }))
	case KindLocation:
		if !r.outside(st) {
			r.fallback(st)
		}
	default:
		r.fallback(st)
	}
	return nil
}

// match finds the first transition of st, in file order, that the event fires and whose
// condition (if:) holds.
func (r *run) match(st *campaigns.State) *campaigns.Transition {
	in := r.in
	for _, t := range st.On {
		var ok bool
		switch in.Kind {
		case KindText:
			ok = t.MatchText(in.Text)
		case KindMedia:
			ok = t.MatchMedia(in.Media.Kind)
		case KindChoice:
			// A tapped button also answers a text transition written for its title.
			ok = t.MatchChoice(in.Choice) || (in.Text != "" && t.MatchText(in.Text))
		case KindLocation:
			ok = in.Location != nil && t.MatchLocation(in.Location.Latitude, in.Location.Longitude)
		case KindVerdict:
			ok = t.MatchVerdict(in.Verdict)
		case KindRound:
			ok = t.MatchRound(in.Round, in.RoundEvent)
		case KindHandback:
			ok = t.Kind == campaigns.OnHandback
		case KindTimer:
			ok = r.timerFires(st, t)
		case KindUnsupported:
			ok = in.Media != nil && t.MatchMedia(in.Media.Kind)
		}
		if ok && r.holds(t) {
			return t
		}
	}
	return nil
}

// do runs a transition's actions in the definition's order: Save, Collect, Set, Add, Take,
// IssueCode, Notify, Say, then Goto or End.
func (r *run) do(t *campaigns.Transition) error {
	in, p := r.in, r.p
	if in.Kind == KindLocation {
		r.saveLocation(t.Area)
	}
	if t.Save != nil {
		value, ok := validate(t.Save, r.answer(), r.now)
		if ok && t.Save.Var == campaigns.VarLanguage {
			// Only a language of the campaign: any other would leave them on the fallback
			// language without a word. "EN" or "en-GB" is en.
			value = r.def.MatchLanguage(value)
			ok = value != ""
		}
		if !ok {
			invalid := t.Save.Invalid
			if invalid.IsZero() {
				invalid = builtIn(r.def, func(t builtInText) string { return t.Invalid })
			}
			r.sayText(invalid)
			return nil
		}
		p.Vars[t.Save.Var] = value
		if in.Kind == KindChoice && in.Choice != "" {
			p.Vars[t.Save.Var+"_title"] = r.choiceTitle()
		}
	}
	if t.Collect && in.Media != nil {
		entry := Entry{
			ID: fmt.Sprintf("%s-%d", p.ID, in.ID), Campaign: r.def.ID, ParticipantID: p.ID,
			State: p.State, Kind: in.Media.Kind, MediaKey: in.Media.Key, ThumbKey: in.Media.ThumbKey,
			MIME: in.Media.MIME, Caption: in.Text, CreatedAt: r.now,
		}
		if p.Vars["lat"] != "" && p.Vars["lng"] != "" {
			entry.Location = p.Vars["lat"] + "," + p.Vars["lng"]
		}
		r.step.Entries = append(r.step.Entries, entry)
		p.Vars["entry"] = entry.ID
		if t.Count > 1 {
			n, _ := strconv.Atoi(p.Vars["collected"])
			n++
			if n < t.Count {
				p.Vars["collected"] = strconv.Itoa(n)
				r.sayText(builtIn(r.def, func(b builtInText) string {
					return strings.ReplaceAll(b.Progress, "{{count}}", strconv.Itoa(t.Count))
				}))
				return nil
			}
			delete(p.Vars, "collected")
		}
	}
	r.setNumbers(t)
	if t.Take != "" {
		pool := r.def.Pools[t.Take]
		r.pool = t.Take
		full := pool == nil || r.full[t.Take]
		if !full && pool.HasCodes() {
			got, err := r.takeCode(pool)
			if err != nil {
				return err
			}
			full = !got
		}
		if full {
			if t.TakeFull != "" {
				return r.goTo(t, t.TakeFull, false)
			}
			r.sayText(campaigns.Text{lang(r.def): "Sorry, there are no places left."})
			return nil
		}
		if !pool.HasCodes() {
			r.step.Places = append(r.step.Places, Place{Campaign: r.def.ID, Pool: t.Take, Capacity: pool.Capacity})
		}
		p.Vars["place"] = t.Take
	}
	if t.IssueCode {
		code := r.e.code()
		p.Vars["code"] = code
		r.step.Codes = append(r.step.Codes, code)
	}
	if !t.Notify.IsZero() {
		r.notify(r.render(t.Notify.In(p.Vars["lang"], lang(r.def))))
	}
	for _, m := range t.Say {
		r.say(m)
	}
	if t.End {
		r.finish()
	}
	if t.Goto == "" {
		return nil
	}
	return r.goTo(t, t.Goto, true)
}

// answer is what a Save checks: the text, or a tapped button's id.
func (r *run) answer() string {
	if r.in.Kind == KindChoice && r.in.Choice != "" {
		return r.in.Choice
	}
	return r.in.Text
}

// goTo moves the participant to dst through a looplab/fsm machine built for them (for a
// transition's Goto), or directly (the TakeFull branch).
func (r *run) goTo(t *campaigns.Transition, dst string, viaMachine bool) error {
	st := r.def.States[dst]
	if st == nil {
		return fmt.Errorf("engine: transition %s goes to %q, which campaign %s (version %s) does not have", t.Name, dst, r.def.ID, r.def.Version)
	}
	if !viaMachine || r.p.State == dst {
		// A transition back into the same state re-enters it: the participant hears the
		// state's message again, as they would on any other way in.
		r.enter(st)
		return nil
	}
	m := r.machine()
	err := m.Event(r.ctx, t.Name)
	var noTransition fsm.NoTransitionError
	if errors.As(err, &noTransition) {
		r.enter(st)
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine: transition %s for participant %s: %w", t.Name, r.p.ID, err)
	}
	r.p.State = m.Current()
	return nil
}

// machine builds the participant's state machine: one fsm event per transition of the
// definition, starting from the stored state; entering a state runs its actions.
func (r *run) machine() *fsm.FSM {
	var events fsm.Events
	for _, name := range r.def.Order {
		for _, t := range r.def.States[name].On {
			if t.Goto != "" {
				events = append(events, fsm.EventDesc{Name: t.Name, Src: []string{name}, Dst: t.Goto})
			}
		}
	}
	return fsm.NewFSM(r.p.State, events, fsm.Callbacks{
		"enter_state": func(_ context.Context, ev *fsm.Event) {
			r.enter(r.def.States[ev.Dst])
		},
	})
}

// enter puts the participant in st: the timers of the state left are cancelled and st's are
// set, a hand-off starts, st's messages are said, and a final state finishes the run. Agreeing
// to consent again on coming back (see optedOut) enters the state they had left instead of
// the start.
func (r *run) enter(st *campaigns.State) {
	p := r.p
	if left := r.def.States[p.Vars[varLeft]]; left != nil && p.State == StateConsent && st.Name == r.def.Start {
		st = left
	}
	delete(p.Vars, varLeft)
	delete(p.Vars, varEnded)
	p.State = st.Name
	p.Entered = p.Version + 1
	p.Vars[varStarted] = "true"
	r.step.CancelTimers = true
	r.timers = nil
	r.arrived = st
	first := firstTimers(st)
	for _, t := range st.On {
		if first[t] && !st.Final {
			r.timers = append(r.timers, Timer{
				Key:      fmt.Sprintf("timer:%s:%s:%d", p.ID, t.Name, p.Entered),
				Campaign: r.def.ID, ParticipantID: p.ID, Transition: t.Name, Seq: p.Entered,
				DueAt: r.now.Add(t.After),
			})
		}
	}
	if st.Handoff == "" && p.Vars["handoff"] != "" {
		// Moved out of the hand-off state by something else than a handback (its time limit,
		// a verdict): the bot has the conversation again, or it would stay silent for good.
		delete(p.Vars, "handoff")
		delete(p.Vars, varHandoffAt)
	}
	if st.Handoff != "" {
		if p.Vars["handoff"] != st.Handoff {
			// The team's queue is ordered by this: a participant keeps their place while
			// they wait, however often they write.
			p.Vars[varHandoffAt] = r.now.UTC().Format(time.RFC3339Nano)
		}
		p.Vars["handoff"] = st.Handoff
		r.notify(fmt.Sprintf("%s is handed to %s", r.displayName(), st.Handoff))
	}
	for _, m := range st.Say {
		r.say(m)
	}
	if st.Final {
		r.finish()
	}
}

// finish ends the participant's run.
func (r *run) finish() {
	r.p.Finished = true
	r.step.CancelTimers = true
	r.timers = nil
}

// optOut unsubscribes the participant: nothing more is sent to them, said once (by the
// definition's OptOutSay or the engine's default when say is set, else by the optout
// transition that ran).
func (r *run) optOut(say bool) {
	p := r.p
	// The state they leave, kept for coming back; opting out at the consent question of a
	// return keeps the state they had left before.
	if r.def.States[p.State] != nil {
		p.Vars[varLeft] = p.State
		if p.Finished {
			p.Vars[varEnded] = "true"
		}
	}
	p.State = StateOptedOut
	p.Entered = p.Version + 1
	r.finish()
	r.step.CancelOutbox = true
	r.answers = true
	if !say {
		return
	}
	msg := r.def.OptOutSay
	if msg.IsZero() {
		msg = builtIn(r.def, func(t builtInText) string { return t.OptOut })
	}
	r.sayText(msg)
}

func (r *run) displayName() string {
	for _, k := range []string{"team", "name"} {
		if v := r.p.Vars[k]; v != "" {
			return v
		}
	}
	return r.p.Address
}

func (r *run) lastLineText() string {
	if n := len(r.step.Lines); n > 0 {
		l := r.step.Lines[n-1]
		if l.MediaKey != "" && l.Text == "" {
			return "[" + r.in.Media.Kind + "]"
		}
		return l.Text
	}
	return ""
}

func (r *run) notify(text string) {
	r.step.Notifications = append(r.step.Notifications, Notification{
		Campaign: r.def.ID, ParticipantID: r.p.ID, Text: text, At: r.now})
}

func findRound(def *campaigns.Definition, name string) *campaigns.Round {
	for _, rd := range def.Rounds {
		if rd.Name == name {
			return rd
		}
	}
	return nil
}

// vars are what a message can use: the participant's variables, the persona's name, the
// places left in the step's pool and the participant's rank (each worked out only when a text
// asks for it).
func (r *run) render(text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	vars := map[string]string{"persona": r.def.Persona.Name}
	fillNumbers(r.def, vars)
	for k, v := range r.p.Vars {
		vars[k] = v
	}
	if strings.Contains(text, "places_left") {
		vars["places_left"] = r.placesLeft()
	}
	if strings.Contains(text, "rank") {
		r.rankVars(vars)
	}
	if rk := r.def.Ranking; rk != nil && rk.Top > 0 {
		vars["top"] = strconv.Itoa(rk.Top)
	}
	return campaigns.Render(text, vars)
}

func (r *run) placesLeft() string {
	name := r.pool
	if name == "" {
		names := make([]string, 0, len(r.def.Pools))
		for n := range r.def.Pools {
			names = append(names, n)
		}
		if len(names) == 0 {
			return ""
		}
		sort.Strings(names)
		name = names[0]
	}
	pool := r.def.Pools[name]
	if pool == nil {
		return ""
	}
	if pool.HasCodes() {
		return r.codesLeft(name)
	}
	taken, err := r.e.store.PoolTaken(r.ctx, r.def.ID, name)
	if err != nil {
		r.e.log.Warn("places left", "campaign", r.def.ID, "pool", name, "err", err)
		return ""
	}
	for _, pl := range r.step.Places {
		if pl.Pool == name {
			taken++
		}
	}
	return strconv.Itoa(max(0, pool.Capacity-taken))
}

// sayText queues a plain reply.
func (r *run) sayText(t campaigns.Text) {
	r.say(campaigns.Message{Text: t})
}

// say queues a reply, due after the persona's typing delay counted from the participant's
// previous reply: of this step, or of an earlier step still being typed (a second message
// 0.2s after the first is answered after the first's answer, not before it, however long
// that one takes to type). Replies cancelled in this step (opting out) are not waited for.
func (r *run) say(m campaigns.Message) {
	out := r.e.render(r.def, r.p, m, r.render)
	start := r.now
	if r.lastDue.After(start) {
		start = r.lastDue
	}
	if !r.step.CancelOutbox && r.p.LastReplyDue.After(start) {
		start = r.p.LastReplyDue
	}
	r.lastDue = start.Add(r.def.Persona.Delay(out.Text))
	out.DueAt = r.lastDue
	r.p.LastReplyDue = r.lastDue
	r.step.Outbox = append(r.step.Outbox, out)
}

// workedOutVars are the variables a text's fill works out when asked, which the participant's
// variables do not hold; a template parameter naming one is filled as the text would be.
var workedOutVars = []string{"rank", "rank_of", "top", "places_left", "persona"}

// render turns a definition message into a reply to p: text in their language, buttons,
// media, and the template (with its parameters filled in) for when their window is closed.
func (e *Engine) render(def *campaigns.Definition, p *Participant, m campaigns.Message, fill func(string) string) Outbound {
	l := p.Vars["lang"]
	out := Outbound{
		ParticipantID: p.ID, Campaign: def.ID, Channel: p.Channel, To: p.Address,
		From: p.Vars[campaigns.VarSender], Text: fill(m.Text.In(l, lang(def))), MediaURL: fill(m.Media), Status: StatusPending,
	}
	for _, b := range m.Buttons {
		out.Buttons = append(out.Buttons, Button{ID: b.ID, Title: fill(b.Title.In(l, lang(def)))})
	}
	if tm := def.Templates[m.Template]; m.Template != "" && tm != nil {
		call := &TemplateCall{Name: tm.Name, Language: tm.LanguageFor(l)}
		for _, param := range tm.Params {
			switch {
			case strings.Contains(param, "{{"):
				call.Params = append(call.Params, fill(param))
			case slices.Contains(workedOutVars, param):
				call.Params = append(call.Params, fill("{{"+param+"}}"))
			default:
				call.Params = append(call.Params, varValue(def, p.Vars, param))
			}
		}
		out.Template = call
	}
	return out
}

// sayAssignment tells a team still in the race what a round that starts asks of them, after
// whatever its state said on the way in.
func (r *run) sayAssignment(in StoredInbound) {
	if in.Kind != KindRound || in.RoundEvent != campaigns.RoundStarted || r.p.Finished {
		return
	}
	if rd := findRound(r.def, in.Round); rd != nil && !rd.Assignment.IsZero() {
		r.sayText(rd.Assignment)
	}
}
