package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
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
			switch {
			case r.NotSent != "":
				failf(no, "unexpected reply to %s after line %d, not sent (%s): %q", r.To, lastAction, r.NotSent, r.Text)
			case r.Template != "":
				failf(no, "unexpected reply to %s after line %d, sent as a template: %q", r.To, lastAction, describe(r))
			default:
				failf(no, "unexpected reply to %s after line %d: %q", r.To, lastAction, describe(r))
			}
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
				failf(l.No, "expected a reply to %s %q, got one to %s: %q", to, want, got.To, describe(got))
			} else if msg := parseExpect(p.def, want).check(got); msg != "" {
				failf(l.No, "%s", msg)
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
			if what == "rank" {
				got, err := p.Rank(ctx)
				if err != nil {
					failf(l.No, "rank of %s: %v", p.Who(), err)
				} else if got != strings.TrimSpace(val) {
					failf(l.No, "%s is ranked %s, want %s", p.Who(), got, strings.TrimSpace(val))
				}
				continue
			}
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
				failf(l.No, "unknown assertion %q (known: = state NAME, = rank N, = handoff TEAM)", what)
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

// expect is what a "<" line expects of a reply: a text (with * for any text) and, when the
// line ends in [Title] groups, the buttons' (or list rows') titles in order; or, after
// "template KEY", a template send with its parameters.
type expect struct {
	line string
	text string
	// buttons are checked only when the line has brackets (checkButtons); "[]" expects none.
	buttons      []string
	checkButtons bool
	// template is the template key expected; params, when given, its parameters in order.
	template    string
	params      []string
	checkParams bool
}

// parseExpect reads a "<" line's text. A line "template KEY …" expects a template only when
// KEY is one of def's templates, so that a persona who says "template …" can still be expected.
func parseExpect(def *campaigns.Definition, line string) expect {
	e := expect{line: line, text: line}
	if rest, ok := strings.CutPrefix(line, "template "); ok {
		key, params, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if _, declared := def.Templates[key]; declared {
			e.text, e.template = "", key
			if params = strings.TrimSpace(params); params != "" {
				e.checkParams = true
				for _, p := range strings.Split(params, "|") {
					e.params = append(e.params, strings.TrimSpace(p))
				}
			}
			return e
		}
	}
	for strings.HasSuffix(e.text, "]") {
		i := strings.LastIndex(e.text, "[")
		if i < 0 {
			break
		}
		title := e.text[i+1 : len(e.text)-1]
		e.text = strings.TrimRight(e.text[:i], " ")
		e.checkButtons = true
		if title != "" {
			e.buttons = append([]string{title}, e.buttons...)
		}
	}
	return e
}

// check returns why got does not meet the expectation ("" when it does).
func (e expect) check(got Reply) string {
	if got.NotSent != "" {
		return fmt.Sprintf("expected %q; the reply %q was not sent: %s (give the message a template: KEY)", e.line, got.Text, got.NotSent)
	}
	if e.template != "" {
		if got.Template == "" {
			return fmt.Sprintf("expected template %s, got a text (the window was open): %q", e.template, describe(got))
		}
		if got.Template != e.template || (e.checkParams && !matchAll(e.params, got.Params)) {
			return fmt.Sprintf("expected %q\n\tgot      %q", e.line, "template "+got.Template+params(got.Params))
		}
		return ""
	}
	if got.Template != "" {
		return fmt.Sprintf("expected %q, but a template was sent (the 24-hour window had closed): %q; expect it with < template %s%s",
			e.line, "template "+got.Template+params(got.Params), got.Template, params(got.Params))
	}
	if !Match(e.text, got.Text) || (e.checkButtons && !matchAll(e.buttons, got.Buttons)) {
		return fmt.Sprintf("expected %q\n\tgot      %q", e.line, describe(got))
	}
	return ""
}

// matchAll reports whether each of got matches its pattern in want, and there are as many.
func matchAll(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !Match(want[i], got[i]) {
			return false
		}
	}
	return true
}

// describe writes a reply the way a "<" line expects it: the text with its buttons in
// brackets, or the template with its parameters.
func describe(r Reply) string {
	if r.Template != "" {
		return "template " + r.Template + params(r.Params)
	}
	s := r.Text
	for _, b := range r.Buttons {
		s += " [" + b + "]"
	}
	return s
}

func params(ps []string) string {
	if len(ps) == 0 {
		return ""
	}
	return " " + strings.Join(ps, " | ")
}
