package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// Channel is the channel name rehearsal participants talk on.
const Channel = "rehearsal"

// Start is when every rehearsal of an unscheduled campaign begins, so that scripts with dates
// replay identically: 09:00 on this day in the campaign's time zone (UTC here).
var Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Reply is one message the persona sent during a rehearsal.
type Reply struct {
	To      string
	Text    string
	Buttons []string
	// ButtonIDs are the ids of Buttons, in the same order: what /choose takes.
	ButtonIDs []string
	// Template is the template key (under templates:) the reply went out as, because the
	// participant's 24-hour window had closed; Params are its parameters filled in. Text is
	// then what would have been sent inside the window.
	Template string
	Params   []string
	// NotSent is why the reply never reached the participant (the window had closed and the
	// message has no template); empty for a reply that went out.
	NotSent string
	id      int64
}

// Player plays one campaign against a real engine and store in a temporary folder.
type Player struct {
	def   *campaigns.Definition
	db    *sqlite.DB
	eng   *engine.Engine
	judge *judge.Service
	clock *clock
	out   *outbox
	who   string
	// names are the display names of participants whose address is not their name (teams).
	names map[string]string
	// teams are the teams formed with /form, by name; aliases the name a formed team's address
	// (random, as on the web chat) is shown as: team-NAME, like a /team team.
	teams   map[string]engine.Team
	aliases map[string]string
	seq     int
	// locales are the languages participants' apps are set to (/locale), sent with their
	// messages as a channel does.
	locales map[string]string
	// seen are the participants the rehearsal has talked as (their ids), whose replies that
	// were not sent it looks for; reported are those replies already reported.
	seen     map[string]bool
	reported map[int64]bool
}

// WhatsAppWindow is WhatsApp's customer-service window, which a rehearsal of a campaign played
// as on WhatsApp honours.
const WhatsAppWindow = 24 * time.Hour

// onWhatsApp reports whether the rehearsal plays the campaign as WhatsApp would: it runs on
// WhatsApp and not on the web chat (where a stranger joins by opening the page). Then only an
// entry keyword joins, and the 24-hour window holds.
func (p *Player) onWhatsApp() bool {
	chs := p.def.Channels
	return slices.Contains(chs, "whatsapp") && !slices.Contains(chs, "webchat")
}

// Location is the campaign's time zone (schedule.timezone; UTC when it has none): the zone
// /wait until reads times in and campaign simulate shows them in.
func (p *Player) Location() *time.Location {
	if l := p.def.Schedule.Location; l != nil {
		return l
	}
	return time.UTC
}

// New starts a rehearsal of def with its store in dir (a fresh, empty folder). A campaign
// with a dated schedule start is rehearsed from that day, any other from Start; either way
// the campaign is launched when the rehearsal starts, so times written as 7d count from it.
func New(ctx context.Context, def *campaigns.Definition, dir string) (*Player, error) {
	start := Start
	if loc := def.Schedule.Location; loc != nil {
		// 09:00 where the campaign runs, so /wait until 17:00 is that afternoon there.
		start = time.Date(Start.Year(), Start.Month(), Start.Day(), Start.Hour(), Start.Minute(), 0, 0, loc)
	}
	if !def.Schedule.Start.IsZero() {
		// A scheduled campaign is rehearsed from its first day, whenever it runs.
		start = def.Schedule.Start
	}
	return NewAt(ctx, def, dir, start)
}

