// Package metrics owns what `campaign serve` exposes on GET /metrics in the Prometheus text
// format: counters of received, duplicate and processed events and of sent and failed
// replies, and latency histograms of webhook answers, engine steps and the outbox (how late a
// reply left after it was due). It implements engine.Observer, so the engine reports to it
// without importing Prometheus, and gives Fiber a handler and a webhook timing middleware.
//
// Each Metrics has its own registry rather than Prometheus' global one: two servers in one
// test process then do not share (or double-register) counters.
package metrics

import (
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatcampaigns/campaign/engine"
)

var _ engine.Observer = (*Metrics)(nil)

// latencyBuckets span 0.5 ms to 10 s: webhook answers and steps sit at the low end, outbox lag
// under load at the high end; the 25 ms webhook target falls on a bucket edge.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is one registry with the engine's and the webhooks' metrics. Its methods are safe
// for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	received *prometheus.CounterVec
	// receivedBy and repliesBy are received's and replies' series by channel.
	receivedBy, repliesBy *pairs
	processed             prometheus.Counter
	step                  prometheus.Histogram
	replies               *prometheus.CounterVec
	lag                   prometheus.Histogram
	webhook               *prometheus.HistogramVec
	crash                 crashMetrics
	limited               *prometheus.CounterVec
}

// New returns Metrics with its own registry, which also carries the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_inbound_events_total",
			Help: "Inbound events stored by the engine, per channel; duplicate=true counts redeliveries that had no effect.",
		}, []string{"channel", "duplicate"}),
		processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_events_processed_total",
			Help: "Stored events the worker consumed (applied or skipped).",
		}),
		step: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "campaign_step_duration_seconds",
			Help:    "Time to load, step and commit one event.",
			Buckets: latencyBuckets,
		}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_replies_total",
			Help: "Replies handed to a channel, per channel and result (sent or failed).",
		}, []string{"channel", "result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "campaign_outbox_lag_seconds",
			Help:    "How long after it was due (persona delay included) a reply went out.",
			Buckets: latencyBuckets,
		}),
		webhook: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "campaign_webhook_duration_seconds",
			Help:    "Time to answer a webhook, per channel and HTTP status.",
			Buckets: latencyBuckets,
		}, []string{"channel", "code"}),
	}
	m.receivedBy = newPairs(m.received, "false", "true")
	m.repliesBy = newPairs(m.replies, "sent", "failed")
	m.reg.MustRegister(m.received, m.processed, m.step, m.replies, m.lag, m.webhook,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.crash = newCrashMetrics(m.reg)
	m.limited = newLimitMetrics(m.reg)
	return m
}

// Registry is the registry behind the handler, for adding more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Received counts one stored inbound event.
func (m *Metrics) Received(channel string, duplicate bool) {
	m.receivedBy.of(channel, duplicate).Inc()
}

// EventApplied counts one consumed event and records its step time.
func (m *Metrics) EventApplied(d time.Duration) {
	m.processed.Inc()
	m.step.Observe(d.Seconds())
}

// ReplySent counts one reply handed to a channel and records its lag behind its due time.
func (m *Metrics) ReplySent(channel string, lag time.Duration, err error) {
	m.repliesBy.of(channel, err != nil).Inc()
	m.lag.Observe(max(lag, 0).Seconds())
}

// pairs are the series of a counter per channel and a yes/no label (duplicate or not, sent
// or failed), each looked up by its labels once: Received and ReplySent run for every
// message, and a lookup by labels hashes them and takes the vector's lock.
type pairs struct {
	vec *prometheus.CounterVec
	// no and yes are the values of the second label.
	no, yes string
	mu      sync.Mutex
	// seen is never changed, only replaced (under mu): read without a lock.
	seen atomic.Pointer[map[pairKey]prometheus.Counter]
}

type pairKey struct {
	channel string
	yes     bool
}

func newPairs(vec *prometheus.CounterVec, no, yes string) *pairs {
	p := &pairs{vec: vec, no: no, yes: yes}
	p.seen.Store(&map[pairKey]prometheus.Counter{})
	return p
}

