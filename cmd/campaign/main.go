// Command campaign is the one binary of the campaign engine: it serves campaigns (web chat,
// webhooks, dashboard), validates definition files and manages dashboard users.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `campaign runs interactive chat campaigns.

Usage:
  campaign serve [--addr 127.0.0.1:8080] [--data ./data] [--campaigns PATH]... [--pprof ADDR]
                 [--max-photo 10MB] [--max-video 16MB] [--max-audio 16MB] [--max-decode-memory 192MB] [--decode-memory 384MB]
                 [--limit-messages 30/1m] [--limit-uploads 10/1m] [--limit-joins 10/1m] [--limit-admin 60/1m] [--login-failures 5]
                 [--public-url URL] [--trusted-proxy ADDR]... [--metrics-token TOKEN] [--price-table FILE] [--broadcast-frequency-cap 2/168h]
  campaign validate FILE|FOLDER...   (exit 0: no errors, 1: errors)
  campaign simulate FILE [--script SCRIPT]
  campaign diagram FILE [--dot]
  campaign launch FILE [--server URL] [--token TOKEN] [--data ./data] [--draft] [--timeout 5m]
  campaign loadgen --server URL --secret SECRET [--rate N] [--duration D] ...   (load test)
  campaign export --campaign ID [--round NAME] [--out FILE.zip]   (approved media + consent, as a ZIP)
  campaign channels check [--public-url URL]   (is every configured channel reachable and set up?)
  campaign channels setup telegram --public-url https://HOST   (points the bot's webhook here)
  campaign user add --name NAME --role admin|moderator|judge [--team TEAM]... [--campaign ID]...   (password read from stdin)
  campaign user list | passwd --name NAME | remove --name NAME
  campaign user team --name NAME --team TEAM[,TEAM...]   (the hand-off teams they answer for)
  campaign user campaigns --name NAME --campaign ID[,ID...]   (the campaigns they work on; "" for all)
  campaign user role --name NAME --role admin|moderator|judge
  campaign audit export [--campaign ID] [--out FILE]   (the audit trail as CSV)
  campaign draw commit --campaign ID --name NAME --winners N [--status approved] [--out FILE]
  campaign draw close --campaign ID --name NAME [--out FILE]
  campaign draw show --campaign ID [--name NAME] [--out FILE]
  campaign draw verify FILE [--list LIST]   (recompute a published draw; no server needed)
  campaign participant export ID > participant.zip   (a data request: everything stored about them)
  campaign participant erase ID --yes                 (erase them; rankings show "removed")
  campaign broadcast plan --campaign ID --text TEXT [--state STATE] [--where VAR=VALUE] [--template KEY]   (what it would reach, when, at what cost)
  campaign broadcast send --campaign ID --text TEXT [...] --yes   (the plan, then start it)
  campaign broadcast list --campaign ID | pause ID [--reason TEXT] | resume ID | cancel ID
  campaign broadcast report ID [--csv] [--out FILE]   (how far it got; --csv: the recipients)

Run "campaign COMMAND -h" for the flags of a command.
`

// run is main without the process: testable, with its environment passed in.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stdout, stderr, getenv)
	case "validate":
		return validateCmd(args[1:], stdout, stderr, time.Now)
	case "simulate":
		err = simulateCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "diagram":
		err = diagramCmd(args[1:], stdout, stderr)
	case "launch":
		err = launchCmd(ctx, args[1:], stdout, stderr, getenv)
	case "loadgen":
		err = loadgenCmd(ctx, args[1:], stdout, stderr, getenv)
	case "export":
		err = exportCmd(ctx, args[1:], stdout, stderr, getenv)
	case "channels":
		err = channelsCmd(ctx, args[1:], stdout, stderr, getenv)
	case "user":
		err = userCmd(ctx, args[1:], os.Stdin, stdout, stderr, getenv)
	case "audit":
		err = auditCmd(ctx, args[1:], stdout, stderr, getenv)
	case "draw":
		err = drawCmd(ctx, args[1:], stdout, stderr, getenv)
	case "participant":
		err = participantCmd(ctx, args[1:], stdout, stderr, getenv)
	case "broadcast":
		err = broadcastCmd(ctx, args[1:], stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "campaign: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "campaign %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// errUsage means the flag package already told the user what was wrong.
var errUsage = errors.New("usage")

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// parseFileArgs parses the flags of a command that takes one FILE, accepted before or after
// the flags (flag stops at the first argument, and people write both orders). It prints usage
// and returns errUsage when the file is missing.
func parseFileArgs(fs *flag.FlagSet, args []string, usage string) (string, error) {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		fmt.Fprintln(fs.Output(), "usage: "+usage)
		return "", errUsage
	}
	return file, nil
}
