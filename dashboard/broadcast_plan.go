package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/csvcell"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/pricing"
)

// BroadcastService plans paced broadcasts, starts them once an admin confirmed the plan, and
// steers and reports them; *broadcast.Service satisfies it.
type BroadcastService interface {
	// Plan says what a broadcast would reach, when and at what cost, sending nothing;
	// errs.ErrInvalid for a message it cannot send, errs.ErrNotFound for an unknown campaign.
	Plan(ctx context.Context, r broadcast.Request) (broadcast.Plan, error)
	// Start plans again and starts the broadcast: its recipients go at the pace the plan says.
	Start(ctx context.Context, r broadcast.Request) (broadcast.Broadcast, error)
	Pause(ctx context.Context, id, reason, by string) error
	Resume(ctx context.Context, id, by string) error
	Cancel(ctx context.Context, id, by string) error
	// Get returns one broadcast, or an error wrapping errs.ErrNotFound.
	Get(ctx context.Context, id string) (broadcast.Broadcast, error)
	Report(ctx context.Context, id string) (broadcast.Report, error)
	// Recipients lists a broadcast's recipients in order, the page after Seq after.
	Recipients(ctx context.Context, id string, after int64, limit int) ([]broadcast.Recipient, error)
}

// The pages of paced broadcasts and prices, parsed with the others.
func init() {
	pageNames = append(pageNames, "broadcastplan", "broadcastrun", "prices")
	funcs["num"] = thousands
	funcs["reason"] = reasonText
	funcs["money"] = func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	funcs["price"] = func(f float64) string {
		s := strconv.FormatFloat(f, 'f', 4, 64)
		s = strings.TrimRight(s, "0")
		if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i < 3 {
			s += strings.Repeat("0", 3-(len(s)-i))
		}
		return s
	}
}

// thousands writes n with a comma between thousands: 20,000 reads at a glance.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// mountPlans adds the paced broadcasts' routes: the plan's Confirm, the broadcast's buttons
// and its recipients as CSV.
func (d *Dashboard) mountPlans(a guarded) {
	a.Post("/campaigns/:id/broadcast/confirm", d.confirmBroadcast)
	a.Post("/campaigns/:id/broadcast/edit", d.editBroadcast)
	a.Post("/campaigns/:id/broadcasts/:bid/pause", d.steerBroadcast("pause"))
	a.Post("/campaigns/:id/broadcasts/:bid/resume", d.steerBroadcast("resume"))
	a.Post("/campaigns/:id/broadcasts/:bid/cancel", d.steerBroadcast("cancel"))
	a.Get("/campaigns/:id/broadcasts/:bid/recipients.csv", d.recipientsCSV)
}

// field is one form value the plan page carries to its Confirm button.
type field struct{ Name, Value string }

// reasonCount is one line of a by-reason count.
type reasonCount struct {
	Reason string
	Count  int
}

// reasonWords says the pacer's reasons in words for the pages; a reason without words (a
// platform's error text) is shown as it is.
var reasonWords = map[string]string{
	broadcast.SkipOptedOut:         "opted out of the campaign",
	broadcast.SkipStoppedMarketing: "asked for no marketing messages",
	broadcast.SkipMarketingLimit:   "held back by WhatsApp in the last 24 hours (131049)",
	broadcast.SkipFrequencyCap:     "over the frequency cap",
	broadcast.SkipNoTemplate:       "window closed and no template",
	broadcast.SkipWindowClosed:     "outside the channel's 24-hour window (no templates there)",
	broadcast.SkipCancelled:        "the broadcast was cancelled",
	broadcast.SkipDuplicate:        "listed twice",
	broadcast.FailOptOut:           "opted out of marketing (131050)",
	broadcast.FailMarketingLimit:   "held back by WhatsApp (131049)",
	broadcast.FailSpamRate:         "the number's spam rate limit (131048)",
}

// reasonText is a reason as the pages say it.
func reasonText(r string) string {
	if w, ok := reasonWords[r]; ok {
		return w
	}
	return r
}

func byReason(m map[string]int) []reasonCount {
	var out []reasonCount
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			out = append(out, reasonCount{reasonText(k), m[k]})
		}
	}
	return out
}

// planDay is one day of a plan as the page lists it.
type planDay struct {
	Label string
	Start time.Time
	Count int
}

