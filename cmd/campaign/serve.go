package main

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/optin"
	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/media"
	"github.com/chatcampaigns/campaign/media/s3server"
	"github.com/chatcampaigns/campaign/metrics"
	"github.com/chatcampaigns/campaign/pricing"
	"github.com/chatcampaigns/campaign/privacy"
	"github.com/chatcampaigns/campaign/store/mongo"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

const (
	dbFile = "campaign.db"
	// embeddedBucket is the bucket used on the embedded S3 endpoint.
	embeddedBucket = "campaign-media"
	// maxUpload bounds one photo unless --max-photo says otherwise; the HTTP body limit
	// leaves room for the multipart framing of the largest upload.
	maxUpload = webchat.DefaultMaxUpload
)

// Uploads are the largest photo, video and voice note (or other recording) a participant may
// send, in bytes: the web chat refuses more with 413, and the media store keeps to the same
// limits for what the platforms deliver. Zero means the default (10 MB, 16 MB, 16 MB).
type Uploads struct {
	Photo, Video, Audio int64
	// DecodeOne and DecodeAll bound the memory decoding photos takes, one and all at once
	// (--max-decode-memory, --decode-memory); zero means media's defaults (192 MB, 384 MB).
	DecodeOne, DecodeAll int64
}

func (u Uploads) withDefaults() Uploads {
	if u.Photo <= 0 {
		u.Photo = maxUpload
	}
	if u.Video <= 0 {
		u.Video = webchat.DefaultMaxVideo
	}
	if u.Audio <= 0 {
		u.Audio = webchat.DefaultMaxAudio
	}
	return u
}

// sizeFlag is a byte count written like 16MB (binary units, as the platforms' limits).
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	x, err := campaigns.ParseSize(s)
	if err != nil {
		return err
	}
	if x < 1 || x > 4<<30 {
		return fmt.Errorf("%q is not a sensible upload size (1 byte to 4GB)", s)
	}
	*f.n = int64(x)
	return nil
}

// Config is everything `campaign serve` is built from, filled from flags and environment.
type Config struct {
	Addr      string
	Data      string
	Campaigns []string

	MongoURI   string
	S3Bucket   string
	S3Endpoint string
	S3Region   string
	// AdminToken authorises `campaign launch`; empty means generate one into the data folder.
	AdminToken string
	WhatsApp   WhatsAppConfig
	Telegram   TelegramConfig
	Messenger  MessengerConfig
	// Uploads limits the media a participant sends, per kind (--max-photo, --max-video,
	// --max-audio, or CAMPAIGN_MAX_PHOTO and so on).
	Uploads Uploads

	// Now and Rand are injected by tests; nil means the wall clock and a random seed.
	Now  func() time.Time
	Rand *rand.Rand
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) there, apart from the app.
	PprofAddr string
	// Poll is how often background work looks for due work when not woken; 0 means default.
	Poll time.Duration
	// Intake is the back-pressure policy of the webhooks and the web chat (engine.IntakePolicy).
	Intake engine.IntakePolicy
	// NoDirectSends leaves every reply to the sender's rounds (--no-direct-sends;
	// engine.Config.NoDirectSends), for comparing the two.
	NoDirectSends bool
	Log           *slog.Logger

	// ClaimLease is how long a moderator who opens an entry holds it (judge.DefaultLease when
	// zero).
	ClaimLease time.Duration
	// RetentionEvery is how often the retention job looks for participants past their
	// campaign's retention_days (defaultRetentionEvery when zero).
	RetentionEvery time.Duration
	// Limits are the rate limits (limits.go); the zero value, as in most tests, limits nothing.
	Limits Limits
	// Exposure says how the server is reached: public URL, trusted proxies, metrics token.
	Exposure Exposure
	// PriceTable is the CSV file of template message prices loaded at start (--price-table,
	// CAMPAIGN_PRICE_TABLE); empty keeps the table last saved on the dashboard.
	PriceTable string
	// Broadcast is how broadcasts are paced (pacing.go).
	Broadcast BroadcastConfig
	// NumberCheck is how often the WhatsApp numbers' health is read from the Graph API
	// (--number-check-interval, CAMPAIGN_NUMBER_CHECK_INTERVAL); 0 reads nothing.
	NumberCheck time.Duration
}

