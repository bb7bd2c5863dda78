package dashboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// listLimit is how many entries one page of the queue shows. Triage works from the newest
// end, and a page of this size stays fast with thumbnails: rendering the cards is most of a
// queue page's time (BenchmarkPages), 200 of them took twice the 100 ms target on a busy
// machine.
const listLimit = 100

// maxReasonLen bounds the reason typed on a rejection; it is a note, not an essay.
const maxReasonLen = 500

// statusAll lists entries whatever their status.
const statusAll = "all"

var statusTabs = []string{judge.StatusPending, judge.StatusApproved, judge.StatusRejected, statusAll}

type tab struct {
	Status string
	Active bool
}

type entriesView struct {
	Status  string
	Tabs    []tab
	Entries []entryItem
	// Full says the list stopped at listLimit and older entries exist.
	Full bool
	// Back is where the approve and reject forms return to.
	Back string
}

// entryItem is an entry with what its templates need to decide how to show it.
type entryItem struct {
	judge.Entry
	Pending  bool
	HasThumb bool
	// Show is how the full media is shown: image, video, audio, or file (a download link).
	Show string
	// Buttons are the verdicts a pending entry is offered; Note says when they only mark it.
	Buttons []verdictButton
	Note    string
	// Judging is the entry's claim and panel (judging.go); nil without Config.Judging.
	Judging *entryJudging
}

func itemOf(e judge.Entry) entryItem {
	it := entryItem{Entry: e, Pending: e.Status == judge.StatusPending, HasThumb: thumbKey(e) != ""}
	if it.Pending {
		it.Buttons = buttonsFor(marksOnly, e.ID)
	}
	switch {
	case strings.HasPrefix(e.MIME, "image/") || e.Kind == "photo" && e.MIME == "":
		it.Show = "image"
	case strings.HasPrefix(e.MIME, "video/") || e.Kind == "video" && e.MIME == "":
		it.Show = "video"
	case strings.HasPrefix(e.MIME, "audio/") || e.Kind == "audio" && e.MIME == "":
		it.Show = "audio"
	default:
		it.Show = "file"
	}
	return it
}

// thumbKey is the stored object to show as an entry's thumbnail: its thumbnail, or for a
// photo without one the photo itself; "" when there is nothing to show (a voice note).
func thumbKey(e judge.Entry) string {
	if e.ThumbKey != "" {
		return e.ThumbKey
	}
	if strings.HasPrefix(e.MIME, "image/") || e.Kind == "photo" {
		return e.MediaKey
	}
	return ""
}

func (d *Dashboard) entriesPage(c *fiber.Ctx) error {
	status := c.Query("status", judge.StatusPending)
	valid := false
	for _, s := range statusTabs {
		valid = valid || s == status
	}
	if !valid {
		return fmt.Errorf("dashboard: entries: %w: status %q", errs.ErrInvalid, status)
	}
	f := judge.Filter{Status: status, Limit: listLimit}
	if status == statusAll {
		f.Status = ""
	}
	es, err := d.entriesFor(c.UserContext(), currentUser(c), f)
	if err != nil {
		return fmt.Errorf("dashboard: entries: %w", err)
	}
	v := entriesView{Status: status, Full: len(es) >= listLimit, Back: "/dashboard/entries?status=" + status}
	for _, s := range statusTabs {
		v.Tabs = append(v.Tabs, tab{Status: s, Active: s == status})
	}
	for _, e := range es {
		v.Entries = append(v.Entries, itemOf(e))
	}
	if d.judging != nil {
		csrf, _ := c.Locals(localCSRF).(string)
		if v.Entries, err = d.judgeItems(c.UserContext(), currentUser(c), csrf, v.Entries, true); err != nil {
			return err
		}
	}
	if err := d.withVerdicts(c.UserContext(), v.Entries); err != nil {
		return err
	}
	return d.render(c, fiber.StatusOK, "entries", v)
}

type entryView struct {
	Entry entryItem
	Back  string
	// Scores is the score form, when the entry's campaign has a rubric.
	Scores *scoreView
	// History is what the audit trail says about the entry, oldest first.
	History []audit.Event
}

