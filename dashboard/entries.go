package dashboard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

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
	// Judging is the entry's claim and panel (judging.go); nil without Config.Judging.
	Judging *entryJudging
}

func itemOf(e judge.Entry) entryItem {
	it := entryItem{Entry: e, Pending: e.Status == judge.StatusPending, HasThumb: thumbKey(e) != ""}
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
	return d.render(c, fiber.StatusOK, "entries", v)
}

type entryView struct {
	Entry entryItem
	Back  string
	// Scores is the score form, when the entry's campaign has a rubric.
	Scores *scoreView
}

func (d *Dashboard) entryPage(c *fiber.Ctx) error {
	id := c.Params("id")
	e, err := d.judge.Entry(c.UserContext(), id)
	if err != nil {
		return fmt.Errorf("dashboard: entry %s: %w", id, err)
	}
	it := itemOf(e)
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
	return d.render(c, fiber.StatusOK, "entry", entryView{Entry: it, Back: "/dashboard/entries/" + e.ID, Scores: sv})
}

// decide handles the approve and reject forms. A verdict somebody else gave first is not an
// error page: the moderator is sent back with a message saying who decided, since two
// moderators working the same queue is normal.
func (d *Dashboard) decide(verdict string) fiber.Handler {
	done := map[string]string{judge.StatusApproved: "Entry approved.", judge.StatusRejected: "Entry rejected."}[verdict]
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		id := strings.Clone(c.Params("id"))
		back := localPath(c.FormValue("back"), "/dashboard/entries")
		dec := judge.Decision{EntryID: id, Verdict: verdict, By: currentUser(c).Username, At: d.now()}
		if verdict == judge.StatusRejected {
			dec.Reason = clip(strings.TrimSpace(c.FormValue("reason")), maxReasonLen)
		}
		err := d.judge.Decide(ctx, dec)
		switch {
		case err == nil:
			d.setFlash(c, flash{Message: done})
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
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return strings.Clone(s)
	}
	return string(r[:n])
}
