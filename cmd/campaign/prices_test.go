package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServePriceTable: --price-table loads the file as the table in use (and stores it, so
// the dashboard shows it); a file with problems refuses the start, each as FILE:LINE.
func TestServePriceTable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "prices.csv")
	if err := os.WriteFile(good, []byte("currency,EUR\nNL,marketing,0.11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	srv, _ := startServer(t, data, func(c *Config) { c.PriceTable = good })
	if p, cur, ok := srv.prices.Price("marketing", srv.prices.Country("31612345678")); !ok || p != 0.11 || cur != "EUR" {
		t.Errorf("price = %v %s %v", p, cur, ok)
	}
	src, err := srv.db.PriceTable(context.Background())
	if err != nil || src.By != "--price-table "+good {
		t.Errorf("stored %+v, %v", src, err)
	}
	srv.Close()

	// Without the flag, the stored table is used.
	srv2, _ := startServer(t, data)
	if _, _, ok := srv2.prices.Price("marketing", "NL"); !ok {
		t.Error("the stored table was not loaded at start")
	}
	srv2.Close()

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("currency,EUR\nNL,marketing,0,11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = newServer(context.Background(), Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Campaigns: []string{"../../campaigns/examples/bouncer.yaml"},
		Now: func() time.Time { return time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC) }, Rand: rand.New(rand.NewPCG(7, 7)), PriceTable: bad})
	if err == nil || !strings.Contains(err.Error(), bad+":2: 4 fields; a price is country,category,price") {
		t.Errorf("refusal = %v", err)
	}
	cfg, _ := configFromFlags([]string{}, os.Stderr, func(k string) string { return map[string]string{"CAMPAIGN_PRICE_TABLE": good}[k] })
	if cfg.PriceTable != good {
		t.Errorf("CAMPAIGN_PRICE_TABLE gave %q", cfg.PriceTable)
	}
}