func configFromFlags(args []string, stderr io.Writer, getenv func(string) string) (Config, error) {
	cfg := Config{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.Data, "data", "./data", "folder for the embedded database and media")
	fs.StringVar(&cfg.PprofAddr, "pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060")
	var paths stringList
	fs.Var(&paths, "campaigns", "campaign definition file or folder (repeatable)")
	fs.DurationVar(&cfg.Intake.Target, "backlog-target", engine.DefaultIntakeTarget, "back-pressure: messages are taken at once while the backlog is under this much work")
	fs.DurationVar(&cfg.Intake.Wait, "backlog-wait", engine.DefaultIntakeWait, "back-pressure: how long a webhook waits for room before it is answered 503 (0s: not at all)")
	fs.DurationVar(&cfg.Intake.Limit, "backlog-limit", engine.DefaultIntakeLimit, "back-pressure: past this much work waiting, webhooks are answered 503 at once")
	fs.BoolVar(&cfg.Intake.Off, "no-backpressure", false, "take every message at once, however long the backlog")
	fs.BoolVar(&cfg.NoDirectSends, "no-direct-sends", false, "send every reply with the sender's rounds, none right after its step commits (docs/performance.md, \"Direct sends\")")
	fs.StringVar(&cfg.PriceTable, "price-table", getenv("CAMPAIGN_PRICE_TABLE"), "CSV of template message prices by country and category, for the broadcast plans' cost (docs/broadcasts.md; env CAMPAIGN_PRICE_TABLE)")
	fs.DurationVar(&cfg.ClaimLease, "claim-lease", judge.DefaultLease, "how long a moderator who opens an entry holds it before it returns to the queue")
	cfg.NumberCheck = whatsapp.DefaultNumberCheck
	if v := getenv("CAMPAIGN_NUMBER_CHECK_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return cfg, fmt.Errorf("CAMPAIGN_NUMBER_CHECK_INTERVAL=%q: want a duration like 1h (0s: never)", v)
		}
		cfg.NumberCheck = d
	}
	fs.DurationVar(&cfg.NumberCheck, "number-check-interval", cfg.NumberCheck, "how often the WhatsApp numbers' messaging limit, throughput and quality are read (0s: never; env CAMPAIGN_NUMBER_CHECK_INTERVAL)")
	limitFlags(fs, &cfg.Limits)
	exposureFlags(fs, &cfg.Exposure, getenv)
	if err := broadcastFlags(fs, &cfg.Broadcast, getenv); err != nil {
		return cfg, err
	}
	// The environment first, so a flag overrides it.
	for _, l := range []struct {
		env string
		n   *int64
	}{{"CAMPAIGN_MAX_PHOTO", &cfg.Uploads.Photo}, {"CAMPAIGN_MAX_VIDEO", &cfg.Uploads.Video}, {"CAMPAIGN_MAX_AUDIO", &cfg.Uploads.Audio}} {
		if v := getenv(l.env); v != "" {
			if err := (sizeFlag{l.n}).Set(v); err != nil {
				return cfg, fmt.Errorf("%s: %w", l.env, err)
			}
		}
	}
	fs.Var(sizeFlag{&cfg.Uploads.Photo}, "max-photo", "largest photo a participant may send, like 10MB (default 10MB; env CAMPAIGN_MAX_PHOTO)")
	fs.Var(sizeFlag{&cfg.Uploads.Video}, "max-video", "largest video a participant may send (default 16MB; env CAMPAIGN_MAX_VIDEO)")
	fs.Var(sizeFlag{&cfg.Uploads.Audio}, "max-audio", "largest voice note or other recording a participant may send (default 16MB; env CAMPAIGN_MAX_AUDIO)")
	fs.Var(sizeFlag{&cfg.Uploads.DecodeOne}, "max-decode-memory", "most memory one photo may take to decode, pixels times bytes per pixel (default 192MB)")
	fs.Var(sizeFlag{&cfg.Uploads.DecodeAll}, "decode-memory", "most memory all photo decodes at once may take; more uploads wait their turn (default 384MB)")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if err := cfg.Exposure.check(); err != nil {
		return cfg, err
	}
	if cfg.NumberCheck < 0 {
		return cfg, fmt.Errorf("--number-check-interval %v: want 0s (never) or more", cfg.NumberCheck)
	}
	if cfg.Intake.Wait == 0 {
		cfg.Intake.Wait = -1 // --backlog-wait 0s: refuse rather than wait (zero means the default to the engine)
	}
	cfg.Campaigns = paths
	if len(cfg.Campaigns) == 0 {
		cfg.Campaigns = []string{"campaigns/examples"}
	}
	cfg.MongoURI = getenv("CAMPAIGN_MONGODB_URI")
	cfg.S3Bucket = getenv("CAMPAIGN_S3_BUCKET")
	cfg.S3Endpoint = getenv("CAMPAIGN_S3_ENDPOINT")
	cfg.S3Region = getenv("CAMPAIGN_S3_REGION")
	cfg.AdminToken = getenv("CAMPAIGN_ADMIN_TOKEN")
	cfg.WhatsApp = WhatsAppConfig{
		APIURL:        getenv("WHATSAPP_API_URL"),
		AccessToken:   getenv("WHATSAPP_ACCESS_TOKEN"),
		AppSecret:     getenv("WHATSAPP_APP_SECRET"),
		VerifyToken:   getenv("WHATSAPP_VERIFY_TOKEN"),
		PhoneNumberID: getenv("WHATSAPP_PHONE_NUMBER_ID"),
	}
	cfg.Messenger = MessengerConfig{
		APIURL:      getenv("MESSENGER_API_URL"),
		PageToken:   getenv("MESSENGER_PAGE_TOKEN"),
		AppSecret:   getenv("MESSENGER_APP_SECRET"),
		VerifyToken: getenv("MESSENGER_VERIFY_TOKEN"),
	}
	if v := getenv("WHATSAPP_RATE_LIMIT"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return cfg, fmt.Errorf("WHATSAPP_RATE_LIMIT=%q: want messages per second, a positive number", v)
		}
		cfg.WhatsApp.RateLimit = r
	}
	var err error
	if cfg.Telegram, err = telegramFromEnv(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// WhatsAppConfig connects a WhatsApp Business number; the channel runs when the access token,
// app secret and verify token are all set.
type WhatsAppConfig struct {
	APIURL, AccessToken, AppSecret, VerifyToken, PhoneNumberID string
	// RateLimit is messages/s per sending number; 0 means the platform's default of 80.
	RateLimit float64
}

func (w WhatsAppConfig) enabled() bool {
	return w.AccessToken != "" && w.AppSecret != "" && w.VerifyToken != ""
}

// MessengerConfig connects a Facebook Page; the channel runs when the page token, app secret
// and verify token are all set (docs/messenger.md).
type MessengerConfig struct {
	APIURL, PageToken, AppSecret, VerifyToken string
}

func (m MessengerConfig) enabled() bool {
	return m.PageToken != "" && m.AppSecret != "" && m.VerifyToken != ""
}

// whatsappWindow is the WhatsApp customer-service window: free replies for 24 hours after the
// participant's last message, templates only after that.
const whatsappWindow = 24 * time.Hour

// serveGCPercent is the garbage collector's target (GOGC) for campaign serve when the
// environment sets none. Every message allocates its webhook, step and requests anew, and
// Go's default of 100 collects a small heap several hundred times a second under load; at
// 400 the whole path was 5-10 % cheaper (docs/performance.md, "Where the time goes") for a
// heap a few times the live data. GOGC in the environment wins (GOGC=100 for the smaller heap).
const serveGCPercent = 400

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := configFromFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tuneGC(getenv)
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, cfg.Exposure)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "Profiler on http://%s/debug/pprof/\n", cfg.PprofAddr)
	}
	srv, err := newServer(ctx, cfg)
	if err != nil {
		return err
	}
	if srv.adminPassword != "" {
		fmt.Fprintf(stdout, "\nFirst start: created dashboard user \"admin\" with password %s\n(it is shown only this once; add more users with `campaign user add`)\n", srv.adminPassword)
	}
	fmt.Fprintf(stdout, "\nServing on %s\n", srv.URL())
	for _, d := range srv.playable() {
		fmt.Fprintf(stdout, "  play %-24s %s/play/%s\n", d.Title, srv.URL(), d.ID)
	}
	fmt.Fprintf(stdout, "  judge entries                 %s/dashboard/\n", srv.URL())
	if cfg.AdminToken == "" {
		fmt.Fprintf(stdout, "  launch campaigns              campaign launch FILE (admin token in %s)\n", filepath.Join(cfg.Data, tokenFile))
	}
	if srv.whatsapp {
		fmt.Fprintf(stdout, "  WhatsApp webhook              %s/webhooks/whatsapp\n", srv.URL())
	} else {
		fmt.Fprintln(stdout, "  (WhatsApp is off: set WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN to connect a number)")
	}
	if srv.telegram {
		fmt.Fprintf(stdout, "  Telegram webhook              %s/webhooks/telegram (campaign channels setup telegram --public-url URL)\n", srv.URL())
	} else {
		fmt.Fprintln(stdout, "  (Telegram is off: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET to connect a bot)")
	}
	if srv.messenger {
		fmt.Fprintf(stdout, "  Messenger webhook             %s%s\n", srv.URL(), messenger.WebhookPath)
	} else {
		fmt.Fprintln(stdout, "  (Messenger is off: set MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN to connect a Page)")
	}
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nShutting down…")
	return srv.Close()
}

