package dashboard

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Broadcaster sends one message to the participants of a campaign in an audience (a state, a
// variable's value), and reports how far it got; *engine.Engine satisfies it.
type Broadcaster interface {
	// BroadcastTo queues msg for the unfinished participants of campaign in the audience and
	// returns the broadcast's id and how many were queued; errs.ErrInvalid for an empty
	// message or an unknown template, errs.ErrNotFound for an unknown campaign.
	BroadcastTo(ctx context.Context, campaign string, to engine.Audience, msg campaigns.Message) (id string, queued int, err error)
	// BroadcastReport counts a broadcast's replies by status; errs.ErrNotFound for an unknown
	// broadcast.
	BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error)
}

var _ Broadcaster = (*engine.Engine)(nil)

// maxBroadcast bounds a broadcast's text, as an agent's reply is bounded.
const maxBroadcast = maxReply

// broadcastForm is what the campaign page offers for a broadcast.
type broadcastForm struct {
	States    []string
	Templates []string
	// Vars are the variables a broadcast can pick participants by: those the definition
	// saves, and lang in a campaign of several languages.
	Vars []string
	// First is the first language, whose text everyone without one in theirs gets; Others
	// the other languages, each with a text field of its own (text_LANG).
	First  string
	Others []string
	// Paced says the form leads to a plan to confirm; Prices links the price table page.
	Paced, Prices bool
}

// broadcastFormFor is the campaign page's broadcast form on this dashboard.
func (d *Dashboard) broadcastFormFor(def *campaigns.Definition) broadcastForm {
	f := broadcastFormOf(def)
	f.Paced, f.Prices = d.plans != nil, d.prices != nil
	return f
}

func broadcastFormOf(def *campaigns.Definition) broadcastForm {
	var f broadcastForm
	for _, name := range def.Order {
		st := def.States[name]
		if st == nil {
			continue
		}
		if !st.Final {
			f.States = append(f.States, name)
		}
		for _, t := range st.On {
			// What a save, set: or add: gives a value: a broadcast to topic = sport, to
			// medal = gold, to points = 5.
			names := slices.Collect(maps.Keys(t.Set))
			names = append(names, slices.Collect(maps.Keys(t.Add))...)
			if t.Save != nil {
				names = append(names, t.Save.Var)
			}
			for _, n := range names {
				if n != "" && !slices.Contains(f.Vars, n) {
					f.Vars = append(f.Vars, n)
				}
			}
		}
	}
	if len(def.Languages) > 1 && !slices.Contains(f.Vars, campaigns.VarLanguage) {
		f.Vars = append(f.Vars, campaigns.VarLanguage)
	}
	slices.Sort(f.Vars)
	for k := range def.Templates {
		f.Templates = append(f.Templates, k)
	}
	slices.Sort(f.Templates)
	if len(def.Languages) > 0 {
		f.First, f.Others = def.Languages[0], def.Languages[1:]
	}
	return f
}

// broadcast queues an admin's message to a campaign's participants and shows its progress.
// The form gives the state (every step when empty), a variable and its value (everyone when
// empty), the text in the first language (text) and in each other one (text_LANG, optional:
// who speaks it gets the first language's otherwise), and the template for those whose
// 24-hour window is closed.
func (d *Dashboard) broadcast(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not broadcast: %w", u.Username, errForbidden)
	}
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	def := ci.Def
	back := "/dashboard/campaigns/" + def.ID
	fail := func(msg string) error { return d.broadcastAgain(c, def, msg) }
	to, msg, bad, err := broadcastRequest(c, def)
	if err != nil {
		return err
	}
	if bad != "" {
		return fail(bad)
	}
	if d.plans != nil {
		// Paced broadcasts: the form leads to the plan, and only its Confirm sends.
		return d.showPlan(c, ci, to, msg)
	}
	tmpl := msg.Template
	id, queued, err := d.broadcaster.BroadcastTo(ctx, def.ID, to, msg)
	if err != nil {
		return fmt.Errorf("dashboard: broadcast to %s: %w", def.ID, err)
	}
	if queued == 0 {
		msg := "Nobody to send to: no participant is in that state."
		switch {
		case to.Var != "":
			msg = fmt.Sprintf("Nobody to send to: no participant playing there has %s = %s.", to.Var, to.Value)
		case to.State == "":
			msg = "Nobody to send to: no participant is playing (those who finished, opted out or have not agreed to take part yet are left out)."
		}
		return fail(msg)
	}
	d.recordBroadcast(ctx, id, def.ID, to, shownText(def, to, msg.Text), tmpl, u.Username, queued)
	if err := d.record(c, audit.Event{Action: audit.Broadcast, Campaign: def.ID, Subject: id, Detail: broadcastDetail(to, tmpl, queued)}); err != nil {
		return err
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Broadcast queued for %s.", count(queued, "participant", "participants"))})
	return c.Redirect(back+"/broadcasts/"+id, fiber.StatusSeeOther)
}

