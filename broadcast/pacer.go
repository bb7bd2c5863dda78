package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// budget is what one number may still take in this pass: people outside their window
// (templates, Unlimited for no bound) and messages in all (slots: the outbox backlog).
type budget struct {
	templates, slots int
}

// pass is one pacing pass over every running broadcast: the numbers' budgets are shared by
// the broadcasts on them.
type pass struct {
	s       *Service
	now     time.Time
	budgets map[numberKey]*budget
}

// Tick is one pacing pass: each running broadcast, oldest first, releases the waiting
// recipients the rules and the numbers' limits allow now. Those inside their window go at
// once (within the outbox backlog); those outside it as long as the number has people left
// in its moving 24 hours; a recipient the rules keep out is skipped with the reason; a
// broadcast whose number's quality dropped is paused.
func (s *Service) Tick(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.cfg.Leases; l != nil {
		now := s.cfg.Now()
		won, err := l.Claim(ctx, s.cfg.Owner, []string{pacerKey}, now, now.Add(5*time.Minute))
		if err != nil {
			return fmt.Errorf("broadcast: claim the pacer: %w", err)
		}
		if len(won) == 0 {
			return nil // another process is pacing
		}
		defer l.Release(context.WithoutCancel(ctx), s.cfg.Owner, won)
	}
	bs, err := s.cfg.Store.PacedBroadcasts(ctx, "", StatusRunning, 0)
	if err != nil {
		return fmt.Errorf("broadcast: running broadcasts: %w", err)
	}
	p := &pass{s: s, now: s.cfg.Now(), budgets: map[numberKey]*budget{}}
	var errsOut []error
	released := 0
	for i := len(bs) - 1; i >= 0; i-- { // oldest first
		n, err := p.broadcast(ctx, bs[i])
		released += n
		if err != nil {
			errsOut = append(errsOut, fmt.Errorf("broadcast %s: %w", bs[i].ID, err))
		}
	}
	if released > 0 {
		s.cfg.Engine.WakeSender()
	}
	return errors.Join(errsOut...)
}

// budget is the number's budget in this pass, worked out the first time it is needed.
func (p *pass) budget(ctx context.Context, channel, number string) (*budget, error) {
	k := numberKey{channel, number}
	if b := p.budgets[k]; b != nil {
		return b, nil
	}
	s := p.s
	b := &budget{templates: Unlimited}
	tp := s.cfg.Throughput[channel]
	if tp <= 0 {
		tp = 1000
	}
	if s.cfg.Templates[channel] {
		h, err := s.numberHealth(ctx, channel, number)
		if err != nil {
			return nil, err
		}
		if lim := limitOf(h); lim != Unlimited {
			used, err := s.cfg.Store.ReachedOutsideWindow(ctx, channel, number, p.now.Add(-Window))
			if err != nil {
				return nil, err
			}
			b.templates = max(0, lim-used)
		}
		tp = WhatsAppThroughput
		if h.Throughput > 0 {
			tp = h.Throughput
		}
	}
	b.slots = tp * int(s.cfg.Backlog/time.Second)
	p.budgets[k] = b
	return b, nil
}

