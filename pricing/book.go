package pricing

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// Source is a price table as the brand wrote it, kept with who wrote it and when, so the
// dashboard shows it back with its comments.
type Source struct {
	Text string
	By   string
	At   time.Time
}

// Store keeps the brand's price table; *sqlite.Store and *mongo.Store satisfy it.
type Store interface {
	// SavePriceTable replaces the stored table.
	SavePriceTable(ctx context.Context, s Source) error
	// PriceTable returns the stored table; errs.ErrNotFound when none was ever saved.
	PriceTable(ctx context.Context) (Source, error)
}

// Book is the brand's current price table: read from the store, replaced by Set, and used
// as the broadcast planner's Pricer. It is safe for concurrent use.
type Book struct {
	store Store
	now   func() time.Time
	cur   atomic.Pointer[Table]
}

// NewBook returns a book over store; call Load to read the stored table.
func NewBook(store Store, now func() time.Time) *Book {
	b := &Book{store: store, now: now}
	b.cur.Store(&Table{})
	return b
}

// Load reads the stored table, so prices another server saved are used here too. No stored
// table leaves the book empty; a stored table that no longer parses is an error and keeps
// the one in use.
func (b *Book) Load(ctx context.Context) error {
	s, err := b.store.PriceTable(ctx)
	if errors.Is(err, errs.ErrNotFound) {
		b.cur.Store(&Table{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("pricing: load the price table: %w", err)
	}
	t, err := Parse(s.Text)
	if err != nil {
		return fmt.Errorf("pricing: the stored price table: %w", err)
	}
	b.cur.Store(&t)
	return nil
}

// Set parses text and, when it is a good table, stores it and uses it from now on. A bad
// table returns Errors (errors.Is ErrTable) and changes nothing.
func (b *Book) Set(ctx context.Context, text, by string) (Table, error) {
	t, err := Parse(text)
	if err != nil {
		return Table{}, err
	}
	if err := b.store.SavePriceTable(ctx, Source{Text: text, By: by, At: b.now().UTC()}); err != nil {
		return Table{}, fmt.Errorf("pricing: save the price table: %w", err)
	}
	b.cur.Store(&t)
	return t, nil
}

// Source returns the stored table as written; a zero Source when none was saved.
func (b *Book) Source(ctx context.Context) (Source, error) {
	s, err := b.store.PriceTable(ctx)
	if errors.Is(err, errs.ErrNotFound) {
		return Source{}, nil
	}
	if err != nil {
		return Source{}, fmt.Errorf("pricing: read the price table: %w", err)
	}
	return s, nil
}

// Table is the table in use.
func (b *Book) Table() Table { return *b.cur.Load() }

// Country is the country of a number by its calling code (see CountryOf).
func (b *Book) Country(address string) string { return CountryOf(address) }

// Price is the table in use's price (see Table.Price).
func (b *Book) Price(category, country string) (float64, string, bool) {
	return b.cur.Load().Price(category, country)
}