// broadcastDraft is what was typed in the broadcast form, shown in it again: after a refusal
// (a text too long, nobody to send to) and from the plan page's Back, so nothing typed is
// lost. Text is by field name (text, text_LANG).
type broadcastDraft struct {
	State, Var, Value, Template string
	Text                        map[string]string
	// Open says the form is shown again: the page leads to it.
	Open bool
}

// draftOf copies the broadcast form as it was sent, valid or not.
func draftOf(c *fiber.Ctx, def *campaigns.Definition) broadcastDraft {
	dr := broadcastDraft{State: strings.Clone(c.FormValue("state")), Var: strings.Clone(c.FormValue("var")),
		Value: strings.Clone(c.FormValue("value")), Template: strings.Clone(c.FormValue("template")),
		Text: map[string]string{}, Open: true}
	form := broadcastFormOf(def)
	dr.Text["text"] = strings.Clone(c.FormValue("text"))
	for _, l := range form.Others {
		dr.Text["text_"+l] = strings.Clone(c.FormValue("text_" + l))
	}
	return dr
}

// broadcastAgain shows the campaign page with the broadcast form as it was sent and why it
// was not sent (422): the admin fixes it rather than typing it again.
func (d *Dashboard) broadcastAgain(c *fiber.Ctx, def *campaigns.Definition, why string) error {
	c.Locals(localFlash, flash{Message: why, Error: true})
	return d.showCampaign(c, fiber.StatusUnprocessableEntity, draftOf(c, def))
}

// editBroadcast is the plan page's Back: the campaign page with the form as it was planned.
func (d *Dashboard) editBroadcast(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not broadcast: %w", u.Username, errForbidden)
	}
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return d.showCampaign(c, fiber.StatusOK, draftOf(c, ci.Def))
}

