package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/pricing"
)

// PriceBook is the brand's price table for template messages; *pricing.Book satisfies it.
type PriceBook interface {
	// Load rereads the stored table (another server may have saved one).
	Load(ctx context.Context) error
	// Source is the stored table as written; a zero Source when none was saved.
	Source(ctx context.Context) (pricing.Source, error)
	// Set parses and stores a table; a bad one returns pricing.Errors and changes nothing.
	Set(ctx context.Context, text, by string) (pricing.Table, error)
	// Table is the table in use.
	Table() pricing.Table
}

var _ PriceBook = (*pricing.Book)(nil)

// pricesView is the price table page.
type pricesView struct {
	Source pricing.Source
	// Text is what the form shows: the stored table, or what the admin just sent when it
	// had problems, so nothing typed is lost.
	Text   string
	Table  pricing.Table
	Errors pricing.Errors
	File   string
	Max    int
}

// pricesPage shows the price table the plans use, as a form of CSV to edit.
func (d *Dashboard) pricesPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := d.prices.Load(ctx); err != nil {
		return fmt.Errorf("dashboard: prices: %w", err)
	}
	src, err := d.prices.Source(ctx)
	if err != nil {
		return fmt.Errorf("dashboard: prices: %w", err)
	}
	return d.render(c, fiber.StatusOK, "prices", pricesView{Source: src, Text: src.Text, Table: d.prices.Table(),
		File: d.pricesFile, Max: pricing.MaxTableBytes})
}

// savePrices replaces the price table with the form's CSV. A table with problems is shown
// again as sent, each problem with its line, and the stored one stays.
func (d *Dashboard) savePrices(c *fiber.Ctx) error {
	ctx := c.UserContext()
	text := strings.ReplaceAll(strings.Clone(c.FormValue("prices")), "\r\n", "\n")
	t, err := d.prices.Set(ctx, text, currentUser(c).Username)
	var bad pricing.Errors
	if errors.As(err, &bad) {
		src, serr := d.prices.Source(ctx)
		if serr != nil {
			return fmt.Errorf("dashboard: prices: %w", serr)
		}
		return d.render(c, fiber.StatusUnprocessableEntity, "prices", pricesView{Source: src, Text: text, Table: d.prices.Table(),
			Errors: bad, File: d.pricesFile, Max: pricing.MaxTableBytes})
	}
	if err != nil {
		return fmt.Errorf("dashboard: save prices: %w", err)
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Prices saved: %s in %s.", count(len(t.Rows), "price", "prices"), t.Currency)})
	return c.Redirect("/dashboard/prices", fiber.StatusSeeOther)
}
