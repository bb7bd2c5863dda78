// Package adminapi owns the small JSON API that `campaign launch` and scripts use to manage a
// running server: upload a definition (validated before it goes live) and change a campaign's
// status. Every request carries the server's admin token.
package adminapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Campaign statuses a launch can ask for.
const (
	StatusDraft  = "draft"
	StatusLive   = "live"
	StatusPaused = "paused"
	StatusClosed = "closed"
)

// MaxBody is the largest launch the API takes: a definition and a codes file of the largest
// sizes each may have, and the multipart framing around them. The server's body limit must
// be at least this, whatever the limits on participants' uploads.
const MaxBody = campaigns.MaxFileSize + campaigns.MaxCodesFileSize + 64<<10

// TooLarge answers a launch past the server's body limit (Fiber refuses it before the
// handler runs) in the API's own shape.
func TooLarge(c *fiber.Ctx) error {
	return c.Status(fiber.StatusRequestEntityTooLarge).JSON(problem{Error: fmt.Sprintf(
		"the launch is larger than %d bytes: a definition may be at most %d bytes and a codes file %d",
		MaxBody, campaigns.MaxFileSize, campaigns.MaxCodesFileSize)})
}

// Campaigns is what the API needs from the engine: loading a definition as the current
// version of its campaign, and changing a campaign's status. Both persist.
type Campaigns interface {
	Launch(ctx context.Context, def *campaigns.Definition, status string) error
	SetStatus(ctx context.Context, id, status string) error
}

// API serves /api/….
type API struct {
	token      string
	campaigns  Campaigns
	broadcasts Broadcasts
	defs       Definitions
}

// New returns the API; token must be non-empty (an empty token would let anyone in).
func New(token string, c Campaigns) (*API, error) {
	if len(token) < 16 {
		return nil, fmt.Errorf("adminapi: %w: the admin token must be at least 16 characters", errs.ErrInvalid)
	}
	return &API{token: token, campaigns: c}, nil
}

// Mount registers the routes.
func (a *API) Mount(r fiber.Router) {
	g := r.Group("/api", a.auth)
	g.Post("/campaigns", a.launch)
	g.Post("/campaigns/:id/status", a.status)
	if a.broadcasts != nil {
		a.mountBroadcasts(g)
	}
}

// problem is the JSON shape of every error answer.
type problem struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

func (a *API) auth(c *fiber.Ctx) error {
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
		return c.Status(fiber.StatusUnauthorized).JSON(problem{Error: "missing or wrong admin token (Authorization: Bearer …)"})
	}
	return c.Next()
}

