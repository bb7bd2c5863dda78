package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/chatcampaigns/campaign/csvcell"
)

// CSVHeader is the first row of an export, one column per Event field.
var CSVHeader = []string{"id", "at", "actor", "action", "campaign", "participant", "entry", "subject", "detail"}

// WriteCSV writes the events matching q to w as CSV (RFC 4180, header row first, times in UTC
// as RFC 3339 with nanoseconds), page by page.
//
// A text cell starting with =, +, -, @, a tab or a carriage return gets a leading apostrophe,
// so a spreadsheet shows a reason typed as "=HYPERLINK(…)" as text instead of running it.
func WriteCSV(ctx context.Context, w io.Writer, s Lister, q Query) error {
	cw := csv.NewWriter(w)
	if err := WriteRows(ctx, cw, s, q); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

// WriteRows is WriteCSV on a csv.Writer the caller flushes (the dashboard's streamed
// downloads, which mark a file cut short when this fails midway).
func WriteRows(ctx context.Context, cw *csv.Writer, s Lister, q Query) error {
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	err := Each(ctx, s, q, func(e Event) error {
		row := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano)}
		for _, f := range []string{e.Actor, e.Action, e.Campaign, e.ParticipantID, e.EntryID, e.Subject, e.Detail} {
			row = append(row, csvcell.Safe(f))
		}
		return cw.Write(row)
	})
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}
