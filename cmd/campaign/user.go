package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

const userUsage = `usage: campaign user add --name NAME --role admin|moderator|judge [--team TEAM]... [--campaign ID]... [--data ./data]   (password on stdin)
       campaign user list [--data ./data]
       campaign user team --name NAME --team TEAM[,TEAM...] [--data ./data]   (--team "" for none)
       campaign user campaigns --name NAME --campaign ID[,ID...] [--data ./data]   (--campaign "" for every campaign)
       campaign user role --name NAME --role admin|moderator|judge [--data ./data]
       campaign user passwd --name NAME [--data ./data]   (new password on stdin)
       campaign user remove --name NAME [--data ./data]`

// userCmd manages dashboard accounts in the server's store (the embedded one in --data, or
// MongoDB with CAMPAIGN_MONGODB_URI). Passwords are read from stdin rather than a flag, so they
// do not end up in the shell history or the process list.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return errUsage
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	case "add", "list", "passwd", "remove", "team", "campaigns", "role":
	default:
		fmt.Fprintf(stderr, "campaign user: unknown command %q\n%s\n", sub, userUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data folder of the server")
	var name, role *string
	if sub != "list" {
		name = fs.String("name", "", "username")
	}
	if sub == "add" || sub == "role" {
		role = fs.String("role", accounts.RoleModerator, "admin, moderator or judge")
	}
	var camps teamFlag
	if sub == "add" || sub == "campaigns" {
		fs.Var(&camps, "campaign", "a campaign the user works on (a definition's id:); repeat it or separate with commas; none: every campaign")
	}
	var teams teamFlag
	if sub == "add" || sub == "team" {
		fs.Var(&teams, "team", "hand-off team (a state's handoff: NAME); repeat it or separate with commas")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if name != nil && *name == "" {
		fmt.Fprintf(stderr, "campaign user %s: --name is required\n%s\n", sub, userUsage)
		return errUsage
	}
	var password string
	if sub == "add" || sub == "passwd" {
		var err error
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}
	db, err := openStore(ctx, getenv("CAMPAIGN_MONGODB_URI"), *data)
	if err != nil {
		return err
	}
	defer db.Close()
	rec := roleRecorder(db)

	switch sub {
	case "add":
		u, err := accounts.Add(ctx, db, accounts.NewUser{Username: *name, Password: password, Role: *role, Teams: teams.names, Campaigns: camps.names})
		if errors.Is(err, errs.ErrConflict) {
			return fmt.Errorf("a user %q already exists. Give them a new password with `campaign user passwd --name %s`, "+
				"or remove them with `campaign user remove --name %s` and add them again", *name, *name, *name)
		}
		if err != nil {
			return plainUserError(err)
		}
		recordRole(ctx, rec, accounts.RoleChange{Username: u.Username, To: u.Role, Campaigns: u.Campaigns}, stderr)
		fmt.Fprintf(stdout, "user %q added with role %s%s%s\n", u.Username, u.Role, inTeams(u.Teams, " in team", " in teams"),
			inTeams(u.Campaigns, " for campaign", " for campaigns"))
		warnUnusedTeams(ctx, db, teams.names, stderr)
	case "list":
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			fmt.Fprintln(stdout, "no users yet (the first `campaign serve` creates \"admin\")")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tTEAMS\tCAMPAIGNS")
		for _, u := range users {
			t := strings.Join(u.Teams, ",")
			if t == "" {
				t = "-"
			}
			cs := strings.Join(u.Campaigns, ",")
			if u.AllCampaigns() {
				cs = "all"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Role, t, cs)
		}
		return tw.Flush()
	case "passwd":
		if err := accounts.ChangePassword(ctx, db, *name, password); err != nil {
			return plainUserError(noUser(err, *name))
		}
		fmt.Fprintf(stdout, "password of %q changed; their open dashboard sessions are logged out\n", *name)
	case "team":
		if !teams.set {
			fmt.Fprintf(stderr, "campaign user team: --team is required (--team \"\" for none)\n%s\n", userUsage)
			return errUsage
		}
		if err := accounts.SetUserTeams(ctx, db, *name, teams.names); err != nil {
			return plainUserError(noUser(err, *name))
		}
		t := inTeams(teams.names, " in team", " in teams")
		if t == "" {
			t = " in no team"
		}
		fmt.Fprintf(stdout, "user %q is now%s\n", *name, t)
		warnUnusedTeams(ctx, db, teams.names, stderr)
	case "campaigns":
		if !camps.set {
			fmt.Fprintf(stderr, "campaign user campaigns: --campaign is required (--campaign \"\" for every campaign)\n%s\n", userUsage)
			return errUsage
		}
		before, err := db.UserByName(ctx, *name)
		if err == nil {
			err = accounts.SetUserCampaigns(ctx, db, *name, camps.names)
		}
		if err != nil {
			return plainUserError(noUser(err, *name))
		}
		recordRole(ctx, rec, accounts.RoleChange{Username: *name, From: before.Role, To: before.Role, Campaigns: accounts.Norm(camps.names)}, stderr)
		c := inTeams(camps.names, " campaign", " campaigns")
		if c == "" {
			c = " every campaign"
		}
		fmt.Fprintf(stdout, "user %q now works on%s\n", *name, c)
	case "role":
		from, err := accounts.ChangeRole(ctx, db, *name, *role)
		if errors.Is(err, accounts.ErrLastAdmin) {
			return fmt.Errorf("%q is the only admin; make another user admin first (`campaign user role --name NAME --role admin`)", *name)
		}
		if err != nil {
			return plainUserError(noUser(err, *name))
		}
		if u, err := db.UserByName(ctx, *name); err == nil && from != *role {
			recordRole(ctx, rec, accounts.RoleChange{Username: *name, From: from, To: *role, Campaigns: u.Campaigns}, stderr)
		}
		fmt.Fprintf(stdout, "user %q is now %s (was %s)\n", *name, *role, from)
	case "remove":
		before, _ := db.UserByName(ctx, *name)
		err := accounts.RemoveUser(ctx, db, *name)
		if errors.Is(err, accounts.ErrLastAdmin) {
			return fmt.Errorf("%q is the only admin; add another admin first (`campaign user add --name NAME --role admin`)", *name)
		}
		if err != nil {
			return noUser(err, *name)
		}
		recordRole(ctx, rec, accounts.RoleChange{Username: *name, From: before.Role}, stderr)
		fmt.Fprintf(stdout, "user %q removed\n", *name)
	}
	return nil
}

// roleRecorder is where `campaign user` records role changes (the audit trail): nowhere yet,
// until the store keeps a trail.
func roleRecorder(store) accounts.RoleChangeRecorder { return accounts.NoRecorder{} }

// recordRole tells the audit trail of a change of who may do what, made by "cli". The change
// is stored already, so a failure to record it is a warning.
func recordRole(ctx context.Context, rec accounts.RoleChangeRecorder, c accounts.RoleChange, stderr io.Writer) {
	c.By, c.At = "cli", time.Now()
	if err := rec.RecordRoleChange(ctx, c); err != nil {
		fmt.Fprintf(stderr, "warning: the change is made but not in the audit trail: %v\n", err)
	}
}

// warnUnusedTeams warns about each team no stored campaign (not closed) hands off to: most
// likely a typo, since nobody's conversations would reach that queue. Teams may be set up
// before their campaign is launched, so it only warns. A store it cannot read says nothing.
func warnUnusedTeams(ctx context.Context, db store, teams []string, stderr io.Writer) {
	if len(teams) == 0 {
		return
	}
	recs, err := db.Campaigns(ctx)
	if err != nil {
		return
	}
	latest := map[string]engine.CampaignRecord{} // Campaigns lists a campaign's versions oldest first
	for _, r := range recs {
		latest[r.ID] = r
	}
	used := map[string]bool{}
	for _, r := range latest {
		if r.Status == engine.StatusClosed {
			continue
		}
		def, _ := campaigns.Parse(r.File, r.Source)
		if def == nil {
			continue
		}
		for _, st := range def.States {
			if st.Handoff != "" {
				used[st.Handoff] = true
			}
		}
	}
	names := slices.Sorted(maps.Keys(used))
	for _, t := range teams {
		if used[t] {
			continue
		}
		if len(names) == 0 {
			fmt.Fprintf(stderr, "warning: no campaign hands off to team %q yet (a state's handoff: %s)\n", t, t)
			continue
		}
		hint := ""
		if s := campaigns.Suggest(t, names); s != "" {
			hint = fmt.Sprintf("; did you mean %q?", s)
		}
		fmt.Fprintf(stderr, "warning: no campaign hands off to team %q (the teams handed off to: %s)%s\n", t, strings.Join(names, ", "), hint)
	}
}

// readPassword reads one line from stdin, prompting on stderr when stdin is a terminal (a
// piped password gets no prompt, which would otherwise run into the next output line).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(stderr, "password: ")
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if errors.Is(err, io.EOF) && line == "" {
		return "", errors.New("no password on stdin: type it and press Enter, or pipe it in (echo 'a-long-password' | campaign user ...)")
	}
	if err != nil && line == "" {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// noUser says plainly that a username is unknown.
func noUser(err error, name string) error {
	if errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("no user %q (`campaign user list` shows who there is)", name)
	}
	return err
}

// plainUserError keeps what a person can act on of a refused field ("password shorter than 10
// characters") and drops the layers it passed through.
func plainUserError(err error) error {
	if !errors.Is(err, errs.ErrInvalid) {
		return err
	}
	msg := err.Error()
	if _, reason, ok := strings.Cut(msg, errs.ErrInvalid.Error()+": "); ok {
		return errors.New(reason)
	}
	return err
}

// teamFlag collects --team values: repeated, comma-separated, or "" for none.
type teamFlag struct {
	names []string
	set   bool
}

func (f *teamFlag) String() string { return strings.Join(f.names, ",") }

func (f *teamFlag) Set(v string) error {
	f.set = true
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(f.names, t) {
			f.names = append(f.names, t)
		}
	}
	return nil
}

// inTeams says " in team a" or " in teams a, b"; "" for none.
func inTeams(teams []string, one, many string) string {
	switch len(teams) {
	case 0:
		return ""
	case 1:
		return one + " " + teams[0]
	}
	sorted := slices.Sorted(slices.Values(teams))
	return many + " " + strings.Join(sorted, ", ")
}