// server is a running `campaign serve`: the HTTP app, the engine's background work and the
// embedded database and S3 endpoint.
type server struct {
	cfg           Config
	db            store
	s3            *s3server.Server
	engine        *engine.Engine
	chat          *webchat.Channel
	app           *fiber.App
	ln            net.Listener
	adminPassword string
	adminToken    string
	metrics       *metrics.Metrics
	whatsapp      bool
	// wa is the WhatsApp channel when it runs: its OnHealth tells of number health changes.
	wa        *whatsapp.Channel
	telegram  bool
	messenger bool
	// privacy exports and erases participants; retention erases those past retention_days.
	privacy   *privacy.Service
	retention *privacy.Retention
	// node names the engine in its leases and send attempts, the same across restarts.
	node *node
	// prices is the brand's price table: the broadcast plans' Pricer and the dashboard's.
	prices *pricing.Book
	// broadcasts paces the broadcasts (package broadcast).
	broadcasts *broadcast.Service

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Once
}

// defaultRetentionEvery is how often the retention job runs: retention_days counts in days, so
// an hour late is nothing, and a pass over a campaign's participants is one list query.
const defaultRetentionEvery = time.Hour

func newServer(ctx context.Context, cfg Config) (_ *server, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	defs, probs := campaigns.LoadPaths(cfg.Campaigns)
	if cfg.WhatsApp.enabled() {
		// Only WhatsApp routes a stranger by number and keyword; the web chat has a page per
		// campaign.
		probs = append(probs, campaigns.SharedNumbers(defs)...)
	}
	var refused campaigns.Problems
	for _, p := range probs {
		if p.Severity == campaigns.Error {
			cfg.Log.Error("campaign definition", "problem", p.String())
			refused = append(refused, p)
		} else {
			cfg.Log.Warn("campaign definition", "problem", p.String())
		}
	}
	if len(refused) > 0 {
		// The warnings were logged above; the refusal names what must be fixed.
		return nil, fmt.Errorf("campaign definitions have errors:\n%s", refused.Error())
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("no campaign definitions found in %v", cfg.Campaigns)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	for _, d := range defs {
		for _, p := range campaigns.CheckSchedule(d, now()) {
			cfg.Log.Warn("campaign definition", "problem", p.String())
		}
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}

	s := &server{cfg: cfg, metrics: metrics.New()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.node, err = openNode(cfg.Data); err != nil {
		return nil, err
	}
	if s.node.Shared && cfg.MongoURI == "" {
		// The embedded store is one process's: it keeps the participants it routes in memory
		// and takes no leases on events or replies, so a second server on the file would route
		// from a stale copy and send the first one's replies again.
		return nil, fmt.Errorf("the data folder %s is in use by another campaign serve (or a campaign participant erase or purge): stop it first (the embedded SQLite store is for one server; several servers share a MongoDB, set CAMPAIGN_MONGODB_URI)", cfg.Data)
	}
	if s.db, err = openStore(ctx, cfg.MongoURI, cfg.Data); err != nil {
		return nil, err
	}
	s.prices = pricing.NewBook(s.db, now)
	if err := loadPrices(ctx, s.prices, cfg.PriceTable); err != nil {
		return nil, err
	}
	up := cfg.Uploads.withDefaults()
	var mcfg media.Config
	if mcfg, s.s3, err = mediaConfig(cfg); err != nil {
		return nil, err
	}
	mcfg.MaxBytes, mcfg.MaxVideoBytes, mcfg.MaxAudioBytes = up.Photo, up.Video, up.Audio
	mcfg.MaxDecodeBytes, mcfg.DecodeMemory = up.DecodeOne, up.DecodeAll
	mediaStore, err := media.New(ctx, mcfg)
	if err != nil {
		return nil, err
	}

	if s.node.Shared {
		cfg.Log.Warn("another process uses this data folder: this one runs under a name of its own, and replies a process killed here had claimed wait for their leases to run out",
			"data", cfg.Data, "owner", s.node.Owner)
	}
	s.engine = engine.New(engine.Config{
		Owner:     s.node.Owner,
		Store:     s.db,
		Campaigns: defs,
		Now:       cfg.Now,
		Rand:      cfg.Rand,
		Log:       cfg.Log,
		Poll:      cfg.Poll,
		Windows: map[string]time.Duration{whatsapp.ChannelName: whatsappWindow,
			messenger.ChannelName: messenger.StandardWindow},
		AgentWindows:  map[string]time.Duration{messenger.ChannelName: messenger.HumanAgentWindow},
		Observer:      s.metrics,
		Intake:        cfg.Intake,
		NoDirectSends: cfg.NoDirectSends,
	})
	eng := s.engine
	s.metrics.WatchQueues(func() (metrics.Queues, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q, err := eng.QueueStats(ctx)
		return metrics.Queues{QueueStats: q, Intake: eng.Intake().State(), Now: time.Now()}, err
	})
	if err := s.engine.Restore(ctx); err != nil {
		return nil, err
	}
	s.privacy = privacyService(s.db, mediaStore, func(id string) *campaigns.Ranking {
		if d, ok := eng.Campaign(id); ok {
			return d.Ranking
		}
		return nil
	}, now, cfg.Log)
	s.retention = &privacy.Retention{Service: s.privacy, Lister: s.db, Campaigns: eng.Campaigns, Now: now, Log: cfg.Log,
		Observer: metrics.NewRetention(s.metrics.Registry())}
	chat := webchat.New(webchat.Config{Engine: s.engine, Media: mediaStore, MaxUpload: up.Photo, MaxVideo: up.Video, MaxAudio: up.Audio, Log: cfg.Log, Now: cfg.Now, Secure: cfg.Exposure.secure(),
		Intake: s.engine.Intake()})
	s.engine.Handle(webchat.ChannelName, chat)
	s.chat = chat
	trail := &audit.Log{Store: s.db, Now: cfg.Now}
	judges := &judge.Service{Store: s.db, Scores: s.db, Wake: s.engine.Wake, Now: cfg.Now, Audit: trail,
		Leases: s.db, Panels: s.db, LeaseFor: cfg.ClaimLease}
	draws := &draw.Service{Store: s.db, Entries: s.db, Audit: trail, Now: cfg.Now}
	s.broadcasts = pacer(cfg, s.db, s.engine, s.node.Owner, broadcast.Config{Audit: trail, Pricer: s.prices,
		Category: templateCategory(s.engine)})
	dash, err := dashboard.New(dashboard.Config{Privacy: s.privacy, Audit: trail, Draws: draws, Verdicts: s.engine, Judge: judges, Users: s.db, Accounts: s.db, Media: mediaStore, Campaigns: campaignDirectory{s.engine}, Conversations: s.engine, Queue: s.engine, Deliveries: s.db, Scoring: judges, Broadcaster: pacedBroadcaster{s.broadcasts, s.engine}, Broadcasts: s.broadcasts, Rounds: s.engine, Pools: s.engine, Ranking: s.engine, Winners: judges,
		Reports: s.db, Receipts: deliveryReports, Now: cfg.Now, Log: cfg.Log,
		Judging: judges, RoleChanges: accounts.Trail{Recorder: trail},
		Logins: loginThrottle(cfg.Limits, cfg.Now, s.metrics), Secure: cfg.Exposure.secure(),
		Numbers: numberPage(cfg, s.db),

		Prices: s.prices, PricesFile: cfg.PriceTable})
	if err != nil {
		return nil, err
	}
	fcfg := fiber.Config{
		AppName:               "campaign",
		BodyLimit:             int(max(chat.MaxBody()+1<<20, whatsapp.MaxWebhookBody, messenger.MaxWebhookBody, adminapi.MaxBody)),
		DisableStartupMessage: true,
		// Every string and byte slice a handler reads from the request is its own copy, not a
		// view of a buffer Fiber reuses for the next request: a value kept past the handler
		// (a campaign's status, a webhook's fields) can then never change under our feet.
		// The handlers copy what they keep as well, so they are safe in any app; this is the
		// net under them. It costs about 8 allocations and 0.6 KB per webhook
		// (BenchmarkWebhookImmutable, docs/performance.md).
		Immutable: true,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			var fe *fiber.Error
			if errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge && strings.HasPrefix(c.Path(), "/play/") {
				// A photo past the body limit: the page says the limit, not "Request Entity Too Large".
				return chat.TooLarge(c)
			}
			if errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge && strings.HasPrefix(c.Path(), "/api/") {
				return adminapi.TooLarge(c)
			}
			return fiber.DefaultErrorHandler(c, err)
		},
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
	}
	cfg.Exposure.fiberProxy(&fcfg)
	s.app = fiber.New(fcfg)
	s.app.Use(cfg.Exposure.clientAddress())
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok\n") })
	s.app.Get("/metrics", cfg.Exposure.guardFiber(), s.metrics.Handler())
	s.app.Get("/", s.home)
	mountLimits(s.app, cfg.Limits, cfg.Now, s.metrics)
	chat.Mount(s.app)
	dash.Mount(s.app)
	if s.adminToken, err = adminToken(cfg); err != nil {
		return nil, err
	}
	admin, err := adminapi.New(s.adminToken, auditedCampaigns{s.engine, trail})
	if err != nil {
		return nil, err
	}
	admin.SetBroadcasts(s.broadcasts, eng.Campaign)
	admin.Mount(s.app)
	if cfg.WhatsApp.enabled() {
		wa, err := whatsapp.New(whatsapp.Config{
			APIURL: cfg.WhatsApp.APIURL, AccessToken: cfg.WhatsApp.AccessToken, AppSecret: cfg.WhatsApp.AppSecret,
			VerifyToken: cfg.WhatsApp.VerifyToken, PhoneNumberID: cfg.WhatsApp.PhoneNumberID, RateLimit: cfg.WhatsApp.RateLimit,
			SenderNumber: func(campaign string) string {
				if d, ok := eng.Campaign(campaign); ok {
					return d.WhatsAppNumber
				}
				return ""
			},
			Receiver: eng, Media: mediaStore, Deliveries: deliveries{s.db}, Groups: eng, Numbers: s.db, Typing: true, Now: cfg.Now, Log: cfg.Log,
			Intake: eng.Intake(),
		})
		if err != nil {
			return nil, fmt.Errorf("whatsapp: %w", err)
		}
		s.app.Use(whatsapp.WebhookPath, s.metrics.Webhook(whatsapp.ChannelName))
		wa.Mount(s.app)
		s.engine.Handle(whatsapp.ChannelName, wa)
		// The opt-in form writes to people on WhatsApp, so it runs only with the channel.
		optin.New(s.engine, cfg.Log).Mount(s.app)
		s.whatsapp, s.wa = true, wa
		// A drop in a number's quality pauses its broadcasts.
		wa.OnHealth(s.broadcasts.HealthChanged)
	} else {
		// The form's address still answers, saying why nobody can sign up here.
		optin.New(s.engine, cfg.Log).Offline().Mount(s.app)
	}
	if err := s.mountTelegram(cfg, mediaStore); err != nil {
		return nil, err
	}
	if cfg.Messenger.enabled() {
		if err := s.mountMessenger(cfg, mediaStore); err != nil {
			return nil, err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use (another `campaign serve`, or another program): stop it, or pick another address with --addr: %w", cfg.Addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.ln = newQuietListener(ln)
	// The first admin is made last, once nothing can fail any more: a start that failed (a
	// short admin token, a port in use) must not leave an admin whose password was never shown.
	if s.adminPassword, err = accounts.EnsureAdmin(ctx, s.db); err != nil {
		return nil, err
	}
	if s.adminPassword != "" {
		// Only logged when it fails: the admin exists, and its password must be shown.
		e := audit.Event{Actor: audit.ActorSystem, Action: audit.UserAdd, Subject: "admin", Detail: "role admin, made at first start"}
		if err := trail.Record(ctx, e); err != nil {
			cfg.Log.Error("first admin not written to the audit trail", "err", err)
		}
	}
	warnEmptyTeams(ctx, s.db, defs, cfg.Log)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.engine.Run(runCtx) }()
	go func() { defer s.wg.Done(); s.broadcasts.Run(runCtx) }()
	if r, ok := s.db.(interface{ Recover(context.Context) error }); ok {
		// On MongoDB a step is several writes; a process that died between them leaves work
		// that any process finishes. Look for it regularly, not only at start-up.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					if err := r.Recover(runCtx); err != nil && runCtx.Err() == nil {
						cfg.Log.Error("recover unfinished writes", "err", err)
					}
				}
			}
		}()
	}
	every := cfg.RetentionEvery
	if every <= 0 {
		every = defaultRetentionEvery
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.retention.Loop(runCtx, every, time.After) }()
	if s.wa != nil && cfg.NumberCheck > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.wa.WatchNumbers(runCtx, whatsapp.NumberWatch{Numbers: whatsappNumbers(cfg.WhatsApp.PhoneNumberID, eng), Every: cfg.NumberCheck})
		}()
	}
	go func() {
		defer s.wg.Done()
		if err := s.app.Listener(s.ln); err != nil && !errors.Is(err, net.ErrClosed) {
			cfg.Log.Error("http server", "err", err)
		}
	}()
	return s, nil
}