// broadcastRequest reads the broadcast form: the audience and the message. A form that
// cannot be sent gives bad, the reason in words for the admin; a field no form offers (a
// state or template the campaign lacks) gives err.
func broadcastRequest(c *fiber.Ctx, def *campaigns.Definition) (to engine.Audience, msg campaigns.Message, bad string, err error) {
	form := broadcastFormOf(def)
	to = engine.Audience{State: strings.Clone(c.FormValue("state")), Var: strings.Clone(c.FormValue("var")),
		Value: strings.TrimSpace(strings.Clone(c.FormValue("value")))}
	tmpl := strings.Clone(c.FormValue("template"))
	if to.State != "" && !slices.Contains(form.States, to.State) {
		return to, msg, "", fmt.Errorf("dashboard: broadcast to %s: %w: state %q", def.ID, errs.ErrInvalid, to.State)
	}
	if to.Var != "" && !slices.Contains(form.Vars, to.Var) {
		return to, msg, "", fmt.Errorf("dashboard: broadcast to %s: %w: variable %q", def.ID, errs.ErrInvalid, to.Var)
	}
	if _, ok := def.Templates[tmpl]; tmpl != "" && !ok {
		return to, msg, "", fmt.Errorf("dashboard: broadcast to %s: %w: template %q", def.ID, errs.ErrInvalid, tmpl)
	}
	text := campaigns.Text{}
	for i, l := range append([]string{form.First}, form.Others...) {
		field := "text_" + l
		if i == 0 {
			field = "text"
		}
		s := strings.TrimSpace(c.FormValue(field))
		if s == "" {
			continue
		}
		if len([]rune(s)) > maxBroadcast {
			return to, msg, fmt.Sprintf("A broadcast can be at most %d characters.", maxBroadcast), nil
		}
		text[l] = strings.Clone(s)
	}
	onlyLang := "" // the one language of a broadcast to lang = en
	if to.Var == campaigns.VarLanguage {
		onlyLang = def.MatchLanguage(to.Value)
	}
	switch {
	case text[form.First] == "" && onlyLang != "" && text[onlyLang] != "":
		// To the speakers of one language, their text is enough: nobody it reaches falls
		// back to the first language's.
	case text[form.First] == "" && len(form.Others) > 0:
		bad = fmt.Sprintf("Type the message in %s first: who has no text in their language gets that one.", form.First)
	case text[form.First] == "":
		bad = "Type the message first."
	case to.Var != "" && to.Value == "":
		bad = fmt.Sprintf("Give the value of %s the participants must have, or choose no variable.", to.Var)
	case to.Var == "" && to.Value != "":
		bad = "Choose the variable the value is of, or leave the value empty."
	case to.Var == campaigns.VarLanguage && onlyLang == "":
		bad = fmt.Sprintf("lang is a language code of the campaign (%s), not %q.", strings.Join(def.Languages, ", "), to.Value)
	}
	return to, campaigns.Message{Text: text, Template: tmpl}, bad, nil
}

// shownText is the text the history keeps of a broadcast: the first language's, or the one
// language's of a broadcast to lang = that language.
func shownText(def *campaigns.Definition, to engine.Audience, text campaigns.Text) string {
	if first := broadcastFormOf(def).First; text[first] != "" {
		return text[first]
	}
	if to.Var == campaigns.VarLanguage {
		return text[def.MatchLanguage(to.Value)]
	}
	return ""
}

// broadcastDetail says in the audit trail whom a broadcast went to.
func broadcastDetail(to engine.Audience, tmpl string, queued int) string {
	who := "everyone playing"
	if to.State != "" {
		who = "state " + to.State
	}
	if to.Var != "" {
		who += ", " + to.Var + " = " + to.Value
	}
	out := fmt.Sprintf("to %s: %s queued", who, count(queued, "participant", "participants"))
	if tmpl != "" {
		out += ", template " + tmpl
	}
	return out
}

// broadcastView is a broadcast's progress and delivery report.
type broadcastView struct {
	Campaign CampaignInfo
	Report   engine.BroadcastReport
	// Done counts replies that will not change any more (sent, failed, cancelled); Percent
	// is Done of Total.
	Done, Percent int
	// Sent is the history's record of the broadcast (nil for one sent before it was kept);
	// Recipients a page of its replies, Next the link to the next page.
	Sent       *sentBroadcast
	Recipients []engine.Outbound
	Next       string
}

func (d *Dashboard) broadcastPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	id := c.Params("bid")
	if b, ok, err := d.pacedBroadcast(ctx, ci.Def.ID, id); err != nil {
		return err
	} else if ok {
		return d.broadcastRun(c, ci, b)
	}
	if d.broadcaster == nil {
		return fmt.Errorf("dashboard: broadcast %s: %w", id, errs.ErrNotFound)
	}
	r, err := d.broadcaster.BroadcastReport(ctx, id)
	if err != nil {
		return fmt.Errorf("dashboard: broadcast %s: %w", id, err)
	}
	if r.Campaign != ci.Def.ID {
		return fmt.Errorf("dashboard: broadcast %s of %s: %w", id, ci.Def.ID, errs.ErrNotFound)
	}
	v := broadcastView{Campaign: ci, Report: r, Done: r.Sent + r.Failed + r.Cancelled}
	if r.Total > 0 {
		v.Percent = v.Done * 100 / r.Total
	}
	if err := d.broadcastDetail(c, &v, id); err != nil {
		return err
	}
	return d.render(c, fiber.StatusOK, "broadcast", v)
}