// launch validates the uploaded definition and, when it has no errors, makes it the current
// version of its campaign. Warnings are returned but do not stop the launch.
func (a *API) launch(c *fiber.Ctx) error {
	// Copies: the definition keeps its file name and the engine the status, long after Fiber
	// reused the request's buffers for other requests.
	name := strings.Clone(c.Query("file", "definition.yaml"))
	status := strings.Clone(c.Query("status", StatusLive))
	if status != StatusLive && status != StatusDraft {
		return c.Status(fiber.StatusBadRequest).JSON(problem{Error: "status must be live or draft"})
	}
	src := append([]byte(nil), c.Body()...)
	var codes map[string][]byte
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		var msg string
		if src, codes, msg = launchForm(c); msg != "" {
			return c.Status(fiber.StatusBadRequest).JSON(problem{Error: msg})
		}
	}
	def, probs := campaigns.Parse(name, src)
	if def != nil {
		var msg string
		if probs, msg = fillCodes(def, codes, probs); msg != "" {
			return c.Status(fiber.StatusBadRequest).JSON(problem{Error: msg})
		}
		if probs.HasErrors() {
			def = nil
		}
	}
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = p.String()
	}
	if def == nil {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(problem{Error: "the definition has errors; nothing was changed", Problems: lines})
	}
	if err := a.campaigns.Launch(c.UserContext(), def, status); err != nil {
		return answerErr(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": def.ID, "version": def.Version, "status": status, "warnings": lines})
}

// launchForm reads a launch sent as a multipart form, which `campaign launch` sends when the
// definition's pools read their codes from files: the part "definition" is the definition,
// and "codes/POOL" the codes file of pool POOL. msg says what is wrong with the form.
func launchForm(c *fiber.Ctx) (src []byte, codes map[string][]byte, msg string) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil, "the launch form could not be read: send the definition as the body, or as the part \"definition\" of a multipart form"
	}
	read := func(fh *multipart.FileHeader) ([]byte, error) {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, campaigns.MaxCodesFileSize+1))
	}
	codes = map[string][]byte{}
	for field, fhs := range form.File {
		if len(fhs) != 1 {
			return nil, nil, fmt.Sprintf("the launch form has %d parts %q; send one", len(fhs), field)
		}
		b, err := read(fhs[0])
		if err != nil {
			return nil, nil, fmt.Sprintf("the launch form's part %q could not be read", field)
		}
		switch pool, ok := strings.CutPrefix(field, "codes/"); {
		case field == "definition":
			src = b
		case ok && len(b) > campaigns.MaxCodesFileSize:
			return nil, nil, fmt.Sprintf("the codes of pool %q are more than %d bytes", pool, campaigns.MaxCodesFileSize)
		case ok:
			codes[strings.Clone(pool)] = b
		default:
			return nil, nil, fmt.Sprintf("the launch form has a part %q; it takes \"definition\" and \"codes/POOL\"", field)
		}
	}
	if vs := form.Value["definition"]; src == nil && len(vs) == 1 {
		src = []byte(vs[0])
	}
	if src == nil {
		return nil, nil, "the launch form has no part \"definition\""
	}
	return src, codes, ""
}

// fillCodes gives the pools whose codes file came with the definition their codes, checked as
// the file on disk would be. A pool whose file did not come keeps no codes: the engine then
// uses those it stored before, or refuses the launch.
func fillCodes(def *campaigns.Definition, codes map[string][]byte, probs campaigns.Problems) (campaigns.Problems, string) {
	for name, src := range codes {
		pool := def.Pools[name]
		if pool == nil || pool.CodesFile == "" || pool.Codes != nil {
			return probs, fmt.Sprintf("the definition has no pool of codes %q that reads its codes from a file", name)
		}
		list, ps := campaigns.ParseCodes(pool.CodesFile, src)
		probs = append(probs, ps...)
		if len(list) == 0 && len(ps) == 0 {
			probs = append(probs, campaigns.Problem{File: pool.CodesFile, Line: 1, Col: 1, Msg: fmt.Sprintf("pool %q has no codes: %s lists none", name, pool.CodesFile)})
		}
		pool.SetCodes(list)
	}
	return probs, ""
}

func (a *API) status(c *fiber.Ctx) error {
	var body struct {
		Status string `json:"status"`
	}
	if err := c.BodyParser(&body); err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(problem{Error: "send JSON like {\"status\": \"paused\"}"})
	}
	switch body.Status {
	case StatusLive, StatusPaused, StatusClosed, StatusDraft:
	default:
		return c.Status(fiber.StatusBadRequest).JSON(problem{Error: fmt.Sprintf("unknown status %q (draft, live, paused or closed)", body.Status)})
	}
	// BodyParser decodes a form body into strings that alias the request; the engine keeps both.
	id, status := strings.Clone(c.Params("id")), strings.Clone(body.Status)
	if err := a.campaigns.SetStatus(c.UserContext(), id, status); err != nil {
		return answerErr(c, err)
	}
	return c.JSON(fiber.Map{"id": id, "status": status})
}

func answerErr(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return c.Status(fiber.StatusNotFound).JSON(problem{Error: err.Error()})
	case errors.Is(err, errs.ErrInvalid):
		return c.Status(fiber.StatusBadRequest).JSON(problem{Error: err.Error()})
	case errors.Is(err, errs.ErrConflict):
		return c.Status(fiber.StatusConflict).JSON(problem{Error: err.Error()})
	}
	return c.Status(fiber.StatusInternalServerError).JSON(problem{Error: "internal error"})
}
