package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// t0 is the tests' start; the clock only moves when a test moves it.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// number is the news campaign's WhatsApp number (campaigns/examples/news.yaml).
const number = "106540352242922"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sent is one message the platform accepted.
type sent struct {
	to, campaign, broadcast string
	template                bool
	at                      time.Time
}

// refusal is a platform's permanent refusal, wrapping one of the engine's marketing refusals.
type refusal struct{ err error }

func (r refusal) Error() string   { return "platform: " + r.err.Error() }
func (r refusal) Unwrap() error   { return r.err }
func (r refusal) Temporary() bool { return false }

// platform is the WhatsApp sender as the engine sees it: it keeps what it accepted and
// refuses the addresses told to.
type platform struct {
	clock  *clock
	mu     sync.Mutex
	sent   []sent
	refuse map[string]error
}

func (p *platform) Send(_ context.Context, out engine.Outbound) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.refuse[out.To]; err != nil {
		return "", refusal{err}
	}
	p.sent = append(p.sent, sent{to: out.To, campaign: out.Campaign, broadcast: out.BroadcastID, template: out.Template != nil, at: p.clock.Now()})
	return fmt.Sprintf("wamid.%d", len(p.sent)), nil
}

func (p *platform) all() []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sent(nil), p.sent...)
}

// numbers keeps the numbers' facts and the marketing preferences (until the stores do).
type numbers struct {
	mu     sync.Mutex
	health map[string]broadcast.NumberHealth
	prefs  map[string]broadcast.Preference
}

func (n *numbers) NumberHealth(_ context.Context, channel, number string) (broadcast.NumberHealth, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, ok := n.health[channel+"/"+number]
	if !ok {
		return h, errs.ErrNotFound
	}
	return h, nil
}

func (n *numbers) set(h broadcast.NumberHealth) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.health[h.Channel+"/"+h.Number] = h
}

func (n *numbers) SavePreference(_ context.Context, p broadcast.Preference) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.prefs[p.Channel+"/"+p.Address]; !ok || !p.At.Before(old.At) {
		n.prefs[p.Channel+"/"+p.Address] = p
	}
	return nil
}

func (n *numbers) StoppedMarketing(_ context.Context, channel string, addresses []string) (map[string]bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]bool{}
	for _, a := range addresses {
		if n.prefs[channel+"/"+a].StopMarketing {
			out[a] = true
		}
	}
	return out, nil
}

type env struct {
	t        *testing.T
	ctx      context.Context
	clock    *clock
	db       *sqlite.DB
	eng      *engine.Engine
	wa       *platform
	numbers  *numbers
	svc      *broadcast.Service
	cfg      broadcast.Config
	defs     map[string]*campaigns.Definition
	versions map[string]int64
}

func newEnv(t *testing.T, limit int) *env {
	t.Helper()
	var defs []*campaigns.Definition
	byID := map[string]*campaigns.Definition{}
	for _, f := range []string{"../campaigns/examples/news.yaml", "testdata/deals.yaml"} {
		def, probs := campaigns.LoadFile(f)
		if def == nil {
			t.Fatalf("load %s: %v", f, probs)
		}
		defs = append(defs, def)
		byID[def.ID] = def
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "campaign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, ctx: context.Background(), clock: &clock{now: t0}, db: db, defs: byID, versions: map[string]int64{}}
	e.wa = &platform{clock: e.clock, refuse: map[string]error{}}
	e.eng = engine.New(engine.Config{Store: db, Campaigns: defs, Now: e.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)),
		Windows: map[string]time.Duration{"whatsapp": 24 * time.Hour, "messenger": 24 * time.Hour}})
	e.eng.Handle("whatsapp", e.wa)
	e.eng.Handle("telegram", e.wa)
	e.eng.Handle("messenger", e.wa)
	e.numbers = &numbers{health: map[string]broadcast.NumberHealth{}, prefs: map[string]broadcast.Preference{}}
	e.numbers.set(broadcast.NumberHealth{Channel: "whatsapp", Number: number, Limit: limit, Throughput: 80,
		Quality: broadcast.QualityGreen, Status: "CONNECTED", CheckedAt: t0})
	e.cfg = broadcast.Config{Store: db, Engine: e.eng, Numbers: e.numbers, Outcomes: db,
		Audit: &audit.Log{Store: db, Now: e.clock.Now}, Notify: db, Now: e.clock.Now,
		CampaignNumber: func(c string) string {
			if d, ok := e.eng.Campaign(c); ok {
				return d.WhatsAppNumber
			}
			return ""
		}}
	e.restart()
	return e
}

