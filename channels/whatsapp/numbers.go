package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/errs"
)

// Number health (issue 16): what the platform says about each sending number, its messaging
// limit (unique people reached outside their 24-hour window per moving 24 hours), throughput,
// quality rating and status. The channel reads them from the Graph API at start and every
// NumberWatch.Every (WatchNumbers), and a phone_number_quality_update webhook changes them at
// once (and asks for a fresh read, since the webhook says what changed, not the rating). Each
// change is saved (NumberStore) and handed to the OnHealth handlers: the broadcast pacer
// pauses a number's broadcasts when its quality drops. user_preferences webhooks (a person
// stopping or resuming marketing messages) are saved as broadcast.Preference.

// NumberStore keeps what the channel learns of its numbers and of people's marketing
// preferences; *sqlite.DB and *mongo.DB satisfy it.
type NumberStore interface {
	SaveNumberHealth(ctx context.Context, h broadcast.NumberHealth) error
	// NumberHealth fails with errs.ErrNotFound for a number never saved.
	NumberHealth(ctx context.Context, channel, number string) (broadcast.NumberHealth, error)
	NumberHealths(ctx context.Context) ([]broadcast.NumberHealth, error)
	SavePreference(ctx context.Context, p broadcast.Preference) error
}

// HealthFields are the fields a read of a number asks the Graph API for.
const HealthFields = "whatsapp_business_manager_messaging_limit,throughput,quality_rating,status,display_phone_number"

// Throughputs of the platform's levels, in messages per second (channels.md 1.8).
const (
	StandardThroughput = 80
	HighThroughput     = 1000
)

// HealthUpdate is one phone_number_quality_update webhook, normalized.
type HealthUpdate struct {
	// Display is the business number as the webhook names it (its display number, digits
	// only): the webhook carries no phone_number_id.
	Display string
	// Event is DOWNGRADE, UPGRADE, FLAGGED, UNFLAGGED, THROUGHPUT_UPGRADE, ONBOARDING…
	Event string
	// Limit is the messaging limit after the change, as broadcast.NumberHealth.Limit (0 when
	// the webhook does not say).
	Limit int
	// At is when the platform sent it.
	At time.Time
}

// ParseLimit reads a messaging limit tier (TIER_250, TIER_2K, TIER_10K, TIER_100K,
// TIER_UNLIMITED; TIER_50 and TIER_1K of older numbers; a bare number) as
// broadcast.NumberHealth.Limit: the count, broadcast.Unlimited, or 0 when unknown
// (TIER_NOT_SET, anything else).
func ParseLimit(tier string) int {
	t := strings.ToUpper(strings.TrimSpace(tier))
	t = strings.TrimPrefix(t, "TIER_")
	if t == "UNLIMITED" {
		return broadcast.Unlimited
	}
	mult := 1
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1_000, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1_000_000, strings.TrimSuffix(t, "M")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > 1_000_000_000/mult {
		return 0
	}
	return n * mult
}

// ParseQuality reads a quality_rating. GREEN, YELLOW and RED are the Cloud API's words; HIGH,
// MEDIUM and LOW are how WhatsApp Manager shows them. UNKNOWN, NA and anything else are
// broadcast.QualityUnknown.
func ParseQuality(rating string) broadcast.Quality {
	switch strings.ToUpper(strings.TrimSpace(rating)) {
	case "GREEN", "HIGH":
		return broadcast.QualityGreen
	case "YELLOW", "MEDIUM":
		return broadcast.QualityYellow
	case "RED", "LOW":
		return broadcast.QualityRed
	}
	return broadcast.QualityUnknown
}

// parseThroughput reads throughput.level: STANDARD, HIGH, or a number of messages per
// second; 0 when unknown (NOT_APPLICABLE).
func parseThroughput(raw json.RawMessage) int {
	level := strings.ToUpper(strings.Trim(strings.TrimSpace(string(raw)), `"`))
	switch level {
	case "STANDARD":
		return StandardThroughput
	case "HIGH":
		return HighThroughput
	}
	if n, err := strconv.Atoi(level); err == nil && n > 0 && n < 1_000_000 {
		return n
	}
	return 0
}

