package sqlite

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/errs"
)

// SetAlias records that alias stands for address on channel; the latest call wins.
func (db *DB) SetAlias(ctx context.Context, channel, alias, address string) error {
	if channel == "" || alias == "" || address == "" {
		return fmt.Errorf("sqlite: set alias: %w: want a channel, an alias and an address", errs.ErrInvalid)
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO chat_aliases (channel, alias, address) VALUES (?, ?, ?)
			ON CONFLICT (channel, alias) DO UPDATE SET address = excluded.address`, channel, alias, address)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set alias %s/%s: %w", channel, alias, convert(err))
	}
	return nil
}

// Alias returns what alias stands for on channel, or an error wrapping errs.ErrNotFound.
func (db *DB) Alias(ctx context.Context, channel, alias string) (string, error) {
	var address string
	err := db.rq.QueryRowContext(ctx, `SELECT address FROM chat_aliases WHERE channel = ? AND alias = ?`,
		channel, alias).Scan(&address)
	if err != nil {
		return "", fmt.Errorf("sqlite: alias %s/%s: %w", channel, alias, convert(err))
	}
	return address, nil
}
