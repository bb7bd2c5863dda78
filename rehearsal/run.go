package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Run replays script with p and returns one message per mismatch, each starting with
// file:line; none means the rehearsal went as written.
func Run(ctx context.Context, script *Script, p *Player) []string {
	var fails []string
	failf := func(no int, format string, args ...any) {
		fails = append(fails, fmt.Sprintf("%s:%d: %s", script.File, no, fmt.Sprintf(format, args...)))
	}
	var pending []Reply
	lastAction := 0
	// refused is why the last command was refused, until a "!" line expects it.
	refused := ""
	flush := func(no int) {
		for _, r := range pending {
			failf(no, "unexpected reply to %s after line %d: %q", r.To, lastAction, r.Text)
		}
		pending = nil
		if refused != "" {
			failf(no, "line %d was refused: %s", lastAction, refused)
			refused = ""
		}
	}
	// typing says the last action's replies may still be being typed; meanwhile that a /wait
	// passed while they were, so the next action comes before they are all out, and its
	// replies are expected after theirs.
	typing, meanwhile := false, false
	settle := func(no int) {
		if !typing {
			return
		}
		typing, meanwhile = false, false
		replies, err := p.Settle(ctx)
		if err != nil {
			failf(no, "%v", err)
		}
		pending = append(pending, replies...)
	}
	for _, l := range script.Lines {
		switch l.Op {
		case ">", "/":
			wait := l.Op == "/" && strings.Fields(l.Arg)[0] == "/wait"
			if wait && typing {
				// Time passes while the persona types: what comes due goes out, the rest
				// keeps typing.
				replies, err := p.Act(ctx, l)
				if err != nil {
					failf(l.No, "%v", err)
				}
				pending = append(pending, replies...)
				meanwhile = true
				continue
			}
			if !meanwhile {
				settle(l.No)
				flush(l.No)
			}
			act := p.Act
			if wait {
				act = p.Do
			}
			replies, err := act(ctx, l)
			var ref *RefusedError
			if errors.As(err, &ref) {
				refused, err = ref.Reason, nil
			}
			if err != nil {
				failf(l.No, "%v", err)
				continue
			}
			pending, lastAction = append(pending, replies...), l.No
			typing, meanwhile = !wait, false
		case "<":
			settle(l.No)
			to, want := p.Who(), l.Arg
			if strings.HasPrefix(want, "@") {
				name, rest, _ := strings.Cut(want[1:], " ")
				to, want = name, strings.TrimSpace(rest)
			}
			if len(pending) == 0 {
				failf(l.No, "expected a reply to %s %q, got none", to, want)
				continue
			}
			got := pending[0]
			pending = pending[1:]
			if got.To != to && got.To != "team-"+to {
				failf(l.No, "expected a reply to %s %q, got one to %s: %q", to, want, got.To, got.Text)
			} else if !Match(want, got.Text) {
				failf(l.No, "expected %q\n\tgot      %q", want, got.Text)
			}
		case "!":
			switch {
			case refused == "":
				failf(l.No, "expected line %d to be refused (%s); it was not", lastAction, l.Arg)
			case !Match(l.Arg, refused):
				failf(l.No, "expected line %d to be refused: %q\n\tgot      %q", lastAction, l.Arg, refused)
			}
			refused = ""
		case "=":
			settle(l.No)
			what, val, _ := strings.Cut(l.Arg, " ")
			if what == "handoff" {
				want := strings.TrimSpace(val)
				team, err := p.Handoff(ctx)
				shown := team
				if shown == "" {
					shown = "-"
				}
				switch {
				case err != nil:
					failf(l.No, "hand-off of %s: %v", p.Who(), err)
				case shown != want:
					failf(l.No, "%s is handed to %q, want %q (- is the bot)", p.Who(), shown, want)
				}
				continue
			}
			if what != "state" {
				failf(l.No, "unknown assertion %q (known: = state NAME, = handoff TEAM)", what)
				continue
			}
			st, err := p.State(ctx)
			if err != nil {
				failf(l.No, "state of %s: %v", p.Who(), err)
			} else if st != strings.TrimSpace(val) {
				failf(l.No, "%s is in state %q, want %q", p.Who(), st, strings.TrimSpace(val))
			}
		}
	}
	settle(lastAction)
	flush(lastAction)
	return fails
}
