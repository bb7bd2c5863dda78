package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/errs"
)

// SaveNumberHealth keeps h as what is known of its channel's number; the facts with the
// latest CheckedAt win, so a read that was slower than a webhook does not undo it.
func (db *DB) SaveNumberHealth(ctx context.Context, h broadcast.NumberHealth) error {
	if h.Channel == "" || h.Number == "" {
		return fmt.Errorf("sqlite: save number health: %w: want a channel and a number", errs.ErrInvalid)
	}
	err := db.writeOne(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO number_health (channel, number, display, msg_limit, throughput, quality, status, event, checked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, number) DO UPDATE SET display = excluded.display, msg_limit = excluded.msg_limit,
				throughput = excluded.throughput, quality = excluded.quality, status = excluded.status,
				event = excluded.event, checked_at = excluded.checked_at
			WHERE excluded.checked_at >= number_health.checked_at`,
			h.Channel, h.Number, h.Display, h.Limit, h.Throughput, string(h.Quality), h.Status, h.Event, unixNano(h.CheckedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save number health %s/%s: %w", h.Channel, h.Number, convert(err))
	}
	return nil
}

const numberHealthColumns = `channel, number, display, msg_limit, throughput, quality, status, event, checked_at`

type scanner interface{ Scan(dest ...any) error }

func scanNumberHealth(r scanner) (broadcast.NumberHealth, error) {
	var h broadcast.NumberHealth
	var quality string
	var checked int64
	err := r.Scan(&h.Channel, &h.Number, &h.Display, &h.Limit, &h.Throughput, &quality, &h.Status, &h.Event, &checked)
	h.Quality, h.CheckedAt = broadcast.Quality(quality), fromUnixNano(checked)
	return h, err
}

// NumberHealth returns what is known of number on channel, or an error wrapping
// errs.ErrNotFound when nothing was ever saved for it.
func (db *DB) NumberHealth(ctx context.Context, channel, number string) (broadcast.NumberHealth, error) {
	h, err := scanNumberHealth(db.rq.QueryRowContext(ctx,
		`SELECT `+numberHealthColumns+` FROM number_health WHERE channel = ? AND number = ?`, channel, number))
	if err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("sqlite: number health %s/%s: %w", channel, number, convert(err))
	}
	return h, nil
}

// NumberHealths returns every number's health, by channel and number.
func (db *DB) NumberHealths(ctx context.Context) ([]broadcast.NumberHealth, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+numberHealthColumns+` FROM number_health ORDER BY channel, number`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: number healths: %w", convert(err))
	}
	defer rows.Close()
	var out []broadcast.NumberHealth
	for rows.Next() {
		h, err := scanNumberHealth(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: number healths: %w", convert(err))
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: number healths: %w", convert(err))
	}
	return out, nil
}

// SavePreference keeps p as the person's answer about marketing on its channel, unless an
// answer given later (At) is already kept: the platform does not promise webhooks in order.
func (db *DB) SavePreference(ctx context.Context, p broadcast.Preference) error {
	if p.Channel == "" || p.Address == "" {
		return fmt.Errorf("sqlite: save preference: %w: want a channel and an address", errs.ErrInvalid)
	}
	err := db.writeOne(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO marketing_preferences (channel, address, stop, source, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (channel, address) DO UPDATE SET stop = excluded.stop, source = excluded.source, at = excluded.at
			WHERE excluded.at >= marketing_preferences.at`,
			p.Channel, p.Address, p.StopMarketing, p.Source, unixNano(p.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save preference %s/%s: %w", p.Channel, p.Address, convert(err))
	}
	return nil
}

// StoppedMarketing returns, of addresses on channel, those whose latest answer is a stop
// (each true); the others are absent. The list goes to SQLite as one JSON array, so a
// broadcast's thousands of addresses are one statement, within any parameter limit.
func (db *DB) StoppedMarketing(ctx context.Context, channel string, addresses []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(addresses) == 0 {
		return out, nil
	}
	list, err := json.Marshal(addresses)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stopped marketing: %w", err)
	}
	rows, err := db.rq.QueryContext(ctx, `
		SELECT address FROM marketing_preferences
		WHERE channel = ? AND stop = 1 AND address IN (SELECT value FROM json_each(?))`, channel, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: stopped marketing: %w", convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("sqlite: stopped marketing: %w", convert(err))
		}
		out[a] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: stopped marketing: %w", convert(err))
	}
	return out, nil
}