// numberPage is what the dashboard's numbers page reads: the store, when WhatsApp (the
// channel that reports its numbers' health) is connected.
func numberPage(cfg Config, db store) dashboard.NumberHealths {
	if !cfg.WhatsApp.enabled() {
		return nil
	}
	return db
}

// whatsappNumbers lists the sending numbers whose health is watched: the default one and
// every number a campaign answers on, launched ones included.
func whatsappNumbers(def string, eng *engine.Engine) func() []string {
	return func() []string {
		out := []string{def}
		for _, d := range eng.Campaigns() {
			out = append(out, d.WhatsAppNumber)
		}
		return out
	}
}

// mediaConfig is where media is kept: the bucket configured, else the embedded S3 endpoint,
// started on the data folder (the caller closes it), so media still goes through the real S3
// API and moving to a real bucket later changes configuration, not code.
func mediaConfig(cfg Config) (media.Config, *s3server.Server, error) {
	if cfg.S3Bucket != "" {
		return media.Config{Bucket: cfg.S3Bucket, Endpoint: cfg.S3Endpoint, Region: cfg.S3Region}, nil, nil
	}
	s3, err := s3server.Start(filepath.Join(cfg.Data, "s3"))
	if err != nil {
		return media.Config{}, nil, fmt.Errorf("start embedded S3: %w", err)
	}
	return media.Config{Bucket: embeddedBucket, Endpoint: s3.URL, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, CreateBucket: true}, s3, nil
}

