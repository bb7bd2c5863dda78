package adminapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// fakeBroadcasts records what the API asked of the service.
type fakeBroadcasts struct{ calls []string }

func (f *fakeBroadcasts) Plan(_ context.Context, r broadcast.Request) (broadcast.Plan, error) {
	f.calls = append(f.calls, fmt.Sprintf("plan %s %+v %v %s by %s", r.Campaign, r.Audience, map[string]string(r.Message.Text), r.Message.Template, r.By))
	return broadcast.Plan{Request: r, Audience: 3, NeedTemplate: 2, InWindow: 1}, nil
}

func (f *fakeBroadcasts) Start(_ context.Context, r broadcast.Request) (broadcast.Broadcast, error) {
	f.calls = append(f.calls, "start "+r.Campaign)
	if r.Message.Text["en"] == "to nobody" {
		return broadcast.Broadcast{}, fmt.Errorf("fake: %w", broadcast.ErrNobody)
	}
	return broadcast.Broadcast{ID: "bc1", Request: r, Status: broadcast.StatusRunning}, nil
}

func (f *fakeBroadcasts) Pause(_ context.Context, id, reason, by string) error {
	f.calls = append(f.calls, "pause "+id+" "+reason+" by "+by)
	if id != "bc1" {
		return errs.ErrNotFound
	}
	return nil
}

func (f *fakeBroadcasts) Resume(_ context.Context, id, by string) error {
	f.calls = append(f.calls, "resume "+id)
	return fmt.Errorf("broadcast %s is running: %w", id, errs.ErrConflict)
}

func (f *fakeBroadcasts) Cancel(_ context.Context, id, by string) error {
	f.calls = append(f.calls, "cancel "+id)
	return nil
}

func (f *fakeBroadcasts) Get(_ context.Context, id string) (broadcast.Broadcast, error) {
	if id != "bc1" {
		return broadcast.Broadcast{}, fmt.Errorf("broadcast %s: %w", id, errs.ErrNotFound)
	}
	return broadcast.Broadcast{ID: id, Status: broadcast.StatusPaused}, nil
}

func (f *fakeBroadcasts) List(_ context.Context, campaign string, limit int) ([]broadcast.Broadcast, error) {
	f.calls = append(f.calls, fmt.Sprintf("list %s %d", campaign, limit))
	return nil, nil
}

func (f *fakeBroadcasts) Report(_ context.Context, id string) (broadcast.Report, error) {
	return broadcast.Report{Planned: 3, Sent: 1}, nil
}

func (f *fakeBroadcasts) Recipients(_ context.Context, id string, after int64, limit int) ([]broadcast.Recipient, error) {
	f.calls = append(f.calls, fmt.Sprintf("recipients %s %d %d", id, after, limit))
	var out []broadcast.Recipient
	for i := after + 1; i <= 3 && len(out) < limit; i++ {
		out = append(out, broadcast.Recipient{Seq: i})
	}
	return out, nil
}

func bouncerDefs(t *testing.T) adminapi.Definitions {
	def, probs := campaigns.LoadFile("../campaigns/examples/bouncer.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	return func(id string) (*campaigns.Definition, bool) { return def, id == def.ID }
}

func TestBroadcastAPI(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		want                     int
		wantBody, call           string
	}{
		{"Plan", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"Doors open","state":"door"}`, 200, `"NeedTemplate":2`,
			"plan bouncer {State:door Var: Value:} map[en:Doors open]  by api"},
		{"PlanUnknownCampaign", "POST", "/api/campaigns/nope/broadcasts/plan", `{"text":"hi"}`, 404, `no campaign \"nope\"`, ""},
		{"PlanUnknownState", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"hi","state":"nowhere"}`, 400, `has no state \"nowhere\" to broadcast to (its states: door`, ""},
		{"PlanUnknownTemplate", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"hi","template":"nope"}`, 400, `has no template \"nope\" (its templates: boss_says_no, list_full, on_the_list`, ""},
		{"PlanNoText", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"  "}`, 400, "the message has no text", ""},
		{"PlanVarWithoutValue", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"hi","var":"name"}`, 400, "give both the variable and its value", ""},
		{"PlanOtherLanguage", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"hi","texts":{"xx":"hoi"}}`, 400, `\"xx\" is not a language of campaign bouncer`, ""},
		{"PlanTooLong", "POST", "/api/campaigns/bouncer/broadcasts/plan", `{"text":"` + strings.Repeat("a", 4097) + `"}`, 400, "at most 4096 characters", ""},
		{"PlanNotJSON", "POST", "/api/campaigns/bouncer/broadcasts/plan", `text=hi`, 400, "send JSON", ""},
		{"Start", "POST", "/api/campaigns/bouncer/broadcasts", `{"text":"Doors open"}`, 201, `"ID":"bc1"`, "start bouncer"},
		{"StartNobody", "POST", "/api/campaigns/bouncer/broadcasts", `{"text":"to nobody"}`, 422, "nobody to send to", "start bouncer"},
		{"List", "GET", "/api/campaigns/bouncer/broadcasts?limit=5", "", 200, `[]`, "list bouncer 5"},
		{"ListBadLimit", "GET", "/api/campaigns/bouncer/broadcasts?limit=0", "", 400, "limit must be a number from 1 to 1000", ""},
		{"Get", "GET", "/api/broadcasts/bc1", "", 200, `"Planned":3`, ""},
		{"GetUnknown", "GET", "/api/broadcasts/nope", "", 404, "broadcast nope", ""},
		{"Pause", "POST", "/api/broadcasts/bc1/pause", `{"reason":"checking"}`, 200, `"Status":"paused"`, "pause bc1 checking by api"},
		{"PauseNoBody", "POST", "/api/broadcasts/bc1/pause", ``, 200, `"Status":"paused"`, "pause bc1 paused from the command line by api"},
		{"PauseUnknown", "POST", "/api/broadcasts/nope/pause", `{}`, 404, "", "pause nope paused from the command line by api"},
		{"ResumeConflict", "POST", "/api/broadcasts/bc1/resume", ``, 409, "is running", "resume bc1"},
		{"Recipients", "GET", "/api/broadcasts/bc1/recipients?after=1&limit=2", "", 200, `"next":3`, "recipients bc1 1 2"},
		{"RecipientsBadAfter", "GET", "/api/broadcasts/bc1/recipients?after=x", "", 400, "after must be", ""},
		{"RecipientsTooMany", "GET", "/api/broadcasts/bc1/recipients?limit=5000", "", 400, "limit must be a number from 1 to 1000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &fakeBroadcasts{}
			api, err := adminapi.New(token, &fakeCampaigns{statuses: map[string]string{}})
			if err != nil {
				t.Fatal(err)
			}
			api.SetBroadcasts(fb, bouncerDefs(t))
			app := fiber.New()
			api.Mount(app)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if strings.HasPrefix(tt.body, "{") {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("status %d body %s; want %d with %q", resp.StatusCode, b, tt.want, tt.wantBody)
			}
			if got := strings.Join(fb.calls, "; "); got != tt.call {
				t.Errorf("calls %q, want %q", got, tt.call)
			}
		})
	}
}
