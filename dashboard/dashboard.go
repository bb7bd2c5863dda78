package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/judge"
)

// Judge is what the dashboard needs from the judge; *judge.Service satisfies it.
type Judge interface {
	// Entries lists entries matching f, newest first.
	Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error)
	// Entry returns one entry, or an error wrapping errs.ErrNotFound.
	Entry(ctx context.Context, id string) (judge.Entry, error)
	// Decide records a verdict. It fails with errs.ErrConflict when the entry was already
	// decided, errs.ErrNotFound when there is no such entry, errs.ErrInvalid for a bad verdict.
	Decide(ctx context.Context, d judge.Decision) error
	// DecideParticipant gives a verdict on a participant or team (shortlisted, advanced,
	// eliminated, winner) rather than on one entry; a decision key given twice is one verdict.
	DecideParticipant(ctx context.Context, campaign, participantID, verdict, by, key string) error
}

// Media opens stored media objects; *media.Store satisfies it.
type Media interface {
	// Open returns the object's body and content type, or an error wrapping errs.ErrNotFound.
	// The caller closes body.
	Open(ctx context.Context, key string) (body io.ReadCloser, contentType string, err error)
}

var _ Judge = (*judge.Service)(nil)

// Config is what New needs. Judge, Users and Media are required.
type Config struct {
	Judge Judge
	Users Users
	Media Media
	// Campaigns, when set, adds the campaign pages (status, flow with participants per state).
	Campaigns Campaigns
	// Conversations, with Campaigns, adds the notifications and the participant pages where
	// a human replies as the persona and hands the conversation back.
	Conversations Conversations
	// Queue, with Campaigns, adds the conversations page: each hand-off team's queue of
	// conversations waiting for a human, the user's own teams first.
	Queue Queue
	// Deliveries, with Campaigns, adds the delivery monitor of each campaign.
	Deliveries Deliveries
	// Scoring, with Campaigns, adds the score form to the entries of campaigns with a rubric
	// and the rankings of their rounds, with "Advance top N", to the campaign pages.
	Scoring Scoring
	// Broadcaster, with Campaigns, adds the admins' broadcast form and progress pages.
	Broadcaster Broadcaster
	// Broadcasts, with Campaigns, paces broadcasts: the broadcast form leads to the plan
	// (window, limit, days, skipped, cost) and its Confirm starts it; the broadcast's page
	// gets its status, report, Pause, Resume and Cancel, and its recipients as CSV.
	Broadcasts BroadcastService
	// Prices adds the admins' price table page, and prices the plans with it; PricesFile
	// names the --price-table file the server loaded it from at start, if any.
	Prices     PriceBook
	PricesFile string
	// Rounds, with Campaigns, adds the admins' buttons that start and close a race's rounds.
	Rounds Rounds
	// Ranking, with Campaigns, adds the ranking page of campaigns with a ranking; Winners
	// adds to it the admins' button that names the top winners.
	Ranking Ranking
	Winners Winners
	// Pools, with Campaigns, shows on the campaign page how full each pool is (the codes
	// left in a pool of codes).
	Pools Pools
	// Audit, when set, records what users do here in the audit trail, shows each entry's and
	// participant's history, and gives admins the trail as CSV (/dashboard/audit.csv).
	Audit Trail
	// Verdicts makes the verdict buttons of entries and participants follow the definition:
	// those the participant's current state takes. Without it, entries get Approve and
	// Reject, participants the verdicts that move a contest or race on.
	Verdicts Verdicts
	// Draws, with Campaigns, adds each campaign's verifiable draws (commit, close, publish).
	Draws Draws
	// Reports, with Campaigns, adds the inbox, the participants lists, the overview's charts,
	// the broadcast history and the CSV exports.
	Reports Reports
	// Receipts names the channels whose delivery reports (delivered, read) this server
	// records; the delivery monitor says of the others that sent is as far as it can know.
	Receipts map[string]bool
	// Judging, with Campaigns and Scoring, adds claims (opening an entry claims it; others see
	// who has it), panels with conflicts and abstentions, blind judging and the scores page.
	Judging Judging
	// Accounts adds the admins' users page: add users, change their role, teams and
	// campaigns, reset passwords, remove them.
	Accounts accounts.Accounts
	// RoleChanges is told of every account added, removed or given another role or other
	// campaigns on the users page (the audit trail); nothing when nil.
	RoleChanges accounts.RoleChangeRecorder
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives server errors; slog.Default when nil.
	Log *slog.Logger
	// Secure marks cookies Secure; set it when the dashboard is served over TLS.
	Secure bool
	// SessionTTL is how long a login lasts; 12 hours when zero.
	SessionTTL time.Duration

	// Privacy, when set (with Conversations), adds export and erase to the participant page,
	// for admins.
	Privacy Privacy
	// Logins slows down password guessing (growing delays per account and per address);
	// nil means no delays.
	Logins LoginThrottle
	// Numbers, when set, adds the sending numbers' page (/dashboard/numbers): messaging
	// limit, throughput, quality and status, for admins and moderators.
	Numbers NumberHealths
}

