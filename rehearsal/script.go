// Package rehearsal owns campaign rehearsals: playing a campaign against an engine with its
// own temporary store and a clock that moves only when told, either line by line (campaign
// simulate) or from a script of participant lines, moderator commands and expected replies
// that marketers keep next to their campaign as a regression test.
package rehearsal

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Script is a parsed rehearsal script.
//
// A script is a list of lines:
//
//	# a comment
//	> Hello Sven                 the current participant sends a text
//	/photo                        the current participant sends a photo (also /video, /audio, /document)
//	/approve                      a moderator approves the latest pending entry (also /reject)
//	/verdict winner               a verdict on the participant (shortlisted, winner, eliminated, advanced)
//	/choose BUTTON_ID             the participant taps a button or list row
//	/location 52.37 4.89          the participant shares a location
//	/codes vouchers A1 B2         adds codes to a pool of codes (after those of its file)
//	/wait 25h                     time passes (timers and deadlines fire)
//	/wait until 2026-03-02 09:00  time passes until then, in the campaign's time zone
//	/as bob                       switch to (or create) participant bob; /team red does the same for a team
//	/form red                     the current participant forms team red as on the web chat; /join red joins it
//	/round start NAME             a round starts (also /round close NAME)
//	/winners                      the top of the ranking get the verdict winner
//	/agent Here is your recipe    a human agent answers from the dashboard; /handback returns to the bot
//	/broadcast subscribed topic=sport template weekly nl: Hallo | en: Hello
//	                              a broadcast to a state (* for all), by a variable, with a template
//	/locale en-GB                 the current participant's app or browser language, sent at join
//	< You're on the list*         the next reply; * matches any text
//	< Photo or video? [Photo] [Video]   the next reply with these buttons (or list rows), in order
//	< template on_the_list X7     the next reply went out as this template, with these parameters
//	= state guest_list            the current participant is in that state
//	= rank 2                      the current participant is ranked 2 (- : not ranked)
//	= handoff billing             the current participant's conversation is with team billing (- : the bot)
//	! participant opted out       the command before was refused, for this reason
//
// Every reply must be expected, in order, before the next action line: an unexpected reply
// fails the script as much as a missing one. Except after a /wait straight after an action (no
// < line between): time passed while the persona was still typing, so the next action comes
// before the first one's replies are all out, and both actions' replies are expected after it.
type Script struct {
	File  string
	Lines []Line
}

// Line is one meaningful script line.
type Line struct {
	No int
	// Op is ">" (text), "/" (command), "<" (expected reply), "=" (assertion) or "!" (the
	// command before was refused).
	Op  string
	Arg string
}

// ParseScript reads a script. Errors name the file and line.
func ParseScript(file string, src []byte) (*Script, error) {
	s := &Script{File: file}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	no := 0
	for sc.Scan() {
		no++
		raw := strings.TrimRight(sc.Text(), " \t\r")
		text := strings.TrimLeft(raw, " \t")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		op := text[:1]
		arg := strings.TrimSpace(text[1:])
		switch op {
		case ">", "<", "=", "!":
		case "/":
			arg = text
		default:
			return nil, fmt.Errorf("%s:%d:1: a line starts with > (participant), / (command), < (expected reply), = (assertion), ! (refusal) or # (comment)", file, no)
		}
		if op == "/" {
			if _, ok := commands[strings.Fields(arg)[0]]; !ok {
				return nil, fmt.Errorf("%s:%d:1: unknown command %s (known: %s)", file, no, strings.Fields(arg)[0], commandList())
			}
		}
		s.Lines = append(s.Lines, Line{No: no, Op: op, Arg: arg})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

// Match reports whether a reply matches an expected line, where * stands for any text.
func Match(pattern, reply string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == reply
	}
	if !strings.HasPrefix(reply, parts[0]) {
		return false
	}
	rest := reply[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(rest, p) && len(rest) >= len(p)
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return true
}
