package telegram

import (
	"sync"
	"time"
)

// window allows at most n sends per key in any span of length per: it keeps, per key, the
// times of the last n sends booked, and a send is due when the oldest of them is per old.
// One shape serves the three limits Telegram advises: 1 a second per chat, 20 a minute per
// group, 30 a second per bot. Time comes from the caller, so a fake clock tests it.
type window struct {
	n    int
	per  time.Duration
	logs map[string][]time.Time
}

func newWindow(n int, per time.Duration) *window {
	return &window{n: max(n, 1), per: per, logs: make(map[string][]time.Time)}
}

// next says when key may send next, at the earliest at, and never before its last send
// booked: a chat's messages keep their order.
func (w *window) next(key string, at time.Time) time.Time {
	log := w.logs[key]
	if len(log) > 0 && log[len(log)-1].After(at) {
		at = log[len(log)-1]
	}
	if len(log) < w.n {
		return at
	}
	if due := log[0].Add(w.per); due.After(at) {
		return due
	}
	return at
}

// book records a send of key at t, which next gave.
func (w *window) book(key string, t time.Time) {
	log := append(w.logs[key], t)
	if len(log) > w.n {
		log = log[len(log)-w.n:]
	}
	w.logs[key] = log
	if len(w.logs) > 4096 {
		w.prune(t)
	}
}

// prune forgets the keys whose last send is older than per: they are free again.
func (w *window) prune(now time.Time) {
	for k, log := range w.logs {
		if now.Sub(log[len(log)-1]) >= w.per {
			delete(w.logs, k)
		}
	}
}

// pacer books sends against the chat's own window (a private chat's or a group's) and the
// bot's.
type pacer struct {
	mu    sync.Mutex
	chat  *window
	group *window
	bot   *window
}

func newPacer(chatInterval time.Duration, groupPerMinute, botPerSecond int) *pacer {
	return &pacer{
		chat:  newWindow(1, chatInterval),
		group: newWindow(groupPerMinute, time.Minute),
		bot:   newWindow(botPerSecond, time.Second),
	}
}

// reserve books the next slot for a send to chat and says how long to wait for it. A slot
// further off than limit is not booked (ok false): the caller gives the send back to be tried
// later rather than hold it past its deadline.
func (p *pacer) reserve(chat string, group bool, now time.Time, limit time.Duration) (wait time.Duration, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	own := p.chat
	if group {
		own = p.group
	}
	// The first time both windows allow: moving to one's slot can only move the other's.
	at := now
	for {
		t := p.bot.next("", own.next(chat, at))
		if t.Equal(at) {
			break
		}
		at = t
	}
	wait = at.Sub(now)
	if wait > limit {
		return wait, false
	}
	own.book(chat, at)
	p.bot.book("", at)
	return wait, true
}