// planView is the plan page: what the broadcast would do, and the form to confirm it.
type planView struct {
	Campaign CampaignInfo
	Plan     broadcast.Plan
	Text     string
	Template *campaigns.Template
	Category string
	Fields   []field
	Limit    string
	// LimitKnown is false when the number's messaging limit was never read: the plan then
	// cannot say how many days it takes.
	LimitKnown bool
	// Counted is true when the pacer keeps to a limit (the number's, or the lowest tier while
	// it is not known): the broadcasts it sent in the last 24 hours and what is left today are
	// its own counts then.
	Counted  bool
	Days     []planDay
	DayChart template.HTML
	Skipped  []reasonCount
	Cost     broadcast.Cost
	// Priced is false when no price table is set: the cost is not known at all.
	Priced bool
	Nobody bool
}

// limitText says a number's messaging limit in words.
func limitText(h broadcast.NumberHealth) (string, bool) {
	switch {
	case h.Limit == broadcast.Unlimited:
		return "unlimited", true
	case h.Limit > 0:
		return thousands(h.Limit) + " people a day (a moving 24 hours) outside their window", true
	}
	return "not known: the number's messaging limit has not been read from WhatsApp", false
}

// showPlan shows what a broadcast would do before anything is sent: who is inside the
// 24-hour window, who needs the template, what the number's limit allows today and over how
// many days the rest goes, who is skipped and why, and the cost; Confirm starts it.
func (d *Dashboard) showPlan(c *fiber.Ctx, ci CampaignInfo, to engine.Audience, msg campaigns.Message) error {
	ctx := c.UserContext()
	if d.prices != nil {
		// Another server may have changed the prices; the plan uses the stored ones.
		if err := d.prices.Load(ctx); err != nil {
			d.log.Error("dashboard: prices not reloaded for a plan", "err", err)
		}
	}
	u := currentUser(c)
	p, err := d.plans.Plan(ctx, broadcast.Request{Campaign: ci.Def.ID, Audience: to, Message: msg, By: u.Username})
	if err != nil {
		return fmt.Errorf("dashboard: plan a broadcast to %s: %w", ci.Def.ID, err)
	}
	v := planView{Campaign: ci, Plan: p, Text: shownText(ci.Def, to, msg.Text), Category: p.Category,
		Skipped: byReason(p.Skipped), Cost: p.Cost, Priced: d.prices != nil && !d.prices.Table().Empty(),
		Nobody: p.InWindow+p.NeedTemplate == 0}
	if t := ci.Def.Templates[msg.Template]; t != nil {
		v.Template = t
		if v.Category == "" {
			v.Category = t.Category
		}
	}
	if v.Category == "" {
		v.Category = campaigns.CategoryMarketing
	}
	if d.prices != nil && len(p.Cost.Lines) == 0 && p.Cost.Unpriced == 0 && len(p.ByCountry) > 0 {
		v.Cost = pricing.Estimate(d.prices.Table(), v.Category, p.ByCountry)
	}
	v.Limit, v.LimitKnown = limitText(p.Number)
	v.Counted = v.LimitKnown || p.Limit != 0
	var bars []hbar
	for i, day := range p.Days {
		label := "today"
		if i > 0 {
			label = day.Start.UTC().Format("Mon 2 Jan")
		}
		v.Days = append(v.Days, planDay{Label: label, Start: day.Start, Count: day.Count})
		bars = append(bars, hbar{Label: label, Value: day.Count})
	}
	if len(bars) > 1 {
		v.DayChart = barChart("Template messages per day", bars)
	}
	v.Fields = append(v.Fields, field{"state", to.State}, field{"var", to.Var}, field{"value", to.Value}, field{"template", msg.Template})
	form := broadcastFormOf(ci.Def)
	for i, l := range append([]string{form.First}, form.Others...) {
		name := "text_" + l
		if i == 0 {
			name = "text"
		}
		if s := msg.Text[l]; s != "" {
			v.Fields = append(v.Fields, field{name, s})
		}
	}
	return d.render(c, fiber.StatusOK, "broadcastplan", v)
}

