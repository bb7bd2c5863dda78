package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/privacy"
)

// Privacy answers data requests; *privacy.Service implements it.
type Privacy interface {
	Export(ctx context.Context, id string, w io.Writer) error
	Erase(ctx context.Context, id, by string) (privacy.Record, error)
	// Purge deletes every participant and file of a closed campaign; errs.ErrConflict for one
	// that is not closed.
	Purge(ctx context.Context, campaign, by string) (int, error)
}

// mayHandleData says whether the participant page shows export and erase to u.
func (d *Dashboard) mayHandleData(u *User) bool {
	return d.privacy != nil && accounts.Can(u.Role, accounts.PersonalData)
}

// exportParticipant downloads everything stored about a participant as a ZIP.
func (d *Dashboard) exportParticipant(c *fiber.Ctx) error {
	pid := strings.Clone(c.Params("pid"))
	// Built whole before the first byte goes out, so a failure is an error page, not a
	// truncated ZIP.
	var buf bytes.Buffer
	if err := d.privacy.Export(c.UserContext(), pid, &buf); err != nil {
		return fmt.Errorf("dashboard: export %s: %w", pid, err)
	}
	d.log.Info("participant exported", "campaign", c.Params("id"), "participant", pid, "by", currentUser(c).Username)
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="participant-`+pid+`.zip"`)
	return c.Send(buf.Bytes())
}

// eraseParticipant erases a participant once the admin ticked the confirmation.
func (d *Dashboard) eraseParticipant(c *fiber.Ctx) error {
	pid := strings.Clone(c.Params("pid"))
	if c.FormValue("confirm") != "yes" {
		d.setFlash(c, flash{Message: "Not erased: tick the box to confirm that everything of this participant is deleted for good.", Error: true})
		return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
	}
	rec, err := d.privacy.Erase(c.UserContext(), pid, currentUser(c).Username)
	if err != nil {
		return fmt.Errorf("dashboard: erase %s: %w", pid, err)
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Participant erased: %d messages, %d entries and %d media files deleted. Rankings show them as “removed”.",
		rec.Lines, rec.Entries, rec.Objects)})
	return c.Redirect("/dashboard/campaigns/"+c.Params("id"), fiber.StatusSeeOther)
}

// purgeCampaign deletes a closed campaign's participants and media once the admin confirmed.
func (d *Dashboard) purgeCampaign(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	back := "/dashboard/campaigns/" + id
	if c.FormValue("confirm") != "yes" {
		d.setFlash(c, flash{Message: "Not purged: tick the box to confirm that every participant and file of this campaign is deleted for good.", Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	n, err := d.privacy.Purge(c.UserContext(), id, currentUser(c).Username)
	if errors.Is(err, errs.ErrConflict) {
		d.setFlash(c, flash{Message: "Not purged: close the campaign first; its participants may still be playing.", Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	if err != nil {
		return fmt.Errorf("dashboard: purge %s: %w", id, err)
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Campaign purged: %d participants and their files deleted.", n)})
	return c.Redirect(back, fiber.StatusSeeOther)
}
