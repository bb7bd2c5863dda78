package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/export"
	"github.com/chatcampaigns/campaign/judge"
)

const race = `id: race
title: Race
languages: [en]
channels: [webchat]
consent: "Your photos may be shown on our pages. OK?"
teams:
  min: 1
  max: 4
rounds:
  - name: harbour
    assignment: "Send a photo at the harbour."
    starts: 2026-06-01T00:00:00Z
    duration: 4d
  - name: rooftop
    assignment: "Send a photo on a rooftop."
    starts: 2026-06-08T00:00:00Z
    duration: 4d
start: play
states:
  play:
    say: "Go!"
    on:
      - media: photo
        collect: true
        goto: play
`

var launch = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

type fakeSource struct {
	entries []judge.Entry
	people  map[string]engine.Participant
}

func (f *fakeSource) Campaigns(context.Context) ([]engine.CampaignRecord, error) {
	return []engine.CampaignRecord{{ID: "race", Version: "v1", File: "race.yaml", Source: []byte(race), Status: engine.StatusLive, At: launch, Launched: launch}}, nil
}

func (f *fakeSource) Entries(_ context.Context, flt judge.Filter) ([]judge.Entry, error) {
	var out []judge.Entry
	for _, e := range f.entries {
		if (flt.Campaign == "" || e.Campaign == flt.Campaign) && (flt.Status == "" || e.Status == flt.Status) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeSource) Participant(_ context.Context, id string) (engine.Participant, error) {
	p, ok := f.people[id]
	if !ok {
		return engine.Participant{}, fmt.Errorf("participant %s: %w", id, errs.ErrNotFound)
	}
	return p, nil
}

type fakeMedia map[string][]byte

func (m fakeMedia) Open(_ context.Context, key string) (io.ReadCloser, string, error) {
	b, ok := m[key]
	if !ok {
		return nil, "", fmt.Errorf("media %s: %w", key, errs.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), "image/jpeg", nil
}

func person(id, team string, consent bool) engine.Participant {
	p := engine.Participant{ID: id, Campaign: "race", Channel: "whatsapp", Address: "3161234567" + id[len(id)-1:], Vars: map[string]string{"team": team}}
	if consent {
		p.Vars[engine.VarConsent], p.Vars[engine.VarConsentAt], p.Vars[engine.VarConsentVersion] = "yes", "2026-05-20T10:00:00Z", "c1"
	}
	return p
}

func entry(id, pid, status string, at time.Time) judge.Entry {
	return judge.Entry{Entry: engine.Entry{ID: id, Campaign: "race", ParticipantID: pid, State: "play", Kind: "photo",
		MediaKey: "race/" + pid + "/" + id + ".jpg", MIME: "image/jpeg", CreatedAt: at}, Status: status}
}

func fixture() (*fakeSource, fakeMedia) {
	harbour, rooftop := time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC), time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)
	src := &fakeSource{
		people: map[string]engine.Participant{
			"p1": person("p1", "Red Foxes", true),
			"p2": person("p2", "=HYPERLINK(\"x\")", true),
			"p3": person("p3", "Blue Sharks", false),
			"p4": person("p4", "+31 6 1234 5678", true),
		},
		entries: []judge.Entry{
			entry("e1", "p1", judge.StatusApproved, harbour),
			entry("e2", "p1", judge.StatusApproved, rooftop),
			entry("e3", "p2", "winner", rooftop.Add(time.Hour)),
			entry("e4", "p3", judge.StatusApproved, harbour.Add(time.Hour)),
			entry("e5", "p1", judge.StatusRejected, harbour.Add(2*time.Hour)),
			entry("e6", "p1", judge.StatusPending, harbour.Add(3*time.Hour)),
			entry("e7", "p4", judge.StatusApproved, harbour.Add(4*time.Hour)),
		},
	}
	media := fakeMedia{}
	for _, e := range src.entries {
		media[e.MediaKey] = []byte("JPEG of " + e.ID)
	}
	return src, media
}

// open reads an export back: the manifest's rows and every file's bytes.
func open(t *testing.T, b []byte) ([][]string, map[string]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string]string{}
	var manifest [][]string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == export.ManifestName {
			if manifest, err = csv.NewReader(bytes.NewReader(data)).ReadAll(); err != nil {
				t.Fatalf("manifest: %v", err)
			}
			continue
		}
		files[f.Name] = string(data)
	}
	if manifest == nil {
		t.Fatal("no manifest in the zip")
	}
	return manifest, files
}

