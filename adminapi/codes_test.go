package adminapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/adminapi"
)

// TestLaunchWithCodesFiles: a definition whose pool reads its codes from a file is launched
// with the file beside it (multipart: the definition, and codes/POOL for each file); the
// codes are checked as the file would be on disk.
func TestLaunchWithCodesFiles(t *testing.T) {
	def, err := os.ReadFile("../campaigns/examples/hunt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	form := func(parts map[string]string) (string, *bytes.Buffer) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for name, body := range parts {
			fw, err := w.CreateFormFile(name, name)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(fw, body)
		}
		w.Close()
		return w.FormDataContentType(), &buf
	}
	tests := []struct {
		name     string
		parts    map[string]string
		want     int
		wantBody string
		codes    string
	}{
		{"WithTheFile", map[string]string{"definition": string(def), "codes/prizes": "# two\nP1\nP2\n"}, 201, `"status":"live"`, "P1,P2"},
		{"DuplicateCode", map[string]string{"definition": string(def), "codes/prizes": "P1\np1\n"}, 422, `hunt-codes.txt:2:1: code \"p1\" is listed twice (first on line 1)`, ""},
		{"UnknownPool", map[string]string{"definition": string(def), "codes/vouchers": "P1\n"}, 400, `has no pool of codes \"vouchers\"`, ""},
		{"NoDefinition", map[string]string{"codes/prizes": "P1\n"}, 400, "definition", ""},
		// Without the file the launch goes on: the server may have the codes from before.
		{"WithoutTheFile", map[string]string{"definition": string(def)}, 201, `"status":"live"`, "<none>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keeper{statuses: map[string]string{}}
			api, err := adminapi.New(token, k)
			if err != nil {
				t.Fatal(err)
			}
			app := fiber.New()
			api.Mount(app)
			ct, body := form(tt.parts)
			req := httptest.NewRequest("POST", "/api/campaigns?file=hunt.yaml", body)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", ct)
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(string(got), tt.wantBody) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, got, tt.want, tt.wantBody)
			}
			if tt.codes == "" {
				if len(k.defs) != 0 {
					t.Errorf("launched %d definitions, want none", len(k.defs))
				}
				return
			}
			if len(k.defs) != 1 {
				t.Fatalf("launched %d definitions", len(k.defs))
			}
			pool := k.defs[0].Pools["prizes"]
			codes := strings.Join(pool.Codes, ",")
			if pool.Codes == nil {
				codes = "<none>"
			}
			if codes != tt.codes || pool.Capacity != len(pool.Codes) {
				t.Errorf("codes %s (capacity %d), want %s", codes, pool.Capacity, tt.codes)
			}
		})
	}
}
