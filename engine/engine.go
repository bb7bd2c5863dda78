package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/looplab/fsm"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// ErrCodeTaken is returned by Store.Commit when a unique code was already issued.
var ErrCodeTaken = fmt.Errorf("%w: code already issued", errs.ErrConflict)

// DefaultFallback is said when a message matches nothing and the definition has no fallback.
const DefaultFallback = "Sorry, I didn't get that."

// Config holds what an Engine is built from. Now and Rand are injected so that delays, codes
// and timestamps are reproducible in tests.
type Config struct {
	Store     Store
	Campaigns []*campaigns.Definition
	Now       func() time.Time
	Rand      *rand.Rand
	Log       *slog.Logger
	// Poll is how often the worker and sender look for work when nobody woke them.
	Poll time.Duration
}

// Engine runs campaigns. Its methods are safe for concurrent use.
type Engine struct {
	store   Store
	defs    map[string]*campaigns.Definition
	senders map[string]Sender
	now     func() time.Time
	log     *slog.Logger
	poll    time.Duration

	randMu sync.Mutex
	rand   *rand.Rand

	// processMu serializes event processing in this process: one worker applies events in
	// stored order, which keeps each participant's events in order.
	processMu sync.Mutex
	sendMu    sync.Mutex
	wakeWork  chan struct{}
	wakeSend  chan struct{}
}

// New returns an Engine for cfg.
func New(cfg Config) *Engine {
	e := &Engine{
		store:    cfg.Store,
		defs:     map[string]*campaigns.Definition{},
		senders:  map[string]Sender{},
		now:      cfg.Now,
		log:      cfg.Log,
		poll:     cfg.Poll,
		rand:     cfg.Rand,
		wakeWork: make(chan struct{}, 1),
		wakeSend: make(chan struct{}, 1),
	}
	for _, d := range cfg.Campaigns {
		e.defs[d.ID] = d
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.poll == 0 {
		e.poll = 250 * time.Millisecond
	}
	if e.rand == nil {
		e.rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	}
	return e
}

// Handle makes s deliver the replies of channel. Channels need the engine to receive, and the
// engine needs them to send, so they are registered after New, before Run.
func (e *Engine) Handle(channel string, s Sender) {
	e.senders[channel] = s
}

// Campaign returns a loaded definition by id.
func (e *Engine) Campaign(id string) (*campaigns.Definition, bool) {
	d, ok := e.defs[id]
	return d, ok
}

// Campaigns returns the loaded definitions.
func (e *Engine) Campaigns() []*campaigns.Definition {
	out := make([]*campaigns.Definition, 0, len(e.defs))
	for _, d := range e.defs {
		out = append(out, d)
	}
	return out
}

// Receive stores an inbound event durably and wakes the worker. It returns duplicate=true for
// an event stored before. Once it returns without error the event will be processed, even
// across a crash.
func (e *Engine) Receive(ctx context.Context, in Inbound) (duplicate bool, err error) {
	if _, ok := e.defs[in.Campaign]; !ok {
		return false, fmt.Errorf("engine: receive: campaign %q: %w", in.Campaign, errs.ErrNotFound)
	}
	if in.Kind == KindText && strings.TrimSpace(in.Text) == "" {
		return false, fmt.Errorf("engine: receive: %w: empty message", errs.ErrInvalid)
	}
	if in.Kind == KindMedia && in.Media == nil {
		return false, fmt.Errorf("engine: receive: %w: media message without media", errs.ErrInvalid)
	}
	if in.ParticipantID == "" {
		in.ParticipantID = ParticipantID(in.Campaign, in.Channel, in.From)
	}
	if in.At.IsZero() {
		in.At = e.now()
	}
	_, dup, err := e.store.SaveInbound(ctx, in)
	if err != nil {
		return false, fmt.Errorf("engine: receive %s/%s: %w", in.Channel, in.PlatformID, err)
	}
	e.Wake()
	return dup, nil
}

// Wake tells the worker there may be new events (for events stored by someone else, such as
// the judge).
func (e *Engine) Wake() {
	select {
	case e.wakeWork <- struct{}{}:
	default:
	}
}

func (e *Engine) wakeSender() {
	select {
	case e.wakeSend <- struct{}{}:
	default:
	}
}

// Run processes events and sends replies until ctx is done. What is left when it returns is
// stored and is picked up by the next Run.
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.loop(ctx, e.wakeWork, e.ProcessPending) }()
	go func() { defer wg.Done(); e.loop(ctx, e.wakeSend, e.SendDue) }()
	wg.Wait()
}