// restart makes a new Service on the same store, as a new process would.
func (e *env) restart() {
	e.svc = broadcast.New(e.cfg)
	e.eng.OnMarketingRefusal(e.svc.Refused)
}

// subscribe stores n subscribers of campaign on channel, numbered from first, who last wrote
// ago before now: +31600000001, …
func (e *env) subscribe(campaign, channel string, first, n int, ago time.Duration) []engine.Participant {
	e.t.Helper()
	def := e.defs[campaign]
	now := e.clock.Now()
	var ps []engine.Participant
	var steps []engine.Step
	flush := func() {
		if len(steps) == 0 {
			return
		}
		errsOut, err := e.db.CommitBatch(e.ctx, steps)
		if err == nil {
			err = errors.Join(errsOut...)
		}
		if err != nil {
			e.t.Fatalf("subscribe: %v", err)
		}
		steps = steps[:0]
	}
	for i := first; i < first+n; i++ {
		addr := fmt.Sprintf("+316%08d", i)
		p := engine.Participant{ID: engine.ParticipantID(campaign, channel, addr), Campaign: campaign, Channel: channel,
			Address: addr, State: "subscribed", Vars: map[string]string{"lang": def.Languages[0]}, Version: 1,
			DefVersion: def.Version, Entered: 1, LastInboundAt: now.Add(-ago), CreatedAt: now, UpdatedAt: now}
		ps = append(ps, p)
		steps = append(steps, engine.Step{Participant: p, Created: true})
		if len(steps) == 500 {
			flush()
		}
	}
	flush()
	return ps
}

// write has p write now: their 24-hour window opens.
func (e *env) write(p engine.Participant) {
	e.t.Helper()
	cur, err := e.db.Participant(e.ctx, p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	next := cur
	next.Version++
	next.LastInboundAt, next.UpdatedAt = e.clock.Now(), e.clock.Now()
	if err := e.db.Commit(e.ctx, engine.Step{Participant: next, PrevVersion: cur.Version}); err != nil {
		e.t.Fatal(err)
	}
}

// tick runs one pacing pass and sends everything due.
func (e *env) tick() {
	e.t.Helper()
	if err := e.svc.Tick(e.ctx); err != nil {
		e.t.Fatalf("tick at %s: %v", e.clock.Now(), err)
	}
	e.send()
}

// send delivers every due reply.
func (e *env) send() {
	e.t.Helper()
	for {
		n, err := e.eng.SendDue(e.ctx)
		if err != nil {
			e.t.Fatalf("send: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func (e *env) start(campaign string, msg campaigns.Message) broadcast.Broadcast {
	e.t.Helper()
	b, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: campaign, Message: msg, By: "ann"})
	if err != nil {
		e.t.Fatalf("start broadcast to %s: %v", campaign, err)
	}
	e.send()
	return b
}

func (e *env) get(id string) broadcast.Broadcast {
	e.t.Helper()
	b, err := e.svc.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) report(id string) broadcast.Report {
	e.t.Helper()
	r, err := e.svc.Report(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// news is the weekly digest with its template, for those outside their window.
func news() campaigns.Message {
	return campaigns.Message{Text: campaigns.Text{"nl": "Het weekoverzicht", "en": "The weekly digest"}, Template: "weekly"}
}

func deals() campaigns.Message {
	return campaigns.Message{Text: campaigns.Text{"nl": "Aanbiedingen"}, Template: "deals"}
}

// maxInMovingDay is the most unique people sent a template to in any 24 hours (both ends
// counted: a release exactly a day after another shares its day).
func maxInMovingDay(ss []sent) int {
	count := map[string]int{}
	best, j := 0, 0
	var ts []sent
	for _, s := range ss {
		if s.template {
			ts = append(ts, s)
		}
	}
	for i := range ts {
		count[ts[i].to]++
		for ts[j].at.Before(ts[i].at.Add(-24 * time.Hour)) {
			if count[ts[j].to]--; count[ts[j].to] == 0 {
				delete(count, ts[j].to)
			}
			j++
		}
		best = max(best, len(count))
	}
	return best
}
