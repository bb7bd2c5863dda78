package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/media"
	"github.com/chatcampaigns/campaign/media/s3server"
	"github.com/chatcampaigns/campaign/privacy"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type auditLog []privacy.Record

func (a *auditLog) Erased(_ context.Context, r privacy.Record) error { *a = append(*a, r); return nil }

func setup(t *testing.T) (*privacy.Service, *sqlite.DB, *media.Store, *auditLog) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := s3server.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ms, err := media.New(ctx, media.Config{Bucket: "media", Endpoint: srv.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CreateBucket: true})
	if err != nil {
		t.Fatal(err)
	}
	audit := &auditLog{}
	n := 0
	svc := &privacy.Service{Store: db, Scores: db, Media: ms, Audit: audit, Now: func() time.Time { return t0.Add(time.Hour) },
		NewID:   func() string { n++; return "erased-" + strings.Repeat("0", 3) + string(rune('0'+n)) },
		Ranking: func(string) *campaigns.Ranking { return &campaigns.Ranking{By: "score"} }}
	return svc, db, ms, audit
}

// join stores a participant of "quiz" at address with a score, a transcript line and a photo
// entry whose media is in S3.
func join(t *testing.T, db *sqlite.DB, ms *media.Store, address, score string) engine.Participant {
	t.Helper()
	ctx := context.Background()
	id := engine.ParticipantID("quiz", "webchat", address)
	in := engine.Inbound{Channel: "webchat", PlatformID: "join-" + address, Campaign: "quiz", From: address,
		ParticipantID: id, Kind: engine.KindJoin, At: t0}
	inID, _, err := db.SaveInbound(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4+len(address), 4)))
	m, err := ms.Put(ctx, "quiz", id, &buf)
	if err != nil {
		t.Fatal(err)
	}
	p := engine.Participant{ID: id, Campaign: "quiz", Channel: "webchat", Address: address, State: "done",
		Vars: map[string]string{"name": "Name " + address, "score": score, engine.VarConsent: "yes",
			engine.VarConsentVersion: "v2", engine.VarConsentAt: t0.Format(time.RFC3339)},
		Version: 1, CreatedAt: t0, UpdatedAt: t0}
	err = db.Commit(ctx, engine.Step{InboundID: inID, Participant: p, Created: true,
		Lines:   []engine.Line{{Direction: engine.In, Text: "I live at 1 Main St", At: t0}},
		Entries: []engine.Entry{{ID: "e-" + address, Campaign: "quiz", ParticipantID: id, State: "photo", Kind: "photo", MediaKey: m.Key, ThumbKey: m.ThumbKey, MIME: m.MIME, CreatedAt: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveScorecard(ctx, judge.Scorecard{Campaign: "quiz", EntryID: "e-" + address, Judge: "judy", Scores: map[string]int{"Fun": 7}, At: t0, Given: t0}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExportHoldsEverything(t *testing.T) {
	svc, db, ms, _ := setup(t)
	p := join(t, db, ms, "ann", "10")
	var buf bytes.Buffer
	if err := svc.Export(context.Background(), p.ID, &buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		files[f.Name] = string(b)
	}
	for name, want := range map[string]string{
		"participant.json": `"address": "ann"`,
		"transcript.json":  "1 Main St",
		"entries.json":     `"Fun": 7`,
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s lacks %s:\n%s", name, want, files[name])
		}
	}
	if !strings.Contains(files["participant.json"], `"text_version": "v2"`) {
		t.Errorf("participant.json lacks the consent:\n%s", files["participant.json"])
	}
	media := 0
	for name, body := range files {
		if strings.HasPrefix(name, "media/") && (strings.HasPrefix(body, "\x89PNG") || strings.HasPrefix(body, "\xff\xd8")) {
			media++
		}
	}
	if media != 2 {
		t.Errorf("%d media files in the export, want the photo and its thumbnail: %v", media, len(files))
	}
	if err := svc.Export(context.Background(), "nobody", io.Discard); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("export of nobody: %v, want not found", err)
	}
}

func TestEraseLeavesARankedTombstone(t *testing.T) {
	svc, db, ms, audit := setup(t)
	ctx := context.Background()
	ann := join(t, db, ms, "ann", "30")
	bob := join(t, db, ms, "bob", "20")

	rec, err := svc.Erase(ctx, ann.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Objects != 2 || rec.Entries != 1 || rec.Lines != 1 || rec.Campaign != "quiz" || rec.By != "admin" {
		t.Errorf("record = %+v", rec)
	}
	if len(*audit) != 1 || (*audit)[0] != rec {
		t.Errorf("audit = %+v, want the record", *audit)
	}
	if _, err := db.Participant(ctx, ann.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("participant after erase: %v", err)
	}
	if keys, _ := ms.Keys(ctx, "quiz", ann.ID); len(keys) != 0 {
		t.Errorf("media left: %v", keys)
	}
	if keys, _ := ms.Keys(ctx, "quiz", bob.ID); len(keys) != 2 {
		t.Errorf("bob's media: %v, want kept", keys)
	}
	ps, err := db.Participants(ctx, engine.ParticipantFilter{Campaign: "quiz"})
	if err != nil {
		t.Fatal(err)
	}
	ranked := engine.Rank(&campaigns.Ranking{By: "score"}, ps)
	if len(ranked) != 2 || ranked[0].Name != "removed" || ranked[0].Value != "30" || ranked[1].Name != "Name bob" {
		t.Errorf("ranking after erase = %+v, want removed first with 30, then bob", ranked)
	}
	for _, p := range ps {
		for k, v := range p.Vars {
			if p.ID == rec.Tombstone && (strings.Contains(v, "ann") || k == engine.VarConsent) {
				t.Errorf("tombstone keeps %s=%s", k, v)
			}
		}
	}
	if _, err := svc.Erase(ctx, rec.Tombstone, "admin"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("erasing the tombstone: %v, want refused", err)
	}
}