// NewAt is New with the rehearsal starting (and the campaign launched) at start: with
// time.Now() it plays the campaign as a participant would today.
func NewAt(ctx context.Context, def *campaigns.Definition, dir string, start time.Time) (*Player, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "rehearsal.db"))
	if err != nil {
		return nil, fmt.Errorf("rehearsal: %w", err)
	}
	c := &clock{now: start}
	p := &Player{def: def, db: db, clock: c, out: &outbox{def: def}, who: "ann", names: map[string]string{},
		teams: map[string]engine.Team{}, aliases: map[string]string{}, seen: map[string]bool{}, reported: map[int64]bool{},
		locales: map[string]string{}}
	var windows map[string]time.Duration
	if p.onWhatsApp() {
		// Played as on WhatsApp: after 24 hours without a message from the participant only
		// templates go out, as the WhatsApp sender of campaign serve enforces.
		windows = map[string]time.Duration{Channel: WhatsAppWindow}
	}
	// One send at a time: replies to different participants then go out in the order they
	// were written, which is the order a rehearsal lists them in.
	p.eng = engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{def}, Now: c.Now,
		Rand: rand.New(rand.NewPCG(1, 1)), SendConcurrency: 1, Windows: windows})
	p.eng.Handle(Channel, p.out)
	// Restore stores the definition and schedules its rounds, as `campaign serve` does.
	if err := p.eng.Restore(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("rehearsal: %w", err)
	}
	p.judge = &judge.Service{Store: db, Now: c.Now}
	return p, nil
}

// Close removes nothing but closes the store.
func (p *Player) Close() error { return p.db.Close() }

// Who is the address of the current participant.
func (p *Player) Who() string { return p.alias(p.who) }

func (p *Player) alias(addr string) string {
	if a, ok := p.aliases[addr]; ok {
		return a
	}
	return addr
}

// take returns the replies sent so far, and those that could not be sent (NotSent), in the
// order they were queued, addressed by the names a script uses.
func (p *Player) take(ctx context.Context) ([]Reply, error) {
	replies := p.out.take()
	failed, err := p.unsent(ctx)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		replies = append(replies, failed...)
		sort.SliceStable(replies, func(i, j int) bool { return replies[i].id < replies[j].id })
	}
	for i := range replies {
		replies[i].To = p.alias(replies[i].To)
	}
	return replies, nil
}

