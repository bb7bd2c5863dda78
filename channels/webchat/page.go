package webchat

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
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
			"img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'",
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
	// Team is set in a team campaign: the team forms, or the browser's team (teams.go).
	Team *teamView
	// Notice, when set, replaces the chat: the campaign does not answer this visitor now.
	Notice string
	// ReadOnly keeps, under the Notice, the conversation of a visitor who played (their door
	// code, their win), without the means to send anything.
	ReadOnly bool
	// Note is said above a chat that works but answers later (a paused campaign).
	Note string
	// Location offers the button that shares the browser's location (the campaign asks for
	// one somewhere).
	Location bool
}

func (p *pageRenderer) render(ctx *fiber.Ctx, status int, name string, v pageView) error {
	v.CSS, v.JS = p.css, p.js
	return p.send(ctx, status, name, v)
}

// send executes the template name with v and answers with it, with the page's headers.
func (p *pageRenderer) send(ctx *fiber.Ctx, status int, name string, v any) error {
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
		if d, elsewhere := c.elsewhere(ctx); elsewhere {
			return c.page.renderElsewhere(ctx, d)
		}
		return c.page.render(ctx, fiber.StatusNotFound, "notfound.html", pageView{Title: "Chat not found"})
	}
	browser, err := c.browserID(ctx, true)
	if err != nil {
		return err
	}
	var tv *teamView
	pid := engine.ParticipantID(def.ID, ChannelName, browser)
	if def.Teams != nil {
		p, err := c.partyOf(ctx.UserContext(), def, browser)
		if err != nil {
			return err
		}
		pid = p.pid
		tv = newTeamView(def, p)
		// A shared link may carry the invite code: /play/race?code=ABC234.
		tv.FormCode = strings.Clone(ctx.Query("code"))
	}
	return c.renderChat(ctx, fiber.StatusOK, def, tv, pid)
}

// renderChat renders the chat page of def with status for participant pid ("" for a browser
// of a team campaign that is in no team yet).
func (c *Channel) renderChat(ctx *fiber.Ctx, status int, def *campaigns.Definition, tv *teamView, pid string) error {
	title := def.Title
	if title == "" {
		title = def.ID
	}
	persona := def.Persona.Name
	if persona == "" {
		persona = title
	}
	v := pageView{
		Title:   title,
		Persona: persona,
		Base:    "/play/" + url.PathEscape(def.ID),
		Team:    tv,
		Notice:  c.closed(ctx.UserContext(), def, pid),
		// The page cannot know which state is asking, so the button is there throughout.
		Location: def.AsksLocation(),
	}
	if v.Notice != "" && pid != "" {
		lines, err := c.eng.Transcript(ctx.UserContext(), pid)
		v.ReadOnly = err == nil && len(lines) > 0
	}
	if v.Notice == "" && c.eng.Status(def.ID) == engine.StatusPaused {
		v.Note = fmt.Sprintf(PausedNote, persona)
	}
	return c.page.render(ctx, status, "page.html", v)
}

// PausedNote is what a paused campaign's page says above the chat (%s: the persona).
const PausedNote = "This chat is paused for a moment. Your messages are kept, and %s answers them as soon as it is back."

// elsewhere returns a campaign that is running but not on the web chat (its channels leave it
// out), so its link can say where it is played instead of "not found".
func (c *Channel) elsewhere(ctx *fiber.Ctx) (*campaigns.Definition, bool) {
	d, ok := c.eng.Campaign(ctx.Params("campaign"))
	if !ok || d.RunsOn(ChannelName) || c.eng.Status(d.ID) == engine.StatusDraft {
		return nil, false
	}
	return d, true
}

// channelNames are the channels as a participant knows them.
var channelNames = map[string]string{"whatsapp": "WhatsApp", "telegram": "Telegram", "messenger": "Messenger"}

type elsewhereView struct {
	Title, Channels, Keyword, OptIn string
	// WriteIn: the campaign takes any first message (no keywords) and cannot write first.
	WriteIn bool
	CSS     template.CSS
}

// brandWritesFirst says whether the campaign's first message has a template, so its opt-in
// form can greet a visitor who never wrote (WhatsApp sends them only templates). A service
// desk the participant writes to has none: its form could not reach anyone.
func brandWritesFirst(d *campaigns.Definition) bool {
	st := d.States[d.Start]
	return st != nil && len(st.Say) > 0 && st.Say[0].Template != ""
}

// renderElsewhere writes the page of a campaign played on other channels: which, and how to
// join there (its first entry keyword, or its opt-in form when it has none and runs on
// WhatsApp). It is a 404: there is no chat at this address.
func (p *pageRenderer) renderElsewhere(ctx *fiber.Ctx, d *campaigns.Definition) error {
	v := elsewhereView{Title: d.Title, CSS: p.css}
	if v.Title == "" {
		v.Title = d.ID
	}
	var names []string
	for _, ch := range d.Channels {
		if n, ok := channelNames[ch]; ok {
			names = append(names, n)
		}
	}
	switch len(names) {
	case 0:
		v.Channels = "other channels"
	case 1:
		v.Channels = names[0]
	default:
		v.Channels = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	if len(d.Keywords) > 0 {
		v.Keyword = d.Keywords[0]
		// Keywords by language: the one of the visitor's browser, who joins in that language.
		if lang := d.MatchLanguage(joinLocale(ctx)); lang != "" {
			for _, k := range d.Keywords {
				if d.KeywordLanguage(k) == lang {
					v.Keyword = k
					break
				}
			}
		}
	} else if d.RunsOn("whatsapp") && brandWritesFirst(d) {
		v.OptIn = "/optin/" + url.PathEscape(d.ID)
	} else if d.RunsOn("whatsapp") {
		v.WriteIn = true
	}
	return p.send(ctx, fiber.StatusNotFound, "elsewhere.html", v)
}
