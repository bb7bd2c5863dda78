package webchat

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

// locationForm is what the page posts when the participant shares the browser's location.
// The coordinates are pointers so that a missing one is told from the equator.
type locationForm struct {
	ID  string   `json:"id"`
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

// handleLocation turns a shared location into a KindLocation event, as a location pin is on
// WhatsApp.
func (c *Channel) handleLocation(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if ok, err := s.playing(ctx); !ok {
		return err
	}
	var f locationForm
	if err := ctx.BodyParser(&f); err != nil || f.Lat == nil || f.Lng == nil {
		return jsonError(ctx, fiber.StatusBadRequest, "That location could not be read.")
	}
	lat, lng := *f.Lat, *f.Lng
	if math.IsNaN(lat) || math.IsNaN(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return jsonError(ctx, fiber.StatusBadRequest, "That is not a place on earth: latitude goes from -90 to 90, longitude from -180 to 180.")
	}
	id, err := clientID(f.ID)
	if err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, err.Error())
	}
	in := s.inbound(engine.KindLocation, id)
	in.Location = &engine.Location{Latitude: lat, Longitude: lng}
	if err := c.receive(ctx, in, ""); err != nil || ctx.Response().StatusCode() != fiber.StatusAccepted {
		return err
	}
	c.relay(s.party, id, pin(lat, lng), "")
	return nil
}

// pin is a shared location as the page shows it (chat.js writes the same).
func pin(lat, lng float64) string { return fmt.Sprintf("📍 %.5f, %.5f", lat, lng) }

// transcriptLocation is the transcript line the engine writes for a shared location.
var transcriptLocation = regexp.MustCompile(`^\[location (-?[0-9.]+),(-?[0-9.]+)\](.*)$`)

// shownText is a transcript line's text as the page shows it: a shared location as the pin
// the participant saw when they shared it, not the engine's "[location …]".
func shownText(l engine.Line) string {
	m := transcriptLocation.FindStringSubmatch(l.Text)
	if l.Direction != engine.In || m == nil {
		return l.Text
	}
	lat, err1 := strconv.ParseFloat(m[1], 64)
	lng, err2 := strconv.ParseFloat(m[2], 64)
	if err1 != nil || err2 != nil {
		return l.Text
	}
	return pin(lat, lng) + m[3]
}
