package engine

import (
	"context"
	"fmt"
)

// WindowClosed is the reason recorded on a reply that could not go out because the
// participant's customer-service window is closed and the message has no template.
const WindowClosed = "outside the 24-hour window and no template"

// SendDue delivers replies that are due and returns how many it handled. A reply whose
// channel has no sender, or whose sender fails, is recorded as failed with the reason.
//
// On a channel with a window (Config.Windows) a reply goes out as free text only while the
// participant's window is open; once it closed, a reply with a template goes out with it
// (Template set; the channel sends the template) and one without is recorded as failed, never
// sent for the platform to reject. Inside the window, and on channels without one, Template is
// cleared before sending.
func (e *Engine) SendDue(ctx context.Context) (int, error) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	now := e.now()
	due, err := e.store.DueOutbox(ctx, now, 100)
	if err != nil {
		return 0, fmt.Errorf("engine: due outbox: %w", err)
	}
	for _, out := range due {
		sender, ok := e.senders[out.Channel]
		if !ok {
			if err := e.store.MarkFailed(ctx, out.ID, "no sender for channel "+out.Channel, now); err != nil {
				return 0, fmt.Errorf("engine: mark outbox %d failed: %w", out.ID, err)
			}
			continue
		}
		// A reply to a stranger (no participant) answers the message they just sent.
		window := e.windows[out.Channel]
		if window > 0 && out.ParticipantID != "" && now.After(out.LastInboundAt.Add(window)) {
			if out.Template == nil {
				if err := e.store.MarkFailed(ctx, out.ID, WindowClosed, now); err != nil {
					return 0, fmt.Errorf("engine: mark outbox %d failed: %w", out.ID, err)
				}
				continue
			}
		} else {
			out.Template = nil
		}
		id, err := sender.Send(ctx, out)
		e.obs.ReplySent(out.Channel, e.now().Sub(out.DueAt), err)
		if err != nil {
			e.log.Warn("send failed", "outbox", out.ID, "channel", out.Channel, "err", err)
			if err := e.store.MarkFailed(ctx, out.ID, err.Error(), e.now()); err != nil {
				return 0, fmt.Errorf("engine: mark outbox %d failed: %w", out.ID, err)
			}
			continue
		}
		if err := e.store.MarkSent(ctx, out.ID, id, e.now()); err != nil {
			return 0, fmt.Errorf("engine: mark outbox %d sent: %w", out.ID, err)
		}
	}
	return len(due), nil
}
