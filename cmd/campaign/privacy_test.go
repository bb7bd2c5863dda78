package main

import (
	"archive/zip"
	"bytes"
	"context"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/store/sqlite"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
)

// gpsSecret is written into every metadata block of ../../media/testdata/gps.jpg (EXIF Make,
// GPS, XMP, IPTC, comment and a trailer after EOI).
const gpsSecret = "SECRET-48.8584N-2.2945E"

func gpsJPEG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "media", "testdata", "gps.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(gpsSecret)) || !bytes.Contains(b, []byte{0x25, 0x88}) {
		t.Fatal("gps.jpg holds no GPS metadata to strip")
	}
	return b
}

// assertS3Clean walks the embedded S3 server's files under data and fails if any holds the
// secret or an EXIF GPS pointer; it wants at least one stored JPEG.
func assertS3Clean(t *testing.T, data string) {
	t.Helper()
	jpegs := 0
	err := filepath.WalkDir(filepath.Join(data, "s3"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
			jpegs++
		}
		if bytes.Contains(b, []byte(gpsSecret)) || bytes.Contains(b, []byte("xmpmeta")) {
			t.Errorf("%s holds the photo's metadata", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if jpegs < 2 {
		t.Errorf("%d JPEG objects in S3, want the photo and its thumbnail", jpegs)
	}
}

// TestPhotoMetadataStrippedOnEveryChannel: a phone photo with GPS sent through the web chat
// and through a WhatsApp webhook (its media fetched from the fake Graph API) reaches S3
// without EXIF, XMP, IPTC or anything after the image. Every channel stores media through
// media.Store.PutMedia, which is where the metadata goes.
func TestPhotoMetadataStrippedOnEveryChannel(t *testing.T) {
	photo := gpsJPEG(t)

	t.Run("WebChat", func(t *testing.T) {
		data := t.TempDir()
		srv, clock := startServer(t, data)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ann := newClient(t, srv.URL())
		events := ann.events(ctx, "bouncer")
		if code, body := ann.postJSON("/play/bouncer/join", map[string]string{}); code >= 300 {
			t.Fatalf("join: %d %s", code, body)
		}
		waitReply(t, clock, events, "nobody gets past this door")
		if code, body := ann.upload("/play/bouncer/media", "me.jpg", photo); code >= 300 {
			t.Fatalf("photo upload: %d %s", code, body)
		}
		waitReply(t, clock, events, "Let me show this to the boss")
		assertS3Clean(t, data)
	})

	t.Run("WhatsApp", func(t *testing.T) {
		graph := graphtest.New(t)
		data := t.TempDir()
		srv, clock := startServer(t, data, func(c *Config) {
			c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
				VerifyToken: "verify-me", PhoneNumberID: waNumber}
		})
		clock.mu.Lock()
		clock.now = time.Unix(1767611602, 0).UTC()
		clock.mu.Unlock()
		postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.1", "Hi Sven"))
		waitSent(t, clock, graph, 1)
		graph.AddMedia("media-1", "image/jpeg", photo)
		if code := postWebhook(t, srv, waSecret, graphtest.ImageWebhook(waNumber, waUser, "Ann", "wamid.2", "media-1", "image/jpeg", photo, "me")); code != 200 {
			t.Fatalf("image webhook: %d", code)
		}
		if sent := waitSent(t, clock, graph, 2); !strings.Contains(sent[1].Text(), "Let me show this to the boss") {
			t.Fatalf("after the photo: %q", sent[1].Text())
		}
		assertS3Clean(t, data)
	})
}

// participantCLI runs `campaign participant ARGS --data data` and returns stdout.
func participantCLI(t *testing.T, data string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := participantCmd(context.Background(), append(args, "--data", data), &out, &errOut, func(string) string { return "" })
	return out.String(), err
}

// TestParticipantExportAndErase: after a participant played and sent a photo, `campaign
// participant export` gives a ZIP of their data and photo, and `erase --yes` removes them
// and their S3 objects; a second export finds nobody.
func TestParticipantExportAndErase(t *testing.T) {
	data := t.TempDir()
	srv, clock := startServer(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	ann := newClient(t, srv.URL())
	events := ann.events(ctx, "bouncer")
	ann.postJSON("/play/bouncer/join", map[string]string{})
	waitReply(t, clock, events, "nobody gets past this door")
	if code, body := ann.upload("/play/bouncer/media", "me.jpg", gpsJPEG(t)); code >= 300 {
		t.Fatalf("photo upload: %d %s", code, body)
	}
	waitReply(t, clock, events, "Let me show this to the boss")
	cancel()
	ps, err := srv.db.Participants(context.Background(), engine.ParticipantFilter{Campaign: "bouncer"})
	if err != nil || len(ps) != 1 {
		t.Fatalf("participants = %v, %v", ps, err)
	}
	id := ps[0].ID
	srv.Close()

	zipped, err := participantCLI(t, data, "export", id)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	zr, err := zip.NewReader(strings.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("export is no ZIP: %v", err)
	}
	names := map[string]bool{}
	photos := 0
	for _, f := range zr.File {
		names[f.Name] = true
		if strings.HasPrefix(f.Name, "media/") {
			photos++
		}
	}
	if !names["participant.json"] || !names["transcript.json"] || !names["entries.json"] || photos != 2 {
		t.Errorf("export holds %v, want participant, transcript, entries and 2 media files", names)
	}

	if _, err := participantCLI(t, data, "erase", id); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("erase without --yes: %v, want a refusal naming --yes", err)
	}
	out, err := participantCLI(t, data, "erase", id, "--yes")
	if err != nil || !strings.Contains(out, "2 media objects") {
		t.Fatalf("erase: %q, %v", out, err)
	}
	if _, err := participantCLI(t, data, "export", id); err == nil || !strings.Contains(err.Error(), "no participant") {
		t.Errorf("export after erase: %v, want no participant", err)
	}
	// The audit trail keeps that an erasure happened, naming only the tombstone.
	db, err := sqlite.Open(context.Background(), filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trail, err := db.AuditEvents(context.Background(), audit.Query{Campaign: "bouncer"})
	if err != nil {
		t.Fatal(err)
	}
	erased := 0
	for _, e := range trail {
		if e.Action == audit.Erase {
			erased++
			if strings.Contains(e.Subject+e.Detail+e.ParticipantID, id) {
				t.Errorf("the audit record of the erasure names the participant: %+v", e)
			}
		}
	}
	if erased != 1 {
		t.Errorf("audit trail holds %d erasures, want 1: %+v", erased, trail)
	}
	filepath.WalkDir(filepath.Join(data, "s3"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, id) {
			t.Errorf("%s is left in S3", path)
		}
		return nil
	})
}

// TestRetentionJobInServe: campaign serve erases a participant of the bouncer (retention_days:
// 90) once 90 days have passed since they last wrote, and counts it in /metrics.
func TestRetentionJobInServe(t *testing.T) {
	data := t.TempDir()
	srv, clock := startServer(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := newClient(t, srv.URL())
	events := ann.events(ctx, "bouncer")
	ann.postJSON("/play/bouncer/join", map[string]string{})
	waitReply(t, clock, events, "nobody gets past this door")
	if code, body := ann.upload("/play/bouncer/media", "me.jpg", gpsJPEG(t)); code >= 300 {
		t.Fatalf("photo upload: %d %s", code, body)
	}
	waitReply(t, clock, events, "Let me show this to the boss")

	clock.Advance(89 * 24 * time.Hour)
	if n, err := srv.retention.Run(ctx); n != 0 || err != nil {
		t.Fatalf("after 89 days: erased %d, %v; want none", n, err)
	}
	clock.Advance(24 * time.Hour)
	if n, err := srv.retention.Run(ctx); n != 1 || err != nil {
		t.Fatalf("after 90 days: erased %d, %v; want the participant", n, err)
	}
	ps, _ := srv.db.Participants(ctx, engine.ParticipantFilter{Campaign: "bouncer"})
	if len(ps) != 1 || !engine.IsTombstone(ps[0]) {
		t.Errorf("participants after retention = %+v, want one tombstone", ps)
	}
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `campaign_retention_erased_total{campaign="bouncer"} 1`) {
		t.Errorf("/metrics lacks the retention counter")
	}
	assertNoObjectsOf(t, data, ps[0].ID)
}

func assertNoObjectsOf(t *testing.T, data, notID string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(data, "s3", "buckets"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, "bouncer") && !strings.Contains(path, notID) {
			t.Errorf("%s is left in S3", path)
		}
		return nil
	})
}