// unsent returns the replies to the participants played so far that the engine gave up on
// because the window was closed, not yet reported: a script sees a reply that silently went
// nowhere as what it is rather than as a missing one.
func (p *Player) unsent(ctx context.Context) ([]Reply, error) {
	if !p.onWhatsApp() {
		return nil, nil
	}
	var ids []string
	for id := range p.seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var rs []Reply
	for _, id := range ids {
		outs, err := p.db.Outbox(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("rehearsal: outbox of %s: %w", id, err)
		}
		for _, o := range outs {
			if o.Status != engine.StatusFailed || o.Error != engine.WindowClosed || p.reported[o.ID] {
				continue
			}
			p.reported[o.ID] = true
			r := reply(o)
			r.NotSent = o.Error
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// Now is the rehearsal's clock.
func (p *Player) Now() time.Time { return p.clock.Now() }

// Do runs one participant line (">") or command ("/") and returns the replies it caused,
// letting the persona type all of them (Act, then Settle).
func (p *Player) Do(ctx context.Context, l Line) ([]Reply, error) {
	replies, err := p.Act(ctx, l)
	var ref *RefusedError
	if err != nil && !errors.As(err, &ref) {
		return nil, err
	}
	more, serr := p.Settle(ctx)
	if serr != nil {
		return nil, serr
	}
	return append(replies, more...), err
}

// Act runs one participant line or command at the current time and returns the replies that
// went out at once; the clock does not move (except by /wait), so replies still being typed
// stay pending until a later Act or Settle.
func (p *Player) Act(ctx context.Context, l Line) ([]Reply, error) {
	switch l.Op {
	case ">":
		if err := p.receive(ctx, engine.Inbound{Kind: engine.KindText, Text: l.Arg}); err != nil {
			return nil, err
		}
	case "/":
		f := strings.Fields(l.Arg)
		cmd, ok := commands[f[0]]
		if !ok {
			return nil, fmt.Errorf("unknown command %s (known: %s)", f[0], commandList())
		}
		if err := cmd.run(ctx, p, f[1:]); err != nil {
			reason := engine.Refusal(err)
			if ref := (*RefusedError)(nil); errors.As(err, &ref) {
				reason = ref.Reason
			}
			if reason == "" {
				return nil, err
			}
			// Refused, and said why: what the command did cause (nothing, as a rule) still
			// comes out, so a script sees a leak as an unexpected reply.
			if err := p.turn(ctx); err != nil {
				return nil, err
			}
			replies, err := p.take(ctx)
			if err != nil {
				return nil, err
			}
			return replies, &RefusedError{Reason: reason}
		}
	default:
		return nil, fmt.Errorf("not an action: %s", l.Op)
	}
	if err := p.turn(ctx); err != nil {
		return nil, err
	}
	return p.take(ctx)
}

// RefusedError is a command the engine or the judge refused because of what the participant
// did (opted out, finished); a script expects it with a "!" line.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// State is the current participant's state ("" before they joined).
func (p *Player) State(ctx context.Context) (string, error) {
	pt, err := p.db.Participant(ctx, p.participantID())
	if err != nil {
		return "", err
	}
	return pt.State, nil
}

// Handoff returns the team the current participant's conversation is handed to ("" when the
// bot has it).
func (p *Player) Handoff(ctx context.Context) (string, error) {
	pt, err := p.db.Participant(ctx, p.participantID())
	if err != nil {
		return "", err
	}
	return pt.Vars["handoff"], nil
}

// Finished reports whether the current participant's run has ended (a final state, an
// end: true, opting out or declining consent): they stay in the state they ended in.
func (p *Player) Finished(ctx context.Context) (bool, error) {
	pt, err := p.db.Participant(ctx, p.participantID())
	if err != nil {
		return false, err
	}
	return pt.Finished, nil
}

// unheard reports whether a message from the current participant reaches the campaign on no
// channel it runs on: a stranger's message that is not an entry keyword, on a campaign that is
// on WhatsApp and not on the web chat. WhatsApp routes such a message to no campaign with
// keywords (the web chat, by contrast, joins whoever opens it), so nobody answers it.
func (p *Player) unheard(ctx context.Context, in engine.Inbound) (bool, error) {
	if in.Kind == engine.KindOptIn || !p.onWhatsApp() {
		return false, nil
	}
	_, err := p.db.Participant(ctx, p.participantID())
	if !errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	_, ok, err := p.eng.Route(ctx, "whatsapp", p.who, in.Text, "")
	return !ok, err
}

func (p *Player) participantID() string {
	return engine.ParticipantID(p.def.ID, Channel, p.who)
}

func (p *Player) receive(ctx context.Context, in engine.Inbound) error {
	if t, ok := p.teams[p.names[p.who]]; ok && t.ID == p.who && !engine.TeamReady(p.def, t) {
		// As the web chat does: a team short of members cannot send yet.
		return fmt.Errorf("team %s has %d of the %d members it needs to play: /as SOMEONE, then /join %s", t.Name, len(t.Members), p.def.Teams.MinSize, t.Name)
	}
	if out, err := p.unheard(ctx, in); out || err != nil {
		return err
	}
	p.seq++
	p.seen[p.participantID()] = true
	in.Campaign, in.Channel, in.From = p.def.ID, Channel, p.who
	in.Name = p.who
	if n, ok := p.names[p.who]; ok {
		in.Name = n
	}
	in.PlatformID = "r" + strconv.Itoa(p.seq)
	in.Locale = p.locales[p.who]
	_, err := p.eng.Receive(ctx, in)
	return err
}

// Settle processes every stored event and lets the persona type every reply, moving the clock
// to each reply's due time in turn, the earliest first (as a sender polling the outbox
// would meet them).
func (p *Player) Settle(ctx context.Context) ([]Reply, error) {
	for range 1000 {
		if err := p.turn(ctx); err != nil {
			return nil, err
		}
		now := p.clock.Now()
		waiting, err := p.db.DueOutbox(ctx, now.Add(24*time.Hour), 0)
		if err != nil {
			return nil, err
		}
		var next time.Time
		for _, o := range waiting {
			if o.DueAt.After(now) && (next.IsZero() || o.DueAt.Before(next)) {
				next = o.DueAt
			}
		}
		if next.IsZero() {
			return p.take(ctx)
		}
		p.clock.Set(next)
	}
	return nil, errors.New("rehearsal: replies keep coming; is there a loop in the campaign?")
}

// turn does what is due at the current time: timers fire, stored events are processed and due
// replies sent.
func (p *Player) turn(ctx context.Context) error {
	if _, err := p.eng.FireDueTimers(ctx); err != nil {
		return err
	}
	if _, err := p.eng.ProcessPending(ctx); err != nil {
		return err
	}
	_, err := p.eng.SendDue(ctx)
	return err
}

// pickWinners gives the verdict winner to the top of the ranking, as the dashboard's button
// does; winners no verdict moves are a refusal naming them.
func (p *Player) pickWinners(ctx context.Context, top int) error {
	ranked, err := p.eng.Ranking(ctx, p.def.ID)
	if err != nil {
		return fmt.Errorf("/winners: %w", err)
	}
	got, err := p.judge.PickWinners(ctx, p.def.ID, ranked, top, "rehearsal")
	if err != nil {
		return fmt.Errorf("/winners: %w", err)
	}
	var refused []string
	for _, r := range got.Refused {
		name := r.ParticipantID
		if pt, err := p.db.Participant(ctx, r.ParticipantID); err == nil {
			name = p.alias(pt.Address)
		}
		refused = append(refused, r.Reason+": "+name)
	}
	for _, r := range got.Waiting {
		name := r.ParticipantID
		if pt, err := p.db.Participant(ctx, r.ParticipantID); err == nil {
			name = p.alias(pt.Address)
		}
		refused = append(refused, fmt.Sprintf("still playing, in state %q, which answers no verdict winner: %s", r.Unanswered, name))
	}
	if len(refused) > 0 {
		return &RefusedError{Reason: strings.Join(refused, "; ")}
	}
	return nil
}

// Rank is the current participant's rank in the campaign's ranking, "-" when they are not
// ranked.
func (p *Player) Rank(ctx context.Context) (string, error) {
	ranked, err := p.eng.Ranking(ctx, p.def.ID)
	if err != nil {
		return "", err
	}
	for _, r := range ranked {
		if r.ParticipantID == p.participantID() {
			return strconv.Itoa(r.Rank), nil
		}
	}
	return "-", nil
}

// latestPending is the current participant's newest undecided entry.
func (p *Player) latestPending(ctx context.Context) (judge.Entry, error) {
	es, err := p.judge.Entries(ctx, judge.Filter{Campaign: p.def.ID, Status: judge.StatusPending})
	if err != nil {
		return judge.Entry{}, err
	}
	for _, e := range es {
		if e.ParticipantID == p.participantID() {
			return e, nil
		}
	}
	return judge.Entry{}, fmt.Errorf("%s has no entry waiting for a verdict", p.who)
}

type command struct {
	usage string
	run   func(ctx context.Context, p *Player, args []string) error
}

var commands map[string]command

func init() {
	media := func(kind, mime string) command {
		return command{"/" + kind + " [name]", func(ctx context.Context, p *Player, args []string) error {
			name := kind
			if len(args) > 0 {
				name = filepath.Base(args[0])
			}
			p.seq++
			key := fmt.Sprintf("%s/%s/%d-%s", p.def.ID, p.participantID(), p.seq, name)
			return p.receive(ctx, engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: kind, Key: key, MIME: mime, Size: 1}})
		}}
	}
	verdict := func(name, v string) command {
		return command{"/" + name, func(ctx context.Context, p *Player, _ []string) error {
			e, err := p.latestPending(ctx)
			if err != nil {
				return err
			}
			return p.judge.Decide(ctx, judge.Decision{EntryID: e.ID, Verdict: v, By: "rehearsal"})
		}}
	}
	commands = map[string]command{
		"/photo":    media("photo", "image/jpeg"),
		"/video":    media("video", "video/mp4"),
		"/audio":    media("audio", "audio/ogg"),
		"/document": media("document", "application/pdf"),
		"/approve":  verdict("approve", judge.StatusApproved),
		"/reject":   verdict("reject", judge.StatusRejected),
		"/choose": {"/choose ID", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /choose ID")
			}
			// A tap carries the title the participant saw, as the platforms send it.
			return p.receive(ctx, engine.Inbound{Kind: engine.KindChoice, Choice: args[0], Text: p.out.title(p.who, args[0])})
		}},
		"/location": {"/location LAT LNG", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 2 {
				return errors.New("usage: /location LAT LNG")
			}
			lat, err1 := strconv.ParseFloat(args[0], 64)
			lng, err2 := strconv.ParseFloat(args[1], 64)
			if err1 != nil || err2 != nil {
				return errors.New("usage: /location LAT LNG (numbers, like 52.37 4.89)")
			}
			return p.receive(ctx, engine.Inbound{Kind: engine.KindLocation, Location: &engine.Location{Latitude: lat, Longitude: lng}})
		}},
		"/wait": {"/wait DURATION or /wait until DATE TIME", func(ctx context.Context, p *Player, args []string) error {
			if len(args) > 0 && args[0] == "until" {
				t, err := p.until(strings.Join(args[1:], " "))
				if err != nil {
					return err
				}
				p.clock.Set(t)
				return nil
			}
			if len(args) != 1 {
				return errors.New("usage: /wait DURATION (like 30m or 25h) or /wait until 2026-03-01 09:00")
			}
			d, err := campaigns.ParseDuration(args[0])
			if err != nil {
				return fmt.Errorf("/wait: %q is not a duration (like 30m, 25h or 2d)", args[0])
			}
			p.clock.Set(p.clock.Now().Add(d))
			return nil
		}},
		"/verdict": {"/verdict shortlisted|winner|eliminated|advanced", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /verdict shortlisted|winner|eliminated|advanced")
			}
			return p.judge.DecideParticipant(ctx, p.def.ID, p.participantID(), args[0], "rehearsal", "")
		}},
		"/winners": {"/winners", func(ctx context.Context, p *Player, args []string) error {
			rk := p.def.Ranking
			if len(args) != 0 || rk == nil || rk.Top < 1 {
				return errors.New("usage: /winners (the campaign's ranking needs top: how many win)")
			}
			return p.pickWinners(ctx, rk.Top)
		}},
		"/round": {"/round start|close NAME", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 2 || (args[0] != "start" && args[0] != "close") {
				return errors.New("usage: /round start NAME or /round close NAME")
			}
			if args[0] == "start" {
				return p.eng.StartRound(ctx, p.def.ID, args[1])
			}
			return p.eng.CloseRound(ctx, p.def.ID, args[1])
		}},
		"/agent": {"/agent TEXT", func(ctx context.Context, p *Player, args []string) error {
			if len(args) == 0 {
				return errors.New("usage: /agent TEXT (what the human agent says)")
			}
			return p.eng.AgentSay(ctx, p.participantID(), "agent", strings.Join(args, " "))
		}},
		"/handback": {"/handback", func(ctx context.Context, p *Player, _ []string) error {
			pt, err := p.db.Participant(ctx, p.participantID())
			if err != nil {
				return fmt.Errorf("/handback: %s: %w", p.who, err)
			}
			// As in the dashboard, a participant who opted out or finished cannot be handed
			// back: the script is told why.
			if err := engine.Closed(pt); err != nil {
				return fmt.Errorf("/handback: %w", err)
			}
			// The engine ignores a hand-back of a conversation no human has; in a script it
			// is a mistake, which should not pass unnoticed.
			if st := p.def.States[pt.State]; engine.Closed(pt) == nil && st != nil && st.Handoff == "" {
				return fmt.Errorf("/handback: %s is in state %q, which does not hand off to a human", p.who, pt.State)
			}
			return p.eng.Handback(ctx, p.participantID(), "agent")
		}},
		"/broadcast": {"/broadcast STATE [VAR=VALUE] [template KEY] TEXT", func(ctx context.Context, p *Player, args []string) error {
			to, msg, err := p.broadcastArgs(args)
			if err != nil {
				return err
			}
			_, _, err = p.eng.BroadcastTo(ctx, p.def.ID, to, msg)
			return err
		}},
		"/locale": {"/locale CODE", func(_ context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /locale CODE (the language the current participant's app or browser is set to, like nl-BE)")
			}
			p.locales[p.who] = args[0]
			return nil
		}},
		"/codes": {"/codes POOL CODE...", func(ctx context.Context, p *Player, args []string) error {
			if len(args) < 2 {
				return errors.New("usage: /codes POOL CODE... (adds the codes to a pool of codes, after those it has)")
			}
			if !p.def.Pools[args[0]].HasCodes() {
				var pools []string
				for name, pool := range p.def.Pools {
					if pool.HasCodes() {
						pools = append(pools, name)
					}
				}
				sort.Strings(pools)
				return fmt.Errorf("/codes: %q is not a pool of codes of this campaign (its pools of codes: %s)", args[0], strings.Join(pools, ", "))
			}
			_, err := p.eng.AddCodes(ctx, p.def.ID, args[0], args[1:])
			return err
		}},
		"/optin": {"/optin", func(ctx context.Context, p *Player, _ []string) error {
			return p.receive(ctx, engine.Inbound{Kind: engine.KindOptIn})
		}},
		"/as": {"/as NAME", func(_ context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /as NAME")
			}
			p.who = args[0]
			return nil
		}},
		"/form": {"/form NAME", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /form NAME (the current participant forms team NAME, as on the web chat)")
			}
			t, err := p.eng.FormTeam(ctx, p.def.ID, Channel, p.who, args[0])
			if err != nil {
				return fmt.Errorf("/form %s: %w", args[0], err)
			}
			p.teams[t.Name], p.aliases[t.ID], p.names[t.ID] = t, "team-"+t.Name, t.Name
			p.who = t.ID
			return nil
		}},
		"/join": {"/join NAME", func(ctx context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /join NAME (the current participant joins team NAME with its invite code)")
			}
			t, ok := p.teams[args[0]]
			if !ok {
				return fmt.Errorf("/join %s: no team %s was formed with /form", args[0], args[0])
			}
			t, err := p.eng.JoinTeam(ctx, p.def.ID, Channel, p.who, t.Code)
			if err != nil {
				return fmt.Errorf("/join %s: %w", args[0], err)
			}
			p.teams[t.Name] = t
			p.who = t.ID
			return nil
		}},
		"/team": {"/team NAME", func(_ context.Context, p *Player, args []string) error {
			if len(args) != 1 {
				return errors.New("usage: /team NAME")
			}
			p.who = "team-" + args[0]
			p.names[p.who] = args[0]
			return nil
		}},
	}
}