func (d *Dashboard) entryPage(c *fiber.Ctx) error {
	id := c.Params("id")
	e, err := d.judge.Entry(c.UserContext(), id)
	if err != nil {
		return fmt.Errorf("dashboard: entry %s: %w", id, err)
	}
	items := []entryItem{itemOf(e)}
	if err := d.withVerdicts(c.UserContext(), items); err != nil {
		return err
	}
	it := items[0]
	if d.judging != nil {
		if err := d.openEntry(c.UserContext(), currentUser(c), e); err != nil {
			return err
		}
		csrf, _ := c.Locals(localCSRF).(string)
		items, err := d.judgeItems(c.UserContext(), currentUser(c), csrf, []entryItem{it}, false)
		if err != nil {
			return err
		}
		it = items[0]
	}
	sv, err := d.entryScores(c.UserContext(), e, currentUser(c).Username)
	if err != nil {
		return err
	}
	history, err := d.history(c.UserContext(), audit.Query{EntryID: e.ID})
	if err != nil {
		return err
	}
	return d.render(c, fiber.StatusOK, "entry", entryView{Entry: it, Back: "/dashboard/entries/" + e.ID, Scores: sv, History: history})
}

// decide handles an entry's verdict forms: approve, reject, and (verdict "") the form that
// names its verdict in a field. A verdict somebody else gave first is not an error page: the
// moderator is sent back with a message saying who decided, since two moderators working the
// same queue is normal. A verdict the participant's state does not take (it moved on since the
// page was loaded) is refused the same way, and the entry stays pending.
func (d *Dashboard) decide(verdict string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		verdict := verdict
		if verdict == "" {
			verdict = strings.Clone(c.FormValue("verdict"))
			if !slices.Contains(campaigns.Verdicts, verdict) {
				return fmt.Errorf("dashboard: verdict %q: %w", verdict, errs.ErrInvalid)
			}
		}
		return d.decideEntry(c, strings.Clone(c.Params("id")), verdict, localPath(c.FormValue("back"), "/dashboard/entries"))
	}
}

// decideEntry gives verdict on entry id and sends the moderator back.
func (d *Dashboard) decideEntry(c *fiber.Ctx, id, verdict, back string) error {
	ctx := c.UserContext()
	dec := judge.Decision{EntryID: id, Verdict: verdict, By: currentUser(c).Username, At: d.now()}
	if verdict == judge.StatusRejected || verdict == campaigns.VerdictEliminated {
		dec.Reason = clip(strings.TrimSpace(c.FormValue("reason")), maxReasonLen)
	}
	if d.verdicts != nil {
		e, err := d.judge.Entry(ctx, id)
		if err != nil {
			return fmt.Errorf("dashboard: %s entry %s: %w", verdict, id, err)
		}
		if e.Status == judge.StatusPending {
			vs, _, err := d.entryVerdicts(ctx, e)
			if err != nil {
				return err
			}
			if why := notOffered(verdict, vs); why != "" {
				d.setFlash(c, flash{Message: "Not decided: " + why + " The entry stays pending.", Error: true})
				return c.Redirect(back, fiber.StatusSeeOther)
			}
		}
	}
	err := d.judge.Decide(ctx, dec)
	switch {
	case err == nil:
		d.setFlash(c, flash{Message: decided(verdict)})
	case refused(err) != "":
		d.setFlash(c, flash{Message: "Not decided: " + refused(err) + " The entry stays pending.", Error: true})
	case isClaimed(err):
		l, _ := judge.Claimed(err)
		d.setFlash(c, flash{Message: claimedMessage(l), Error: true})
	case errors.Is(err, errs.ErrConflict):
		e, err := d.judge.Entry(ctx, id)
		if err != nil {
			return fmt.Errorf("dashboard: %s entry %s after conflict: %w", verdict, id, err)
		}
		msg := "This entry was already decided."
		if e.DecidedBy != "" {
			msg = "This entry was already decided by " + e.DecidedBy + "."
		}
		d.setFlash(c, flash{Message: msg, Error: true})
	default:
		return fmt.Errorf("dashboard: %s entry %s: %w", verdict, id, err)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// decided is the message after a verdict on an entry.
func decided(verdict string) string {
	switch verdict {
	case judge.StatusApproved:
		return "Entry approved."
	case judge.StatusRejected:
		return "Entry rejected."
	}
	return "Verdict given: " + verdict + "."
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return strings.Clone(s)
	}
	return string(r[:n])
}
