package broadcast

// PLANNER-TEMPORARY: the types of BROADCAST16.md the planner codes against until the pacing
// branch is merged; this file is deleted at that merge (the pacing engineer owns them).

import (
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

type Request struct {
	Campaign string
	Audience engine.Audience
	Message  campaigns.Message
	By       string
}

type Plan struct {
	Request      Request
	Number       NumberHealth
	Audience     int
	InWindow     int
	NeedTemplate int
	Skipped      map[string]int
	UsedLast24h  int
	AllowedToday int
	Days         []PlanDay
	Finish       time.Time
	Category     string
	ByCountry    map[string]int
	Cost         Cost
}

type PlanDay struct {
	Start time.Time
	Count int
}

type Cost struct {
	Currency string
	Total    float64
	Lines    []CostLine
	Unpriced int
}

type CostLine struct {
	Country, Category string
	Count             int
	Each, Total       float64
}

type Status string

const (
	StatusRunning   Status = "running"
	StatusPaused    Status = "paused"
	StatusDone      Status = "done"
	StatusCancelled Status = "cancelled"
)

type Broadcast struct {
	ID            string
	Request       Request
	Plan          Plan
	Status        Status
	PausedReason  string
	At, UpdatedAt time.Time
}

type Report struct {
	Planned, Waiting, Sent, Delivered, Read int
	Failed                                  map[string]int
	Skipped                                 map[string]int
	Cost                                    Cost
}

type Recipient struct {
	Seq                             int64
	ParticipantID, Address, Country string
	Template                        bool
	Status, Reason                  string
	ReleasedAt                      time.Time
	OutboxID                        int64
}

type Pricer interface {
	Country(address string) string
	Price(category, country string) (each float64, currency string, ok bool)
}
