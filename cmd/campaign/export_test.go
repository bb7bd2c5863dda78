package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/mongo/mongotest"
)

// TestExportOnSQLite and TestExportOnMongoDB: a participant plays the photo contest on
// Messenger, agrees to the consent question and sends a photo that a moderator approves;
// `campaign export` then writes a ZIP holding that photo, byte for byte, and a manifest row
// with their first name and consent, and no phone number or page-scoped id.
func TestExportOnSQLite(t *testing.T) { testExport(t, "") }

func TestExportOnMongoDB(t *testing.T) {
	uri, stop, err := mongotest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	testExport(t, uri)
}

func testExport(t *testing.T, mongoURI string) {
	ctx := context.Background()
	data := t.TempDir()
	api := messengertest.New(t)
	srv, clock := startServer(t, data, func(c *Config) {
		c.Campaigns = []string{onMessenger(t, "photocontest.yaml", "channels: [whatsapp, webchat]")}
		c.MongoURI = mongoURI
		c.Messenger = MessengerConfig{APIURL: api.APIURL, PageToken: messengertest.Token, AppSecret: fbSecret, VerifyToken: "v"}
	})
	clock.mu.Lock()
	clock.now = time.UnixMilli(fbTime).UTC()
	clock.mu.Unlock()
	photo := testPNG(t)
	link := api.AddAttachment("p1", "image/png", photo)
	steps := []map[string]any{
		messengertest.Text("m1", "SUMMER"),
		messengertest.Text("m2", "OK"),
		messengertest.Text("m3", "Ann"),
		messengertest.Text("m4", "30"),
		messengertest.Image("m5", link),
	}
	for i, ev := range steps {
		if code := postMessenger(t, srv, fbSecret, messengertest.Webhook(fbPSID, fbTime+int64(i)*1000, ev)); code != 200 {
			t.Fatalf("step %d: %d", i, code)
		}
		fbWaitSent(t, clock, api, i+1)
	}
	judges := &judge.Service{Store: srv.db, Wake: srv.engine.Wake, Now: clock.Now}
	entries, err := judges.Entries(ctx, judge.Filter{Campaign: "photocontest"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	if err := judges.Decide(ctx, judge.Decision{EntryID: entries[0].ID, Verdict: judge.StatusApproved, By: "mod"}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "summer.zip")
	var stdout, stderr bytes.Buffer
	env := map[string]string{"CAMPAIGN_MONGODB_URI": mongoURI}
	code := run(ctx, []string{"export", "--campaign", "photocontest", "--data", data, "--out", out}, &stdout, &stderr, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("campaign export = %d: %s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "[1/1] ask_photo/") || !strings.Contains(stderr.String(), "done: 1 files") {
		t.Errorf("progress on stderr:\n%s", stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	rows, err := csv.NewReader(bytes.NewReader(files["manifest.csv"])).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("manifest = %q, %v", rows, err)
	}
	r := rows[1]
	if r[0] != "Ann" || r[1] != entries[0].ID || r[3] != "approved" || r[5] != "image/png" || r[6] != "yes" || r[7] == "" {
		t.Errorf("manifest row = %q", r)
	}
	if !bytes.Equal(files[r[4]], photo) {
		t.Errorf("%s is %d bytes, want the photo's %d", r[4], len(files[r[4]]), len(photo))
	}
	if bytes.Contains(b, []byte(fbPSID)) {
		t.Error("the export holds the participant's page-scoped id")
	}
	if len(zr.File) != 2 {
		t.Errorf("%d files in the zip, want the photo and the manifest", len(zr.File))
	}

	// To standard output: the same ZIP, the progress still on stderr.
	var zipOut bytes.Buffer
	stderr.Reset()
	if code := run(ctx, []string{"export", "--campaign", "photocontest", "--data", data, "--out", "-"}, &zipOut, &stderr, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("export to stdout = %d: %s", code, stderr.String())
	}
	if zr, err := zip.NewReader(bytes.NewReader(zipOut.Bytes()), int64(zipOut.Len())); err != nil || len(zr.File) != 2 || !strings.Contains(stderr.String(), "done: 1 files") {
		t.Errorf("export to stdout: %v, %d bytes; stderr %q", err, zipOut.Len(), stderr.String())
	}

	// A round of a campaign without rounds, and a campaign that is not there, are refused
	// with a reason and leave no file behind.
	for _, args := range [][]string{{"--campaign", "photocontest", "--round", "r1"}, {"--campaign", "nope"}} {
		stderr.Reset()
		bad := filepath.Join(t.TempDir(), "bad.zip")
		args = append(args, "--data", data, "--out", bad)
		if code := run(ctx, append([]string{"export"}, args...), io.Discard, &stderr, func(k string) string { return env[k] }); code != 1 {
			t.Errorf("export %v = %d, want 1", args, code)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("export %v left %s", args, bad)
		}
		if !strings.Contains(stderr.String(), "no rounds") && !strings.Contains(stderr.String(), `"nope"`) {
			t.Errorf("export %v: %s", args, stderr.String())
		}
	}
}
