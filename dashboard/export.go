package dashboard

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/csvcell"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

// exportTimeout bounds one export: a client that stops reading does not hold the store's
// cursor for ever.
const exportTimeout = 30 * time.Minute

// exports are the CSV files a campaign offers, by the name in the URL.
var exports = []string{"participants.csv", "entries.csv", "scores.csv"}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// export streams one of a campaign's CSV files to an admin: the rows are read from the store
// a page at a time and written as they come, so a campaign of a million participants costs
// the server no more memory than one of ten. Participants are listed by their id, never by
// phone number or address.
func (d *Dashboard) export(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not export: %w", u.Username, errForbidden)
	}
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	what := strings.Clone(c.Params("what"))
	if !slices.Contains(exports, what) {
		return fmt.Errorf("dashboard: export %q: %w", what, errs.ErrNotFound)
	}
	def := ci.Def
	vars := append([]string{"name"}, broadcastFormOf(def).Vars...)
	vars = slices.Compact(vars)
	var write func(ctx context.Context, w *csv.Writer) error
	switch what {
	case "participants.csv":
		write = func(ctx context.Context, w *csv.Writer) error {
			if err := w.Write(append([]string{"participant", "channel", "state", "finished", "joined", "last_wrote", "handoff"}, vars...)); err != nil {
				return err
			}
			return d.reports.EachParticipant(ctx, def.ID, func(p engine.Participant) error {
				row := []string{p.ID, p.Channel, p.State, strconv.FormatBool(p.Finished), csvTime(p.CreatedAt), csvTime(p.LastInboundAt), csvcell.Safe(p.Vars["handoff"])}
				for _, v := range vars {
					row = append(row, csvcell.Safe(p.Vars[v]))
				}
				return w.Write(row)
			})
		}
	case "entries.csv":
		write = func(ctx context.Context, w *csv.Writer) error {
			if err := w.Write([]string{"entry", "participant", "state", "kind", "mime", "caption", "location", "received", "status", "decided_by", "decided_at", "reason"}); err != nil {
				return err
			}
			return d.reports.EachEntry(ctx, def.ID, func(e judge.Entry) error {
				return w.Write([]string{e.ID, e.ParticipantID, e.State, e.Kind, e.MIME, csvcell.Safe(e.Caption), csvcell.Safe(e.Location),
					csvTime(e.CreatedAt), e.Status, csvcell.Safe(e.DecidedBy), csvTime(e.DecidedAt), csvcell.Safe(e.Reason)})
			})
		}
	case "scores.csv":
		write = func(ctx context.Context, w *csv.Writer) error {
			if err := w.Write([]string{"entry", "judge", "criterion", "score", "at"}); err != nil {
				return err
			}
			return d.reports.EachScore(ctx, def.ID, func(r reports.ScoreRow) error {
				return w.Write([]string{r.EntryID, csvcell.Safe(r.Judge), csvcell.Safe(r.Criterion), strconv.Itoa(r.Score), csvTime(r.At)})
			})
		}
	}
	d.streamCSV(c, def.ID+"-"+what, write)
	return nil
}

// streamCSV sends the CSV file name, written by write after the handler returned, when
// Fiber has recycled c: write may use only what was copied out of it. A write that fails
// midway ends the file with a line saying it is cut short (the status line has gone out),
// rather than letting it end as if it were whole.
func (d *Dashboard) streamCSV(c *fiber.Ctx, name string, write func(ctx context.Context, w *csv.Writer) error) {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.NewReplacer(`"`, "", "\r", "", "\n", "").Replace(name)+`"`)
	log := d.log
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		w := csv.NewWriter(bw)
		err := write(ctx, w)
		w.Flush()
		if err == nil {
			err = w.Error()
		}
		if err != nil {
			log.Error("dashboard: export cut short", "file", name, "err", err)
			fmt.Fprintf(bw, "\n# export cut short: %v\n", err)
		}
		bw.Flush()
	})
}
