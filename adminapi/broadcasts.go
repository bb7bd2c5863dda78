package adminapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// Broadcasts plans, starts and steers paced broadcasts for `campaign broadcast`;
// *broadcast.Service satisfies it.
type Broadcasts interface {
	Plan(ctx context.Context, r broadcast.Request) (broadcast.Plan, error)
	Start(ctx context.Context, r broadcast.Request) (broadcast.Broadcast, error)
	Pause(ctx context.Context, id, reason, by string) error
	Resume(ctx context.Context, id, by string) error
	Cancel(ctx context.Context, id, by string) error
	Get(ctx context.Context, id string) (broadcast.Broadcast, error)
	List(ctx context.Context, campaign string, limit int) ([]broadcast.Broadcast, error)
	Report(ctx context.Context, id string) (broadcast.Report, error)
	Recipients(ctx context.Context, id string, after int64, limit int) ([]broadcast.Recipient, error)
}

// Definitions finds a loaded campaign's definition; false for an unknown campaign.
type Definitions func(id string) (*campaigns.Definition, bool)

// By is who the API's broadcasts are by: the admin token names nobody. The service writes
// the audit line of a start, a pause, a resume and a cancel with it.
const By = audit.ActorAPI

// MaxRecipientsPage is the most recipients one request lists.
const MaxRecipientsPage = 1000

// maxText bounds a broadcast's text, as the dashboard's form does.
const maxText = 4096

// SetBroadcasts adds the broadcast routes; call it before Mount.
func (a *API) SetBroadcasts(b Broadcasts, defs Definitions) {
	a.broadcasts, a.defs = b, defs
}

func (a *API) mountBroadcasts(g fiber.Router) {
	g.Post("/campaigns/:id/broadcasts/plan", a.planBroadcast)
	g.Post("/campaigns/:id/broadcasts", a.startBroadcast)
	g.Get("/campaigns/:id/broadcasts", a.listBroadcasts)
	g.Get("/broadcasts/:bid", a.getBroadcast)
	g.Post("/broadcasts/:bid/pause", a.steer("pause"))
	g.Post("/broadcasts/:bid/resume", a.steer("resume"))
	g.Post("/broadcasts/:bid/cancel", a.steer("cancel"))
	g.Get("/broadcasts/:bid/recipients", a.recipients)
}

// BroadcastRequest is the JSON body of a plan or a start: whom (a state, every step when
// empty; a variable's value) and what (the text in the campaign's first language, the
// other languages' in Texts, the template for closed windows).
type BroadcastRequest struct {
	State    string            `json:"state,omitempty"`
	Var      string            `json:"var,omitempty"`
	Value    string            `json:"value,omitempty"`
	Text     string            `json:"text"`
	Texts    map[string]string `json:"texts,omitempty"`
	Template string            `json:"template,omitempty"`
}

// BroadcastAnswer is a broadcast with its report, as GET /api/broadcasts/ID answers.
type BroadcastAnswer struct {
	Broadcast broadcast.Broadcast `json:"broadcast"`
	Report    broadcast.Report    `json:"report"`
}

// RecipientsAnswer is one page of recipients; Next is the after of the next page, 0 at the
// end.
type RecipientsAnswer struct {
	Recipients []broadcast.Recipient `json:"recipients"`
	Next       int64                 `json:"next"`
}

func bad(c *fiber.Ctx, format string, args ...any) error {
	return c.Status(fiber.StatusBadRequest).JSON(problem{Error: fmt.Sprintf(format, args...)})
}

// request reads and checks a plan's or start's body against the campaign's definition.
func (a *API) request(c *fiber.Ctx) (broadcast.Request, bool, error) {
	id := strings.Clone(c.Params("id"))
	def, ok := a.defs(id)
	if !ok {
		return broadcast.Request{}, false, c.Status(fiber.StatusNotFound).JSON(problem{Error: fmt.Sprintf("no campaign %q runs on this server", id)})
	}
	var body BroadcastRequest
	if err := c.BodyParser(&body); err != nil {
		return broadcast.Request{}, false, bad(c, `send JSON like {"text": "Doors open at nine", "state": "guest_list"}`)
	}
	var states []string
	for _, name := range def.Order {
		if st := def.States[name]; st != nil && !st.Final {
			states = append(states, name)
		}
	}
	first := ""
	if len(def.Languages) > 0 {
		first = def.Languages[0]
	}
	text := campaigns.Text{}
	if t := strings.TrimSpace(body.Text); t != "" {
		text[first] = strings.Clone(t)
	}
	for l, t := range body.Texts {
		if !slices.Contains(def.Languages, l) {
			return broadcast.Request{}, false, bad(c, "%q is not a language of campaign %s (%s)", l, id, strings.Join(def.Languages, ", "))
		}
		if t = strings.TrimSpace(t); t != "" {
			text[strings.Clone(l)] = strings.Clone(t)
		}
	}
	var templates []string
	for k := range def.Templates {
		templates = append(templates, k)
	}
	slices.Sort(templates)
	switch {
	case body.State != "" && !slices.Contains(states, body.State):
		return broadcast.Request{}, false, bad(c, "campaign %s has no state %q to broadcast to (its states: %s)", id, body.State, strings.Join(states, ", "))
	case body.Template != "" && def.Templates[body.Template] == nil:
		return broadcast.Request{}, false, bad(c, "campaign %s has no template %q (its templates: %s)", id, body.Template, strings.Join(templates, ", "))
	case len(text) == 0:
		return broadcast.Request{}, false, bad(c, "the message has no text: give text (in %s, the first language)", first)
	case (body.Var == "") != (body.Value == ""):
		return broadcast.Request{}, false, bad(c, "give both the variable and its value (var and value), or neither")
	}
	for _, t := range text {
		if len([]rune(t)) > maxText {
			return broadcast.Request{}, false, bad(c, "a broadcast can be at most %d characters", maxText)
		}
	}
	return broadcast.Request{Campaign: def.ID, By: By,
		Audience: engine.Audience{State: strings.Clone(body.State), Var: strings.Clone(body.Var), Value: strings.Clone(body.Value)},
		Message:  campaigns.Message{Text: text, Template: strings.Clone(body.Template)}}, true, nil
}

