package engine

import (
	"cmp"
	"context"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// ErrCodeTaken is returned by Store.Commit when a unique code was already issued.
var ErrCodeTaken = fmt.Errorf("%w: code already issued", errs.ErrConflict)

// ErrCodeClaimed is returned by Store.Commit when a code of a pool of codes was handed out
// before (to someone else, by a step committed meanwhile); the step is worked out again.
var ErrCodeClaimed = fmt.Errorf("%w: code handed out before", errs.ErrConflict)

// ErrPoolFull is returned by Store.Commit when a place is taken from a pool at capacity.
var ErrPoolFull = fmt.Errorf("%w: pool is full", errs.ErrConflict)

// ErrProcessed is returned by Store.Commit and Store.SkipInbound when the event was processed
// before: another process applied it, or an earlier attempt committed and its answer was lost.
// The engine skips such an event; its effects are already stored.
var ErrProcessed = fmt.Errorf("%w: event already processed", errs.ErrConflict)

// ErrOptedOut and ErrFinished refuse what is meant to reach or move a participant who opted out
// or finished (a moderator's verdict, an agent's reply to someone who opted out): nothing
// moves a finished participant on, and nothing reaches one who opted out. Both wrap
// errs.ErrConflict; Refusal gives the reason in words.
var (
	ErrOptedOut = fmt.Errorf("%w: participant opted out", errs.ErrConflict)
	ErrFinished = fmt.Errorf("%w: participant has finished", errs.ErrConflict)
	// ErrAwaitingConsent refuses a verdict on a participant asked the consent question (again,
	// on coming back after STOP with an entry pending): the engine would skip it, and the
	// entry would count as decided while they, agreeing, wait for a verdict.
	ErrAwaitingConsent = fmt.Errorf("%w: participant has not agreed to take part", errs.ErrConflict)
)

// Refusal is the reason, in words, when err is ErrOptedOut, ErrFinished or
// ErrAwaitingConsent, and "" otherwise.
func Refusal(err error) string {
	switch {
	case errors.Is(err, ErrOptedOut):
		return "participant opted out"
	case errors.Is(err, ErrFinished):
		return "participant has finished"
	case errors.Is(err, ErrAwaitingConsent):
		return "participant has not agreed to take part"
	}
	return ""
}

// Judgeable says whether a verdict can move p: Closed, or ErrAwaitingConsent while p is asked
// for consent.
func Judgeable(p Participant) error {
	if err := Closed(p); err != nil {
		return err
	}
	if p.State == StateConsent {
		return ErrAwaitingConsent
	}
	return nil
}

// Closed says whether p may still be moved on or written to: ErrOptedOut, ErrFinished or nil.
func Closed(p Participant) error {
	switch {
	case p.State == StateOptedOut:
		return ErrOptedOut
	case p.Finished:
		return ErrFinished
	}
	return nil
}

// Default leases. A lease must outlast the work done under it: applying one participant's
// events of a batch, or one send (which is cut off before its lease ends). A process that
// dies holding a lease delays that work by at most the lease.
const (
	DefaultInboundLease = 10 * time.Second
	DefaultSendLease    = 20 * time.Second
	// DefaultSendAttempts is how many times a reply is tried before it is recorded failed.
	DefaultSendAttempts = 5
)

// What the engine says when the definition does not say it (the language has no field yet),
// in English; builtInTexts has the opt-out, finished, fallback, invalid, unsupported and
// progress texts in more languages.
const (
	// DefaultFallback is said when a message matches nothing and the definition has no fallback.
	DefaultFallback = "Sorry, I didn't get that."
	// NotRunning is said to anyone writing to a closed campaign.
	NotRunning = "Sorry, this campaign is not running at the moment."
	// NotStarted is said to a stranger before the schedule's start (%s: the date and zone).
	NotStarted = "Sorry, this campaign has not started yet. It opens on %s."
	// Ended is said to a stranger after the schedule's end, and to everyone after its hard
	// stop (%s: when it ended, and the zone).
	Ended = "Sorry, this campaign has ended. It closed on %s."
	// DefaultOptOut is said once on opting out when the definition has no OptOutSay.
	DefaultOptOut = "You're unsubscribed. You won't get any more messages from us."
	// Unsupported is said for a message the channel could not read.
	Unsupported = "I can't read that here — send text or a photo."
	// DefaultInvalid is said when an answer fails its Save check and the definition has no
	// Invalid text.
	DefaultInvalid = "That doesn't look right. Please try again."
	// DefaultFinished is said to a finished participant who writes again when neither their
	// state nor the definition has a finished text.
	DefaultFinished = "You have already taken part. Thank you!"
	// CollectProgress acknowledges one item of an entry of several.
	CollectProgress = "Got it ({{collected}} of {{count}})."
)

// builtInText is what the engine says in one language when the definition does not say it.
type builtInText struct{ OptOut, Finished, Fallback, Invalid, Unsupported, Progress string }

// builtInTexts are DefaultOptOut, DefaultFinished, DefaultFallback, DefaultInvalid, Unsupported
// and CollectProgress in the languages the consent question has built-in words for
// (campaigns.ConsentLanguages), so that a campaign that leaves them out does not switch to
// English for its goodbye.
var builtInTexts = map[string]builtInText{
	"en": {DefaultOptOut, DefaultFinished, DefaultFallback, DefaultInvalid, Unsupported, CollectProgress},
	"nl": {"Je bent afgemeld. Je krijgt geen berichten meer van ons.", "Je hebt al meegedaan. Bedankt!", "Sorry, dat begreep ik niet.",
		"Dat klopt niet helemaal. Probeer het nog eens.", "Dat kan ik hier niet lezen — stuur tekst of een foto.", "Ontvangen ({{collected}} van {{count}})."},
	"de": {"Du bist abgemeldet. Du bekommst keine Nachrichten mehr von uns.", "Du hast schon mitgemacht. Danke!", "Entschuldigung, das habe ich nicht verstanden.",
		"Das sieht nicht richtig aus. Bitte versuch es noch einmal.", "Das kann ich hier nicht lesen – schick Text oder ein Foto.", "Erhalten ({{collected}} von {{count}})."},
	"fr": {"Tu es désinscrit. Tu ne recevras plus de messages de notre part.", "Tu as déjà participé. Merci !", "Désolé, je n'ai pas compris.",
		"Ça ne semble pas correct. Réessaie, s'il te plaît.", "Je ne peux pas lire ça ici — envoie du texte ou une photo.", "Bien reçu ({{collected}} sur {{count}})."},
	"es": {"Te has dado de baja. No recibirás más mensajes nuestros.", "Ya has participado. ¡Gracias!", "Perdona, no lo he entendido.",
		"Eso no parece correcto. Inténtalo de nuevo.", "Aquí no puedo leer eso: envía texto o una foto.", "Recibido ({{collected}} de {{count}})."},
	"pt": {"Você cancelou a inscrição. Não vai receber mais mensagens nossas.", "Você já participou. Obrigado!", "Desculpe, não entendi.",
		"Isso não parece certo. Tente de novo.", "Não consigo ler isso aqui — envie texto ou uma foto.", "Recebido ({{collected}} de {{count}})."},
}

// builtIn is one of builtInTexts in every language of def that has it, English standing in
// for the first language when it has none.
func builtIn(def *campaigns.Definition, pick func(t builtInText) string) campaigns.Text {
	text := campaigns.Text{}
	for _, l := range def.Languages {
		if t, ok := builtInTexts[campaigns.LanguageBase(l)]; ok {
			text[l] = pick(t)
		}
	}
	if first := lang(def); text[first] == "" {
		text[first] = pick(builtInTexts["en"])
	}
	return text
}

// Internal states a participant can be in besides the definition's.
const (
	StateConsent  = "_consent"
	StateOptedOut = "_opted_out"
	// StateDeclined is a participant who answered no to the consent question: finished, until
	// they start over (see run.declined).
	StateDeclined = "_declined"
)

// Config holds what an Engine is built from. Now and Rand are injected so that delays, codes
// and timestamps are reproducible in tests.
type Config struct {
	Store Store
	// Campaigns are loaded live (unless Restore finds another status stored for them).
	Campaigns []*campaigns.Definition
	Now       func() time.Time
	Rand      *rand.Rand
	Log       *slog.Logger
	// Poll is how often the worker, the sender and the timers look for work when nobody
	// woke them.
	Poll time.Duration
	// Windows is the customer-service window per channel (whatsapp: 24h): outside it a reply
	// goes out only as its template.
	Windows map[string]time.Duration
	// AgentWindows is, per channel, how long after the participant's last message a
	// dashboard agent's reply (Outbound.Agent) may still go out once Windows closed
	// (messenger: 7 days, its HUMAN_AGENT tag); the channel marks such a reply as the
	// platform wants.
	AgentWindows map[string]time.Duration
	// Observer is told about received events, applied steps and sent replies (metrics);
	// nil means nobody listens.
	Observer Observer
	// Owner names this engine in the leases it takes (Store.Claim) and the send attempts it
	// records (Store.AttemptOutbox); it must differ between processes sharing a store. A name
	// that stays the same across restarts (cmd/campaign keeps one in the data folder) lets
	// a restarted engine take back its own leases at once (TakeBack) instead of waiting for
	// them to run out. Empty means a random name.
	Owner string
	// InboundLease and SendLease are how long a claim on a participant's events and on a
	// reply lasts; zero means DefaultInboundLease and DefaultSendLease.
	InboundLease, SendLease time.Duration
	// SendAttempts is how many times a reply failing for a transient reason is tried, with
	// backoff, before it is recorded failed; zero means DefaultSendAttempts.
	SendAttempts int
	// SendConcurrency is how many replies (to different recipients) are sent at once; zero
	// means DefaultSendConcurrency. Replies to one recipient always go out one at a time, in
	// order. The receive loop's direct sends (direct.go) have four times as many slots of
	// their own.
	SendConcurrency int
	// Intake is the back-pressure policy webhooks are admitted by (Engine.Intake); the zero
	// value means the defaults.
	Intake IntakePolicy
	// NoDirectSends leaves every reply to the sender's rounds, also where the receive loop
	// could send it as soon as its step commits (direct.go).
	NoDirectSends bool
}

// Engine runs campaigns. Its methods are safe for concurrent use.
type Engine struct {
	store   Store
	senders map[string]Sender
	now     func() time.Time
	log     *slog.Logger
	poll    time.Duration
	windows map[string]time.Duration
	// agentWindows is Config.AgentWindows.
	agentWindows map[string]time.Duration
	obs          Observer
	// refusal is told of marketing refusals (OnMarketingRefusal, paced.go).
	refusal atomic.Pointer[RefusalFunc]

	owner        string
	inboundLease time.Duration
	sendLease    time.Duration
	sendAttempts int
	// sendConcurrency is Config.SendConcurrency.
	sendConcurrency int

	defMu    sync.RWMutex
	versions map[string]map[string]*campaigns.Definition
	current  map[string]*campaigns.Definition
	status   map[string]string
	// launched is when each campaign was first stored: definitions are anchored to it
	// (campaigns.Definition.Anchor), so their times written as 7d become dates.
	launched map[string]time.Time

	randMu sync.Mutex
	rand   *rand.Rand

	// processMu serializes event processing in this process: one worker applies events in
	// stored order, which keeps each participant's events in order.
	processMu sync.Mutex
	sendMu    sync.Mutex
	timerMu   sync.Mutex
	// claimsExpired is when FireDueTimers last deleted expired leases (guarded by timerMu).
	claimsExpired time.Time
	wakeWork      chan struct{}
	wakeSend      chan struct{}
	// boards keep each ranked campaign's standings for {{rank}} (ranking.go).
	boards rankBoards
	// intake counts the backlog and applies the back-pressure policy (intake.go).
	intake *Intake
	// sharedQueues says the intake's backlog is the shared store's count (CountQueues).
	sharedQueues bool
	// fused is the receive loop while Run runs one (fused.go): Receive stores an event and
	// applies its step in one write through it.
	fused atomic.Pointer[fusedLoop]
	// turns keeps who is being sent to now, when the receive loop sends replies directly
	// (direct.go); nil otherwise.
	turns *sendTurns
}

// New returns an Engine for cfg.
func New(cfg Config) *Engine {
	e := &Engine{
		store:        cfg.Store,
		senders:      map[string]Sender{},
		now:          cfg.Now,
		log:          cfg.Log,
		poll:         cfg.Poll,
		rand:         cfg.Rand,
		windows:      cfg.Windows,
		agentWindows: cfg.AgentWindows,
		obs:          cfg.Observer,
		owner:        cfg.Owner,
		versions:     map[string]map[string]*campaigns.Definition{},
		current:      map[string]*campaigns.Definition{},
		status:       map[string]string{},
		launched:     map[string]time.Time{},
		wakeWork:     make(chan struct{}, 1),
		wakeSend:     make(chan struct{}, 1),
	}
	if e.now == nil {
		e.now = time.Now
	}
	policy := cfg.Intake
	if sp, ok := cfg.Store.(soleProcess); !ok || !sp.SoleProcess() {
		if _, ok := cfg.Store.(queueCounter); ok {
			// Several processes share the store (MongoDB): the backlog each counts in memory
			// is only its share (one takes in what another processes), so Run sets it from
			// the store's count every second (CountQueues).
			e.sharedQueues = true
		} else {
			// Shared, and no shared count: a count in memory that never falls would refuse
			// everything.
			policy.Off = true
		}
	}
	e.intake = NewIntake(policy)
	for _, d := range cfg.Campaigns {
		e.add(d, d.Version, StatusLive, true)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.poll == 0 {
		e.poll = 250 * time.Millisecond
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	if e.owner == "" {
		// A name, not a decision: it comes from crypto/rand so that two processes started
		// with the same seed still tell their leases apart.
		e.owner = cryptorand.Text()
	}
	e.inboundLease = cmp.Or(cfg.InboundLease, DefaultInboundLease)
	e.sendLease = cmp.Or(cfg.SendLease, DefaultSendLease)
	e.sendAttempts = cmp.Or(cfg.SendAttempts, DefaultSendAttempts)
	e.sendConcurrency = max(1, cmp.Or(cfg.SendConcurrency, DefaultSendConcurrency))
	_, fused := cfg.Store.(receiveApplier)
	_, marks := cfg.Store.(batchSentMarker)
	if fused && marks && !cfg.NoDirectSends {
		if sp, sole := cfg.Store.(soleProcess); sole && sp.SoleProcess() {
			e.turns = newSendTurns(directSlots * e.sendConcurrency)
		}
	}
	if e.rand == nil {
		e.rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	}
	return e
}

// add registers a definition version, anchored to its campaign's launch (now for a campaign
// never seen), and returns it; current makes it the one new participants get.
func (e *Engine) add(d *campaigns.Definition, version, status string, current bool) *campaigns.Definition {
	e.defMu.Lock()
	defer e.defMu.Unlock()
	launched, ok := e.launched[d.ID]
	if !ok {
		launched = e.now()
		e.launched[d.ID] = launched
	}
	d = d.Anchor(launched)
	if e.versions[d.ID] == nil {
		e.versions[d.ID] = map[string]*campaigns.Definition{}
	}
	e.versions[d.ID][version] = d
	if current || e.current[d.ID] == nil {
		e.current[d.ID] = d
	}
	if status != "" {
		// Kept for good: a copy, since callers pass strings out of request buffers that
		// the HTTP server reuses (Fiber without Immutable).
		e.status[d.ID] = strings.Clone(status)
	}
	return d
}

// Handle makes s deliver the replies of channel. Channels need the engine to receive, and the
// engine needs them to send, so they are registered after New, before Run.
func (e *Engine) Handle(channel string, s Sender) {
	e.senders[channel] = s
}

// Campaign returns the current definition of a campaign by id.
func (e *Engine) Campaign(id string) (*campaigns.Definition, bool) {
	e.defMu.RLock()
	defer e.defMu.RUnlock()
	d, ok := e.current[id]
	return d, ok
}

// CampaignVersion returns one version of a campaign's definition.
func (e *Engine) CampaignVersion(id, version string) (*campaigns.Definition, bool) {
	e.defMu.RLock()
	defer e.defMu.RUnlock()
	d, ok := e.versions[id][version]
	return d, ok
}

// Campaigns returns the current definitions, by id.
func (e *Engine) Campaigns() []*campaigns.Definition {
	e.defMu.RLock()
	out := make([]*campaigns.Definition, 0, len(e.current))
	for _, d := range e.current {
		out = append(out, d)
	}
	e.defMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Status returns a campaign's status, or "" for a campaign not loaded.
func (e *Engine) Status(id string) string {
	e.defMu.RLock()
	defer e.defMu.RUnlock()
	return e.status[id]
}

// Load adds a definition version at runtime, stores it (with its source, so Restore brings it
// back) and makes it current for new participants; participants already playing keep their
// version until they finish. A campaign seen before keeps its status; a new one is live.
func (e *Engine) Load(ctx context.Context, def *campaigns.Definition) error {
	return e.Launch(ctx, def, "")
}

// Launch is Load with the campaign's status set in the same write (draft to rehearse it
// first, live to open it); an empty status is Load's rule.
func (e *Engine) Launch(ctx context.Context, def *campaigns.Definition, status string) error {
	if def == nil || def.ID == "" || def.Version == "" || def.States[def.Start] == nil {
		return fmt.Errorf("engine: load: %w: a definition needs an id, a version and its start state", errs.ErrInvalid)
	}
	switch status {
	case "":
		if status = e.Status(def.ID); status == "" {
			status = StatusLive
		}
	case StatusDraft, StatusLive, StatusPaused, StatusClosed:
	default:
		return fmt.Errorf("engine: load %s: %w: status %q (want draft, live, paused or closed)", def.ID, errs.ErrInvalid, status)
	}
	if err := e.loadCodes(ctx, def); err != nil {
		return fmt.Errorf("engine: load %s: %w", def.ID, err)
	}
	err := e.store.SaveCampaign(ctx, CampaignRecord{ID: def.ID, Version: def.Version, File: def.File,
		Source: def.Source, Status: status, At: e.now(), Path: def.Path, Hash: sourceHash(def.Source)})
	if err != nil {
		return fmt.Errorf("engine: load %s: %w", def.ID, err)
	}
	def = e.add(def, def.Version, status, true)
	e.log.Info("campaign launched", "campaign", def.ID, "version", def.Version, "status", status)
	if err := e.scheduleRounds(ctx, def); err != nil {
		return fmt.Errorf("engine: load %s: %w", def.ID, err)
	}
	e.Wake()
	return nil
}

// Restore brings back the definitions and statuses kept in the store, and stores the
// definitions given in Config whose file is new or changed since it was last loaded from
// (Definition.Path, compared by the hash of its content): a changed file is a new version and
// becomes current, an unchanged one leaves current whatever ran before the restart, a version
// launched since included. It logs which version each campaign runs and where it came from.
// Call it once after New, before Run.
func (e *Engine) Restore(ctx context.Context) error {
	recs, err := e.store.Campaigns(ctx)
	if err != nil {
		return fmt.Errorf("engine: restore: %w", err)
	}
	e.defMu.Lock()
	configured := make([]*campaigns.Definition, 0, len(e.current))
	for _, d := range e.current {
		configured = append(configured, d)
	}
	// Stored campaigns keep the launch they had: their times after launch do not move on a
	// restart or a new version.
	launched := map[string]time.Time{}
	for _, r := range recs {
		at := r.Launched
		if at.IsZero() {
			at = r.At // stored before launches were kept
		}
		if l, ok := launched[r.ID]; !ok || at.Before(l) {
			launched[r.ID] = at
		}
	}
	maps.Copy(e.launched, launched)
	e.defMu.Unlock()
	sort.Slice(configured, func(i, j int) bool { return configured[i].ID < configured[j].ID })
	stored := map[string]map[string]bool{}
	// storedFile is the file name each stored version came with.
	storedFile := map[string]string{}
	for _, r := range recs {
		storedFile[r.ID+"\x00"+r.Version] = r.File
		if stored[r.ID] == nil {
			stored[r.ID] = map[string]bool{}
		}
		stored[r.ID][r.Version] = true
		def, probs := campaigns.Parse(r.File, r.Source)
		if def == nil {
			// The language moved on and an old version no longer compiles: its participants
			// fall back to the current version rather than stopping the server.
			e.log.Error("stored definition does not compile", "campaign", r.ID, "version", r.Version, "problems", probs.Error())
			continue
		}
		e.add(def, r.Version, r.Status, true)
	}
	// fromFile is the version of each campaign its file holds.
	fromFile := map[string]*campaigns.Definition{}
	for _, d := range configured {
		fromFile[d.ID] = d
		// Every start loads the codes files again: new codes are added, the others kept.
		if err := e.loadCodes(ctx, d); err != nil {
			return fmt.Errorf("engine: restore: %s: %w", d.ID, err)
		}
		hash := sourceHash(d.Source)
		if d.Path != "" && stored[d.ID] != nil {
			last, err := e.store.LoadedFile(ctx, d.Path)
			switch {
			case err == nil && last.ID == d.ID && last.Hash == hash:
				continue
			case err != nil && !errors.Is(err, errs.ErrNotFound):
				return fmt.Errorf("engine: restore: %s: %w", d.Path, err)
			}
		} else if d.Path == "" && stored[d.ID][d.Version] {
			continue
		}
		status := e.Status(d.ID)
		if status == "" {
			status = StatusLive
		}
		err := e.store.SaveCampaign(ctx, CampaignRecord{ID: d.ID, Version: d.Version, File: d.File,
			Source: d.Source, Status: status, At: e.now(), Path: d.Path, Hash: hash})
		if err != nil {
			return fmt.Errorf("engine: restore: store %s: %w", d.ID, err)
		}
		e.add(d, d.Version, status, true)
	}
	for _, d := range e.Campaigns() {
		if err := e.scheduleRounds(ctx, d); err != nil {
			return fmt.Errorf("engine: restore: %w", err)
		}
		// No file configured now holds the campaign: it runs what the store has, which a
		// launch or an earlier start with other --campaigns put there (the store does not
		// say which, so neither does the log).
		from := "stored (" + cmp.Or(storedFile[d.ID+"\x00"+d.Version], d.ID) + ", launched or loaded at an earlier start; no file among --campaigns holds this campaign)"
		if f := fromFile[d.ID]; f != nil && f.Version == d.Version {
			from = "file " + cmp.Or(f.Path, f.File)
		} else if f != nil {
			from = "launch (campaign launch; " + cmp.Or(f.Path, f.File) + " is unchanged since it was last loaded)"
		}
		e.log.Info("campaign", "campaign", d.ID, "version", d.Version, "status", e.Status(d.ID), "from", from)
	}
	return nil
}

// sourceHash is the content hash kept with a stored version, to tell a changed file.
func sourceHash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// SetStatus sets a campaign's status (draft, live, paused or closed) and keeps it in the store.
// Resuming a paused campaign processes the events that waited.
func (e *Engine) SetStatus(ctx context.Context, id, status string) error {
	switch status {
	case StatusDraft, StatusLive, StatusPaused, StatusClosed:
	default:
		return fmt.Errorf("engine: set status of %s: %w: status %q (want draft, live, paused or closed)", id, errs.ErrInvalid, status)
	}
	def, ok := e.Campaign(id)
	if !ok {
		return fmt.Errorf("engine: set status of %s: %w", id, errs.ErrNotFound)
	}
	err := e.store.SetCampaignStatus(ctx, id, status, e.now())
	if errors.Is(err, errs.ErrNotFound) {
		// Loaded from Config without Restore: store the definition with its status.
		err = e.store.SaveCampaign(ctx, CampaignRecord{ID: id, Version: def.Version, File: def.File,
			Source: def.Source, Status: status, At: e.now(), Path: def.Path, Hash: sourceHash(def.Source)})
	}
	if err != nil {
		return fmt.Errorf("engine: set status of %s: %w", id, err)
	}
	e.defMu.Lock()
	// The key is the definition's own id and the value a copy: id and status may point into a
	// request buffer that is reused for the next request (they read "/das" after a few pages).
	e.status[def.ID] = strings.Clone(status)
	e.defMu.Unlock()
	e.Wake()
	return nil
}

// StateCounts returns how many participants of a campaign are in each state (the internal
// states StateConsent and StateOptedOut included), for the dashboard's flow diagram.
func (e *Engine) StateCounts(ctx context.Context, campaign string) (map[string]int, error) {
	counts, err := e.store.StateCounts(ctx, campaign)
	if err != nil {
		return nil, fmt.Errorf("engine: state counts of %s: %w", campaign, err)
	}
	return counts, nil
}

// definition returns the version a participant plays, falling back to the current one when
// that version is no longer loaded.
func (e *Engine) definition(campaign, version string) (*campaigns.Definition, bool) {
	e.defMu.RLock()
	defer e.defMu.RUnlock()
	if d, ok := e.versions[campaign][version]; ok {
		return d, true
	}
	d, ok := e.current[campaign]
	return d, ok
}

func (e *Engine) paused() []string {
	e.defMu.RLock()
	defer e.defMu.RUnlock()
	var out []string
	for id, s := range e.status {
		if s == StatusPaused {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// unavailable is Unavailable for a loaded campaign.
func (e *Engine) unavailable(def *campaigns.Definition, now time.Time, playing bool) string {
	return Unavailable(def, e.Status(def.ID), now, playing)
}

// Unavailable says why a campaign with status does not answer someone at now, in the words
// they hear, or "" when it answers. playing is whether they joined and have not finished: the
// schedule's end stops newcomers only, while its hard stop and closing the campaign stop
// everyone. A paused or draft campaign answers (a paused one later).
func Unavailable(def *campaigns.Definition, status string, now time.Time, playing bool) string {
	s := def.Schedule
	switch {
	case status == StatusClosed:
		return NotRunning
	case s.Stopped(now):
		return fmt.Sprintf(Ended, s.Format(s.HardStop))
	case playing:
		return ""
	case !s.Start.IsZero() && now.Before(s.Start):
		return fmt.Sprintf(NotStarted, s.Format(s.Start))
	case !s.End.IsZero() && !now.Before(s.End):
		return fmt.Sprintf(Ended, s.Format(s.End))
	}
	return ""
}

// Receive stores an inbound event durably and wakes the worker. It returns duplicate=true for
// an event stored before. Once it returns without error the event will be processed, even
// across a crash.
//
// On a store that can (store/sqlite, one process), while Run runs and the campaign is not
// paused, the event is handed to Run's receive loop instead (fused.go), which stores it and
// applies its step in one write together with the other events arriving at the moment:
// applied, the event is stored processed, with its step's effects, and never waits for the
// worker. The step is the worker's, worked out the same way; it is applied only when the
// participant has no other event waiting (a timer's, a verdict, an earlier message) and
// nothing changed the participant since it was read. Otherwise, and for a participant's later
// events arriving in the same moment, the event is stored unprocessed and the worker applies
// it after the others, as without the loop. Receive returns once that write committed, even if
// ctx ends after the loop took the event.
func (e *Engine) Receive(ctx context.Context, in Inbound) (duplicate bool, err error) {
	def, ok := e.Campaign(in.Campaign)
	if !ok {
		return false, fmt.Errorf("engine: receive: campaign %q: %w", in.Campaign, errs.ErrNotFound)
	}
	if e.isCaptain(def, in) {
		// A captain asking for their team's group chat is no participant (groups.go).
		return e.captainAsks(ctx, def, in)
	}
	switch {
	case in.Kind == KindText && strings.TrimSpace(in.Text) == "":
		return false, fmt.Errorf("engine: receive: %w: empty message", errs.ErrInvalid)
	case in.Kind == KindMedia && in.Media == nil:
		return false, fmt.Errorf("engine: receive: %w: media message without media", errs.ErrInvalid)
	case in.Kind == KindLocation && in.Location == nil:
		return false, fmt.Errorf("engine: receive: %w: location message without a location", errs.ErrInvalid)
	case in.Kind == KindChoice && in.Choice == "" && in.Text == "":
		return false, fmt.Errorf("engine: receive: %w: choice without an id", errs.ErrInvalid)
	}
	if in.ParticipantID == "" {
		in.ParticipantID = ParticipantID(in.Campaign, in.Channel, in.From)
	}
	if in.At.IsZero() {
		in.At = e.now()
	}
	if e.Status(in.Campaign) != StatusPaused {
		if dup, ok, err := e.receiveFused(ctx, in); ok {
			return dup, err
		}
	}
	_, dup, err := e.store.SaveInbound(ctx, in)
	if err != nil {
		return false, fmt.Errorf("engine: receive %s/%s: %w", in.Channel, in.PlatformID, err)
	}
	e.obs.Received(in.Channel, dup)
	if !dup && e.Status(in.Campaign) != StatusPaused {
		e.intake.Received(1)
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

// Run processes events, fires due timers and sends replies until ctx is done. What is left
// when it returns is stored and is picked up by the next Run. It first takes back what its
// Owner claimed in a run that died (TakeBack).
func (e *Engine) Run(ctx context.Context) {
	e.TakeBack(ctx)
	// What was stored before this start counts in the backlog (intake.go).
	if s, err := e.QueueStats(ctx); err == nil && s.Inbound > 0 {
		e.intake.Reset(s.Inbound)
	}
	var wg sync.WaitGroup
	if ra, l := e.receiveLoop(); l != nil {
		wg.Go(func() { e.runFused(ctx, ra, l) })
	}
	wg.Go(func() { e.loop(ctx, e.wakeWork, e.ProcessPending) })
	wg.Go(func() { e.loop(ctx, e.wakeSend, e.SendDue) })
	wg.Go(func() { e.loop(ctx, nil, e.FireDueTimers) })
	if e.turns != nil {
		// After the receive loop ended (wg): no direct send starts past this.
		defer e.turns.wg.Wait()
	}
	if e.sharedQueues {
		wg.Go(func() {
			// Every second: three counts each time, on a database every process shares.
			t := time.NewTicker(max(e.poll, time.Second))
			defer t.Stop()
			for {
				if err := e.CountQueues(ctx); err != nil && ctx.Err() == nil {
					e.log.Warn("count the shared queues", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
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

// ProcessPending applies stored events in order and returns how many it handled. Events of
// paused campaigns stay stored.
//
// Several processes may share the store: each claims the participants of its batch (a lease,
// Store.Claim) and applies only the events of those it won, in stored order, so one process
// at a time works on a participant. The others are left to whoever holds them; a process that
// died holding them is taken over when its lease runs out. An event found processed meanwhile
// (ErrProcessed) is skipped.
//
// On a store that commits several steps at once (CommitBatch, store/sqlite) the events are
// applied in rounds of one event per participant, each round committed together (batch.go).
func (e *Engine) ProcessPending(ctx context.Context) (int, error) {
	e.processMu.Lock()
	defer e.processMu.Unlock()
	start := time.Now()
	n, err := e.processPending(ctx)
	e.intake.Processed(n, time.Since(start))
	return n, err
}

func (e *Engine) processPending(ctx context.Context) (int, error) {
	batch, err := e.store.PendingInboundExcept(ctx, e.paused(), pendingBatch)
	if err != nil {
		return 0, fmt.Errorf("engine: pending inbound: %w", err)
	}
	if len(batch) == 0 {
		// Nothing left: whatever the count says, the backlog is empty.
		e.intake.Reset(0)
		return 0, nil
	}
	var keys []string
	events := map[string][]StoredInbound{}
	for _, in := range batch {
		k := "participant:" + in.ParticipantID
		if in.ParticipantID == "" {
			k = "inbound:" + strconv.FormatInt(in.ID, 10)
		}
		if events[k] == nil {
			keys = append(keys, k)
		}
		events[k] = append(events[k], in)
	}
	now := e.now()
	until := now.Add(e.inboundLease)
	won := keys
	if sp, ok := e.store.(soleProcess); !ok || !sp.SoleProcess() {
		won, err = e.store.Claim(ctx, e.owner, keys, now, until)
		if err != nil {
			return 0, fmt.Errorf("engine: claim participants: %w", err)
		}
		defer e.release(ctx, won)
	}
	if bc, ok := e.store.(batchCommitter); ok {
		queues := make([][]StoredInbound, len(won))
		for i, k := range won {
			queues[i] = events[k]
		}
		n, err := e.applyRounds(ctx, bc, queues, until)
		if n > 0 {
			e.wakeSender()
		}
		return n, err
	}
	n := 0
	for _, k := range won {
		for _, in := range events[k] {
			// Stop well before the lease runs out: past it another process may take the
			// participant over, and two writers would race for the same version.
			if e.now().After(until.Add(-e.inboundLease / 3)) {
				return n, nil
			}
			start := time.Now()
			if err := e.apply(ctx, in); err != nil {
				return n, err
			}
			n++
			// Wall time, not e.now: a test's fake clock would make every step take no time.
			e.obs.EventApplied(time.Since(start))
		}
	}
	if n > 0 {
		e.wakeSender()
	}
	return n, nil
}

// soleProcess is a Store that one process uses at a time (store/sqlite). The worker takes no
// leases on participants there: with nobody else to keep out, the claim and its release were
// two of the seven turns of the one writer a message waited for (docs/performance.md). Were a
// second process to open the file anyway, the participant's version and the event's processed
// flag still keep each event applied once, in order; the cost is work done twice, then refused.
type soleProcess interface{ SoleProcess() bool }

// release gives up leases, even when ctx ended: a lease kept would hold the work up until it
// runs out.
func (e *Engine) release(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	if err := e.store.Release(context.WithoutCancel(ctx), e.owner, keys); err != nil {
		e.log.Warn("release leases", "keys", len(keys), "err", err)
	}
}

// apply runs one event, retrying when another writer changed the participant or a code
// collided, and taking the full branch when a pool filled up under it. An event processed
// meanwhile is skipped: its effects are stored already.
func (e *Engine) apply(ctx context.Context, in StoredInbound) error {
	full := map[string]bool{}
	for attempt := 0; ; attempt++ {
		step, skip, err := e.step(ctx, in, full)
		if err != nil {
			return err
		}
		if skip != "" {
			e.log.Info("event skipped", "inbound", in.ID, "participant", in.ParticipantID, "reason", skip)
			err := e.store.SkipInbound(ctx, in.ID, skip)
			if err != nil && !errors.Is(err, ErrProcessed) {
				return fmt.Errorf("engine: skip inbound %d: %w", in.ID, err)
			}
			return nil
		}
		err = e.store.Commit(ctx, step)
		if err == nil {
			e.written(step)
			return nil
		}
		if errors.Is(err, ErrProcessed) {
			e.log.Debug("event processed elsewhere", "inbound", in.ID, "participant", in.ParticipantID)
			return nil
		}
		if errors.Is(err, ErrPoolFull) && attempt < 10 {
			for _, pl := range step.Places {
				full[pl.Pool] = true
			}
			continue
		}
		if errors.Is(err, errs.ErrConflict) && attempt < 10 {
			continue
		}
		return fmt.Errorf("engine: commit step for participant %s: %w", in.ParticipantID, err)
	}
}

// queued counts a committed step's replies that are due now in the intake's backlog.
func (e *Engine) queued(s Step) {
	now := e.now()
	n := 0
	for _, o := range s.Outbox {
		if !o.DueAt.After(now) {
			n++
		}
	}
	if n > 0 {
		e.intake.Queued(n)
	}
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

// Participant returns a participant, or an error wrapping errs.ErrNotFound.
func (e *Engine) Participant(ctx context.Context, id string) (Participant, error) {
	p, err := e.store.Participant(ctx, id)
	if err != nil {
		return Participant{}, fmt.Errorf("engine: participant %s: %w", id, err)
	}
	return p, nil
}

// Transcript returns a participant's conversation so far.
func (e *Engine) Transcript(ctx context.Context, participantID string) ([]Line, error) {
	lines, err := e.store.Transcript(ctx, participantID)
	if err != nil {
		return nil, fmt.Errorf("engine: transcript of %s: %w", participantID, err)
	}
	return lines, nil
}

// Notifications returns up to limit notifications for the moderators of a campaign (of all
// campaigns when campaign is empty), newest first.
func (e *Engine) Notifications(ctx context.Context, campaign string, limit int) ([]Notification, error) {
	ns, err := e.store.Notifications(ctx, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("engine: notifications: %w", err)
	}
	return ns, nil
}
