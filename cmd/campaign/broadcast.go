package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/dashboard"
)

const broadcastUsage = `usage: campaign broadcast plan --campaign ID --text TEXT [--text-in LANG=TEXT]... [--state STATE] [--where VAR=VALUE] [--template KEY] [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast send --campaign ID --text TEXT [--text-in LANG=TEXT]... [--state STATE] [--where VAR=VALUE] [--template KEY] --yes [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast list --campaign ID [--limit 20] [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast pause ID [--reason TEXT] [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast resume ID [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast cancel ID [--server URL] [--token TOKEN] [--data ./data]
       campaign broadcast report ID [--csv] [--out FILE] [--server URL] [--token TOKEN] [--data ./data]`

// broadcastCmd plans, starts, steers and reports paced broadcasts through the running
// server's admin API (docs/broadcasts.md): the plan needs what only the server knows (the
// number's limit and quality, who wrote in the last 24 hours), and the server's pacer sends.
func broadcastCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, broadcastUsage)
		return errUsage
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, broadcastUsage)
		return nil
	case "plan", "send", "list", "pause", "resume", "cancel", "report":
	default:
		fmt.Fprintf(stderr, "campaign broadcast: unknown command %q\n%s\n", sub, broadcastUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("broadcast "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "URL of the running campaign server")
	token := fs.String("token", "", "admin token (default $CAMPAIGN_ADMIN_TOKEN, or the one in --data)")
	data := fs.String("data", "./data", "data folder of a local server, to read its admin token")
	var (
		campaign, text, state, where, tmpl, reason, out *string
		texts                                           stringList
		yes, asCSV                                      *bool
		limit                                           *int
	)
	switch sub {
	case "plan", "send":
		campaign = fs.String("campaign", "", "campaign id")
		text = fs.String("text", "", "the message in the campaign's first language")
		fs.Var(&texts, "text-in", "the message in another of the campaign's languages, as LANG=TEXT (repeatable)")
		state = fs.String("state", "", "only participants in this state (default: every step)")
		where = fs.String("where", "", "only participants with this variable's value, as VAR=VALUE")
		tmpl = fs.String("template", "", "the template (a key of templates:) for those whose 24-hour window is closed")
		if sub == "send" {
			yes = fs.Bool("yes", false, "really start it: the plan is shown first without it")
		}
	case "list":
		campaign = fs.String("campaign", "", "campaign id")
		limit = fs.Int("limit", 20, "how many, newest first")
	case "pause":
		reason = fs.String("reason", "", "why, shown on the broadcast's page")
	case "report":
		asCSV = fs.Bool("csv", false, "write the recipients as CSV (participant id, country, status, reason), not the summary")
		out = fs.String("out", "", "write to this file instead of standard output")
	}
	var id string
	positional := 0 // the arguments after the flags that are the ID
	if campaign == nil {
		positional = 1
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			id, args, positional = args[1], args[1:], 0
		}
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if fs.NArg() > positional {
		fmt.Fprintf(stderr, "campaign broadcast %s: unexpected %q (flags come as --name value)\n%s\n", sub, fs.Args()[positional:], broadcastUsage)
		return errUsage
	}
	missing := ""
	switch {
	case campaign != nil && *campaign == "":
		missing = "--campaign"
	case text != nil && strings.TrimSpace(*text) == "" && len(texts) == 0:
		missing = "--text"
	case campaign == nil && id == "":
		missing = "the broadcast's ID (`campaign broadcast list --campaign ID` lists them)"
	case limit != nil && (*limit < 1 || *limit > 1000):
		fmt.Fprintf(stderr, "campaign broadcast list: --limit is 1 to 1000, not %d\n", *limit)
		return errUsage
	}
	if missing != "" {
		fmt.Fprintf(stderr, "campaign broadcast %s: %s is required\n%s\n", sub, missing, broadcastUsage)
		return errUsage
	}
	tok, err := adminTokenFor(*token, *data, getenv)
	if err != nil {
		return err
	}
	api := apiClient{base: strings.TrimRight(*server, "/"), token: tok}
	switch sub {
	case "plan", "send":
		body, err := broadcastBody(*text, texts, *state, *where, *tmpl)
		if err != nil {
			fmt.Fprintf(stderr, "campaign broadcast %s: %v\n", sub, err)
			return errUsage
		}
		path := "/api/campaigns/" + url.PathEscape(*campaign) + "/broadcasts"
		var p broadcast.Plan
		if err := api.do(ctx, http.MethodPost, path+"/plan", body, &p); err != nil {
			return err
		}
		printPlan(stdout, *campaign, p)
		if sub == "plan" {
			return nil
		}
		if p.InWindow+p.NeedTemplate == 0 {
			return fmt.Errorf("nobody to send to: nothing was started")
		}
		if !*yes {
			return fmt.Errorf("nothing was sent: run again with --yes to start this broadcast")
		}
		var b broadcast.Broadcast
		if err := api.do(ctx, http.MethodPost, path, body, &b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "started broadcast %s: %s; follow it with `campaign broadcast report %s`\n", b.ID, b.Status, b.ID)
		return nil
	case "list":
		var bs []broadcast.Broadcast
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if err := api.do(ctx, http.MethodGet, "/api/campaigns/"+url.PathEscape(*campaign)+"/broadcasts?"+q.Encode(), nil, &bs); err != nil {
			return err
		}
		if len(bs) == 0 {
			fmt.Fprintf(stdout, "campaign %s has no paced broadcasts yet\n", *campaign)
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tPLANNED\tDAYS\tBY\tTEXT")
		for _, b := range bs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", b.ID, b.At.UTC().Format("2006-01-02 15:04"), statusText(b),
				b.Plan.InWindow+b.Plan.NeedTemplate, max(len(b.Plan.Days), 1), b.Request.By, snippet(firstText(b.Request.Message.Text), 40))
		}
		return tw.Flush()
	case "pause", "resume", "cancel":
		var body []byte
		if sub == "pause" {
			body, _ = json.Marshal(map[string]string{"reason": *reason})
		}
		var b broadcast.Broadcast
		if err := api.do(ctx, http.MethodPost, "/api/broadcasts/"+url.PathEscape(id)+"/"+sub, body, &b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "broadcast %s is %s\n", b.ID, statusText(b))
		return nil
	}
	// report
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if *asCSV {
		cw := csv.NewWriter(w)
		err := dashboard.WriteRecipientsCSV(ctx, cw, func(ctx context.Context, after int64, limit int) ([]broadcast.Recipient, error) {
			var page adminapi.RecipientsAnswer
			q := url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(min(limit, adminapi.MaxRecipientsPage))}}
			err := api.do(ctx, http.MethodGet, "/api/broadcasts/"+url.PathEscape(id)+"/recipients?"+q.Encode(), nil, &page)
			return page.Recipients, err
		})
		if err != nil {
			return err
		}
	} else {
		var a adminapi.BroadcastAnswer
		if err := api.do(ctx, http.MethodGet, "/api/broadcasts/"+url.PathEscape(id), nil, &a); err != nil {
			return err
		}
		printReport(w, a)
	}
	if *out != "" {
		fmt.Fprintf(stderr, "wrote %s\n", *out)
	}
	return nil
}

