package sqlite

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/pricing"
)

// SavePriceTable replaces the stored price table.
func (db *DB) SavePriceTable(ctx context.Context, s pricing.Source) error {
	err := db.writeOne(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO price_table (id, text, by, at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET text = excluded.text, by = excluded.by, at = excluded.at`,
			s.Text, s.By, unixNano(s.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save the price table: %w", convert(err))
	}
	return nil
}

// PriceTable returns the stored price table, or an error wrapping errs.ErrNotFound.
func (db *DB) PriceTable(ctx context.Context) (pricing.Source, error) {
	var (
		s  pricing.Source
		at int64
	)
	err := db.rq.QueryRowContext(ctx, `SELECT text, by, at FROM price_table WHERE id = 1`).Scan(&s.Text, &s.By, &at)
	if err != nil {
		return pricing.Source{}, fmt.Errorf("sqlite: the price table: %w", convert(err))
	}
	s.At = fromUnixNano(at)
	return s, nil
}