// confirmBroadcast starts the broadcast the plan page showed: the same form, sent again with
// Confirm. The service plans again (time has passed, people wrote in) and keeps that plan.
func (d *Dashboard) confirmBroadcast(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	def := ci.Def
	back := "/dashboard/campaigns/" + def.ID
	to, msg, bad, err := broadcastRequest(c, def)
	if err != nil {
		return err
	}
	if bad != "" {
		return d.broadcastAgain(c, def, bad)
	}
	if d.prices != nil {
		if err := d.prices.Load(ctx); err != nil {
			d.log.Error("dashboard: prices not reloaded for a broadcast", "err", err)
		}
	}
	u := currentUser(c)
	// The service writes the audit line of a start it knows the user of.
	b, err := d.plans.Start(ctx, broadcast.Request{Campaign: def.ID, Audience: to, Message: msg, By: u.Username})
	if errors.Is(err, broadcast.ErrNobody) {
		return d.broadcastAgain(c, def, "Nobody to send to any more: since the plan, those it reached opted out, finished or were skipped. Nothing was started.")
	}
	if err != nil {
		return fmt.Errorf("dashboard: start a broadcast to %s: %w", def.ID, err)
	}
	planned := b.Plan.InWindow + b.Plan.NeedTemplate
	d.recordBroadcast(ctx, b.ID, def.ID, to, shownText(def, to, msg.Text), msg.Template, u.Username, planned)
	days := max(len(b.Plan.Days), 1)
	d.setFlash(c, flash{Message: fmt.Sprintf("Broadcast started: %s planned, over %s.",
		count(planned, "participant", "participants"), count(days, "day", "days"))})
	return c.Redirect(back+"/broadcasts/"+b.ID, fiber.StatusSeeOther)
}

// pacedBroadcast finds a paced broadcast of the campaign in the URL; ok is false for one the
// service does not know (a broadcast sent before broadcasts were paced).
func (d *Dashboard) pacedBroadcast(ctx context.Context, campaign, id string) (broadcast.Broadcast, bool, error) {
	if d.plans == nil {
		return broadcast.Broadcast{}, false, nil
	}
	b, err := d.plans.Get(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return b, false, nil
	case err != nil:
		return b, false, fmt.Errorf("dashboard: broadcast %s: %w", id, err)
	case b.Request.Campaign != campaign:
		return b, false, fmt.Errorf("dashboard: broadcast %s of %s: %w", id, campaign, errs.ErrNotFound)
	}
	return b, true, nil
}

// pacedOfURL is the campaign and the paced broadcast named by the URL (:id, :bid), or an error
// wrapping errs.ErrNotFound when the broadcast is not a paced one of that campaign.
func (d *Dashboard) pacedOfURL(c *fiber.Ctx) (CampaignInfo, broadcast.Broadcast, error) {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return ci, broadcast.Broadcast{}, err
	}
	id := strings.Clone(c.Params("bid"))
	b, ok, err := d.pacedBroadcast(ctx, ci.Def.ID, id)
	if err == nil && !ok {
		err = fmt.Errorf("dashboard: broadcast %s of %s: %w", id, ci.Def.ID, errs.ErrNotFound)
	}
	return ci, b, err
}

// runView is a paced broadcast's page.
type runView struct {
	Campaign   CampaignInfo
	Broadcast  broadcast.Broadcast
	Report     broadcast.Report
	Text       string
	Audience   string
	Failed     []reasonCount
	Skipped    []reasonCount
	Recipients []broadcast.Recipient
	Next       string
	// Done and Percent: how many of the planned got an answer from the platform (sent,
	// failed) or were skipped.
	Done, Percent int
	CanPause      bool
	CanResume     bool
	CanCancel     bool
	// Receipts says some recipient's channel reports delivered and read; without it those
	// columns would count every reply as undelivered (the web chat has no receipts).
	Receipts bool
}