// adminTokenFor is the admin token a command sends: --token, else $CAMPAIGN_ADMIN_TOKEN,
// else the one a local server wrote into its data folder.
func adminTokenFor(token, data string, getenv func(string) string) (string, error) {
	if token != "" {
		return token, nil
	}
	if t := getenv("CAMPAIGN_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	b, err := os.ReadFile(filepath.Join(data, tokenFile))
	if err != nil {
		return "", fmt.Errorf("no admin token: pass --token, set CAMPAIGN_ADMIN_TOKEN, or run next to the server's data folder (%v)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// broadcastBody is the admin API's request of a plan or send.
func broadcastBody(text string, texts []string, state, where, tmpl string) ([]byte, error) {
	r := adminapi.BroadcastRequest{Text: text, State: state, Template: tmpl}
	if where != "" {
		v, val, ok := strings.Cut(where, "=")
		if !ok || strings.TrimSpace(v) == "" || strings.TrimSpace(val) == "" {
			return nil, fmt.Errorf("--where %q: write it as VAR=VALUE, like topic=sport", where)
		}
		r.Var, r.Value = strings.TrimSpace(v), strings.TrimSpace(val)
	}
	for _, t := range texts {
		l, s, ok := strings.Cut(t, "=")
		if !ok || strings.TrimSpace(l) == "" {
			return nil, fmt.Errorf("--text-in %q: write it as LANG=TEXT, like nl=Deuren open om negen", t)
		}
		if r.Texts == nil {
			r.Texts = map[string]string{}
		}
		r.Texts[strings.TrimSpace(l)] = s
	}
	return json.Marshal(r)
}

// apiClient calls the running server's admin API.
type apiClient struct{ base, token string }

// do sends body (JSON, or nothing) and decodes the answer into out; an error answer becomes
// an error with the server's reason.
func (a apiClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no server answers at %s: start it with `campaign serve` (or pass --server URL of one that runs): %w", a.base, err)
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("%s did not answer within a minute", a.base)
	}
	if err != nil {
		return fmt.Errorf("ask %s: %w", a.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("read the answer of %s: %w", a.base, err)
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &p) != nil || p.Error == "" {
			if resp.StatusCode == http.StatusNotFound {
				return fmt.Errorf("%s has no broadcasts API (%s): is it a campaign server of this version?", a.base, resp.Status)
			}
			return fmt.Errorf("server answered %s", resp.Status)
		}
		return fmt.Errorf("server refused (%s): %s", resp.Status, p.Error)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("server answered %s without a readable body: %w", resp.Status, err)
	}
	return nil
}

func statusText(b broadcast.Broadcast) string {
	if b.Status == broadcast.StatusPaused && b.PausedReason != "" {
		return string(b.Status) + " (" + b.PausedReason + ")"
	}
	return string(b.Status)
}

// firstText is a broadcast's text to show: the first language's, else any.
func firstText(t map[string]string) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if t[k] != "" {
			return t[k]
		}
	}
	return ""
}

func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// num writes n with commas between thousands.
func num(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func byReasonText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	total := 0
	for k, n := range m {
		if n > 0 {
			keys = append(keys, k)
			total += n
		}
	}
	if total == 0 {
		return "none"
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s", k, num(m[k]))
	}
	return num(total) + ": " + strings.Join(parts, ", ")
}

func costText(c broadcast.Cost) string {
	if len(c.Lines) == 0 && c.Unpriced == 0 {
		return "nothing priced"
	}
	var parts []string
	for _, l := range c.Lines {
		country := l.Country
		if country == "" {
			country = "unknown country"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s × %s = %.2f", country, l.Category, num(l.Count), strconv.FormatFloat(l.Each, 'f', -1, 64), l.Total))
	}
	s := fmt.Sprintf("%s %.2f", c.Currency, c.Total)
	if len(c.Lines) == 0 {
		s = "not known"
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	if c.Unpriced > 0 {
		s += fmt.Sprintf("; %s without a price in the table, not counted", num(c.Unpriced))
	}
	return s
}

func printPlan(w io.Writer, campaign string, p broadcast.Plan) {
	who := "everyone playing"
	if a := p.Request.Audience; a.State != "" || a.Var != "" {
		who = strings.TrimSpace(a.State)
		if a.Var != "" {
			who = strings.TrimSpace(who + " " + a.Var + "=" + a.Value)
		}
	}
	fmt.Fprintf(w, "Plan of a broadcast to %s in %s\n", who, campaign)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  audience\t%s\n", num(p.Audience))
	fmt.Fprintf(tw, "  inside the 24-hour window\t%s (free-form text, not counted against the limit)\n", num(p.InWindow))
	tmpl := "no template: those outside the window are skipped"
	if t := p.Request.Message.Template; t != "" {
		tmpl = "template " + t
		if p.Category != "" {
			tmpl += ", " + p.Category
		}
	}
	fmt.Fprintf(tw, "  need the template\t%s (%s)\n", num(p.NeedTemplate), tmpl)
	fmt.Fprintf(tw, "  skipped\t%s\n", byReasonText(p.Skipped))
	if p.OnWhatsApp == 0 {
		fmt.Fprintf(tw, "  number\tnone: nobody gets it on WhatsApp, so no messaging limit applies\n")
	} else {
		printNumber(tw, p)
	}
	if len(p.Days) > 0 {
		fmt.Fprintf(tw, "  days\t%d, the last one going %s\n", len(p.Days), p.Finish.UTC().Format("2006-01-02 15:04 UTC"))
		for _, d := range p.Days {
			fmt.Fprintf(tw, "    %s\t%s\n", d.Start.UTC().Format("2006-01-02 15:04"), num(d.Count))
		}
	}
	fmt.Fprintf(tw, "  cost\t%s\n", costText(p.Cost))
	tw.Flush()
}

// printNumber writes the plan's lines about the sending number: which, its messaging limit,
// what was used of it and what is allowed today.
func printNumber(tw io.Writer, p broadcast.Plan) {
	number := p.Number.Display
	if number == "" {
		number = p.Number.Number
	}
	if number == "" {
		number = "not known"
	}
	if p.Number.Quality != "" {
		number += " (quality " + string(p.Number.Quality) + ")"
	}
	fmt.Fprintf(tw, "  number\t%s\n", number)
	known := true
	switch {
	case p.Number.Limit == broadcast.Unlimited:
		fmt.Fprintf(tw, "  messaging limit\tunlimited\n")
	case p.Number.Limit > 0:
		fmt.Fprintf(tw, "  messaging limit\t%s people a day outside their window\n", num(p.Number.Limit))
	default:
		known = false
		if p.Limit > 0 {
			fmt.Fprintf(tw, "  messaging limit\tnot known: not read from WhatsApp yet; kept to %s a day until it is\n", num(p.Limit))
		} else {
			fmt.Fprintf(tw, "  messaging limit\tnot known: not read from WhatsApp yet, so the days below are a guess\n")
		}
	}
	switch {
	case known:
		fmt.Fprintf(tw, "  used in the last 24 h\t%s\n", num(p.UsedLast24h))
		fmt.Fprintf(tw, "  allowed today\t%s\n", num(p.AllowedToday))
	case p.Limit > 0:
		// The pacer keeps to the lowest tier and counts what it sent: those are its figures.
		fmt.Fprintf(tw, "  used in the last 24 h\t%s (by this server's broadcasts)\n", num(p.UsedLast24h))
		fmt.Fprintf(tw, "  allowed today\t%s (within the %s kept to)\n", num(p.AllowedToday), num(p.Limit))
	default:
		fmt.Fprintf(tw, "  used in the last 24 h\tnot known\n")
		fmt.Fprintf(tw, "  allowed today\tnot known\n")
	}
}

func printReport(w io.Writer, a adminapi.BroadcastAnswer) {
	b, r := a.Broadcast, a.Report
	fmt.Fprintf(w, "Broadcast %s of %s: %s\n", b.ID, b.Request.Campaign, statusText(b))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  started\t%s by %s\n", b.At.UTC().Format("2006-01-02 15:04 UTC"), b.Request.By)
	fmt.Fprintf(tw, "  planned\t%s\n", num(r.Planned))
	fmt.Fprintf(tw, "  waiting\t%s\n", num(r.Waiting))
	fmt.Fprintf(tw, "  sent\t%s\n", num(r.Sent))
	fmt.Fprintf(tw, "  delivered\t%s\n", num(r.Delivered))
	fmt.Fprintf(tw, "  read\t%s\n", num(r.Read))
	fmt.Fprintf(tw, "  failed\t%s\n", byReasonText(r.Failed))
	fmt.Fprintf(tw, "  skipped\t%s\n", byReasonText(r.Skipped))
	fmt.Fprintf(tw, "  cost so far\t%s\n", costText(r.Cost))
	tw.Flush()
}
