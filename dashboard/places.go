package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
)

// Pools tells the campaign page how full each pool is; *engine.Engine satisfies it.
type Pools interface {
	// CodesLeft returns how many codes of a pool of codes are not handed out yet, and how
	// many it has.
	CodesLeft(ctx context.Context, campaign, pool string) (left, total int, err error)
	// PlacesTaken returns how many places of a pool with a capacity are taken.
	PlacesTaken(ctx context.Context, campaign, pool string) (int, error)
}

// poolRow is one pool as the campaign page shows it.
type poolRow struct {
	Name string
	// Codes is set for a pool of codes: Left of Total are not handed out. Otherwise Taken
	// of Capacity places are taken.
	Codes                        bool
	Left, Total, Taken, Capacity int
}

// poolRows lists def's pools, by name, with how full each is.
func (d *Dashboard) poolRows(ctx context.Context, def *campaigns.Definition) ([]poolRow, error) {
	if d.pools == nil {
		return nil, nil
	}
	var rows []poolRow
	for name, pool := range def.Pools {
		row := poolRow{Name: name, Codes: pool.HasCodes(), Capacity: pool.Capacity}
		var err error
		if row.Codes {
			row.Left, row.Total, err = d.pools.CodesLeft(ctx, def.ID, name)
		} else {
			row.Taken, err = d.pools.PlacesTaken(ctx, def.ID, name)
		}
		if err != nil {
			return nil, fmt.Errorf("dashboard: pool %s of %s: %w", name, def.ID, err)
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows, nil
}

// locationRe is a location as the engine writes it: an entry's (or the participant's last)
// LAT,LNG, or the start of the transcript line of a shared location, "[location LAT,LNG] name".
// Either form is whole: a typed answer like "12,5 kilo" is no location.
var locationRe = regexp.MustCompile(`^(?:\[location (-?[0-9]{1,3}(?:\.[0-9]+)?),(-?[0-9]{1,3}(?:\.[0-9]+)?)\](?: |$)|(-?[0-9]{1,3}(?:\.[0-9]+)?),\s*(-?[0-9]{1,3}(?:\.[0-9]+)?)$)`)

// mapLink is the OpenStreetMap page of a location (see locationRe) with a marker on it, or ""
// when s holds none. The numbers are parsed and written out again, so nothing of s but two
// numbers reaches the link.
func mapLink(s string) template.URL {
	m := locationRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ""
	}
	if m[1] == "" {
		m = m[2:]
	}
	lat, err1 := strconv.ParseFloat(m[1], 64)
	lng, err2 := strconv.ParseFloat(m[2], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return ""
	}
	la, ln := strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(lng, 'f', -1, 64)
	return template.URL("https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + ln + "#map=17/" + la + "/" + ln)
}
