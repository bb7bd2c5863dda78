package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds each page's template, parsed together with the layout.
type pages map[string]*template.Template

var pageNames = []string{"login", "entries", "entry", "error", "campaigns", "campaign", "participant", "deliveries", "broadcast", "ranking", "conversations", "scores", "users", "draws", "draw"}

var funcs = template.FuncMap{
	"mediaShow": mediaShow,
	// short shows enough of a participant's id to tell participants apart; the id is a hash,
	// never a phone number, and judges need no more of it.
	"short": func(id string) string {
		if len(id) > 8 {
			return id[:8]
		}
		return id
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"inc": func(i int) int { return i + 1 },
	// mapLink is the OpenStreetMap page of a shared location ("" for text that is none).
	"mapLink": mapLink,
	// score shows a mean score with two decimals, enough to see why one team is above another.
	"score": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	// hasPrefix marks the menu entry of the page shown.
	"hasPrefix": strings.HasPrefix,
	// delivery is how far a reply got: pending, sent, delivered, read, failed, cancelled.
	"delivery": shownDelivery,
}

func parsePages() (pages, error) {
	p := pages{}
	for _, name := range append(pageNames, morePages...) {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/judging.html", "templates/block_*.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// view is what every page template gets: the page's own data in Page, and what the layout
// needs around it.
type view struct {
	CSRF  string
	Flash flash
	User  *User
	Page  any
	// Queues adds the team queues to the menu.
	Queues bool
	// Inbox adds the inbox to the menu.
	Inbox bool
	// Path is the page's path, so the menu marks where the user is.
	Path string
	// UsersPage adds the users page to an admin's menu.
	UsersPage bool
	// Numbers adds the sending numbers' health to the menu.
	Numbers bool
}

// render writes a page with the CSRF token, the pending flash message and the user added.
// It renders into a buffer first, so a template error becomes a clean 500 instead of half a
// page.
func (d *Dashboard) render(c *fiber.Ctx, status int, page string, data any) error {
	t, ok := d.pages[page]
	if !ok {
		return fmt.Errorf("dashboard: render: no page %q", page)
	}
	csrf, _ := c.Locals(localCSRF).(string)
	fl, now := c.Locals(localFlash).(flash)
	if !now {
		fl = d.takeFlash(c)
	}
	v := view{CSRF: csrf, Flash: fl, User: currentUser(c), Page: data, Queues: d.queue != nil && d.campaigns != nil,
		Inbox: d.reports != nil && d.campaigns != nil, Path: strings.Clone(c.Path())}
	if v.User != nil { // the menu offers only what the role may open
		v.Queues = v.Queues && accounts.Can(v.User.Role, accounts.ReadConversations)
		v.Inbox = v.Inbox && accounts.Can(v.User.Role, accounts.ReadConversations)
		v.UsersPage = d.accounts != nil && accounts.Can(v.User.Role, accounts.ManageUsers)
		v.Numbers = d.numbers != nil && accounts.Can(v.User.Role, accounts.SeeDeliveries)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("dashboard: render %s: %w", page, err)
	}
	c.Status(status)
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

type errorView struct {
	Status  int
	Message string
}

// localPath returns p when it is a path inside the dashboard, else fallback. Redirect targets
// come from forms and query strings, so they must never lead off the site.
func localPath(p, fallback string) string {
	if !strings.HasPrefix(p, "/dashboard/") || strings.ContainsAny(p, "\\\r\n") || strings.HasPrefix(p, "//") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return strings.Clone(p)
}

var staticTypes = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// static serves the dashboard's own script and style sheet. They are files rather than
// inline so the Content-Security-Policy can forbid inline script altogether.
func (d *Dashboard) static(c *fiber.Ctx) error {
	name := c.Params("name")
	typ, ok := staticTypes[name]
	if !ok {
		return fmt.Errorf("dashboard: static %q: %w", name, errs.ErrNotFound)
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		return fmt.Errorf("dashboard: static %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, typ)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(b)
}
