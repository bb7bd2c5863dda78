package dashboard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/broadcast"
)

// NumberHealths lists what the platforms last said about the sending numbers (the WhatsApp
// channel reads and records it: channels/whatsapp/numbers.go); store/sqlite and store/mongo
// satisfy it.
type NumberHealths interface {
	NumberHealths(ctx context.Context) ([]broadcast.NumberHealth, error)
}

func init() {
	// The numbers page is parsed with the others; its name is added here to keep it in this
	// file.
	pageNames = append(pageNames, "numbers")
}

// numberRow is one sending number as the numbers page shows it.
type numberRow struct {
	Channel, Number, Display string
	// Limit says how many people the number may reach outside their 24-hour window per
	// moving 24 hours ("2,000", "unlimited", "unknown").
	Limit      string
	Throughput string
	// Quality and QualityClass are the rating and its badge's look.
	Quality, QualityClass string
	Status, StatusClass   string
	Event                 string
	CheckedAt             time.Time
	// Stale says the facts are older than two days: the reads have been failing.
	Stale bool
}

type numbersView struct {
	Numbers []numberRow
}

// numbersPage shows each sending number's messaging limit, throughput, quality and status.
func (d *Dashboard) numbersPage(c *fiber.Ctx) error {
	all, err := d.numbers.NumberHealths(c.UserContext())
	if err != nil {
		return fmt.Errorf("dashboard: number health: %w", err)
	}
	now := d.now()
	v := numbersView{}
	for _, h := range all {
		v.Numbers = append(v.Numbers, numberRowOf(h, now))
	}
	return d.render(c, fiber.StatusOK, "numbers", v)
}

func numberRowOf(h broadcast.NumberHealth, now time.Time) numberRow {
	r := numberRow{Channel: h.Channel, Number: h.Number, Display: h.Display, Event: h.Event, CheckedAt: h.CheckedAt,
		Status: h.Status, Stale: !h.CheckedAt.IsZero() && now.Sub(h.CheckedAt) > 48*time.Hour}
	if r.Display == "" {
		r.Display = h.Number
	}
	switch {
	case h.Limit == broadcast.Unlimited:
		r.Limit = "unlimited"
	case h.Limit > 0:
		r.Limit = thousands(h.Limit)
	default:
		r.Limit = "unknown"
	}
	r.Throughput = "unknown"
	if h.Throughput > 0 {
		r.Throughput = thousands(h.Throughput) + " messages/s"
	}
	switch h.Quality {
	case broadcast.QualityGreen:
		r.Quality, r.QualityClass = "high (green)", "badge-ok"
	case broadcast.QualityYellow:
		r.Quality, r.QualityClass = "medium (yellow)", "badge-warn"
	case broadcast.QualityRed:
		r.Quality, r.QualityClass = "low (red)", "badge-bad"
	default:
		r.Quality, r.QualityClass = "unknown", "badge-info"
	}
	switch strings.ToUpper(h.Status) {
	case "":
		r.Status, r.StatusClass = "unknown", "badge-info"
	case "CONNECTED":
		r.StatusClass = "badge-ok"
	case "FLAGGED", "PENDING", "MIGRATED":
		r.StatusClass = "badge-warn"
	default: // RESTRICTED, BANNED, DISCONNECTED, …
		r.StatusClass = "badge-bad"
	}
	return r
}
