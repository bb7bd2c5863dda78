package webchat

import (
	"sync"
	"time"
)

// event is one chat line as the page receives it.
type event struct {
	ID    string `json:"id"`
	Dir   string `json:"dir"`
	Text  string `json:"text"`
	Media string `json:"media"`
	At    string `json:"at"`
	// Buttons are the choices a reply offers; the page shows them as buttons (a list from 4).
	Buttons []button `json:"buttons,omitempty"`

	// pushed is when Send published the event; the stream uses it to tell replies that may
	// already be in the transcript it read from those that cannot be.
	pushed time.Time
	// name is the Server-Sent Events name of a signal that is no chat line ("typing"); such
	// events are sent only to the pages open at the time, never replayed.
	name string
}

const (
	// subBuffer is how many replies a page may fall behind before it is cut off; a cut-off
	// page reconnects and reloads the transcript, so nothing is lost and the engine never
	// waits for a slow browser.
	subBuffer = 64
	// recentMax and recentTTL bound the replies kept per participant for a page that connects
	// while a reply is between Send and its transcript line (the greeting usually is).
	recentMax = 16
	recentTTL = 2 * time.Minute
)

// button is one choice offered with a reply.
type button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type subscriber struct {
	ch chan event
}

type recentLog struct {
	events []event
	last   time.Time
}

// hub routes replies to the open pages of a participant, in this process only.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*subscriber]struct{}
	recent map[string]*recentLog
	// typing is the latest typing cue per participant whose reply has not been published yet,
	// for a page that connects meanwhile (the greeting's cue usually comes before the stream).
	typing    map[string]event
	lastSweep time.Time
	done      chan struct{}
	closed    bool
}

func newHub() *hub {
	return &hub{
		subs:      map[string]map[*subscriber]struct{}{},
		recent:    map[string]*recentLog{},
		typing:    map[string]event{},
		lastSweep: time.Now(),
		done:      make(chan struct{}),
	}
}

// subscribe registers a page and returns, atomically with the registration, the replies
// published shortly before, so that none falls between them and the subscription.
func (h *hub) subscribe(participant string) (*subscriber, []event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &subscriber{ch: make(chan event, subBuffer)}
	if h.subs[participant] == nil {
		h.subs[participant] = map[*subscriber]struct{}{}
	}
	h.subs[participant][s] = struct{}{}
	var recent []event
	if r := h.recent[participant]; r != nil && time.Since(r.last) < recentTTL {
		recent = append(recent, r.events...)
	}
	return s, recent
}

// unsubscribe removes a page; it is safe to call after the hub dropped it.
func (h *hub) unsubscribe(participant string, s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(participant, s)
}

func (h *hub) drop(participant string, s *subscriber) {
	set := h.subs[participant]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	close(s.ch)
	if len(set) == 0 {
		delete(h.subs, participant)
	}
}

// publish hands ev to every page of the participant without blocking. A page whose buffer is
// full is dropped (its channel closed) so that it reconnects and catches up from the
// transcript.
func (h *hub) publish(participant string, ev event) {
	now := time.Now()
	ev.pushed = now
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.recent[participant]
	if r == nil {
		r = &recentLog{}
		h.recent[participant] = r
	}
	r.events = append(r.events, ev)
	if len(r.events) > recentMax {
		r.events = append(r.events[:0], r.events[len(r.events)-recentMax:]...)
	}
	r.last = now
	delete(h.typing, participant)
	if now.Sub(h.lastSweep) > recentTTL {
		for p, rl := range h.recent {
			if now.Sub(rl.last) > recentTTL {
				delete(h.recent, p)
			}
		}
		for p, ev := range h.typing {
			if now.Sub(ev.pushed) > recentTTL {
				delete(h.typing, p)
			}
		}
		h.lastSweep = now
	}
	for s := range h.subs[participant] {
		select {
		case s.ch <- ev:
		default:
			h.drop(participant, s)
		}
	}
}

// relay hands ev to every page of the participant now open, like publish, without keeping it
// for pages that connect later: those read it from the transcript.
func (h *hub) relay(participant string, ev event) {
	ev.pushed = time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[participant] {
		select {
		case s.ch <- ev:
		default:
			h.drop(participant, s)
		}
	}
}

func nowRFC3339() string { return time.Now().UTC().Format(time.RFC3339) }

// close ends every subscription; streams see h.done and return.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.done)
}

// signal hands a named event that is no chat line to the pages of the participant open now,
// without keeping it for pages that connect later. A page that is behind misses it.
func (h *hub) signal(participant string, ev event) {
	ev.pushed = time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.name == "typing" {
		h.typing[participant] = ev
	}
	for s := range h.subs[participant] {
		select {
		case s.ch <- ev:
		default:
		}
	}
}

// pendingTyping returns the participant's typing cue whose reply was not published yet, if it
// is recent.
func (h *hub) pendingTyping(participant string) (event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev, ok := h.typing[participant]
	if ok && time.Since(ev.pushed) > recentTTL {
		delete(h.typing, participant)
		return event{}, false
	}
	return ev, ok
}
