package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/pricing"
)

// templateCategory is the category a campaign's template was approved in (category: in the
// definition, marketing when it says none), which the plan prices it by.
func templateCategory(eng *engine.Engine) func(campaign, template string) string {
	return func(campaign, template string) string {
		if d, ok := eng.Campaign(campaign); ok {
			if t := d.Templates[template]; t != nil && t.Category != "" {
				return t.Category
			}
		}
		return campaigns.CategoryMarketing
	}
}

// loadPrices readies the brand's price table: the --price-table file when one is given (it
// replaces the stored table, so the file is what a restart goes back to), else the table the
// dashboard stored last. A file with problems refuses the start, each problem as FILE:LINE.
func loadPrices(ctx context.Context, book *pricing.Book, file string) error {
	if file == "" {
		if err := book.Load(ctx); err != nil {
			return err
		}
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("--price-table: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, pricing.MaxTableBytes+1))
	if err != nil {
		return fmt.Errorf("--price-table: %w", err)
	}
	if _, err := book.Set(ctx, string(b), "--price-table "+file); err != nil {
		var bad pricing.Errors
		if errors.As(err, &bad) {
			lines := make([]string, len(bad))
			for i, e := range bad {
				lines[i] = fmt.Sprintf("%s:%d: %s", file, e.Line, e.Msg)
			}
			return fmt.Errorf("the price table has errors:\n%s", strings.Join(lines, "\n"))
		}
		return err
	}
	return nil
}