// digits keeps the digits of a phone number: the display number as read (+1 555-000-1111)
// and as a webhook gives it (15550001111) then compare equal.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func normalizeHealth(v value, at time.Time) (HealthUpdate, bool) {
	u := HealthUpdate{Display: digits(v.DisplayPhoneNumber), Event: strings.ToUpper(strings.TrimSpace(v.Event)), At: at}
	// current_limit is being replaced by max_daily_conversations_per_business (2026); the
	// newer field wins when both are there.
	u.Limit = ParseLimit(v.MaxDaily)
	if u.Limit == 0 {
		u.Limit = ParseLimit(v.CurrentLimit)
	}
	return u, u.Display != "" && u.Event != ""
}

func normalizePreference(p userPreference, now time.Time) (broadcast.Preference, bool) {
	if p.WaID == "" || (p.Category != "" && p.Category != "marketing_messages") {
		return broadcast.Preference{}, false
	}
	pref := broadcast.Preference{Channel: ChannelName, Address: p.WaID, Source: "user_preferences", At: rawUnix(p.At, now)}
	switch strings.ToLower(strings.TrimSpace(p.Value)) {
	case "stop":
		pref.StopMarketing = true
	case "resume":
	default:
		return broadcast.Preference{}, false
	}
	return pref, true
}

// OnHealth registers fn to be called after a number's facts changed and were saved: a
// read found them different from what was kept (or the first read of a number), or a
// phone_number_quality_update webhook arrived. fn gets the facts as saved; it runs on the
// goroutine that saved them (the watcher, or the webhook before it is answered), so it should
// be quick and must not block on the channel. A read that finds nothing new calls nobody.
//
// h.Event is the last webhook's event and is kept across reads; to see a drop, compare
// h.Quality (Quality.Rank) with the rating the handler saw before. The pacer
// (broadcast.Service.HealthChanged) is the handler in `campaign serve`.
func (c *Channel) OnHealth(fn func(ctx context.Context, h broadcast.NumberHealth)) {
	c.healthMu.Lock()
	defer c.healthMu.Unlock()
	c.onHealth = append(c.onHealth, fn)
}

// numberFacts is the part of the phone number node a read asks for.
type numberFacts struct {
	ID          string          `json:"id"`
	Display     string          `json:"display_phone_number"`
	Limit       json.RawMessage `json:"whatsapp_business_manager_messaging_limit"`
	LegacyLimit string          `json:"messaging_limit_tier"`
	Quality     string          `json:"quality_rating"`
	Status      string          `json:"status"`
	Throughput  struct {
		Level json.RawMessage `json:"level"`
	} `json:"throughput"`
}

