package loadgen

import (
	"slices"
	"time"
)

// Message is one webhook the tool sent, as the participant saw it.
type Message struct {
	// ID is the WhatsApp message id (wamid); a resend carries the same one.
	ID string
	// To is the participant's WhatsApp id, where the reply must go.
	To string
	// Sent is when the first attempt started: the participant's "send".
	Sent time.Time
	// Accepted is when the answer 200 arrived (zero if it never did).
	Accepted time.Time
	// Webhook is how long the accepted attempt took.
	Webhook time.Duration
	// Attempts counts the requests made for it: more than one only with resends.
	Attempts int
	// OK says the webhook was answered 200, so a reply is owed.
	OK bool
}

// Verdict is the exactly-once judgement of a run: for every accepted message, how many
// replies arrived.
type Verdict struct {
	// Messages counts the accepted messages judged, Answered those with a reply.
	Messages, Answered int
	// Lost lists the ids of accepted messages with no reply; Duplicates those with more than
	// one (each id once), and DuplicateReplies counts the replies beyond one.
	Lost, Duplicates []string
	DuplicateReplies int
	// Unexpected counts replies to addresses no judged message came from.
	Unexpected int
}

// OK reports whether every message got exactly one reply and no reply went elsewhere.
func (v Verdict) OK() bool {
	return len(v.Lost) == 0 && v.DuplicateReplies == 0 && v.Unexpected == 0
}

// Judge says, for each accepted message in msgs, how many of replies (arrival times by
// recipient, as Graph.Take returns them) are its own. Replies carry no message id, so a
// participant's messages, in the order they were sent, are matched with the replies to them in
// the order they arrived. With one message per participant (what --resend sends) that is
// exact; with several, a surplus reply is put on the participant's last message and a missing
// one on the last ones, whichever of them it belonged to.
func Judge(msgs []Message, replies map[string][]time.Time) Verdict {
	v, _ := match(msgs, replies)
	return v
}

// match judges like Judge and also returns, for each message, the arrival time of its reply
// (zero when it has none, or the message was not accepted).
func match(msgs []Message, replies map[string][]time.Time) (Verdict, []time.Time) {
	var v Verdict
	got := make([]time.Time, len(msgs))
	byTo := map[string][]int{}
	for i, m := range msgs {
		if m.OK {
			byTo[m.To] = append(byTo[m.To], i)
		}
	}
	for to, idx := range byTo {
		// Closed-loop senders append their messages in send order per participant, but the
		// slices of several senders are merged: sort to be sure.
		slices.SortStableFunc(idx, func(a, b int) int { return msgs[a].Sent.Compare(msgs[b].Sent) })
		rs := replies[to]
		for k, i := range idx {
			v.Messages++
			if k < len(rs) {
				got[i] = rs[k]
				v.Answered++
			} else {
				v.Lost = append(v.Lost, msgs[i].ID)
			}
		}
		if extra := len(rs) - len(idx); extra > 0 {
			v.DuplicateReplies += extra
			v.Duplicates = append(v.Duplicates, msgs[idx[len(idx)-1]].ID)
		}
	}
	for to, rs := range replies {
		if _, ok := byTo[to]; !ok {
			v.Unexpected += len(rs)
		}
	}
	slices.Sort(v.Lost)
	slices.Sort(v.Duplicates)
	return v, got
}

// Second is one second of a run, counted from the start of the load.
type Second struct {
	// T is the second's end, in whole seconds from the start (1 is the first second).
	T int
	// Accepted counts webhooks answered 200 in this second, Replied the replies to them that
	// arrived in it; Backlog is every accepted message so far without its reply yet.
	Accepted, Replied, Backlog int
	// P99 is the end-to-end p99 of the replies that arrived in this second.
	P99 time.Duration
	// After marks a second past the end of the load window: the drain.
	After bool
}