func (e *Engine) loop(ctx context.Context, wake <-chan struct{}, work func(context.Context) (int, error)) {
	t := time.NewTicker(e.poll)
	defer t.Stop()
	for {
		for {
			n, err := work(ctx)
			if err != nil && ctx.Err() == nil {
				e.log.Error("engine loop", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// ProcessPending applies stored events in order and returns how many it handled.
func (e *Engine) ProcessPending(ctx context.Context) (int, error) {
	e.processMu.Lock()
	defer e.processMu.Unlock()
	batch, err := e.store.PendingInbound(ctx, 100)
	if err != nil {
		return 0, fmt.Errorf("engine: pending inbound: %w", err)
	}
	for i, in := range batch {
		if err := e.apply(ctx, in); err != nil {
			return i, err
		}
	}
	if len(batch) > 0 {
		e.wakeSender()
	}
	return len(batch), nil
}

// apply runs one event, retrying when another writer changed the participant or a code
// collided.
func (e *Engine) apply(ctx context.Context, in StoredInbound) error {
	for attempt := 0; ; attempt++ {
		step, skip, err := e.step(ctx, in)
		if err != nil {
			return err
		}
		if skip != "" {
			e.log.Info("event skipped", "inbound", in.ID, "participant", in.ParticipantID, "reason", skip)
			if err := e.store.SkipInbound(ctx, in.ID, skip); err != nil {
				return fmt.Errorf("engine: skip inbound %d: %w", in.ID, err)
			}
			return nil
		}
		err = e.store.Commit(ctx, step)
		if err == nil {
			return nil
		}
		if errors.Is(err, errs.ErrConflict) && attempt < 10 {
			continue
		}
		return fmt.Errorf("engine: commit step for participant %s: %w", in.ParticipantID, err)
	}
}

// step computes what one event does, without writing anything. A non-empty skip says why the
// event has no effect.
func (e *Engine) step(ctx context.Context, in StoredInbound) (s Step, skip string, err error) {
	def, ok := e.defs[in.Campaign]
	if !ok {
		return s, "campaign " + in.Campaign + " is not loaded", nil
	}
	now := e.now()
	s.InboundID = in.ID
	p, err := e.store.Participant(ctx, in.ParticipantID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		if in.Kind == KindVerdict {
			return s, "verdict for unknown participant", nil
		}
		p = Participant{
			ID: in.ParticipantID, Campaign: def.ID, Channel: in.Channel, Address: in.From,
			Vars: map[string]string{}, DefVersion: def.Version, CreatedAt: now,
		}
		if in.Name != "" {
			p.Vars["name"] = in.Name
		}
		s.Created = true
	case err != nil:
		return s, "", fmt.Errorf("engine: load participant %s: %w", in.ParticipantID, err)
	}
	s.PrevVersion = p.Version
	r := &run{e: e, def: def, step: &s, p: &p, now: now}
	r.recordInbound(in)

	if s.Created {
		// A participant's first event opens the conversation: whatever it said, they are
		// greeted by the start state rather than judged against it.
		p.State = def.Start
		r.enter(def.States[def.Start])
	} else if err := r.fire(ctx, in); err != nil {
		return s, "", err
	} else if r.noMatch {
		if in.Kind == KindVerdict {
			return s, fmt.Sprintf("no %s transition in state %s", in.Verdict, p.State), nil
		}
		fallback := def.Fallback
		if fallback.IsZero() {
			fallback = campaigns.Text{def.Languages[0]: DefaultFallback}
		}
		r.say(fallback)
	}
	p.Version++
	p.UpdatedAt = now
	s.Participant = p
	return s, "", nil
}

// run is the working state of one step.
type run struct {
	e       *Engine
	def     *campaigns.Definition
	step    *Step
	p       *Participant
	now     time.Time
	noMatch bool
	entry   *Entry
	lastDue time.Time
}

func (r *run) recordInbound(in StoredInbound) {
	if in.Kind != KindText && in.Kind != KindMedia {
		return
	}
	l := Line{ParticipantID: r.p.ID, Direction: In, Text: in.Text, At: in.At}
	if in.Media != nil {
		l.MediaKey = in.Media.Key
	}
	r.step.Lines = append(r.step.Lines, l)
}

// fire finds the first transition of the current state that the event matches and runs it
// through a looplab/fsm machine built for this participant.
func (r *run) fire(ctx context.Context, in StoredInbound) error {
	cur := r.def.States[r.p.State]
	if cur == nil {
		return fmt.Errorf("engine: participant %s is in state %q, which campaign %s (version %s) does not have", r.p.ID, r.p.State, r.def.ID, r.def.Version)
	}
	var t *campaigns.Transition
	for _, cand := range cur.On {
		var ok bool
		switch in.Kind {
		case KindText:
			ok = cand.MatchText(in.Text)
		case KindMedia:
			ok = cand.MatchMedia(in.Media.Kind)
		case KindVerdict:
			ok = cand.MatchVerdict(in.Verdict)
		}
		if ok {
			t = cand
			break
		}
	}
	if t == nil {
		r.noMatch = true
		return nil
	}
	if t.Collect && in.Media != nil {
		r.entry = &Entry{
			ID: fmt.Sprintf("%s-%d", r.p.ID, in.ID), Campaign: r.def.ID, ParticipantID: r.p.ID,
			State: r.p.State, Kind: in.Media.Kind, MediaKey: in.Media.Key, ThumbKey: in.Media.ThumbKey,
			MIME: in.Media.MIME, Caption: in.Text, CreatedAt: r.now,
		}
		r.step.Entries = append(r.step.Entries, *r.entry)
		r.p.Vars["entry"] = r.entry.ID
	}
	if t.IssueCode {
		code := r.e.code()
		r.p.Vars["code"] = code
		r.step.Codes = append(r.step.Codes, code)
	}
	for _, m := range t.Say {
		r.say(m.Text)
	}
	if t.Goto == "" {
		return nil
	}
	m := r.machine(t)
	err := m.Event(ctx, t.Name)
	var noTransition fsm.NoTransitionError
	if errors.As(err, &noTransition) {
		// A transition back into the same state re-enters it: the participant hears the
		// state's message again, as they would on any other way in.
		r.enter(r.def.States[t.Goto])
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
func (r *run) machine(fired *campaigns.Transition) *fsm.FSM {
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

func (r *run) enter(st *campaigns.State) {
	r.p.State = st.Name
	for _, m := range st.Say {
		r.say(m.Text)
	}
}

// say queues a reply, due after the persona's typing delay counted from the previous reply of
// this step.
func (r *run) say(msg campaigns.Text) {
	vars := map[string]string{"persona": r.def.Persona.Name}
	for k, v := range r.p.Vars {
		vars[k] = v
	}
	text := campaigns.Render(msg.In(r.p.Vars["lang"], r.def.Languages[0]), vars)
	start := r.now
	if r.lastDue.After(start) {
		start = r.lastDue
	}
	r.lastDue = start.Add(r.def.Persona.Delay(text))
	r.step.Outbox = append(r.step.Outbox, Outbound{
		ParticipantID: r.p.ID, Campaign: r.def.ID, Channel: r.p.Channel, To: r.p.Address,
		Text: text, DueAt: r.lastDue, Status: StatusPending,
	})
}

// codeAlphabet leaves out letters and digits that are easily confused when read aloud at a
// door (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func (e *Engine) code() string {
	e.randMu.Lock()
	defer e.randMu.Unlock()
	b := make([]byte, 6)
	for i := range b {
		b[i] = codeAlphabet[e.rand.IntN(len(codeAlphabet))]
	}
	return string(b)
}

// SendDue delivers replies that are due and returns how many it handled. A reply whose
// channel has no sender, or whose sender fails, is recorded as failed with the reason.
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
		id, err := sender.Send(ctx, out)
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

// Transcript returns a participant's conversation so far.
func (e *Engine) Transcript(ctx context.Context, participantID string) ([]Line, error) {
	lines, err := e.store.Transcript(ctx, participantID)
	if err != nil {
		return nil, fmt.Errorf("engine: transcript of %s: %w", participantID, err)
	}
	return lines, nil
}
