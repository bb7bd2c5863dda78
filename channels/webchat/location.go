package webchat

import (
	"fmt"
	"math"

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
	c.relay(s.party, id, fmt.Sprintf("📍 %.5f, %.5f", lat, lng), "")
	return nil
}