// DefaultSessionTTL is how long a login lasts when Config.SessionTTL is zero: a working day,
// so a moderator logs in once per shift.
const DefaultSessionTTL = 12 * time.Hour

// Dashboard is the moderators' web app. Create it with New and register its routes with Mount.
type Dashboard struct {
	judge         Judge
	users         Users
	media         Media
	campaigns     Campaigns
	conversations Conversations
	queue         Queue
	deliveries    Deliveries
	scoring       Scoring
	broadcaster   Broadcaster
	plans         BroadcastService
	prices        PriceBook
	pricesFile    string
	rounds        Rounds
	ranking       Ranking
	winners       Winners
	pools         Pools
	trail         Trail
	draws         Draws
	verdicts      Verdicts
	reports       Reports
	receipts      map[string]bool
	charts        chartCache
	judging       Judging
	accounts      accounts.Accounts
	roleChanges   accounts.RoleChangeRecorder
	privacy       Privacy
	now           func() time.Time
	log           *slog.Logger
	secure        bool
	ttl           time.Duration
	logins        LoginThrottle
	numbers       NumberHealths
	pages         pages
	// dummyHash is compared against when a username does not exist, so a failed login takes
	// as long for an unknown user as for a wrong password and does not reveal which it was.
	dummyHash []byte
}

// New checks cfg and parses the templates, once.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Judge == nil || cfg.Users == nil || cfg.Media == nil {
		return nil, fmt.Errorf("dashboard: new: Judge, Users and Media are required")
	}
	pg, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("dashboard: new: %w", err)
	}
	d := &Dashboard{
		judge: cfg.Judge, users: cfg.Users, media: cfg.Media, campaigns: cfg.Campaigns, conversations: cfg.Conversations, queue: cfg.Queue, deliveries: cfg.Deliveries,
		scoring: cfg.Scoring, broadcaster: cfg.Broadcaster, plans: cfg.Broadcasts, prices: cfg.Prices, pricesFile: cfg.PricesFile, rounds: cfg.Rounds, ranking: cfg.Ranking, winners: cfg.Winners, pools: cfg.Pools,
		trail: cfg.Audit, draws: cfg.Draws, verdicts: cfg.Verdicts,
		reports: cfg.Reports, receipts: cfg.Receipts,
		accounts: cfg.Accounts, roleChanges: cfg.RoleChanges, privacy: cfg.Privacy,
		now: cfg.Now, log: cfg.Log, secure: cfg.Secure, ttl: cfg.SessionTTL, logins: cfg.Logins, numbers: cfg.Numbers,
		pages: pg,
	}
	if cfg.Campaigns != nil && cfg.Scoring != nil {
		d.judging = cfg.Judging
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.roleChanges == nil {
		d.roleChanges = accounts.NoRecorder{}
	}
	if d.ttl <= 0 {
		d.ttl = DefaultSessionTTL
	}
	if d.dummyHash, err = accounts.HashPassword(randomToken()); err != nil {
		return nil, fmt.Errorf("dashboard: new: %w", err)
	}
	return d, nil
}