// untilLayouts are the times /wait until takes, read in the campaign's time zone.
var untilLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

// until reads the moment of a /wait until in the campaign's time zone, so that a script says
// 09:00 where the schedule says 09:00. A time alone (15:04) is its next occurrence.
func (p *Player) until(s string) (time.Time, error) {
	loc, now := p.Location(), p.clock.Now()
	var t time.Time
	if hm, err := time.ParseInLocation("15:04", s, loc); err == nil {
		local := now.In(loc)
		t = time.Date(local.Year(), local.Month(), local.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
		if t.Before(now) {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	ok := false
	for _, l := range untilLayouts {
		if v, err := time.ParseInLocation(l, s, loc); err == nil {
			t, ok = v, true
			break
		}
	}
	if !ok {
		return time.Time{}, fmt.Errorf("/wait until: %q is not a time like 2026-03-01 09:00 or 09:00 (read in %s)", s, loc)
	}
	if t.Before(now) {
		return time.Time{}, fmt.Errorf("/wait until %s: the rehearsal is already at %s; time only moves forward", s, now.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return t, nil
}

// Commands lists the commands a rehearsal understands, for help texts.
func Commands() string { return commandList() }

func commandList() string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// clock is the rehearsal's clock: it moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// outbox is the rehearsal channel: it keeps what the persona sent until the player takes it.
type outbox struct {
	def     *campaigns.Definition
	mu      sync.Mutex
	replies []Reply
	// titles are the titles of the buttons last offered to each address, by id.
	titles map[string]map[string]string
}

// title is the title of the button id last offered to address (the id when none was).
func (o *outbox) title(address, id string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t, ok := o.titles[address][id]; ok {
		return t
	}
	return id
}

func (o *outbox) Send(_ context.Context, out engine.Outbound) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := reply(out)
	if out.Template != nil {
		r.Template, r.Params = templateKey(o.def, out.Template.Name), out.Template.Params
	}
	for _, b := range out.Buttons {
		if o.titles == nil {
			o.titles = map[string]map[string]string{}
		}
		if o.titles[out.To] == nil {
			o.titles[out.To] = map[string]string{}
		}
		o.titles[out.To][b.ID] = b.Title
	}
	o.replies = append(o.replies, r)
	return fmt.Sprintf("rehearsal-%d", out.ID), nil
}

// reply is what a script sees of out, without its template (which only a send sets).
func reply(out engine.Outbound) Reply {
	r := Reply{To: out.To, Text: out.Text, id: out.ID}
	for _, b := range out.Buttons {
		r.Buttons = append(r.Buttons, b.Title)
		r.ButtonIDs = append(r.ButtonIDs, b.ID)
	}
	return r
}

// templateKey is the key under templates: of the template registered as name, which is what
// a script names (and the definition's messages refer to).
func templateKey(def *campaigns.Definition, name string) string {
	keys := make([]string, 0, len(def.Templates))
	for k := range def.Templates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if def.Templates[k].Name == name {
			return k
		}
	}
	return name
}

func (o *outbox) take() []Reply {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.replies
	o.replies = nil
	return r
}

// internalState reports whether name is one of the engine's own states, which a script may
// name (to check that a broadcast to those who declined reaches nobody) though no definition has them.
func internalState(name string) bool {
	switch name {
	case engine.StateConsent, engine.StateDeclined, engine.StateOptedOut:
		return true
	}
	return false
}

// varFilterRe is a /broadcast argument picking participants by a variable: topic=sport.
var varFilterRe = regexp.MustCompile(`^([a-z_][a-z0-9_]*)=(.+)$`)

// broadcastArgs reads /broadcast STATE [VAR=VALUE] [template KEY] TEXT: STATE is a state or *
// (every step); TEXT is in the first language, or one per language as "nl: Hallo | en: Hello".
func (p *Player) broadcastArgs(args []string) (engine.Audience, campaigns.Message, error) {
	usage := errors.New("usage: /broadcast STATE [VAR=VALUE] [template KEY] TEXT (to every participant in STATE, or in every step with *; TEXT may be \"nl: … | en: …\")")
	var to engine.Audience
	var msg campaigns.Message
	if len(args) < 2 {
		return to, msg, usage
	}
	to.State = args[0]
	if to.State == "*" {
		to.State = "" // the dashboard's "every step"
	} else if _, ok := p.def.States[to.State]; !ok && !internalState(to.State) {
		return to, msg, fmt.Errorf("no state %q in this campaign (its states: %s)", to.State, strings.Join(p.def.Order, ", "))
	}
	rest := args[1:]
	if m := varFilterRe.FindStringSubmatch(rest[0]); m != nil {
		to.Var, to.Value, rest = m[1], m[2], rest[1:]
	}
	if len(rest) > 0 && rest[0] == "template" {
		if len(rest) < 2 {
			return to, msg, usage
		}
		msg.Template, rest = rest[1], rest[2:]
		if p.def.Templates[msg.Template] == nil {
			var keys []string
			for k := range p.def.Templates {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return to, msg, fmt.Errorf("no template %q under templates: (its templates: %s)", msg.Template, strings.Join(keys, ", "))
		}
	}
	if len(rest) == 0 {
		return to, msg, usage
	}
	text := strings.Join(rest, " ")
	msg.Text = campaigns.Text{p.def.Languages[0]: text}
	if l, _, ok := strings.Cut(text, ":"); ok && slices.Contains(p.def.Languages, l) {
		msg.Text = campaigns.Text{}
		for _, part := range strings.Split(text, "|") {
			l, s, ok := strings.Cut(strings.TrimSpace(part), ":")
			if !ok || !slices.Contains(p.def.Languages, l) {
				return to, msg, fmt.Errorf("/broadcast: %q is not LANG: TEXT with a language of the campaign (%s)", strings.TrimSpace(part), strings.Join(p.def.Languages, ", "))
			}
			msg.Text[l] = strings.TrimSpace(s)
		}
	}
	return to, msg, nil
}
