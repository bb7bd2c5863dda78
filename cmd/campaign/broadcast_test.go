package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// cliBroadcasts is the broadcast service behind the admin API in the CLI's tests: it plans
// what it is told, keeps what it started and records the calls.
type cliBroadcasts struct {
	mu         sync.Mutex
	plan       broadcast.Plan
	casts      map[string]broadcast.Broadcast
	recipients []broadcast.Recipient
	calls      []string
}

func (f *cliBroadcasts) call(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

func (f *cliBroadcasts) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *cliBroadcasts) Plan(_ context.Context, r broadcast.Request) (broadcast.Plan, error) {
	f.call(fmt.Sprintf("plan %s %s %s=%s %v %s", r.Campaign, r.Audience.State, r.Audience.Var, r.Audience.Value, map[string]string(r.Message.Text), r.Message.Template))
	p := f.plan
	p.Request = r
	return p, nil
}

func (f *cliBroadcasts) Start(_ context.Context, r broadcast.Request) (broadcast.Broadcast, error) {
	f.call("start " + r.Campaign)
	f.mu.Lock()
	defer f.mu.Unlock()
	b := broadcast.Broadcast{ID: "bc1", Request: r, Plan: f.plan, Status: broadcast.StatusRunning,
		At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	f.casts[b.ID] = b
	return b, nil
}

func (f *cliBroadcasts) steer(id string, to broadcast.Status, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.casts[id]
	if !ok {
		return fmt.Errorf("broadcast %s: %w", id, errs.ErrNotFound)
	}
	if b.Status == to || b.Status == broadcast.StatusCancelled {
		return fmt.Errorf("broadcast %s is %s already: %w", id, b.Status, errs.ErrConflict)
	}
	b.Status, b.PausedReason = to, reason
	f.casts[id] = b
	return nil
}

func (f *cliBroadcasts) Pause(_ context.Context, id, reason, by string) error {
	f.call("pause " + id + ": " + reason + " by " + by)
	return f.steer(id, broadcast.StatusPaused, reason)
}

func (f *cliBroadcasts) Resume(_ context.Context, id, by string) error {
	f.call("resume " + id)
	return f.steer(id, broadcast.StatusRunning, "")
}

func (f *cliBroadcasts) Cancel(_ context.Context, id, by string) error {
	f.call("cancel " + id)
	return f.steer(id, broadcast.StatusCancelled, "")
}

func (f *cliBroadcasts) Get(_ context.Context, id string) (broadcast.Broadcast, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.casts[id]
	if !ok {
		return b, fmt.Errorf("broadcast %s: %w", id, errs.ErrNotFound)
	}
	return b, nil
}

func (f *cliBroadcasts) List(_ context.Context, campaign string, limit int) ([]broadcast.Broadcast, error) {
	f.call(fmt.Sprintf("list %s %d", campaign, limit))
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.Broadcast
	for _, b := range f.casts {
		out = append(out, b)
	}
	return out, nil
}

func (f *cliBroadcasts) Report(ctx context.Context, id string) (broadcast.Report, error) {
	if _, err := f.Get(ctx, id); err != nil {
		return broadcast.Report{}, err
	}
	return broadcast.Report{Planned: 2000, Waiting: 1500, Sent: 480, Delivered: 470, Read: 300,
		Failed: map[string]int{"131026 undeliverable": 20}, Skipped: map[string]int{"opted out of marketing": 4},
		Cost: broadcast.Cost{Currency: "EUR", Total: 52.8, Lines: []broadcast.CostLine{{Country: "NL", Category: "marketing", Count: 480, Each: 0.11, Total: 52.8}}}}, nil
}

func (f *cliBroadcasts) Recipients(ctx context.Context, id string, after int64, limit int) ([]broadcast.Recipient, error) {
	if _, err := f.Get(ctx, id); err != nil {
		return nil, err
	}
	f.call(fmt.Sprintf("recipients %d %d", after, limit))
	var out []broadcast.Recipient
	for _, r := range f.recipients {
		if r.Seq > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// startBroadcastAPI serves the admin API with svc on loopback, for the bouncer campaign;
// the token is in the returned data folder, as a local server leaves it.
func startBroadcastAPI(t *testing.T, svc adminapi.Broadcasts) (server, data string) {
	t.Helper()
	def, probs := campaigns.LoadFile("../../campaigns/examples/bouncer.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	const tok = "a-token-of-sixteen-or-more"
	api, err := adminapi.New(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	api.SetBroadcasts(svc, func(id string) (*campaigns.Definition, bool) { return def, id == def.ID })
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	api.Mount(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	data = t.TempDir()
	if err := os.WriteFile(filepath.Join(data, tokenFile), []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "http://" + ln.Addr().String(), data
}

func newCLIBroadcasts() *cliBroadcasts {
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return &cliBroadcasts{casts: map[string]broadcast.Broadcast{}, plan: broadcast.Plan{
		Number:   broadcast.NumberHealth{Display: "+31 20 555 0100", Limit: 2000, Quality: broadcast.QualityGreen},
		Audience: 4010, InWindow: 10, NeedTemplate: 4000, OnWhatsApp: 4010, UsedLast24h: 0, AllowedToday: 2000,
		Skipped: map[string]int{"opted out of marketing": 4},
		Days:    []broadcast.PlanDay{{Start: day, Count: 2010}, {Start: day.Add(24 * time.Hour), Count: 2000}},
		Finish:  day.Add(30 * time.Hour), Category: "marketing",
		Cost: broadcast.Cost{Currency: "EUR", Total: 440, Unpriced: 0,
			Lines: []broadcast.CostLine{{Country: "NL", Category: "marketing", Count: 4000, Each: 0.11, Total: 440}}},
	}}
}

func runBroadcast(t *testing.T, server, data string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(append([]string{"broadcast"}, args...), "--server", server, "--data", data)
	code := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// TestBroadcastCLI: plan, send, list, pause, resume, cancel and report go through the
// running server's admin API, and bad input gets a clear answer.
func TestBroadcastCLI(t *testing.T) {
	svc := newCLIBroadcasts()
	server, data := startBroadcastAPI(t, svc)

	code, out, errOut := runBroadcast(t, server, data, "plan", "--campaign", "bouncer", "--text", "Doors open at nine", "--state", "door", "--template", "on_the_list")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Plan of a broadcast to door in bouncer",
		"inside the 24-hour window  10 (free-form text, not counted against the limit)",
		"need the template          4,000 (template on_the_list, marketing)",
		"skipped                    4: opted out of marketing 4",
		"messaging limit            2,000 people a day outside their window",
		"allowed today              2,000",
		"days                       2, the last one going 2026-12-02 15:00 UTC",
		"2026-12-02 09:00           2,000",
		"cost                       EUR 440.00 (NL marketing 4,000 × 0.11 = 440.00)",
	} {
		if !strings.Contains(squash(out), squash(want)) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if got := svc.Calls(); !slices.Equal(got, []string{"plan bouncer door = map[en:Doors open at nine] on_the_list"}) {
		t.Errorf("calls %q", got)
	}

	// send shows the plan and starts only with --yes.
	code, out, errOut = runBroadcast(t, server, data, "send", "--campaign", "bouncer", "--text", "Doors open at nine")
	if code != 1 || !strings.Contains(errOut, "nothing was sent: run again with --yes") || !strings.Contains(out, "need the template") {
		t.Errorf("send without --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(svc.casts) != 0 {
		t.Fatal("send without --yes started the broadcast")
	}
	code, out, errOut = runBroadcast(t, server, data, "send", "--campaign", "bouncer", "--text", "Doors open at nine", "--yes")
	if code != 0 || !strings.Contains(out, "started broadcast bc1: running") {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, _ = runBroadcast(t, server, data, "list", "--campaign", "bouncer")
	if code != 0 || !strings.Contains(squash(out), "bc1 2026-12-01 09:00 running 4010 2 api Doors open at nine") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = runBroadcast(t, server, data, "pause", "bc1", "--reason", "checking the replies")
	if code != 0 || strings.TrimSpace(out) != "broadcast bc1 is paused (checking the replies)" {
		t.Errorf("pause: exit %d %q", code, out)
	}
	code, _, errOut = runBroadcast(t, server, data, "pause", "bc1")
	if code != 1 || !strings.Contains(errOut, "server refused (409 Conflict): broadcast bc1 is paused already") {
		t.Errorf("pause twice: exit %d %q", code, errOut)
	}
	if code, out, _ = runBroadcast(t, server, data, "resume", "bc1"); code != 0 || strings.TrimSpace(out) != "broadcast bc1 is running" {
		t.Errorf("resume: exit %d %q", code, out)
	}

	code, out, _ = runBroadcast(t, server, data, "report", "bc1")
	for _, want := range []string{"Broadcast bc1 of bouncer: running", "planned       2,000", "waiting       1,500", "delivered     470",
		"failed        20: 131026 undeliverable 20", "skipped       4: opted out of marketing 4", "cost so far   EUR 52.80 (NL marketing 480 × 0.11 = 52.80)"} {
		if code != 0 || !strings.Contains(squash(out), squash(want)) {
			t.Errorf("report lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	for i := 1; i <= 1500; i++ {
		svc.recipients = append(svc.recipients, broadcast.Recipient{Seq: int64(i), ParticipantID: fmt.Sprintf("p%d", i), Address: "31612345678",
			Country: "NL", Template: true, Status: "sent"})
	}
	csvFile := filepath.Join(t.TempDir(), "bc1.csv")
	code, _, errOut = runBroadcast(t, server, data, "report", "bc1", "--csv", "--out", csvFile)
	if code != 0 {
		t.Fatalf("report --csv: exit %d %s", code, errOut)
	}
	b, _ := os.ReadFile(csvFile)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 1501 || rows[1500][1] != "p1500" || strings.Contains(string(b), "31612345678") {
		t.Errorf("csv: %d rows, %v", len(rows), err)
	}
	if code, out, _ = runBroadcast(t, server, data, "cancel", "bc1"); code != 0 || strings.TrimSpace(out) != "broadcast bc1 is cancelled" {
		t.Errorf("cancel: exit %d %q", code, out)
	}
}

func TestBroadcastCLIBadInput(t *testing.T) {
	svc := newCLIBroadcasts()
	server, data := startBroadcastAPI(t, svc)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     string
		noServer bool
	}{
		{"NoSubcommand", nil, 2, "usage: campaign broadcast plan", false},
		{"UnknownSubcommand", []string{"blast"}, 2, `unknown command "blast"`, false},
		{"PlanWithoutCampaign", []string{"plan", "--text", "hi"}, 2, "--campaign is required", false},
		{"PlanWithoutText", []string{"plan", "--campaign", "bouncer"}, 2, "--text is required", false},
		{"BadWhere", []string{"plan", "--campaign", "bouncer", "--text", "hi", "--where", "topic"}, 2, `--where "topic": write it as VAR=VALUE`, false},
		{"BadTextIn", []string{"plan", "--campaign", "bouncer", "--text", "hi", "--text-in", "nl"}, 2, `--text-in "nl": write it as LANG=TEXT`, false},
		{"UnknownCampaign", []string{"plan", "--campaign", "nope", "--text", "hi"}, 1, `server refused (404 Not Found): no campaign "nope" runs on this server`, false},
		{"UnknownState", []string{"plan", "--campaign", "bouncer", "--text", "hi", "--state", "lobby"}, 1, `has no state "lobby" to broadcast to`, false},
		{"UnknownTemplate", []string{"send", "--campaign", "bouncer", "--text", "hi", "--template", "nope", "--yes"}, 1, `has no template "nope"`, false},
		{"PauseWithoutID", []string{"pause"}, 2, "the broadcast's ID", false},
		{"PauseUnknown", []string{"pause", "nope"}, 1, "server refused (404 Not Found): broadcast nope", false},
		{"ReportUnknown", []string{"report", "nope"}, 1, "broadcast nope", false},
		{"TwoIDs", []string{"resume", "bc1", "bc2"}, 2, `unexpected ["bc2"`, false},
		{"ListBadLimit", []string{"list", "--campaign", "bouncer", "--limit", "0"}, 2, "--limit is 1 to 1000", false},
		{"NoServer", []string{"list", "--campaign", "bouncer"}, 1, "no server answers at", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server
			if tc.noServer {
				ln, _ := net.Listen("tcp", "127.0.0.1:0")
				srv = "http://" + ln.Addr().String()
				ln.Close()
			}
			code, out, errOut := runBroadcast(t, srv, data, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	// Only what the server must judge reaches the service.
	if got := svc.Calls(); !slices.Equal(got, []string{"pause nope: paused from the command line by api"}) {
		t.Errorf("calls %q", got)
	}
	// No token anywhere: said plainly.
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"broadcast", "list", "--campaign", "bouncer", "--server", server, "--data", t.TempDir()}, &out, &errOut, func(string) string { return "" })
	if code != 1 || !strings.Contains(errOut.String(), "no admin token: pass --token") {
		t.Errorf("no token: exit %d %q", code, errOut.String())
	}
}

// squash is s with every run of spaces one space: the table's padding is not the point.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
