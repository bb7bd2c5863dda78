package campaigns

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// moment is a point in time as a definition writes it: a date, or a duration after the
// campaign's launch (fromLaunch). A launch-relative moment is only a time once the engine
// knows when the campaign was launched (Definition.Anchor).
type moment struct {
	at         time.Time
	after      time.Duration
	fromLaunch bool
	node       *yaml.Node
}

func (m moment) set() bool { return m.fromLaunch || !m.at.IsZero() }

// resolve is the moment's time for a campaign launched at launch.
func (m moment) resolve(launch time.Time) time.Time {
	if m.fromLaunch {
		return launch.Add(m.after)
	}
	return m.at
}

func (m moment) add(d time.Duration) moment {
	if m.fromLaunch {
		m.after += d
	} else if !m.at.IsZero() {
		m.at = m.at.Add(d)
	}
	return m
}

// before reports whether m is before o; comparable is false when one is a date and the other
// counts from launch, which only the launch can order.
func (m moment) before(o moment) (before, comparable bool) {
	if !m.set() || !o.set() || m.fromLaunch != o.fromLaunch {
		return false, false
	}
	if m.fromLaunch {
		return m.after < o.after, true
	}
	return m.at.Before(o.at), true
}

func (m moment) String() string {
	if m.fromLaunch {
		return formatDuration(m.after) + " after launch"
	}
	return m.at.Format("2006-01-02 15:04")
}

// FormatDuration writes a duration the way definitions do (2d, 4d9h, 36h, 30m), for pages
// and messages that show one to people who write definitions.
func FormatDuration(d time.Duration) string { return formatDuration(d) }

// formatDuration writes a duration the way definitions do (2d, 4d9h, 36h, 30m): like
// fmtDuration, with whole days in front of the rest.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > day && d%day != 0 {
		return fmt.Sprintf("%dd", d/day) + fmtDuration(d%day)
	}
	return fmtDuration(d)
}

// moment reads a date, or a duration that counts from the campaign's launch.
func (p *parser) moment(f field, what string, loc *time.Location) moment {
	s := strings.TrimSpace(p.str(f, what))
	if s == "" {
		return moment{}
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return moment{at: t, node: f.val}
		}
	}
	if d, err := ParseDuration(s); err == nil {
		return moment{after: d, fromLaunch: true, node: f.val}
	}
	p.errf(f.val, "%s: %q is not a date (write it like 2025-06-01 or 2025-06-01 18:00) or a time after launch (like 7d or 36h)", what, s)
	return moment{}
}

// Open reports whether the campaign accepts new participants at t.
func (s Schedule) Open(t time.Time) bool {
	return (s.Start.IsZero() || !t.Before(s.Start)) && (s.End.IsZero() || t.Before(s.End))
}

// Stopped reports whether, at t, the campaign no longer answers even those who joined before
// its end: its hard stop has passed.
func (s Schedule) Stopped(t time.Time) bool {
	return !s.HardStop.IsZero() && !t.Before(s.HardStop)
}

// Schedule phases, as Phase names them.
const (
	PhaseScheduled = "scheduled" // before the start
	PhaseOpen      = "open"
	PhaseEnded     = "ended" // after the end: only those who joined before play on
	PhaseStopped   = "stopped"
)

// Phase says where t falls in the schedule.
func (s Schedule) Phase(t time.Time) string {
	switch {
	case s.Stopped(t):
		return PhaseStopped
	case !s.Start.IsZero() && t.Before(s.Start):
		return PhaseScheduled
	case !s.End.IsZero() && !t.Before(s.End):
		return PhaseEnded
	}
	return PhaseOpen
}

// Format writes t as participants and marketers read it, in the schedule's time zone:
// "Wednesday 1 July 2026, 09:00 (Europe/Amsterdam)".
func (s Schedule) Format(t time.Time) string {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Monday 2 January 2006, 15:04") + " (" + loc.String() + ")"
}

// FromLaunch reports whether any of the definition's times counts from its launch, so that
// the engine must anchor it (Anchor) before it runs.
func (d *Definition) FromLaunch() bool {
	s := d.Schedule
	if s.start.fromLaunch || s.end.fromLaunch || s.hardStop.fromLaunch {
		return true
	}
	for _, r := range d.Rounds {
		if r.starts.fromLaunch || r.deadline.fromLaunch {
			return true
		}
	}
	return false
}

// Anchor returns the definition with its launch-relative times (a schedule or round written
// as 7d) turned into dates, for a campaign launched at launch. A definition without such times
// is returned as is; otherwise the copy shares everything but the schedule and the rounds.
// Anchoring an anchored definition again moves it to the new launch.
func (d *Definition) Anchor(launch time.Time) *Definition {
	if !d.FromLaunch() {
		return d
	}
	c := *d
	s := &c.Schedule
	s.Start, s.End, s.HardStop = s.start.resolve(launch), s.end.resolve(launch), s.hardStop.resolve(launch)
	c.Rounds = make([]*Round, len(d.Rounds))
	for i, r := range d.Rounds {
		rc := *r
		rc.Starts, rc.Deadline = r.starts.resolve(launch), r.deadline.resolve(launch)
		c.Rounds[i] = &rc
	}
	return &c
}

// CheckSchedule warns about a schedule that is over at now: a campaign that ended before it
// was even launched greets nobody. Launch-relative schedules are never over before launch.
func CheckSchedule(def *Definition, now time.Time) Problems {
	s := def.Schedule
	if s.end.fromLaunch || s.End.IsZero() || now.Before(s.End) {
		return nil
	}
	line, col := nodePos(s.end.node)
	return Problems{{File: def.File, Line: line, Col: col, Severity: Warning,
		Msg: fmt.Sprintf("the schedule is over: it ended on %s, so nobody new can join (move schedule end, or write it as a time after launch like 30d)", s.Format(s.End))}}
}
