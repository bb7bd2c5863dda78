package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// A team campaign's participant is a team. On a channel with group chats (WhatsApp, Telegram)
// the group is the team and the platform says who is in it. On a channel without them (the web
// chat) people form a team here: one gives it a name and gets an invite code, the others join
// with the code, and the team plays as one participant whose address is the team's ID. The
// engine keeps the rules (names, codes, teams.min and teams.max); the channel shows the forms.

// Team is a team formed on a channel without group chats.
type Team struct {
	// ID is the team's address on its channel: its participant is
	// ParticipantID(Campaign, Channel, ID).
	ID       string
	Campaign string
	Channel  string
	Name     string
	// Code is the invite code the members share.
	Code string
	// Members are the members' addresses on the channel (browser ids), in joining order.
	Members   []string
	CreatedAt time.Time
}

// ParticipantID is the id of the participant the team plays as.
func (t Team) ParticipantID() string { return ParticipantID(t.Campaign, t.Channel, t.ID) }

// Team errors; each wraps errs.ErrConflict.
var (
	// ErrTeamFull is returned when a team already has teams.max members.
	ErrTeamFull = fmt.Errorf("%w: team is full", errs.ErrConflict)
	// ErrTeamNameTaken is returned when the campaign has a team of that name (in any case).
	ErrTeamNameTaken = fmt.Errorf("%w: team name taken", errs.ErrConflict)
	// ErrTeamCodeTaken is returned by Store.CreateTeam for an invite code in use in the
	// campaign; the engine draws another.
	ErrTeamCodeTaken = fmt.Errorf("%w: invite code taken", errs.ErrConflict)
	// ErrInTeam is returned when the member is in another team of the campaign already.
	ErrInTeam = fmt.Errorf("%w: already in a team", errs.ErrConflict)
)

// TeamStore is what the engine keeps of teams formed on channels without group chats.
type TeamStore interface {
	// CreateTeam stores a new team with its first member (t.Members[0]). It fails with
	// ErrTeamNameTaken when the campaign has a team whose name is the same in lower case,
	// ErrTeamCodeTaken when the campaign has a team with that code, and ErrInTeam when the
	// member is in a team of the campaign on the channel already; then nothing is stored.
	CreateTeam(ctx context.Context, t Team) error
	// JoinTeam adds member to the campaign's team with the invite code and returns the team
	// with its members. max limits the members (0: no limit). Joining the team one is in
	// changes nothing. It fails with errs.ErrNotFound for an unknown code, ErrTeamFull when
	// the team has max members, and ErrInTeam when member is in another team.
	JoinTeam(ctx context.Context, campaign, channel, code, member string, max int) (Team, error)
	// TeamOf returns the team member is in, in campaign on channel, or an error wrapping
	// errs.ErrNotFound.
	TeamOf(ctx context.Context, campaign, channel, member string) (Team, error)
}

// MaxTeamName is the longest team name, in characters.
const MaxTeamName = 40

// TeamCodeLen is the length of an invite code: with the 31 letters and digits of
// codeAlphabet, close to a billion codes, short enough to pass on by voice or text.
const TeamCodeLen = 6

// teamCampaign returns a team campaign's definition, or an error wrapping errs.ErrNotFound
// (no such campaign) or errs.ErrInvalid (participants are not teams).
func (e *Engine) teamCampaign(campaign string) (*campaigns.Definition, error) {
	def, ok := e.Campaign(campaign)
	if !ok {
		return nil, fmt.Errorf("engine: teams of %s: campaign %w", campaign, errs.ErrNotFound)
	}
	if def.Teams == nil {
		return nil, fmt.Errorf("engine: teams of %s: %w: participants are not teams", campaign, errs.ErrInvalid)
	}
	return def, nil
}

// FormTeam forms a team named name in campaign on channel, with member as its first member,
// and returns it with its invite code. A name is 1 to MaxTeamName characters without control
// or invisible formatting characters, its spaces tidied (a *TeamNameError, wrapping errs.ErrInvalid, otherwise); names are unique
// per campaign regardless of case (ErrTeamNameTaken); a member is in one team per campaign
// (ErrInTeam). A campaign whose teams.min is 1 starts the team at once (see JoinTeam).
func (e *Engine) FormTeam(ctx context.Context, campaign, channel, member, name string) (Team, error) {
	def, err := e.teamCampaign(campaign)
	if err != nil {
		return Team{}, err
	}
	name, err = cleanTeamName(name)
	if err != nil {
		return Team{}, fmt.Errorf("engine: form team in %s: %w", campaign, err)
	}
	if member == "" {
		return Team{}, fmt.Errorf("engine: form team in %s: %w: no member", campaign, errs.ErrInvalid)
	}
	if e.unavailable(def, e.now(), false) != "" {
		return Team{}, fmt.Errorf("engine: form team in %s: %w", campaign, ErrTeamsClosed)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Team{}, fmt.Errorf("engine: form team in %s: %w", campaign, err)
	}
	t := Team{ID: "team-" + hex.EncodeToString(b[:]), Campaign: def.ID, Channel: channel, Name: name,
		Members: []string{member}, CreatedAt: e.now()}
	for attempt := 0; ; attempt++ {
		if t.Code, err = teamCode(); err != nil {
			return Team{}, fmt.Errorf("engine: form team in %s: %w", campaign, err)
		}
		err = e.store.CreateTeam(ctx, t)
		if errors.Is(err, ErrTeamCodeTaken) && attempt < 10 {
			continue
		}
		break
	}
	if err != nil {
		return Team{}, fmt.Errorf("engine: form team %q in %s: %w", name, campaign, err)
	}
	if err := e.startTeam(ctx, def, t); err != nil {
		return t, err
	}
	return t, nil
}

