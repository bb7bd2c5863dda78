package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	err := Each(ctx, s, q, func(e Event) error {
		row := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano)}
		for _, f := range []string{e.Actor, e.Action, e.Campaign, e.ParticipantID, e.EntryID, e.Subject, e.Detail} {
			row = append(row, cell(f))
		}
		return cw.Write(row)
	})
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
