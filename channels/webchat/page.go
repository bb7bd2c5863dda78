package webchat

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

//go:embed assets
var assets embed.FS

// pageRenderer holds the templates, parsed once, and the page's inline CSS and JS. Both are
// inlined so the page needs no other request and works wherever the brand links to it; the
// Content-Security-Policy allows exactly those two blocks by their hashes, so even a bug
// that let participant text into the markup could not run script.
type pageRenderer struct {
	tmpl *template.Template
	css  template.CSS
	js   template.JS
	csp  string
}

func newPageRenderer() *pageRenderer {
	css := mustAsset("assets/chat.css")
	js := mustAsset("assets/chat.js")
	return &pageRenderer{
		tmpl: template.Must(template.ParseFS(assets, "assets/*.html")),
		css:  template.CSS(css),
		js:   template.JS(js),
		csp: "default-src 'none'; script-src '" + hash(js) + "'; style-src '" + hash(css) + "'; " +
			"img-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'",
	}
}

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("webchat: embedded asset " + name + " missing: " + err.Error())
	}
	return string(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type pageView struct {
	Title   string
	Persona string
	Base    string
	CSS     template.CSS
	JS      template.JS
	// Notice, when set, replaces the chat: the campaign does not answer this visitor now.
	Notice string
}

func (p *pageRenderer) render(ctx *fiber.Ctx, status int, name string, v pageView) error {
	v.CSS, v.JS = p.css, p.js
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	ctx.Set("Content-Security-Policy", p.csp)
	ctx.Set("X-Content-Type-Options", "nosniff")
	ctx.Set("Referrer-Policy", "same-origin")
	ctx.Set("Cache-Control", "no-store")
	ctx.Type("html", "utf-8")
	return ctx.Status(status).Send(buf.Bytes())
}

func (c *Channel) handlePage(ctx *fiber.Ctx) error {
	def, ok := c.campaign(ctx)
	if !ok {
		return c.page.render(ctx, fiber.StatusNotFound, "notfound.html", pageView{Title: "Chat not found"})
	}
	browser, err := c.browserID(ctx, true)
	if err != nil {
		return err
	}
	title := def.Title
	if title == "" {
		title = def.ID
	}
	persona := def.Persona.Name
	if persona == "" {
		persona = title
	}
	return c.page.render(ctx, fiber.StatusOK, "page.html", pageView{
		Title:   title,
		Persona: persona,
		Base:    "/play/" + url.PathEscape(def.ID),
		Notice:  c.closed(ctx.UserContext(), def, engine.ParticipantID(def.ID, ChannelName, browser)),
	})
}
