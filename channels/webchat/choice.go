package webchat

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

// MaxChoiceTitle bounds the title a tap sends along (WhatsApp allows 20 characters for a
// button and 24 for a list row; the page sends what it showed).
const MaxChoiceTitle = 100

// choiceIDRe is what a button id looks like in a definition.
var choiceIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// choiceForm is what the page posts when a button or list row is tapped.
type choiceForm struct {
	ID     string `json:"id" form:"id"`
	Choice string `json:"choice" form:"choice"`
	Title  string `json:"title" form:"title"`
}

// handleChoice turns a tap on a button into a KindChoice event: Choice is the button's id,
// Text its title. A tap on an old button is sent as well; the engine decides what it means.
func (c *Channel) handleChoice(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if ok, err := s.playing(ctx); !ok {
		return err
	}
	var f choiceForm
	if err := ctx.BodyParser(&f); err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, "That choice could not be read.")
	}
	choice, title := strings.Clone(f.Choice), strings.Clone(strings.TrimSpace(f.Title))
	switch {
	case choice == "":
		return jsonError(ctx, fiber.StatusBadRequest, "Tap one of the buttons to choose.")
	case !choiceIDRe.MatchString(choice):
		return jsonError(ctx, fiber.StatusBadRequest, "That is not a choice this chat offers (a button id is lower-case letters, digits, - and _).")
	case !utf8.ValidString(title):
		return jsonError(ctx, fiber.StatusBadRequest, "That choice contains characters that could not be read.")
	case utf8.RuneCountInString(title) > MaxChoiceTitle:
		return jsonError(ctx, fiber.StatusBadRequest, fmt.Sprintf("That choice's title is too long. Keep it under %d characters.", MaxChoiceTitle))
	}
	id, err := clientID(f.ID)
	if err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, err.Error())
	}
	in := s.inbound(engine.KindChoice, id)
	in.Choice, in.Text = choice, title
	if err := c.receive(ctx, in, ""); err != nil || ctx.Response().StatusCode() != fiber.StatusAccepted {
		return err
	}
	c.relay(s.party, id, title, "")
	return nil
}
