package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/chatcampaigns/campaign/dashboard"
)

// userCmd manages dashboard accounts in the embedded store. The password is read from stdin
// rather than a flag, so it does not end up in the shell history or the process list.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: campaign user add --name NAME --role admin|moderator|judge [--data ./data]")
		return errUsage
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "username")
	role := fs.String("role", dashboard.RoleModerator, "admin, moderator or judge")
	data := fs.String("data", "./data", "data folder of the server")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	fmt.Fprint(stderr, "password: ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	db, err := openStore(ctx, getenv("CAMPAIGN_MONGODB_URI"), *data)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := dashboard.AddUser(ctx, db, *name, strings.TrimRight(line, "\r\n"), *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %q added with role %s\n", u.Username, u.Role)
	return nil
}