func TestExportCampaign(t *testing.T) {
	src, media := fixture()
	var buf, progress bytes.Buffer
	sum, err := export.Write(t.Context(), &buf, src, media, export.Options{Campaign: "race", Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	manifest, files := open(t, buf.Bytes())
	want := [][]string{
		{"participant", "entry_id", "round", "status", "file", "content_type", "consent", "consent_at", "consent_version"},
		{"Red Foxes", "e1", "harbour", "approved", "harbour/e1-red-foxes.jpg", "image/jpeg", "yes", "2026-05-20T10:00:00Z", "c1"},
		{"participant p4", "e7", "harbour", "approved", "harbour/e7-participant-p4.jpg", "image/jpeg", "yes", "2026-05-20T10:00:00Z", "c1"},
		{"Red Foxes", "e2", "rooftop", "approved", "rooftop/e2-red-foxes.jpg", "image/jpeg", "yes", "2026-05-20T10:00:00Z", "c1"},
		{"'=HYPERLINK(\"x\")", "e3", "rooftop", "winner", "rooftop/e3-hyperlink-x.jpg", "image/jpeg", "yes", "2026-05-20T10:00:00Z", "c1"},
	}
	if fmt.Sprint(manifest) != fmt.Sprint(want) {
		t.Errorf("manifest:\n got %q\nwant %q", manifest, want)
	}
	for _, row := range manifest[1:] {
		if files[row[4]] != "JPEG of "+row[1] {
			t.Errorf("%s holds %q, want the bytes of entry %s", row[4], files[row[4]], row[1])
		}
	}
	if len(files) != 4 || sum.Files != 4 || sum.LeftOut[export.LeftNoConsent] != 1 {
		t.Errorf("files %v, summary %+v: want 4 files and Blue Sharks (no consent) left out", files, sum)
	}
	if strings.Contains(buf.String(), "3161234567") || strings.Contains(buf.String(), "1234 5678") {
		t.Error("a phone number is in the export although nobody asked for it")
	}
	for _, line := range []string{"exporting 4 entries of race", "[1/4] harbour/e1-red-foxes.jpg 10 B", "done: 4 files, 40 B; 1 left out (no consent)"} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}
}

func TestExportRoundWithAddressesAndWithoutConsent(t *testing.T) {
	src, media := fixture()
	delete(media, "race/p1/e1.jpg") // lost from storage
	var buf bytes.Buffer
	sum, err := export.Write(t.Context(), &buf, src, media, export.Options{Campaign: "race", Round: "harbour", WithoutConsent: true, Addresses: true})
	if err != nil {
		t.Fatal(err)
	}
	manifest, files := open(t, buf.Bytes())
	var got []string
	for _, r := range manifest[1:] {
		got = append(got, r[1]+" "+r[2]+" "+r[6]+" "+r[9])
	}
	want := []string{"e4 harbour none 31612345673", "e7 harbour yes 31612345674"}
	if fmt.Sprint(got) != fmt.Sprint(want) || manifest[0][9] != "address" {
		t.Errorf("rows %q, want %q with the address column", got, want)
	}
	if len(files) != 2 || sum.LeftOut[export.LeftMissing] != 1 {
		t.Errorf("files %v, summary %+v: want the missing photo left out and counted", files, sum)
	}
}

func TestExportRefusesUnknownCampaignAndRound(t *testing.T) {
	src, media := fixture()
	if _, err := export.Write(t.Context(), io.Discard, src, media, export.Options{Campaign: "nope"}); !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), "race") {
		t.Errorf("unknown campaign: %v, want not found naming the stored ones", err)
	}
	if _, err := export.Write(t.Context(), io.Discard, src, media, export.Options{Campaign: "race", Round: "finale"}); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "harbour, rooftop") {
		t.Errorf("unknown round: %v, want invalid naming the rounds", err)
	}
}

func TestDisplayNameIsNeverAPhoneNumber(t *testing.T) {
	for vars, want := range map[string]string{
		"team=Red":                       "Red",
		"name=Ann":                       "Ann",
		"first_name=Bo":                  "Bo",
		"name=+31 6 12345678":            "participant abcdef12",
		"name=(020) 555-0101":            "participant abcdef12",
		"name=31612345678,first_name=Cy": "Cy",
	} {
		p := engine.Participant{Vars: map[string]string{}}
		for _, kv := range strings.Split(vars, ",") {
			k, v, _ := strings.Cut(kv, "=")
			p.Vars[k] = v
		}
		if got := export.DisplayName(p, "abcdef1234567890"); got != want {
			t.Errorf("%s: %q, want %q", vars, got, want)
		}
	}
}
