package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// The participant variables a consent answer is recorded in (kept until the participant
// starts over, shown in the dashboard).
const (
	// VarConsent is "yes" or "no".
	VarConsent = "consent"
	// VarConsentBy is how they answered: `button "Yes, I agree"` or `text "ok"`.
	VarConsentBy = "consent_by"
	// VarConsentChannel is the channel they answered on.
	VarConsentChannel = "consent_channel"
	// VarConsentVersion is what they answered: campaigns.Definition.ConsentVersion.
	VarConsentVersion = "consent_version"
	// VarConsentAt is when, in RFC 3339 (UTC).
	VarConsentAt = "consent_at"
)

// Consent is a participant's recorded answer to the consent question.
type Consent struct {
	Answer  string // yes or no; empty when none is recorded
	By      string
	Channel string
	Version string
	At      time.Time
}

// ConsentOf reads the consent answer recorded in a participant's variables.
func ConsentOf(p Participant) Consent {
	c := Consent{
		Answer: p.Vars[VarConsent], By: p.Vars[VarConsentBy], Channel: p.Vars[VarConsentChannel],
		Version: p.Vars[VarConsentVersion],
	}
	c.At, _ = time.Parse(time.RFC3339, p.Vars[VarConsentAt])
	return c
}

// consent answers an event of a participant asked for consent: a yes (the yes button, or a
// yes word) enters the start state, a no (the no button or a no word) ends politely, and
// anything else asks again. Events that are not the participant's wait for nothing: there is
// nothing to judge, time or hand back yet.
func (r *run) consent() error {
	in := r.in
	switch {
	case in.Kind == KindJoin:
		// Opening the chat again (a reload) shows the question; it answers nothing.
		r.skip = "join of a participant asked for consent"
		return nil
	case !in.fromParticipant():
		r.skip = fmt.Sprintf("%s event before consent", in.Kind)
		return nil
	}
	var yes, no bool
	switch in.Kind {
	case KindChoice:
		yes, no = in.Choice == campaigns.ConsentYesID, in.Choice == campaigns.ConsentNoID
	case KindText:
		yes, no = r.def.ConsentReply(in.Text)
	}
	switch {
	case yes:
		r.recordConsent("yes")
		return r.enterStart()
	case no:
		r.recordConsent("no")
		r.decline()
	default:
		r.sayText(r.def.ConsentHint())
		r.say(r.def.ConsentMessage())
	}
	return nil
}

// recordConsent keeps the answer with the participant: what, how, where, to which text, when.
func (r *run) recordConsent(answer string) {
	in, vars := r.in, r.p.Vars
	how := "text"
	if r.typed == "" && in.Kind == KindChoice {
		how = "button"
	}
	said := in.Text
	if said == "" {
		said = in.Choice
	}
	vars[VarConsent] = answer
	vars[VarConsentBy] = fmt.Sprintf("%s %q", how, strings.TrimSpace(said))
	vars[VarConsentChannel] = in.Channel
	vars[VarConsentVersion] = r.def.ConsentVersion(vars["lang"])
	vars[VarConsentAt] = r.now.UTC().Format(time.RFC3339)
}

// decline ends the participation of someone who said no to the consent question.
func (r *run) decline() {
	r.p.State = StateDeclined
	r.p.Entered = r.p.Version + 1
	r.finish()
	r.sayText(r.def.ConsentDeclined())
}

// declined answers an event of a participant who said no to consent; a non-empty result says
// why it has no effect. The entry keyword (any message, in a campaign without keywords) or a
// new opt-in starts them over with the question asked again; an opt-out word opts them out;
// other messages hear how to start again. Nothing else reaches them.
func (r *run) declined(cur *campaigns.Definition) (string, error) {
	in := r.in
	restart := in.Kind == KindOptIn
	switch {
	case in.Kind == KindText && isOptOut(r.def, in.Text):
		r.optOut(true)
		return "", nil
	case in.Kind == KindJoin:
		return "join of a participant who declined consent", nil
	case restart && r.e.unavailable(cur, r.now, false) != "":
		return "opt-in while the campaign is not running", nil
	case !in.fromParticipant() && !restart:
		return "participant declined consent", nil
	case len(cur.Keywords) > 0:
		restart = restart || in.Kind == KindText && matchWord(cur.Keywords, in.Text)
	default:
		restart = true
	}
	if !restart {
		r.sayText(r.def.ConsentDeclined())
		return "", nil
	}
	p := r.p
	if !cur.Repeat && p.Vars[varStarted] != "" && r.def.States[p.Vars[varLeft]] != nil {
		// They said no on coming back after opting out in the middle of their one try: the
		// question again, and a yes resumes that try (enter reads varLeft), as optedOut does.
		p.Finished = false
		return "", r.begin()
	}
	// Starting over: the current version, fresh variables, consent asked again.
	r.def = cur
	p.DefVersion, p.Finished = cur.Version, false
	p.Vars = freshVars(cur, p.Vars["name"], p.Vars)
	return "", r.begin()
}

// typedChoice maps a text to the id of the button it is the title of, among the buttons the
// participant was offered in their current state (compared case-insensitively, punctuation
// and spaces not counted: "yes please!" is "Yes please").
func (r *run) typedChoice(text string) (string, bool) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return "", false
	}
	for _, b := range r.offered() {
		// A title of punctuation alone ("?") is compared as it is.
		if first, _ := looseField(b.Title); first != "" && looseEqual(text, b.Title) ||
			first == "" && trimmed == strings.TrimSpace(b.Title) {
			r.typed = text
			return b.ID, true
		}
	}
	return "", false
}

// offered are the buttons the participant was offered in their current state
// (campaigns.Definition.Offered, or the consent question's), titled as they saw them.
func (r *run) offered() []Button {
	buttons := r.def.Offered(r.p.State)
	if r.p.State == StateConsent {
		buttons = r.def.ConsentMessage().Buttons
	}
	if len(buttons) == 0 {
		return nil
	}
	return r.e.render(r.def, r.p, campaigns.Message{Buttons: buttons}, r.render).Buttons
}

// Consent returns the consent answer recorded for a participant (zero when none is).
func (e *Engine) Consent(ctx context.Context, participantID string) (Consent, error) {
	p, err := e.store.Participant(ctx, participantID)
	if err != nil {
		return Consent{}, fmt.Errorf("engine: consent of %s: %w", participantID, err)
	}
	return ConsentOf(p), nil
}

// Offered returns the buttons a participant can tap in their current state, titled as they
// were offered (none for a finished participant): what a page that shows the transcript again
// puts under the last message.
func (e *Engine) Offered(ctx context.Context, participantID string) ([]Button, error) {
	p, err := e.store.Participant(ctx, participantID)
	if err != nil {
		return nil, fmt.Errorf("engine: buttons offered to %s: %w", participantID, err)
	}
	def, ok := e.definition(p.Campaign, p.DefVersion)
	if !ok || p.Finished {
		return nil, nil
	}
	r := &run{e: e, ctx: ctx, def: def, step: &Step{}, p: &p, now: e.now()}
	return r.offered(), nil
}