// TestCampaignPurgeAndConsentLedger: `participant consent` lists who agreed to what; `purge`
// refuses a live campaign and, once it is closed, deletes its participants and files.
func TestCampaignPurgeAndConsentLedger(t *testing.T) {
	data := t.TempDir()
	srv, clock := startServer(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	ann := newClient(t, srv.URL())
	events := ann.events(ctx, "bouncer")
	ann.postJSON("/play/bouncer/join", map[string]string{})
	waitReply(t, clock, events, "nobody gets past this door")
	if code, body := ann.upload("/play/bouncer/media", "me.jpg", gpsJPEG(t)); code >= 300 {
		t.Fatalf("photo upload: %d %s", code, body)
	}
	waitReply(t, clock, events, "Let me show this to the boss")
	cancel()
	srv.Close()

	out, err := participantCLI(t, data, "consent", "--campaign", "bouncer")
	if err != nil || !strings.HasPrefix(out, "participant,channel,answer,by,consent_channel,text_version,at\n") {
		t.Errorf("consent: %q, %v", out, err)
	}
	if _, err := participantCLI(t, data, "purge", "--campaign", "bouncer"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("purge without --yes: %v", err)
	}
	if _, err := participantCLI(t, data, "purge", "--campaign", "bouncer", "--yes"); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Errorf("purge of a live campaign: %v, want refused", err)
	}
	db, err := openStore(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetCampaignStatus(context.Background(), "bouncer", engine.StatusClosed, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = participantCLI(t, data, "purge", "--campaign", "bouncer", "--yes")
	if err != nil || !strings.Contains(out, "1 participants") {
		t.Fatalf("purge: %q, %v", out, err)
	}
	assertNoObjectsOf(t, data, "no tombstone either")
}

// TestParticipantEraseBesideAServer: on the embedded store, erase and purge refuse while a
// server runs on the data folder (it keeps the participants it routes in memory, and would
// step from a copy the erasure deleted), name the dashboard's buttons instead, and erase
// nothing; export, a read, still works; once the server stopped, erase works, and a server
// does not start while an erase holds the folder.
func TestParticipantEraseBesideAServer(t *testing.T) {
	data := t.TempDir()
	srv, clock := startServer(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := newClient(t, srv.URL())
	events := ann.events(ctx, "bouncer")
	ann.postJSON("/play/bouncer/join", map[string]string{})
	waitReply(t, clock, events, "nobody gets past this door")
	ps, err := srv.db.Participants(context.Background(), engine.ParticipantFilter{Campaign: "bouncer"})
	if err != nil || len(ps) != 1 {
		t.Fatalf("participants = %v, %v", ps, err)
	}
	id := ps[0].ID

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"erase", id, "--yes"}, "(Erase participant)"},
		{[]string{"purge", "--campaign", "bouncer", "--yes"}, "(Purge data)"},
	} {
		_, err := participantCLI(t, data, tc.args...)
		if err == nil {
			t.Fatalf("%v beside a running server: no error", tc.args)
		}
		for _, want := range []string{"a campaign serve is running on the data folder " + data, tc.want, "stop the server first"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %q does not say %q", tc.args, err, want)
			}
		}
	}
	if _, err := srv.db.Participant(context.Background(), id); err != nil {
		t.Fatalf("the refused erase touched the participant: %v", err)
	}
	if _, err := participantCLI(t, data, "export", id); err != nil {
		t.Errorf("export beside the server: %v", err)
	}
	cancel()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	lock, err := lockForWrite(data, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: "127.0.0.1:0", Data: data, Campaigns: []string{"../../campaigns/examples/bouncer.yaml"}}
	if s, err := newServer(t.Context(), cfg); err == nil {
		s.Close()
		t.Error("a server started while an erase held the data folder")
	} else if !strings.Contains(err.Error(), "campaign participant erase or purge") {
		t.Errorf("server refused with %q, want it to name an erase as a possible holder", err)
	}
	lock.Close()
	if out, err := participantCLI(t, data, "erase", id, "--yes"); err != nil || !strings.Contains(out, "erased") {
		t.Errorf("erase after the server stopped: %q, %v", out, err)
	}
}
