package webchat

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// keepAlive is how often an idle stream gets a comment, so proxies keep it open and a gone
// browser is noticed.
const keepAlive = 15 * time.Second

// handleEvents streams the participant's transcript and then the live replies as Server-Sent
// Events. The stream starts with a "reset" event (the page clears its list), then the
// history, then a "ready" event, then live replies; the page dedupes by id.
func (c *Channel) handleEvents(ctx *fiber.Ctx) error {
	def, ok := c.campaign(ctx)
	if !ok {
		return jsonError(ctx, fiber.StatusNotFound, "This chat doesn't exist (any more).")
	}
	browser, err := c.browserID(ctx, true)
	if err != nil {
		return err
	}
	p, err := c.partyOf(ctx.UserContext(), def, browser)
	if err != nil {
		c.log.Error("webchat: resolve participant", "campaign", def.ID, "err", err)
		return jsonError(ctx, fiber.StatusInternalServerError, "Something went wrong. Please try again.")
	}
	// A browser of a team campaign without a team has no conversation yet: its stream stays
	// empty (the page reloads once it formed or joined one).
	campaign, pid := def.ID, p.pid
	if pid == "" {
		pid = "none:" + engine.ParticipantID(def.ID, ChannelName, browser)
	}

	// Subscribe before reading the transcript: a reply sent in between is then caught by
	// the subscription instead of falling between the two.
	sub, recent := c.hub.subscribe(pid)

	ctx.Set(fiber.HeaderContentType, "text/event-stream")
	ctx.Set(fiber.HeaderCacheControl, "no-cache")
	ctx.Set(fiber.HeaderConnection, "keep-alive")
	ctx.Set("X-Accel-Buffering", "no")
	// The writer runs after the handler returned, when ctx is no longer ours: it only uses
	// the values copied above.
	ctx.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer c.hub.unsubscribe(pid, sub)
		if err := c.stream(w, campaign, pid, sub, recent); err != nil {
			c.log.Debug("webchat: event stream ended", "participant", pid, "err", err)
		}
	})
	return nil
}

var errClosed = errors.New("webchat: channel closed")

func (c *Channel) stream(w *bufio.Writer, campaign, pid string, sub *subscriber, recent []event) error {
	if _, err := w.WriteString("retry: 3000\n\n"); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	lines, err := c.eng.Transcript(tctx, pid)
	cancel()
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		// Ending the stream makes the browser reconnect and try again after the retry delay.
		c.log.Error("webchat: transcript", "participant", pid, "err", err)
		return fmt.Errorf("webchat: transcript of %s: %w", pid, err)
	}
	read := time.Now()

	if err := writeEvent(w, "reset", struct{}{}); err != nil {
		return err
	}
	var outs []string
	last, offered := c.offered(pid, lines)
	for i, l := range lines {
		if l.Direction == engine.Out {
			outs = append(outs, l.Text)
		}
		ev := event{
			ID: "l" + strconv.FormatInt(l.ID, 10), Dir: string(l.Direction), Text: shownText(l),
			Media: mediaURL(campaign, l.MediaKey), At: l.At.UTC().Format(time.RFC3339),
		}
		if i == last {
			ev.Buttons = offered
		}
		if err := writeEvent(w, "", ev); err != nil {
			return err
		}
	}

	// Replies published before the transcript was read may be in it already; those after
	// cannot be. Drain what is queued now and keep only the replies the history lacks.
	candidates := recent
	var fresh []event
drain:
	for {
		select {
		case ev, ok := <-sub.ch:
			if !ok {
				return errClosed
			}
			switch {
			case ev.name != "":
				// A cue from before the history was read: its reply may be in it already.
				continue
			case ev.Dir == string(engine.In) && ev.pushed.Before(read):
				// A team member's message relayed while the transcript was read: shown
				// unless the history has it.
				if !inHistory(ev, lines, campaign) {
					fresh = append(fresh, ev)
				}
			case ev.pushed.Before(read):
				candidates = append(candidates, ev)
			default:
				fresh = append(fresh, ev)
			}
		default:
			break drain
		}
	}
	for _, ev := range append(unsent(candidates, outs), fresh...) {
		if err := writeEvent(w, "", ev); err != nil {
			return err
		}
	}
	if err := writeEvent(w, "ready", struct{}{}); err != nil {
		return err
	}
	if ev, ok := c.hub.pendingTyping(pid); ok {
		// A reply queued before this page connected is still on its way.
		if err := writeEvent(w, ev.name, ev); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}

	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-sub.ch:
			if !ok {
				// Dropped for falling behind: ending the stream makes the page reconnect
				// and reload the transcript.
				return errClosed
			}
			if err := writeEvent(w, ev.name, ev); err != nil {
				return err
			}
		case <-tick.C:
			if _, err := w.WriteString(": keep-alive\n\n"); err != nil {
				return err
			}
		case <-c.hub.done:
			return errClosed
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// offered returns the buttons the participant can tap now and the index of the transcript's
// last reply, which shows them: the transcript keeps no buttons, and a page shown again would
// otherwise offer nothing to tap. Without them (or on an error, logged) last is -1.
func (c *Channel) offered(pid string, lines []engine.Line) (last int, buttons []button) {
	last = -1
	for i, l := range lines {
		if l.Direction == engine.Out {
			last = i
		}
	}
	if last < 0 {
		return -1, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	defer cancel()
	bs, err := c.eng.Offered(ctx, pid)
	if err != nil {
		if !errors.Is(err, errs.ErrNotFound) {
			c.log.Warn("webchat: buttons offered", "participant", pid, "err", err)
		}
		return -1, nil
	}
	for _, b := range bs {
		buttons = append(buttons, button{ID: b.ID, Title: b.Title})
	}
	if len(buttons) == 0 {
		return -1, nil
	}
	return last, buttons
}

// inHistory reports whether a relayed message is among the last lines of the history.
func inHistory(ev event, lines []engine.Line, campaign string) bool {
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-recentMax; i-- {
		l := lines[i]
		if l.Direction == engine.In && shownText(l) == ev.Text && mediaURL(campaign, l.MediaKey) == ev.Media {
			return true
		}
	}
	return false
}

// unsent returns the published replies that are not yet in the transcript. Replies are sent
// and recorded one at a time, in order, so those already recorded are a prefix of pub and
// the last lines of outs: the longest such overlap is what the history already showed.
func unsent(pub []event, outs []string) []event {
	for j := min(len(pub), len(outs)); j > 0; j-- {
		match := true
		for i := 0; i < j; i++ {
			if pub[i].Text != outs[len(outs)-j+i] {
				match = false
				break
			}
		}
		if match {
			return pub[j:]
		}
	}
	return pub
}

func writeEvent(w *bufio.Writer, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("webchat: encode event: %w", err)
	}
	if name != "" {
		if _, err := w.WriteString("event: " + name + "\n"); err != nil {
			return err
		}
	}
	// json.Marshal never emits a raw newline, so the payload is always one data line.
	if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
		return err
	}
	return nil
}