// broadcastRun shows a paced broadcast: its status, how far it got, why some did not get it,
// what it cost so far, its buttons and a page of its recipients.
func (d *Dashboard) broadcastRun(c *fiber.Ctx, ci CampaignInfo, b broadcast.Broadcast) error {
	ctx := c.UserContext()
	r, err := d.plans.Report(ctx, b.ID)
	if err != nil {
		return fmt.Errorf("dashboard: report of broadcast %s: %w", b.ID, err)
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	rs, err := d.plans.Recipients(ctx, b.ID, after, recipientsPage)
	if err != nil {
		return fmt.Errorf("dashboard: recipients of %s: %w", b.ID, err)
	}
	v := runView{Campaign: ci, Broadcast: b, Report: r, Text: shownText(ci.Def, b.Request.Audience, b.Request.Message.Text),
		Audience: audienceText(b.Request.Audience), Failed: byReason(r.Failed), Skipped: byReason(r.Skipped), Recipients: rs,
		CanPause: b.Status == broadcast.StatusRunning, CanResume: b.Status == broadcast.StatusPaused,
		CanCancel: b.Status == broadcast.StatusRunning || b.Status == broadcast.StatusPaused,
		Receipts:  (b.Number != "" && d.receipts[b.Channel]) || r.Delivered+r.Read > 0}
	for _, rc := range rs {
		v.Receipts = v.Receipts || d.receipts[rc.Channel]
	}
	for _, n := range r.Failed {
		v.Done += n
	}
	for _, n := range r.Skipped {
		v.Done += n
	}
	v.Done += r.Sent
	if r.Planned > 0 {
		v.Percent = min(100, v.Done*100/r.Planned)
	}
	if len(rs) == recipientsPage {
		v.Next = "/dashboard/campaigns/" + ci.Def.ID + "/broadcasts/" + b.ID + "?after=" + strconv.FormatInt(rs[len(rs)-1].Seq, 10)
	}
	return d.render(c, fiber.StatusOK, "broadcastrun", v)
}

// audienceText says whom a broadcast is for, as the history does.
func audienceText(to engine.Audience) string {
	who := "everyone playing"
	if to.State != "" {
		who = "participants in " + to.State
	}
	if to.Var != "" {
		who += " with " + to.Var + " = " + to.Value
	}
	return who
}

// maxPauseReason bounds the reason an admin gives for a pause.
const maxPauseReason = 200

// steerBroadcast pauses, resumes or cancels a paced broadcast.
func (d *Dashboard) steerBroadcast(what string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		ci, b, err := d.pacedOfURL(c)
		if err != nil {
			return err
		}
		id := b.ID
		page := "/dashboard/campaigns/" + ci.Def.ID + "/broadcasts/" + id
		u := currentUser(c).Username
		var msg string
		switch what {
		case "pause":
			reason := strings.TrimSpace(c.FormValue("reason"))
			if len([]rune(reason)) > maxPauseReason {
				d.setFlash(c, flash{Message: fmt.Sprintf("Say why in at most %d characters.", maxPauseReason), Error: true})
				return c.Redirect(page, fiber.StatusSeeOther)
			}
			if reason == "" {
				reason = "paused by " + u
			}
			err, msg = d.plans.Pause(ctx, b.ID, strings.Clone(reason), u), "Broadcast paused: nothing more goes out until you resume it."
		case "resume":
			err, msg = d.plans.Resume(ctx, b.ID, u), "Broadcast resumed: it goes on at the number's pace."
		case "cancel":
			err, msg = d.plans.Cancel(ctx, b.ID, u), "Broadcast cancelled: those still waiting will not get it."
		}
		if errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrInvalid) {
			d.setFlash(c, flash{Message: fmt.Sprintf("Cannot %s this broadcast: it is %s.", what, b.Status), Error: true})
			return c.Redirect(page, fiber.StatusSeeOther)
		}
		if err != nil {
			return fmt.Errorf("dashboard: %s broadcast %s: %w", what, id, err)
		}
		d.setFlash(c, flash{Message: msg})
		return c.Redirect(page, fiber.StatusSeeOther)
	}
}

// csvPage is how many recipients the CSV export reads from the store at a time.
const csvPage = 1000

// recipientsCSV streams a paced broadcast's recipients with how far each got and why not, a
// page at a time from the store. Recipients are named by participant id and country, never
// by phone number.
func (d *Dashboard) recipientsCSV(c *fiber.Ctx) error {
	ci, b, err := d.pacedOfURL(c)
	if err != nil {
		return err
	}
	plans := d.plans
	d.streamCSV(c, ci.Def.ID+"-broadcast-"+b.ID+".csv", func(ctx context.Context, w *csv.Writer) error {
		return WriteRecipientsCSV(ctx, w, func(ctx context.Context, after int64, limit int) ([]broadcast.Recipient, error) {
			return plans.Recipients(ctx, b.ID, after, limit)
		})
	})
	return nil
}

// WriteRecipientsCSV writes a broadcast's recipients as CSV, reading them a page at a time
// with page: the dashboard's export and `campaign broadcast report --csv` write the same file.
func WriteRecipientsCSV(ctx context.Context, w *csv.Writer, page func(ctx context.Context, after int64, limit int) ([]broadcast.Recipient, error)) error {
	if err := w.Write([]string{"seq", "participant", "country", "template", "status", "reason", "released_at"}); err != nil {
		return err
	}
	var after int64
	for {
		rs, err := page(ctx, after, csvPage)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := w.Write([]string{strconv.FormatInt(r.Seq, 10), r.ParticipantID, r.Country, strconv.FormatBool(r.Template),
				r.Status, csvcell.Safe(r.Reason), csvTime(r.ReleasedAt)}); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		if len(rs) < csvPage {
			return nil
		}
		after = rs[len(rs)-1].Seq
	}
}