// mountMessenger connects the Facebook Page: its webhook, and its sender for the engine.
func (s *server) mountMessenger(cfg Config, mediaStore *media.Store) error {
	ch, err := messenger.New(messenger.Config{
		APIURL: cfg.Messenger.APIURL, PageToken: cfg.Messenger.PageToken, AppSecret: cfg.Messenger.AppSecret,
		VerifyToken: cfg.Messenger.VerifyToken, Receiver: s.engine, Media: mediaStore, Deliveries: s.db,
		Intake: s.engine.Intake(), Now: cfg.Now, Log: cfg.Log,
	})
	if err != nil {
		return fmt.Errorf("messenger: %w", err)
	}
	s.app.Use(messenger.WebhookPath, s.metrics.Webhook(messenger.ChannelName))
	ch.Mount(s.app)
	s.engine.Handle(messenger.ChannelName, ch)
	s.messenger = true
	return nil
}

// URL is the server's base URL.
func (s *server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops taking requests, lets in-flight requests and the current engine step finish,
// and closes the stores. Work not done yet stays stored and resumes at the next start.
func (s *server) Close() error {
	var err error
	s.closeMu.Do(func() {
		if s.chat != nil {
			// Open event streams never end by themselves; the shutdown would wait for them.
			s.chat.Close()
		}
		if s.app != nil && s.ln != nil {
			err = errors.Join(err, s.app.ShutdownWithTimeout(10*time.Second))
			// A server closed right after it started may not be serving yet: Shutdown then
			// has no listener to close, and the serving goroutine would start afterwards and
			// never end. Closing the listener ends it either way.
			s.ln.Close()
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		if s.db != nil {
			err = errors.Join(err, s.db.Close())
		}
		if s.s3 != nil {
			err = errors.Join(err, s.s3.Close())
		}
		err = errors.Join(err, s.node.Close())
	})
	return err
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campaigns</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}a{color:#0b5fff}</style>
</head><body><h1>Campaigns</h1><ul>
{{range .}}<li><a href="/play/{{.ID}}">{{.Title}}</a></li>{{end}}
</ul><p><a href="/dashboard/">Dashboard</a> for moderators and marketers.</p></body></html>`))

// playable lists the campaigns a visitor can play in the web chat right now.
func (s *server) playable() []*campaigns.Definition {
	var out []*campaigns.Definition
	for _, d := range s.engine.Campaigns() {
		if d.RunsOn(webchat.ChannelName) && s.engine.Status(d.ID) == engine.StatusLive && d.Schedule.Open(s.now()) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *server) home(c *fiber.Ctx) error {
	c.Type("html", "utf-8")
	return homePage.Execute(c, s.playable())
}

func (s *server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// adminToken is the configured token, or the one kept in the data folder, created at first
// start with owner-only permissions so that `campaign launch` on this machine finds it.
func adminToken(cfg Config) (string, error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, nil
	}
	path := filepath.Join(cfg.Data, tokenFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 24)
	if _, err := cryptorand.Read(buf); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return tok, nil
}

// campaignDirectory shows the engine's campaigns to the dashboard.
type campaignDirectory struct{ e *engine.Engine }

var _ dashboard.DefinitionLookup = campaignDirectory{}

func (c campaignDirectory) CampaignList(ctx context.Context) ([]dashboard.CampaignInfo, error) {
	var out []dashboard.CampaignInfo
	for _, d := range c.e.Campaigns() {
		ci, err := c.info(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, ci)
	}
	return out, nil
}

func (c campaignDirectory) Campaign(ctx context.Context, id string) (dashboard.CampaignInfo, error) {
	d, ok := c.e.Campaign(id)
	if !ok {
		return dashboard.CampaignInfo{}, fmt.Errorf("campaign %q: %w", id, errs.ErrNotFound)
	}
	return c.info(ctx, d)
}

func (c campaignDirectory) info(ctx context.Context, d *campaigns.Definition) (dashboard.CampaignInfo, error) {
	counts, err := c.e.StateCounts(ctx, d.ID)
	if err != nil {
		return dashboard.CampaignInfo{}, err
	}
	return dashboard.CampaignInfo{Def: d, Status: c.e.Status(d.ID), Counts: counts}, nil
}

// Definition is a campaign's definition, without the counts Campaign adds
// (dashboard.DefinitionLookup).
func (c campaignDirectory) Definition(id string) (*campaigns.Definition, bool) {
	return c.e.Campaign(id)
}

func (c campaignDirectory) SetStatus(ctx context.Context, id, status string) error {
	return c.e.SetStatus(ctx, id, status)
}

// deliveryReports are the channels whose delivery reports the server records (WhatsApp's
// statuses webhook); the delivery monitor says of the others that sent is all it can know.
var deliveryReports = map[string]bool{"whatsapp": true}

// deliveries records WhatsApp's delivery reports in the store.
type deliveries struct{ db store }

func (d deliveries) UpdateDelivery(ctx context.Context, platformID string, r whatsapp.Delivery) error {
	return d.db.UpdateDelivery(ctx, platformID, engine.Delivery{Status: r.Status, ErrorCode: r.ErrorCode, ErrorTitle: r.ErrorTitle, At: r.At})
}

// store is everything the server keeps: both store/sqlite and store/mongo provide it.
type store interface {
	engine.Store
	judge.Store
	judge.Scores
	judge.Leases
	judge.Panels
	audit.Store
	draw.Store
	accounts.Accounts
	dashboard.Deliveries
	dashboard.Reports
	pricing.Store
	broadcast.Store
	broadcast.Notifier
	broadcast.Numbers
	whatsapp.NumberStore
	UpdateDelivery(ctx context.Context, platformID string, d engine.Delivery) error
	Outbox(ctx context.Context, participantID string) ([]engine.Outbound, error)
	EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error
	Close() error
}

var (
	_ store = (*sqlite.DB)(nil)
	_ store = (*mongo.DB)(nil)
)

// mongoDatabase is the database the server uses on a MongoDB server.
const mongoDatabase = "campaign"

// openStore opens MongoDB when a URI is given (several servers share it), else the embedded
// SQLite database in the data folder.
func openStore(ctx context.Context, mongoURI, data string) (store, error) {
	if mongoURI != "" {
		return mongo.Open(ctx, mongoURI, mongoDatabase)
	}
	return sqlite.Open(ctx, filepath.Join(data, dbFile))
}

// warnEmptyTeams warns about each team a campaign hands off to that no dashboard user is in:
// those conversations would wait in a queue nobody has first. A user added later (campaign
// user add --team) sees the queue at once; the warning is only at start.
func warnEmptyTeams(ctx context.Context, users interface {
	ListUsers(context.Context) ([]accounts.User, error)
}, defs []*campaigns.Definition, log *slog.Logger) {
	all, err := users.ListUsers(ctx)
	if err != nil {
		log.Warn("hand-off teams not checked", "err", err)
		return
	}
	staffed := map[string]bool{}
	for _, u := range all {
		for _, t := range u.Teams {
			staffed[t] = true
		}
	}
	for _, d := range defs {
		for _, name := range d.Order {
			st := d.States[name]
			if st.Handoff == "" || staffed[st.Handoff] {
				continue
			}
			log.Warn("hand-off team has no users", "campaign", d.ID, "state", name, "team", st.Handoff,
				"at", d.HandoffPos(st),
				"fix", "campaign user add --name NAME --team "+st.Handoff+" (or campaign user team --name NAME --team "+st.Handoff+")")
		}
	}
}