// of is the series of channel and yes, made at its first event as WithLabelValues makes it
// (/metrics shows a series only once it counted something).
func (p *pairs) of(channel string, yes bool) prometheus.Counter {
	k := pairKey{channel, yes}
	if c, ok := (*p.seen.Load())[k]; ok {
		return c
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.seen.Load()
	if c, ok := old[k]; ok {
		return c
	}
	value := p.no
	if yes {
		value = p.yes
	}
	c := p.vec.WithLabelValues(channel, value)
	seen := make(map[pairKey]prometheus.Counter, len(old)+1)
	maps.Copy(seen, old)
	seen[k] = c
	p.seen.Store(&seen)
	return c
}

// Handler serves the registry in the Prometheus text format (GET /metrics).
func (m *Metrics) Handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// Webhook is Fiber middleware that records how long the handlers after it took to answer a
// webhook of channel, by status code. Mount it on the webhook path before the channel's routes:
// app.Use("/webhooks/whatsapp", m.Webhook("whatsapp")).
func (m *Metrics) Webhook(channel string) fiber.Handler {
	// Nearly every webhook answers 200: its series is looked up once (at the first, so that
	// /metrics shows it only once there is one), not by its labels (hashed, under a lock)
	// with the code made into a string, for each.
	var (
		once sync.Once
		ok   prometheus.Observer
	)
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		code := c.Response().StatusCode()
		if err != nil {
			// The app's error handler has not run yet; a fiber.Error carries the status it will send.
			code = fiber.StatusInternalServerError
			if fe, ok := err.(*fiber.Error); ok {
				code = fe.Code
			}
		}
		if code == fiber.StatusOK {
			once.Do(func() { ok = m.webhook.WithLabelValues(channel, "200") })
			ok.Observe(time.Since(start).Seconds())
			return err
		}
		m.webhook.WithLabelValues(channel, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		return err
	}
}

// Queues are what /metrics shows of the work waiting, read once per scrape.
type Queues struct {
	engine.QueueStats
	Intake engine.IntakeState
	// Now is when the figures were read (the oldest event's age is taken from it).
	Now time.Time
}

// WatchQueues adds the waiting work to the registry, read from read on every scrape:
// campaign_inbound_backlog (unprocessed events in the store),
// campaign_inbound_oldest_unprocessed_seconds, campaign_outbox_pending, campaign_outbox_due,
// the intake's own count and rate (campaign_intake_backlog, campaign_intake_backlog_seconds,
// campaign_intake_rate) and campaign_webhook_refused_total (503s given by the back-pressure
// policy). A failed read leaves the store's figures out of that scrape.
func (m *Metrics) WatchQueues(read func() (Queues, error)) {
	m.reg.MustRegister(&queuesCollector{read: read})
}

var (
	descBacklog = prometheus.NewDesc("campaign_inbound_backlog",
		"Inbound events stored and not yet processed (all campaigns, paused ones included).", nil, nil)
	descOldest = prometheus.NewDesc("campaign_inbound_oldest_unprocessed_seconds",
		"Age of the oldest unprocessed inbound event (0 when none waits).", nil, nil)
	descOutboxPending = prometheus.NewDesc("campaign_outbox_pending",
		"Replies queued and not yet sent, failed or cancelled.", nil, nil)
	descOutboxDue = prometheus.NewDesc("campaign_outbox_due",
		"Pending replies whose time has come (persona delay and retry backoff over).", nil, nil)
	descIntakeBacklog = prometheus.NewDesc("campaign_intake_backlog",
		"The backlog the intake policy counts, per queue: events this process received and has not processed (paused campaigns left out), replies due and not sent.", []string{"queue"}, nil)
	descIntakeSeconds = prometheus.NewDesc("campaign_intake_backlog_seconds",
		"That backlog in seconds of work at the processing rate (what the back-pressure policy compares with its limits).", nil, nil)
	descIntakeRate = prometheus.NewDesc("campaign_intake_rate",
		"Events processed (replies sent) per second of the worker's (the sender's) busy time, over its last twenty rounds or so.", []string{"queue"}, nil)
	descRefused = prometheus.NewDesc("campaign_webhook_refused_total",
		"Webhooks and web chat messages refused with 503 and Retry-After because the backlog was past the limit.", nil, nil)
)

type queuesCollector struct {
	read func() (Queues, error)
}

func (c *queuesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBacklog, descOldest, descOutboxPending, descOutboxDue,
		descIntakeBacklog, descIntakeSeconds, descIntakeRate, descRefused} {
		ch <- d
	}
}

func (c *queuesCollector) Collect(ch chan<- prometheus.Metric) {
	q, err := c.read()
	in := q.Intake
	ch <- prometheus.MustNewConstMetric(descIntakeBacklog, prometheus.GaugeValue, float64(in.Events), "events")
	ch <- prometheus.MustNewConstMetric(descIntakeBacklog, prometheus.GaugeValue, float64(in.Replies), "replies")
	ch <- prometheus.MustNewConstMetric(descIntakeSeconds, prometheus.GaugeValue, in.Seconds)
	ch <- prometheus.MustNewConstMetric(descIntakeRate, prometheus.GaugeValue, in.EventRate, "events")
	ch <- prometheus.MustNewConstMetric(descIntakeRate, prometheus.GaugeValue, in.ReplyRate, "replies")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(in.Refused))
	if err != nil {
		return
	}
	age := 0.0
	if !q.OldestInbound.IsZero() {
		age = max(0, q.Now.Sub(q.OldestInbound).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(q.Inbound))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(descOutboxPending, prometheus.GaugeValue, float64(q.OutboxPending))
	ch <- prometheus.MustNewConstMetric(descOutboxDue, prometheus.GaugeValue, float64(q.OutboxDue))
}