// JoinTeam adds member to the team whose invite code is code (case, spaces and dashes do not
// matter) and returns the team. It fails with errs.ErrNotFound for an unknown code,
// ErrTeamFull when the team has teams.max members and ErrInTeam when member is in another
// team. When the team reaches teams.min members it starts playing: the engine receives its
// join, as if the team had opened the chat, and the campaign greets it.
func (e *Engine) JoinTeam(ctx context.Context, campaign, channel, member, code string) (Team, error) {
	def, err := e.teamCampaign(campaign)
	if err != nil {
		return Team{}, err
	}
	code = NormalizeTeamCode(code)
	if code == "" || member == "" {
		return Team{}, fmt.Errorf("engine: join team in %s: %w: no invite code", campaign, errs.ErrNotFound)
	}
	t, err := e.store.JoinTeam(ctx, def.ID, channel, code, member, def.Teams.MaxSize)
	if err != nil {
		return Team{}, fmt.Errorf("engine: join team in %s: %w", campaign, err)
	}
	if err := e.startTeam(ctx, def, t); err != nil {
		return t, err
	}
	return t, nil
}

// TeamOf returns the team member is in, in campaign on channel (errs.ErrNotFound when none).
func (e *Engine) TeamOf(ctx context.Context, campaign, channel, member string) (Team, error) {
	t, err := e.store.TeamOf(ctx, campaign, channel, member)
	if err != nil {
		return Team{}, fmt.Errorf("engine: team of %s in %s: %w", member, campaign, err)
	}
	return t, nil
}

// TeamReady reports whether a team has the members its campaign's teams.min asks for, so it
// can play.
func TeamReady(def *campaigns.Definition, t Team) bool {
	return def.Teams == nil || len(t.Members) >= def.Teams.MinSize
}

// startTeam lets a team that has enough members play: its join is received like any other.
// The join's platform id is the team's, so a team starts once however often it is called.
func (e *Engine) startTeam(ctx context.Context, def *campaigns.Definition, t Team) error {
	if !TeamReady(def, t) {
		return nil
	}
	_, err := e.Receive(ctx, Inbound{Channel: t.Channel, PlatformID: teamStartPrefix + t.ID, Campaign: t.Campaign,
		From: t.ID, Name: t.Name, ParticipantID: t.ParticipantID(), Kind: KindJoin})
	if err != nil {
		return fmt.Errorf("engine: start team %q in %s: %w", t.Name, t.Campaign, err)
	}
	return nil
}

// teamStartPrefix begins the platform id of a team's start (startTeam). A team forms only while
// its campaign takes newcomers, so its start, whenever its last member comes, is no newcomer:
// the schedule's end does not stop it (its hard stop and closing the campaign do), and a round
// running by then is its round too (enterStart).
const teamStartPrefix = "join:"

func teamStart(in Inbound) bool {
	return in.Kind == KindJoin && strings.HasPrefix(in.PlatformID, teamStartPrefix)
}

// ErrTeamsClosed is returned by FormTeam while the campaign is not running (closed, or
// outside its schedule): a team formed then could not play.
var ErrTeamsClosed = fmt.Errorf("%w: no teams form while the campaign is not running", errs.ErrConflict)

// teamCode draws an invite code from crypto/rand, not from the engine's injected source: the
// code is all that lets someone into a team, so it must not be predictable from the seed.
func teamCode() (string, error) {
	b := make([]byte, TeamCodeLen)
	n := big.NewInt(int64(len(codeAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("invite code: %w", err)
		}
		b[i] = codeAlphabet[k.Int64()]
	}
	return string(b), nil
}

// NormalizeTeamCode turns an invite code as typed into the way it is stored: upper case,
// without the spaces and dashes people add when they pass a code on.
func NormalizeTeamCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r == ' ' || r == '-' || r == '\t' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TeamNameError is a team name FormTeam refused; Reason is written for the person who typed
// it. It wraps errs.ErrInvalid.
type TeamNameError struct{ Reason string }

func (e *TeamNameError) Error() string { return "invalid team name: " + e.Reason }
func (e *TeamNameError) Unwrap() error { return errs.ErrInvalid }

// cleanTeamName tidies the spaces of a team name and checks it is one a chat can show.
func cleanTeamName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", &TeamNameError{"The team name contains characters that could not be read."}
	}
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return "", &TeamNameError{"Give your team a name."}
	case utf8.RuneCountInString(name) > MaxTeamName:
		return "", &TeamNameError{fmt.Sprintf("Keep the team name to %d characters at most.", MaxTeamName)}
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError || invisible(r) {
			return "", &TeamNameError{"The team name contains characters that could not be read."}
		}
	}
	return name, nil
}

// invisible reports an invisible formatting character: zero-width spaces, joiners that join
// nothing, byte-order marks and the bidirectional overrides that turn a name around on
// screen. They would let "Red\u200bRovers" pass for "RedRovers" and show some teams nothing
// to read. Emoji need two of them: U+200D joins a family or a rainbow flag, and tag
// characters spell a regional flag.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200d' && !(r >= 0xE0020 && r <= 0xE007F)
}

// TeamNameKey is what two team names of a campaign must differ in (stores keep it unique):
// their lower case.
func TeamNameKey(name string) string { return strings.ToLower(name) }
