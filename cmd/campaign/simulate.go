package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/rehearsal"
)

// simulateCmd plays a campaign in the terminal, or replays a rehearsal script and checks it.
func simulateCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	script := fs.String("script", "", "replay this rehearsal script and check the replies")
	file, err := parseFileArgs(fs, args, "campaign simulate FILE [--script SCRIPT]")
	if err != nil {
		return err
	}
	def, probs := campaigns.LoadFile(file)
	for _, p := range probs {
		fmt.Fprintln(stderr, p.String())
	}
	if def == nil {
		return fmt.Errorf("%s has errors", file)
	}
	dir, err := os.MkdirTemp("", "campaign-simulate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	player, err := rehearsal.New(ctx, def, dir)
	if err != nil {
		return err
	}
	defer player.Close()

	if *script != "" {
		src, err := os.ReadFile(*script)
		if err != nil {
			return err
		}
		s, err := rehearsal.ParseScript(*script, src)
		if err != nil {
			return err
		}
		fails := rehearsal.Run(ctx, s, player)
		for _, f := range fails {
			fmt.Fprintln(stdout, f)
		}
		if len(fails) > 0 {
			return fmt.Errorf("%s in %s", count(len(fails), "mismatch", "mismatches"), *script)
		}
		fmt.Fprintf(stdout, "%s: ok (%s)\n", *script, count(len(s.Lines), "line", "lines"))
		return nil
	}
	return interactive(ctx, def, player, stdin, stdout)
}

func interactive(ctx context.Context, def *campaigns.Definition, p *rehearsal.Player, stdin io.Reader, stdout io.Writer) error {
	persona := def.Persona.Name
	if persona == "" {
		persona = def.Title
	}
	fmt.Fprintf(stdout, "Rehearsing %q. Type what the participant says, or a command: %s /quit\n", def.Title, rehearsal.Commands())
	sc := bufio.NewScanner(stdin)
	for {
		fmt.Fprintf(stdout, "%s> ", p.Who())
		if !sc.Scan() {
			fmt.Fprintln(stdout)
			return sc.Err()
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if text == "/quit" || text == "/exit" {
			return nil
		}
		l := rehearsal.Line{Op: ">", Arg: text}
		if strings.HasPrefix(text, "/") {
			l = rehearsal.Line{Op: "/", Arg: text}
		}
		replies, err := p.Do(ctx, l)
		// A refusal is said after the replies, in the words a script's "!" line expects.
		var refused *rehearsal.RefusedError
		if err != nil && !errors.As(err, &refused) {
			fmt.Fprintf(stdout, "  ! %v\n", err)
			continue
		}
		for _, r := range replies {
			to := ""
			if r.To != p.Who() {
				to = " (to " + r.To + ")"
			}
			switch {
			case r.NotSent != "":
				fmt.Fprintf(stdout, "  (not sent, %s) %s%s: %s\n", r.NotSent, persona, to, r.Text)
				continue
			case r.Template != "":
				// The window had closed: the participant gets the template, not the text.
				ps := ""
				if len(r.Params) > 0 {
					ps = " " + strings.Join(r.Params, " | ")
				}
				fmt.Fprintf(stdout, "  %s%s: (template %s%s, the 24-hour window had closed)\n", persona, to, r.Template, ps)
				continue
			}
			fmt.Fprintf(stdout, "  %s%s: %s\n", persona, to, r.Text)
			if len(r.Buttons) > 0 {
				// /choose takes the id, which the participant never sees: show it.
				bs := make([]string, len(r.Buttons))
				for i, title := range r.Buttons {
					bs[i] = "[" + title + "](" + r.ButtonIDs[i] + ")"
				}
				fmt.Fprintf(stdout, "      %s\n", strings.Join(bs, " "))
			}
		}
		if refused != nil {
			fmt.Fprintf(stdout, "  ! %s\n", refused.Reason)
		}
		if st, err := p.State(ctx); err == nil {
			is := "is"
			if done, _ := p.Finished(ctx); done {
				is = "has finished,"
			}
			fmt.Fprintf(stdout, "  (%s %s in state %s, %s)\n", p.Who(), is, st, clockTime(p))
		}
	}
}

// clockTime is the rehearsal's time in the campaign's time zone, named when the campaign has
// one, so that it reads like the schedule's times.
func clockTime(p *rehearsal.Player) string {
	loc := p.Location()
	if loc == time.UTC {
		return p.Now().Format("Mon 2 Jan 15:04:05")
	}
	return p.Now().In(loc).Format("Mon 2 Jan 15:04:05 MST")
}