// broadcast releases what it may of one running broadcast and returns how many it released.
// First those who wrote lately (inside their window: they go at once), found from the
// participants rather than by reading every waiting recipient; then, while the number has
// room outside the window (or the broadcast has recipients on channels without templates),
// the waiting in their order, reading only the participants it may release.
func (p *pass) broadcast(ctx context.Context, b Broadcast) (int, error) {
	s := p.s
	var main *budget
	if b.Number != "" {
		h, err := s.numberHealth(ctx, b.Channel, b.Number)
		if err != nil {
			return 0, err
		}
		if reason := dropped(b, h); reason != "" {
			return 0, s.pause(ctx, b, reason, audit.ActorSystem)
		}
		if main, err = p.budget(ctx, b.Channel, b.Number); err != nil {
			return 0, err
		}
	}
	// What is queued and not sent yet takes room in the backlog: counted once, and only in
	// a pass that may release something.
	charged := main == nil
	charge := func() error {
		if charged {
			return nil
		}
		charged = true
		switch r, err := s.cfg.Engine.BroadcastReport(ctx, b.ID); {
		case err == nil:
			main.slots -= r.Pending
		case !errors.Is(err, errs.ErrNotFound):
			return err
		}
		return nil
	}
	released := 0
	// Those who wrote lately.
	var window time.Duration
	for _, ch := range s.cfg.Windows {
		window = max(window, s.cfg.Engine.Window(ch))
	}
	recent := map[string]*engine.Participant{}
	if window > 0 {
		ps, err := s.cfg.Engine.WroteSince(ctx, b.Request.Campaign, p.now.Add(s.cfg.WindowMargin).Add(-window))
		if err != nil {
			return 0, err
		}
		ids := make([]string, len(ps))
		for i := range ps {
			recent[ps[i].ID], ids[i] = &ps[i], ps[i].ID
		}
		rs, err := s.cfg.Store.RecipientsOf(ctx, b.ID, ids)
		if err != nil {
			return 0, err
		}
		var items []item
		for _, r := range rs {
			if r.Status == RecipientWaiting {
				items = append(items, item{r: r, p: recent[r.ParticipantID]})
			}
		}
		if len(items) > 0 {
			if err := charge(); err != nil {
				return 0, err
			}
		}
		n, _, err := p.release(ctx, b, items)
		released += n
		if err != nil {
			return released, err
		}
	}
	// The waiting in their order.
	s.scanMu.Lock()
	untemplated, known := s.untemplated[b.ID]
	s.scanMu.Unlock()
	room := func() bool { return main == nil || (main.slots > 0 && main.templates != 0) }
	if room() {
		if err := charge(); err != nil {
			return released, err
		}
	}
	if room() || untemplated || !known {
		if err := charge(); err != nil {
			return released, err
		}
		found, complete := false, true
		var after int64
		for {
			page, err := s.cfg.Store.BroadcastRecipientList(ctx, b.ID, RecipientWaiting, after, 500)
			if err != nil {
				return released, err
			}
			items, err := p.prepare(ctx, b, page, recent, &found)
			if err != nil {
				return released, err
			}
			n, _, err := p.release(ctx, b, items)
			released += n
			if err != nil {
				return released, err
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].Seq
			if !room() && known && !untemplated {
				complete = false
				break
			}
		}
		if complete {
			s.scanMu.Lock()
			s.untemplated[b.ID] = found
			s.scanMu.Unlock()
		}
	}
	left, err := s.cfg.Store.BroadcastRecipientList(ctx, b.ID, RecipientWaiting, 0, 1)
	if err != nil {
		return released, err
	}
	if len(left) == 0 {
		b.Status, b.UpdatedAt = StatusDone, p.now
		if err := s.cfg.Store.UpdateBroadcast(ctx, b); err != nil {
			return released, err
		}
	}
	return released, nil
}

// item is a waiting recipient with their participant as read now (nil: erased), or a reason
// to skip them found without reading.
type item struct {
	r    Recipient
	p    *engine.Participant
	skip string
}

