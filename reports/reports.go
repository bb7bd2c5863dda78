// Package reports owns the read models of the marketer's and the moderator's pages: the
// inbox's conversations and their filters, read marks, the broadcast history, the per-day
// series the charts draw, the delivery counts per channel, and the rows the CSV exports
// stream. The stores fill them from what the engine and the judge wrote; nothing here writes
// campaign state, and nothing here knows HTTP or SQL.
package reports

import (
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// DefaultPage is how many rows a page of a list shows.
const DefaultPage = 50

// SearchWindow is how many conversations, most recently active first, a search looks
// through. A search over every transcript of a large campaign would read the whole table on
// every keystroke; the window keeps a search as fast as the list, and the page says so.
const SearchWindow = 1000

// ConversationFilter picks conversations for the inbox and the participants list. The zero
// filter is every conversation, most recently active first.
type ConversationFilter struct {
	// Campaign, when set, keeps that campaign's conversations only.
	Campaign string
	// State keeps participants in that state (with Campaign).
	State string
	// Team keeps conversations handed off to that team; Waiting keeps those handed off to any
	// team (waiting for a human).
	Team    string
	Waiting bool
	// Assignee keeps the conversations assigned to that dashboard user; Unassigned those
	// assigned to nobody.
	Assignee   string
	Unassigned bool
	// Search keeps conversations whose participant has a variable value (their name, their
	// answers) or a transcript line containing it, case-insensitively, among the SearchWindow
	// most recently active that match the other filters.
	Search string
	// Before continues a list after its last row (keyset pagination): only conversations less
	// recently active than it.
	Before Cursor
	// Limit bounds the rows; DefaultPage when zero.
	Limit int
}

// Cursor is a position in a list of conversations, most recently active first.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// CursorOf is the cursor just after p.
func CursorOf(p engine.Participant) Cursor { return Cursor{At: p.UpdatedAt, ID: p.ID} }

// Before reports whether p comes after c in the list (less recently active, ties by id
// descending): what a store keeps for ConversationFilter.Before.
func (c Cursor) Before(p engine.Participant) bool {
	if c.IsZero() {
		return true
	}
	if !p.UpdatedAt.Equal(c.At) {
		return p.UpdatedAt.Before(c.At)
	}
	return p.ID < c.ID
}

// PageSize is f's limit, DefaultPage when unset.
func (f ConversationFilter) PageSize() int {
	if f.Limit <= 0 {
		return DefaultPage
	}
	return f.Limit
}

// Keeps reports whether p passes f's filters other than Search and Before, the way every
// store reads them.
func (f ConversationFilter) Keeps(p engine.Participant) bool {
	switch {
	case f.Campaign != "" && p.Campaign != f.Campaign:
		return false
	case f.State != "" && p.State != f.State:
		return false
	case f.Team != "" && p.Vars["handoff"] != f.Team:
		return false
	case f.Waiting && p.Vars["handoff"] == "":
		return false
	}
	return true
}

// MatchesVars reports whether one of p's variable values contains the search text.
func MatchesVars(p engine.Participant, search string) bool {
	s := strings.ToLower(search)
	for _, v := range p.Vars {
		if strings.Contains(strings.ToLower(v), s) {
			return true
		}
	}
	return false
}

// Conversation is one row of the inbox: the participant and the latest line they wrote.
type Conversation struct {
	Participant engine.Participant
	// Last is the participant's latest inbound line (zero when they wrote none).
	Last engine.Line
	// Assignee is the dashboard user the conversation is assigned to ("" for nobody).
	Assignee string
}

// Broadcast is one broadcast as the history shows it.
type Broadcast struct {
	ID       string
	Campaign string
	Text     string
	Audience engine.Audience
	Template string
	By       string
	Queued   int
	At       time.Time
}

// AudienceText says in words whom a broadcast went to.
func AudienceText(a engine.Audience) string {
	s := "everyone"
	if a.State != "" {
		s = "everyone in " + a.State
	}
	if a.Var != "" {
		s += " with " + a.Var + " = " + a.Value
	}
	return s
}

// Day is the UTC day of t, as the per-day series count it.
func Day(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// DayCount is how many things happened on a day under a key (a delivery status).
type DayCount struct {
	Day time.Time
	Key string
	N   int
}

// EntryDay is one day of entries: how many came in, how many were decided, and how long the
// decided ones waited for their verdict on average.
type EntryDay struct {
	Day      time.Time
	Received int
	Decided  int
	// Wait is the mean time from receiving to deciding of the entries decided that day.
	Wait time.Duration
}

// ScoreRow is one judge's score on one criterion of one entry, as the scores export lists it.
type ScoreRow struct {
	EntryID   string
	Judge     string
	Criterion string
	Score     int
	At        time.Time
}

// Assignment says which dashboard user a conversation is assigned to: the moderator who
// answers it, whatever team it is handed to.
type Assignment struct {
	ParticipantID string
	Campaign      string
	// User is the assignee; Assign with "" removes the assignment.
	User string
	// By is who assigned it, At when.
	By string
	At time.Time
}

// RoundCount is how many participants (teams, in a race) a round of a campaign got to, by
// their `round` variable: the last round that started for them. Playing are still in the
// race (in that round, or waiting for the next); Out finished there (eliminated, timed out,
// left, or won the last round).
type RoundCount struct {
	Round   string
	Playing int
	Out     int
}
