package adminapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/campaigns"
)

// keeper keeps what it is given, as the engine does.
type keeper struct {
	mu       sync.Mutex
	defs     []*campaigns.Definition
	statuses map[string]string
}

func (k *keeper) Launch(_ context.Context, def *campaigns.Definition, status string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.defs = append(k.defs, def)
	k.statuses[def.ID] = status
	return nil
}

func (k *keeper) SetStatus(_ context.Context, id, status string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.statuses[id] = status
	return nil
}

// TestKeptValuesSurviveLaterRequests: a launched definition's file name, a status and the id it
// is kept under read the same after many other requests, in an app without Immutable (Fiber's
// strings point into request buffers it reuses).
func TestKeptValuesSurviveLaterRequests(t *testing.T) {
	src, err := os.ReadFile("../campaigns/examples/bouncer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := &keeper{statuses: map[string]string{}}
	api, err := adminapi.New(token, k)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	api.Mount(app)
	send := func(path, contentType, body string) {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("/api/campaigns?file=kept-name.yaml&status=draft", "", string(src))
	send("/api/campaigns/mine/status", "application/x-www-form-urlencoded", "status=paused")
	for i := range 30 {
		junk := strings.Repeat(fmt.Sprintf("xx%02d", i), 4)
		send("/api/campaigns?file="+junk+"&status="+junk, "", "not: [yaml")
		send("/api/campaigns/"+junk+"/status", "application/x-www-form-urlencoded", "status="+junk)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.defs) == 0 || k.defs[0].File != "kept-name.yaml" {
		t.Errorf("%d launched, the first from %q, want kept-name.yaml", len(k.defs), k.defs[0].File)
	}
	if k.statuses["bouncer"] != "draft" || k.statuses["mine"] != "paused" {
		t.Errorf("statuses = %q, want bouncer draft and mine paused", k.statuses)
	}
}