// prepare turns a page of waiting recipients into items, reading only the participants that
// may be released now; the others stay waiting. found is set when a recipient on a channel
// without templates stays waiting.
func (p *pass) prepare(ctx context.Context, b Broadcast, page []Recipient, recent map[string]*engine.Participant, found *bool) ([]item, error) {
	s := p.s
	var items []item
	for _, r := range page {
		if pt := recent[r.ParticipantID]; pt != nil {
			items = append(items, item{r: r, p: pt})
			continue
		}
		bud, err := p.budget(ctx, r.Channel, r.Number)
		if err != nil {
			return nil, err
		}
		windowed := s.cfg.Engine.Window(r.Channel) > 0
		switch {
		case windowed && !s.cfg.Templates[r.Channel]:
			// Not written lately, so outside the window where no template crosses it.
			items = append(items, item{r: r, skip: SkipWindowClosed})
			continue
		case windowed && b.Request.Message.Template == "":
			items = append(items, item{r: r, skip: SkipNoTemplate})
			continue
		case bud.slots <= 0 || (windowed && bud.templates == 0):
			if !s.cfg.Templates[r.Channel] {
				*found = true
			}
			continue
		}
		pt, err := s.cfg.Engine.Participant(ctx, r.ParticipantID)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			items = append(items, item{r: r, skip: SkipOptedOut})
		case err != nil:
			return nil, err
		default:
			items = append(items, item{r: r, p: &pt})
		}
	}
	return items, nil
}

// release settles items and returns how many it released and how many stay waiting (no room).
func (p *pass) release(ctx context.Context, b Broadcast, items []item) (released, waiting int, err error) {
	s := p.s
	var ds []*decision
	var rs []Recipient
	for _, it := range items {
		r := it.r
		if it.skip != "" || it.p == nil {
			skip := it.skip
			if skip == "" {
				skip = SkipOptedOut // erased since
			}
			ds, rs = append(ds, &decision{skip: skip}), append(rs, r)
			continue
		}
		pt := it.p
		d := &decision{p: *pt, number: r.Number, country: r.Country}
		d.template, d.skip = s.window(*pt, b.Request.Message, p.now)
		if d.skip == "" {
			bud, err := p.budget(ctx, r.Channel, r.Number)
			if err != nil {
				return released, waiting, err
			}
			if bud.slots <= 0 || (d.template && bud.templates == 0) {
				waiting++
				continue
			}
			bud.slots--
			if d.template && bud.templates != Unlimited {
				bud.templates--
			}
			d.charged = bud
		}
		ds, rs = append(ds, d), append(rs, r)
	}
	if len(ds) == 0 {
		return 0, waiting, nil
	}
	if err := s.marketingRules(ctx, ds, p.now); err != nil {
		return 0, waiting, err
	}
	var send []engine.Participant
	for _, d := range ds {
		if bud := d.charged; d.skip != "" && bud != nil {
			// Kept out after all: the room it took is free again (only those who took some:
			// one skipped for their window took none).
			bud.slots++
			if d.template && bud.templates != Unlimited {
				bud.templates++
			}
		}
		if d.skip == "" {
			send = append(send, d.p)
		}
	}
	outs, err := s.cfg.Engine.RenderBroadcast(ctx, b.ID, b.Request.Campaign, b.Request.Message, send)
	if err != nil {
		return 0, waiting, err
	}
	rows := make([]engine.Outbound, len(ds))
	j := 0
	for i, d := range ds {
		rs[i].UpdatedAt = p.now
		if d.skip != "" {
			rs[i].Status, rs[i].Reason = RecipientSkipped, d.skip
			continue
		}
		out := outs[j]
		j++
		if d.p.Channel == "whatsapp" {
			// The pair limit: not within 6 seconds of the persona's last reply to them.
			if gap := d.p.LastReplyDue.Add(PairGap); !d.p.LastReplyDue.IsZero() && gap.After(out.DueAt) {
				out.DueAt = gap
			}
		}
		rows[i] = out
		rs[i].Status, rs[i].Template, rs[i].ReleasedAt = RecipientReleased, d.template, p.now
	}
	n, err := s.cfg.Store.ReleaseRecipients(ctx, b.ID, rs, rows)
	if err != nil {
		return 0, waiting, err
	}
	for _, r := range rs {
		if r.Status == RecipientReleased {
			released++
		}
	}
	if n < len(rs) {
		// Another pass settled some first: they were not released twice, and counted there.
		s.cfg.Log.Warn("broadcast: recipients settled elsewhere", "broadcast", b.ID, "settled", n, "of", len(rs))
	}
	return released, waiting, nil
}