func (a *API) planBroadcast(c *fiber.Ctx) error {
	r, ok, err := a.request(c)
	if !ok {
		return err
	}
	p, err := a.broadcasts.Plan(c.UserContext(), r)
	if err != nil {
		return answerErr(c, err)
	}
	return c.JSON(p)
}

func (a *API) startBroadcast(c *fiber.Ctx) error {
	r, ok, err := a.request(c)
	if !ok {
		return err
	}
	b, err := a.broadcasts.Start(c.UserContext(), r)
	if errors.Is(err, broadcast.ErrNobody) {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(problem{Error: "nobody to send to: no participant in that audience can get it; nothing was started"})
	}
	if err != nil {
		return answerErr(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(b)
}

func (a *API) listBroadcasts(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	if _, ok := a.defs(id); !ok {
		return c.Status(fiber.StatusNotFound).JSON(problem{Error: fmt.Sprintf("no campaign %q runs on this server", id)})
	}
	limit, err := strconv.Atoi(c.Query("limit", "50"))
	if err != nil || limit < 1 || limit > 1000 {
		return bad(c, "limit must be a number from 1 to 1000")
	}
	bs, err := a.broadcasts.List(c.UserContext(), id, limit)
	if err != nil {
		return answerErr(c, err)
	}
	if bs == nil {
		bs = []broadcast.Broadcast{}
	}
	return c.JSON(bs)
}

func (a *API) getBroadcast(c *fiber.Ctx) error {
	ctx, id := c.UserContext(), strings.Clone(c.Params("bid"))
	b, err := a.broadcasts.Get(ctx, id)
	if err != nil {
		return answerErr(c, err)
	}
	r, err := a.broadcasts.Report(ctx, id)
	if err != nil {
		return answerErr(c, err)
	}
	return c.JSON(BroadcastAnswer{Broadcast: b, Report: r})
}

func (a *API) steer(what string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, id := c.UserContext(), strings.Clone(c.Params("bid"))
		var err error
		switch what {
		case "pause":
			var body struct {
				Reason string `json:"reason"`
			}
			if len(c.Body()) > 0 {
				if err := c.BodyParser(&body); err != nil {
					return bad(c, `send JSON like {"reason": "checking the replies"}, or no body`)
				}
			}
			reason := strings.TrimSpace(strings.Clone(body.Reason))
			if reason == "" {
				reason = "paused from the command line"
			}
			err = a.broadcasts.Pause(ctx, id, reason, By)
		case "resume":
			err = a.broadcasts.Resume(ctx, id, By)
		case "cancel":
			err = a.broadcasts.Cancel(ctx, id, By)
		}
		if err != nil {
			return answerErr(c, err)
		}
		b, err := a.broadcasts.Get(ctx, id)
		if err != nil {
			return answerErr(c, err)
		}
		return c.JSON(b)
	}
}

func (a *API) recipients(c *fiber.Ctx) error {
	after, err := strconv.ParseInt(c.Query("after", "0"), 10, 64)
	if err != nil || after < 0 {
		return bad(c, "after must be a recipient's number (seq), 0 for the first page")
	}
	limit, err := strconv.Atoi(c.Query("limit", strconv.Itoa(MaxRecipientsPage)))
	if err != nil || limit < 1 || limit > MaxRecipientsPage {
		return bad(c, "limit must be a number from 1 to %d", MaxRecipientsPage)
	}
	rs, err := a.broadcasts.Recipients(c.UserContext(), strings.Clone(c.Params("bid")), after, limit)
	if err != nil {
		return answerErr(c, err)
	}
	out := RecipientsAnswer{Recipients: rs}
	if out.Recipients == nil {
		out.Recipients = []broadcast.Recipient{}
	}
	if len(rs) == limit {
		out.Next = rs[len(rs)-1].Seq
	}
	return c.JSON(out)
}