// Mount registers the dashboard's routes under /dashboard on r.
func (d *Dashboard) Mount(r fiber.Router) {
	g := r.Group("/dashboard", d.securityHeaders, d.handleErrors, d.csrf, d.loadUser)

	g.Get("/static/:name", d.static)
	g.Get("/", d.index)
	g.Get("/login", d.loginPage)
	g.Post("/login", d.login)
	g.Post("/logout", d.logout)

	// Fiber runs handlers in registration order, so the routes above are reached without a
	// session and everything registered below, or not matched at all, needs one.
	// Each route below first checks the role matrix (roles.go); in a blind campaign a judge
	// gets no participant page either.
	grp := g.Group("", d.requireUser)
	if d.judging != nil {
		grp.Use(d.blindGuard)
	}
	a := d.guard(grp)
	if d.judging != nil {
		a.Post("/entries/:id/release", d.releaseEntry)
		a.Post("/entries/:id/recuse", d.recuse)
		a.Get("/campaigns/:id/scores", d.scoresPage)
		a.Get("/campaigns/:id/scores.csv", d.scoresCSV)
		a.Get("/campaigns/:id/recusals.csv", d.recusalsCSV)
	}
	a.Get("/entries", d.entriesPage)
	a.Get("/entries/:id", d.entryPage)
	if d.accounts != nil {
		a.Get("/users", d.usersPage)
		a.Post("/users", d.addUser)
		a.Post("/users/:name", d.editUser)
		a.Post("/users/:name/password", d.resetPassword)
		a.Post("/users/:name/remove", d.removeUser)
	}
	a.Post("/entries/:id/approve", d.decide(judge.StatusApproved))
	a.Post("/entries/:id/reject", d.decide(judge.StatusRejected))
	a.Post("/entries/:id/verdict", d.decide(""))
	a.Get("/entries/:id/thumb", d.serveMedia(true))
	a.Get("/entries/:id/media", d.serveMedia(false))
	if d.trail != nil {
		a.Get("/audit.csv", d.auditExport)
	}
	if d.campaigns != nil {
		a.Get("/campaigns", d.campaignsPage)
		a.Get("/campaigns/:id", d.campaignPage)
		a.Post("/campaigns/:id/status", d.setCampaignStatus)
		if d.privacy != nil {
			a.Post("/campaigns/:id/purge", d.purgeCampaign)
		}
		if d.queue != nil {
			a.Get("/conversations", d.conversationsPage)
		}
		if d.deliveries != nil {
			a.Get("/campaigns/:id/deliveries", d.deliveriesPage)
		}
		if d.scoring != nil {
			a.Post("/entries/:id/score", d.scoreEntry)
			a.Post("/campaigns/:id/rounds/:round/advance", d.advanceRound)
		}
		if d.rounds != nil {
			a.Post("/campaigns/:id/rounds/:round/start", d.roundAction(true))
			a.Post("/campaigns/:id/rounds/:round/close", d.roundAction(false))
		}
		if d.ranking != nil {
			a.Get("/campaigns/:id/ranking", d.rankingPage)
			if d.winners != nil {
				a.Post("/campaigns/:id/ranking/winners", d.pickWinners)
			}
		}
		if d.draws != nil {
			d.mountDraws(a)
		}
		if d.broadcaster != nil || d.plans != nil {
			a.Post("/campaigns/:id/broadcast", d.broadcast)
			a.Get("/campaigns/:id/broadcasts/:bid", d.broadcastPage)
		}
		if d.plans != nil {
			d.mountPlans(a)
		}
		if d.conversations != nil {
			a.Get("/campaigns/:id/participants/:pid", d.participantPage)
			a.Get("/campaigns/:id/participants/:pid/lines/:line/media", d.lineMedia)
			a.Post("/campaigns/:id/participants/:pid/reply", d.reply)
			a.Post("/campaigns/:id/participants/:pid/handback", d.handback)
			a.Post("/campaigns/:id/participants/:pid/verdict", d.participantVerdict)
			if d.privacy != nil {
				a.Get("/campaigns/:id/participants/:pid/export", d.exportParticipant)
				a.Post("/campaigns/:id/participants/:pid/erase", d.eraseParticipant)
			}
		}
	}
	if d.prices != nil {
		a.Get("/prices", d.pricesPage)
		a.Post("/prices", d.savePrices)
	}
	d.mountPages(a)
	if d.numbers != nil {
		a.Get("/numbers", d.numbersPage)
	}
}

// securityHeaders keeps the pages from being framed, loading anything from elsewhere or
// leaking URLs (which hold entry ids) to other sites. Pages carry CSRF tokens and participant
// content, so they are not cached; the media handlers relax that for their own responses.
func (d *Dashboard) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "+
		"form-action 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	return c.Next()
}

// errForbidden is a request that is authenticated (or needs not be) but may not do what it
// asks: a form without a valid CSRF token, a role that may not judge.
var errForbidden = errors.New("forbidden")

// handleErrors is the one place where errors become HTTP answers. Handlers return errors
// wrapping the errs vocabulary and never write error pages themselves.
func (d *Dashboard) handleErrors(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	status, msg := statusOf(err)
	if status == fiber.StatusInternalServerError {
		d.log.Error("dashboard: request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	c.Response().Header.Set("Cache-Control", "no-store")
	return d.render(c, status, "error", errorView{Status: status, Message: msg})
}
