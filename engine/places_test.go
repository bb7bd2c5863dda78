package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

const codesDef = `id: shop
pools:
  vouchers: {codes: codes.txt}
start: a
states:
  a:
    say: hi
    on:
      - text: any
        take: vouchers
        full: b
        goto: b
  b:
    say: "bye {{code}}"
    final: true
`

// TestCodesLoadedAtLaunchAndRestart: the codes file is loaded into the store at every start,
// adding only new codes; a definition sent as bytes (a launch) without its file needs the
// codes in the store already, and says how to get them there.
func TestCodesLoadedAtLaunchAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shop.yaml", codesDef)
	write("codes.txt", "A1\nB2\n")
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Sent as bytes to a server that never saw the file: refused, and nothing stored.
	bytesDef, probs := campaigns.Parse("shop.yaml", []byte(codesDef))
	if bytesDef == nil {
		t.Fatal(probs)
	}
	eng := engine.New(engine.Config{Store: db})
	err = eng.Launch(ctx, bytesDef, engine.StatusLive)
	if !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("launch without the codes: err = %v, want ErrInvalid", err)
	}
	if recs, _ := db.Campaigns(ctx); len(recs) != 0 {
		t.Errorf("a refused launch stored %d campaigns", len(recs))
	}

	start := func() {
		t.Helper()
		def, probs := campaigns.LoadFile(filepath.Join(dir, "shop.yaml"))
		if def == nil {
			t.Fatal(probs)
		}
		eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{def}})
		if err := eng.Restore(ctx); err != nil {
			t.Fatalf("restore: %v", err)
		}
	}
	start()
	start() // a restart loads the file again: nothing twice
	if left, total, _ := db.CodesLeft(ctx, "shop", "vouchers"); left != 2 || total != 2 {
		t.Errorf("after two starts: %d of %d codes left, want 2 of 2", left, total)
	}
	write("codes.txt", "A1\nB2\nC3\n")
	start()
	if left, total, _ := db.CodesLeft(ctx, "shop", "vouchers"); left != 3 || total != 3 {
		t.Errorf("after a code was added to the file: %d of %d codes left, want 3 of 3", left, total)
	}
	// Now the store has the codes, the same definition sent as bytes goes live.
	if err := eng.Launch(ctx, bytesDef, engine.StatusLive); err != nil {
		t.Errorf("launch with the codes stored: %v", err)
	}
}