// Analysis is what a run's records say, the same for both modes.
type Analysis struct {
	// Start and End bound the load window: from the first webhook to the moment the tool
	// stopped sending (closed loop: --duration; open loop: the last webhook answered).
	Start, End time.Time
	// Window is End - Start; AcceptedInWindow counts webhooks answered 200 in it and
	// RepliedInWindow the replies to them that arrived in it; AcceptRate and ReplyRate are
	// those per second of the window.
	Window                            time.Duration
	AcceptedInWindow, RepliedInWindow int
	AcceptRate, ReplyRate             float64
	Webhook, EndToEnd                 Latency
	// Seconds has a line for every second from the start to the last reply.
	Seconds []Second
	// BacklogAtEnd counts accepted messages still without a reply when the window closed.
	// Drained says every message got its reply, Drain how long after the window the last
	// arrived (0 when nothing was left), DrainRate the replies after the window over that
	// time (a closed-loop sender's last webhook is answered after the window). Unanswered
	// counts accepted messages still without a reply After past the window's end.
	BacklogAtEnd int
	Drained      bool
	Drain        time.Duration
	DrainRate    float64
	After        time.Duration
	Unanswered   int
	// Elapsed runs from the start to the last reply; Sustained is replies / Elapsed:
	// messages/s through the whole path.
	Elapsed   time.Duration
	Sustained float64
	Verdict
}

// Analyze correlates msgs with replies (see Judge) and measures the run whose load window
// was [start, end]; after is the point past the window where unanswered messages are counted
// (0: 10 s).
func Analyze(msgs []Message, replies map[string][]time.Time, start, end time.Time, after time.Duration) Analysis {
	if after <= 0 {
		after = 10 * time.Second
	}
	v, got := match(msgs, replies)
	a := Analysis{Start: start, End: end, Window: end.Sub(start), After: after, Verdict: v}
	second := func(t time.Time) int {
		// Second 1 holds [start, start+1s); anything before the start counts in the first.
		return max(0, int(t.Sub(start)/time.Second)) + 1
	}
	var webhook, e2e []time.Duration
	var last time.Time
	repliedAfter := 0
	accepted, replied := map[int]int{}, map[int]int{}
	e2eBySecond := map[int][]time.Duration{}
	lastSecond := second(end)
	if !end.After(start) {
		lastSecond = 1
	} else if end.Sub(start)%time.Second == 0 {
		lastSecond--
	}
	for i, m := range msgs {
		if !m.OK {
			continue
		}
		webhook = append(webhook, m.Webhook)
		// A reply can reach the Graph API before the tool reads its webhook's 200: the server
		// had taken the message by then.
		acc := m.Accepted
		if r := got[i]; !r.IsZero() && r.Before(acc) {
			acc = r
		}
		accepted[second(acc)]++
		if !acc.After(end) {
			a.AcceptedInWindow++
		}
		r := got[i]
		if r.IsZero() {
			a.Unanswered++
			continue
		}
		d := r.Sub(m.Sent)
		e2e = append(e2e, d)
		s := second(r)
		replied[s]++
		e2eBySecond[s] = append(e2eBySecond[s], d)
		lastSecond = max(lastSecond, s)
		if !r.After(end) {
			a.RepliedInWindow++
		} else {
			repliedAfter++
			if r.After(end.Add(after)) {
				a.Unanswered++
			}
		}
		if r.After(last) {
			last = r
		}
	}
	a.BacklogAtEnd = a.AcceptedInWindow - a.RepliedInWindow
	backlog := 0
	for s := 1; s <= lastSecond; s++ {
		backlog += accepted[s] - replied[s]
		ds := e2eBySecond[s]
		slices.Sort(ds)
		a.Seconds = append(a.Seconds, Second{T: s, Accepted: accepted[s], Replied: replied[s], Backlog: backlog,
			P99: Percentile(ds, 99), After: s > 1 && !start.Add(time.Duration(s-1)*time.Second).Before(end)})
	}
	if a.Window > 0 {
		a.AcceptRate = float64(a.AcceptedInWindow) / a.Window.Seconds()
		a.ReplyRate = float64(a.RepliedInWindow) / a.Window.Seconds()
	}
	a.Drained = len(v.Lost) == 0
	if a.Drained && last.After(end) {
		a.Drain = last.Sub(end)
		if a.Drain > 0 {
			a.DrainRate = float64(repliedAfter) / a.Drain.Seconds()
		}
	}
	if !last.IsZero() {
		a.Elapsed = last.Sub(start)
		if a.Elapsed > 0 {
			a.Sustained = float64(len(e2e)) / a.Elapsed.Seconds()
		}
	}
	a.Webhook, a.EndToEnd = Summarize(webhook), Summarize(e2e)
	return a
}
