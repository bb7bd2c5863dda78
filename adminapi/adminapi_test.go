package adminapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

const token = "a-token-of-sixteen-or-more"

type fakeCampaigns struct {
	launched []string
	statuses map[string]string
}

func (f *fakeCampaigns) Launch(_ context.Context, def *campaigns.Definition, status string) error {
	f.launched = append(f.launched, def.ID+":"+status)
	return nil
}

func (f *fakeCampaigns) SetStatus(_ context.Context, id, status string) error {
	if id != "bouncer" {
		return errs.ErrNotFound
	}
	f.statuses[id] = status
	return nil
}

func TestAPI(t *testing.T) {
	good, err := os.ReadFile("../campaigns/examples/bouncer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "goto: judging", "goto: judgin", 1)
	tests := []struct {
		name, method, path, auth, body string
		want                           int
		wantBody                       string
		launched                       int
	}{
		{"NoToken", "POST", "/api/campaigns", "", string(good), 401, "admin token", 0},
		{"WrongToken", "POST", "/api/campaigns", "Bearer nope-nope-nope-nope", string(good), 401, "admin token", 0},
		{"BrokenDefinition", "POST", "/api/campaigns?file=b.yaml", "Bearer " + token, bad, 422, `b.yaml:`, 0},
		{"Launch", "POST", "/api/campaigns", "Bearer " + token, string(good), 201, `"status":"live"`, 1},
		{"LaunchDraft", "POST", "/api/campaigns?status=draft", "Bearer " + token, string(good), 201, `"status":"draft"`, 1},
		{"LaunchPausedIsRefused", "POST", "/api/campaigns?status=paused", "Bearer " + token, string(good), 400, "live or draft", 0},
		{"Pause", "POST", "/api/campaigns/bouncer/status", "Bearer " + token, `{"status":"paused"}`, 200, `"paused"`, 0},
		{"UnknownStatus", "POST", "/api/campaigns/bouncer/status", "Bearer " + token, `{"status":"asleep"}`, 400, "unknown status", 0},
		{"UnknownCampaign", "POST", "/api/campaigns/nope/status", "Bearer " + token, `{"status":"paused"}`, 404, "", 0},
		{"NotJSON", "POST", "/api/campaigns/bouncer/status", "Bearer " + token, `status=paused`, 400, "send JSON", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeCampaigns{statuses: map[string]string{}}
			api, err := adminapi.New(token, fc)
			if err != nil {
				t.Fatal(err)
			}
			app := fiber.New()
			api.Mount(app)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if strings.HasPrefix(tt.body, "{") {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, body, tt.want, tt.wantBody)
			}
			if !json.Valid(body) {
				t.Errorf("answer is not JSON: %s", body)
			}
			if len(fc.launched) != tt.launched {
				t.Errorf("launched %v, want %d", fc.launched, tt.launched)
			}
		})
	}
}

func TestShortTokenRefused(t *testing.T) {
	if _, err := adminapi.New("short", &fakeCampaigns{}); err == nil {
		t.Error("a short admin token was accepted")
	}
}
