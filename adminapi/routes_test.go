package adminapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
)

// TestEveryRouteNeedsTheToken walks every route the API registers: the admin API has one
// role, the holder of the server's admin token, so each answers 401 without it and something
// else with it. A route added without the guard fails here.
func TestEveryRouteNeedsTheToken(t *testing.T) {
	api, err := adminapi.New(token, &fakeCampaigns{statuses: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	api.SetBroadcasts(&fakeBroadcasts{}, bouncerDefs(t))
	app := fiber.New()
	api.Mount(app)
	n := 0
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, "/api") {
			continue
		}
		n++
		path := strings.ReplaceAll(strings.ReplaceAll(r.Path, ":id", "bouncer"), ":bid", "bc1")
		for _, auth := range []string{"", "Bearer nope-nope-nope-nope", "Bearer " + token} {
			req := httptest.NewRequest(r.Method, path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.StatusCode == http.StatusUnauthorized; got != (auth != "Bearer "+token) {
				t.Errorf("%s %s with %q: status %d", r.Method, path, auth, resp.StatusCode)
			}
		}
	}
	if n == 0 {
		t.Fatal("the API registered no routes")
	}
}