// ReadNumber asks the Graph API for the facts of the business number id (HealthFields),
// without saving them. Errors are an *APIError when the platform refused, or a transport
// error.
func (c *Channel) ReadNumber(ctx context.Context, id string) (broadcast.NumberHealth, error) {
	if id == "" {
		return broadcast.NumberHealth{}, fmt.Errorf("whatsapp: read number: no phone number id: %w", errs.ErrInvalid)
	}
	endpoint := c.cfg.APIURL + "/" + url.PathEscape(id) + "?fields=" + HealthFields
	rctx, cancel := context.WithTimeout(ctx, c.cfg.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("whatsapp: read number %s: %w", id, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("whatsapp: read number %s: %w", id, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("whatsapp: read number %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return broadcast.NumberHealth{}, parseAPIError(resp.StatusCode, data)
	}
	return parseNumberFacts(id, data, c.cfg.Now())
}

// parseNumberFacts reads the answer to a read of the number id. Fields it cannot place are
// left unknown rather than refused: one new word from the platform must not hide the rest.
func parseNumberFacts(id string, data []byte, now time.Time) (broadcast.NumberHealth, error) {
	var f numberFacts
	if err := json.Unmarshal(data, &f); err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("whatsapp: read number %s: unreadable answer: %v: %w", id, err, errs.ErrInvalid)
	}
	var tier string
	if json.Unmarshal(f.Limit, &tier) != nil || tier == "" {
		tier = f.LegacyLimit
	}
	return broadcast.NumberHealth{
		Channel: ChannelName, Number: id, Display: f.Display,
		Limit: ParseLimit(tier), Throughput: parseThroughput(f.Throughput.Level),
		Quality: ParseQuality(f.Quality), Status: strings.ToUpper(strings.TrimSpace(f.Status)),
		CheckedAt: now,
	}, nil
}

// CheckNumbers reads each number once and records what changed. A number whose read fails is
// logged and left as it was; the error returned joins every failure.
func (c *Channel) CheckNumbers(ctx context.Context, ids []string) error {
	if c.cfg.Numbers == nil {
		return fmt.Errorf("whatsapp: check numbers: no number store configured: %w", errs.ErrInvalid)
	}
	var failed []error
	for _, id := range ids {
		h, err := c.ReadNumber(ctx, id)
		if err == nil {
			err = c.recordRead(ctx, h)
		}
		if err != nil {
			c.cfg.Log.Warn("whatsapp: number health not read; tried again at the next check", "number", id, "err", err)
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// NumberWatch says which numbers WatchNumbers reads, and how often.
type NumberWatch struct {
	// Numbers lists the phone_number_ids to read; it is asked at every check, so numbers of
	// campaigns launched meanwhile are read too. Duplicates and empty ids are dropped.
	Numbers func() []string
	// Every is the time between checks; zero or less reads nothing at all.
	Every time.Duration
	// After is the clock (time.After when nil); tests drive the watcher with their own.
	After func(time.Duration) <-chan time.Time
}

// WatchNumbers reads the numbers at once, then every w.Every and soon after each
// phone_number_quality_update webhook, until ctx ends. Failed reads are logged and tried
// again at the next check; they never stop the watcher.
func (c *Channel) WatchNumbers(ctx context.Context, w NumberWatch) {
	if w.Every <= 0 || w.Numbers == nil {
		return
	}
	if c.cfg.Numbers == nil {
		c.cfg.Log.Warn("whatsapp: number health not watched: no number store configured")
		return
	}
	after := w.After
	if after == nil {
		after = time.After
	}
	for {
		_ = c.CheckNumbers(ctx, unique(w.Numbers()))
		select {
		case <-ctx.Done():
			return
		case <-after(w.Every):
		case <-c.recheck:
		}
	}
}

func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// recordRead saves the facts of a read, keeping the last webhook's event, and tells the
// handlers when anything changed.
func (c *Channel) recordRead(ctx context.Context, h broadcast.NumberHealth) error {
	c.healthMu.Lock()
	if d := digits(h.Display); d != "" {
		c.byDisplay[d] = h.Number
	}
	c.healthMu.Unlock()
	return c.record(ctx, h.Number, func(prev broadcast.NumberHealth, known bool) (broadcast.NumberHealth, bool) {
		h.Event = prev.Event
		if h.Display == "" {
			h.Display = prev.Display
		}
		return h, !known || !sameFacts(prev, h)
	})
}

// sameFacts compares everything but the time.
func sameFacts(a, b broadcast.NumberHealth) bool {
	a.CheckedAt, b.CheckedAt = time.Time{}, time.Time{}
	return a == b
}

// record changes the kept facts of number with change (given them, and whether there were
// any), saves the result unless older facts than the kept ones, and tells the handlers when
// change says it is news. Records are serialised: a webhook and a read of one number must not
// each save half of the truth.
func (c *Channel) record(ctx context.Context, number string,
	change func(prev broadcast.NumberHealth, known bool) (broadcast.NumberHealth, bool)) error {
	c.recordMu.Lock()
	defer c.recordMu.Unlock()
	prev, err := c.cfg.Numbers.NumberHealth(ctx, ChannelName, number)
	known := err == nil
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	h, news := change(prev, known)
	switch {
	case known && h.CheckedAt.Before(prev.CheckedAt):
		c.cfg.Log.Debug("whatsapp: number facts older than the kept ones; ignored", "number", number, "event", h.Event)
		return nil
	case known && h.CheckedAt.Equal(prev.CheckedAt) && sameFacts(prev, h):
		// The same webhook delivered again: nothing to save or tell.
		return nil
	}
	if err := c.cfg.Numbers.SaveNumberHealth(ctx, h); err != nil {
		return err
	}
	if news {
		c.healthMu.Lock()
		handlers := slices.Clone(c.onHealth)
		c.healthMu.Unlock()
		for _, fn := range handlers {
			fn(ctx, h)
		}
	}
	return nil
}

// numberByDisplay finds the phone_number_id of a display number: from the reads of this
// process, else from what the store kept.
func (c *Channel) numberByDisplay(ctx context.Context, display string) (string, error) {
	c.healthMu.Lock()
	id, ok := c.byDisplay[display]
	c.healthMu.Unlock()
	if ok {
		return id, nil
	}
	all, err := c.cfg.Numbers.NumberHealths(ctx)
	if err != nil {
		return "", err
	}
	for _, h := range all {
		if h.Channel == ChannelName && digits(h.Display) == display {
			return h.Number, nil
		}
	}
	return "", nil
}

// handleHealth applies a phone_number_quality_update at once: the limit it gives, the event,
// and for FLAGGED the low rating it stands for (the number's status is Flagged when its
// quality is low); then the watcher is asked to read the number's actual rating.
func (c *Channel) handleHealth(ctx context.Context, u HealthUpdate) error {
	if c.cfg.Numbers == nil {
		c.cfg.Log.Debug("whatsapp: quality update ignored (no number store)", "display", u.Display, "event", u.Event)
		return nil
	}
	number, err := c.numberByDisplay(ctx, u.Display)
	if err != nil {
		return err
	}
	c.cfg.Log.Warn("whatsapp: number quality update", "display", u.Display, "number", number, "event", u.Event, "limit", u.Limit)
	// Whatever it says, a read after it tells the whole truth (the webhook gives no rating);
	// a number not known yet is found by that read too.
	defer func() {
		select {
		case c.recheck <- struct{}{}:
		default:
		}
	}()
	if number == "" {
		c.cfg.Log.Warn("whatsapp: quality update for a number not read yet; the next read records it", "display", u.Display)
		return nil
	}
	return c.record(ctx, number, func(prev broadcast.NumberHealth, _ bool) (broadcast.NumberHealth, bool) {
		h := prev
		// The platform's time, so that a webhook redelivered days later is older than the
		// reads since; but never later than this server's now, or a read right after it
		// would look older whenever this clock is behind Meta's.
		h.Channel, h.Number, h.Event, h.CheckedAt = ChannelName, number, u.Event, u.At
		if now := c.cfg.Now(); now.Before(h.CheckedAt) {
			h.CheckedAt = now
		}
		if h.Display == "" {
			h.Display = u.Display
		}
		if u.Limit != 0 {
			h.Limit = u.Limit
		}
		switch u.Event {
		case "FLAGGED":
			h.Status, h.Quality = "FLAGGED", broadcast.QualityRed
		case "UNFLAGGED":
			h.Status = "CONNECTED"
		case "THROUGHPUT_UPGRADE":
			h.Throughput = HighThroughput
		}
		return h, !sameFacts(prev, h)
	})
}

// handlePreference saves a person's marketing answer.
func (c *Channel) handlePreference(ctx context.Context, p broadcast.Preference) error {
	if c.cfg.Numbers == nil {
		c.cfg.Log.Debug("whatsapp: marketing preference ignored (no number store)", "stop", p.StopMarketing)
		return nil
	}
	return c.cfg.Numbers.SavePreference(ctx, p)
}
