// Package optin owns the opt-in form: a page where a brand's visitors leave their name and
// WhatsApp number and agree to be messaged, after which the campaign writes to them first (with
// a template, since they have not written yet). It turns a submitted form into an engine
// opt-in event and knows nothing of the campaign's steps.
package optin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Channel is the channel the opted-in participant is written to.
const Channel = "whatsapp"

// Engine is what the form needs from the engine; *engine.Engine satisfies it.
type Engine interface {
	Campaign(id string) (*campaigns.Definition, bool)
	Status(id string) string
	Receive(ctx context.Context, in engine.Inbound) (duplicate bool, err error)
	Participant(ctx context.Context, id string) (engine.Participant, error)
}

var _ Engine = (*engine.Engine)(nil)

//go:embed form.html message.html
var formFS embed.FS

var (
	page        = template.Must(template.ParseFS(formFS, "form.html"))
	messagePage = template.Must(template.ParseFS(formFS, "message.html"))
)

// Form serves /optin/{campaign}.
type Form struct {
	eng Engine
	log *slog.Logger
	// offline: the server has no WhatsApp number, so nobody can be signed up here.
	offline bool
}

// Offline makes the form say, on every campaign's address, that signing up is not possible on
// this server because it is not connected to WhatsApp (503), instead of the address not being
// there at all. `campaign serve` mounts it so when WhatsApp is not configured.
func (f *Form) Offline() *Form {
	f.offline = true
	return f
}

// New returns the form handlers.
func New(eng Engine, log *slog.Logger) *Form {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Form{eng: eng, log: log}
}

// Mount registers GET and POST /optin/:campaign.
func (f *Form) Mount(r fiber.Router) {
	r.Get("/optin/:campaign", f.show)
	r.Post("/optin/:campaign", f.submit)
}

type view struct {
	Def                *campaigns.Definition
	Consent            string
	Name, Phone, Error string
	Done               bool
}

// campaign returns a live campaign that runs on WhatsApp, or a not-found error.
func (f *Form) campaign(id string) (*campaigns.Definition, error) {
	d, ok := f.eng.Campaign(id)
	if !ok || !d.RunsOn(Channel) || f.eng.Status(id) != engine.StatusLive {
		return nil, fmt.Errorf("optin: campaign %q: %w", id, errs.ErrNotFound)
	}
	return d, nil
}

func (f *Form) render(c *fiber.Ctx, status int, v view) error {
	v.Consent = v.Def.Consent.In(v.Def.Languages[0], v.Def.Languages[0])
	c.Status(status).Type("html", "utf-8")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	return page.Execute(c, v)
}

type messageView struct{ Title, Message, Note string }

func (f *Form) message(c *fiber.Ctx, status int, v messageView) error {
	c.Status(status).Type("html", "utf-8")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	return messagePage.Execute(c, v)
}

func (f *Form) notFound(c *fiber.Ctx) error {
	return f.message(c, fiber.StatusNotFound, messageView{Title: "Sign-up form not found",
		Message: "There is no sign-up form here. Check the link you were given."})
}

// unavailable answers for a campaign whose form cannot work on this server, or reports false.
func (f *Form) unavailable(c *fiber.Ctx) (bool, error) {
	if !f.offline {
		return false, nil
	}
	d, ok := f.eng.Campaign(c.Params("campaign"))
	if !ok || !d.RunsOn(Channel) {
		return true, f.notFound(c)
	}
	title := d.Title
	if title == "" {
		title = d.ID
	}
	return true, f.message(c, fiber.StatusServiceUnavailable, messageView{Title: title,
		Message: "Signing up for " + title + " is not possible right now: this server is not connected to WhatsApp, " +
			"so it could not write to you.",
		Note: "For the organisers: campaign serve runs without WhatsApp; set WHATSAPP_ACCESS_TOKEN, " +
			"WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN to connect a number (docs/whatsapp.md)."})
}

func (f *Form) show(c *fiber.Ctx) error {
	if done, err := f.unavailable(c); done {
		return err
	}
	d, err := f.campaign(c.Params("campaign"))
	if err != nil {
		return f.notFound(c)
	}
	return f.render(c, fiber.StatusOK, view{Def: d})
}

// optInKey is the platform id of an opt-in: one per number and campaign, so that submitting the
// form again does not write twice, and a new one once the participant opted out or said no to
// consent (their version then), since filling in the form again is how they come back.
func (f *Form) optInKey(ctx context.Context, d *campaigns.Definition, phone string) (string, error) {
	key := "optin:" + phone
	p, err := f.eng.Participant(ctx, engine.ParticipantID(d.ID, Channel, phone))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return key, nil
	case err != nil:
		return "", fmt.Errorf("optin: participant %s of %s: %w", phone, d.ID, err)
	case p.State == engine.StateOptedOut || p.State == engine.StateDeclined:
		return key + ":" + strconv.FormatInt(p.Version, 10), nil
	}
	return key, nil
}

var nonDigits = regexp.MustCompile(`[\s().-]`)
var e164 = regexp.MustCompile(`^\+?[1-9][0-9]{7,14}$`)

// Phone normalizes a number as people type it (+31 6 1234 5678, 0031…) to the digits WhatsApp
// uses as the participant's address; it refuses anything that is not an international number.
func Phone(s string) (string, error) {
	s = nonDigits.ReplaceAllString(strings.TrimSpace(s), "")
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") || !e164.MatchString(s) {
		return "", fmt.Errorf("%w: enter your number with its country code, like +31 6 12345678", errs.ErrInvalid)
	}
	return s[1:], nil
}

func (f *Form) submit(c *fiber.Ctx) error {
	if done, err := f.unavailable(c); done {
		return err
	}
	d, err := f.campaign(c.Params("campaign"))
	if err != nil {
		return f.notFound(c)
	}
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return c.Status(fiber.StatusForbidden).SendString("Sign up on the campaign's own page.")
	}
	// Copies: the name is stored with the participant, past the request's reused buffers.
	v := view{Def: d, Name: strings.Clone(strings.TrimSpace(c.FormValue("name"))), Phone: strings.Clone(c.FormValue("phone"))}
	switch {
	case v.Name == "" || len(v.Name) > 60:
		v.Error = "Tell us your first name (at most 60 characters)."
	case c.FormValue("consent") != "yes":
		v.Error = "Tick the box to agree that we may message you on WhatsApp."
	}
	phone, perr := Phone(v.Phone)
	if v.Error == "" && perr != nil {
		v.Error = "Enter your WhatsApp number with its country code, like +31 6 12345678."
	}
	if v.Error != "" {
		return f.render(c, fiber.StatusBadRequest, v)
	}
	key, err := f.optInKey(c.UserContext(), d, phone)
	if err == nil {
		_, err = f.eng.Receive(c.UserContext(), engine.Inbound{
			Channel: Channel, PlatformID: key, Campaign: d.ID, From: phone, Name: v.Name, Kind: engine.KindOptIn,
		})
	}
	if err != nil {
		f.log.Error("opt-in", "campaign", d.ID, "err", err)
		if errors.Is(err, errs.ErrInvalid) {
			v.Error = "That did not work; check your details and try again."
			return f.render(c, fiber.StatusBadRequest, v)
		}
		return c.Status(fiber.StatusInternalServerError).SendString("Something went wrong on our side. Try again in a minute.")
	}
	return f.render(c, fiber.StatusOK, view{Def: d, Name: v.Name, Done: true})
}
