package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// queue joins u1 and queues replies due at the given offsets after t0 (besides the greeting,
// due at t0+1s), returning the participant.
func queue(t *testing.T, s Store, dues ...time.Duration) engine.Participant {
	t.Helper()
	p := MustJoin(t, s, "u1")
	var out []engine.Outbound
	for i, d := range dues {
		out = append(out, outbound(p, "reply "+itoa(int64(i+1)), d))
	}
	p2 := next(p, "door", 0)
	MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version, Outbox: out})
	return p2
}

func dueID(t *testing.T, s Store, text string) int64 {
	t.Helper()
	for _, o := range due(t, s, at(24*time.Hour)) {
		if o.Text == text {
			return o.ID
		}
	}
	t.Fatalf("no pending reply %q", text)
	return 0
}

var outboxTests = []test{
	{"DueOutboxHonoursDueTime", func(t *testing.T, s Store) {
		queue(t, s, 5*time.Second, 3*time.Second)
		for _, tc := range []struct {
			name string
			now  time.Time
			want []string
		}{
			{"BeforeAnything", at(999 * time.Millisecond), []string{}},
			{"ExactlyAtDueTime", at(time.Second), []string{"Welcome"}},
			{"BetweenDueTimes", at(4 * time.Second), []string{"Welcome", "reply 2"}},
			{"AfterAllInQueueOrder", at(time.Minute), []string{"Welcome", "reply 1", "reply 2"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				equal(t, "due", outTexts(due(t, s, tc.now)), tc.want)
			})
		}
	}},
	{"DueOutboxKeepsEachParticipantsQueueOrder", func(t *testing.T, s Store) {
		// Reply 1 is retried after a failed send and waits out its backoff: the replies
		// queued after it for u1 wait with it, whenever they are due; u2 is not held up.
		queue(t, s, 2*time.Second, 3*time.Second)
		MustJoin(t, s, "u2")
		id := dueID(t, s, "reply 1")
		noErr(t, "RetryOutbox", s.RetryOutbox(t.Context(), id, "rate limited", at(time.Hour), at(2*time.Second)))
		got := due(t, s, at(time.Minute))
		equal(t, "due while reply 1 waits", texts(got, func(o engine.Outbound) string { return o.To + ":" + o.Text }),
			[]string{"u1:Welcome", "u2:Welcome"})
		got = due(t, s, at(time.Hour))
		equal(t, "due after the backoff", texts(got, func(o engine.Outbound) string { return o.To + ":" + o.Text }),
			[]string{"u1:Welcome", "u1:reply 1", "u1:reply 2", "u2:Welcome"})
		// A limit cuts in queue order, so a participant's replies returned are always the
		// oldest of theirs that are pending.
		first, err := s.DueOutbox(t.Context(), at(time.Hour), 2)
		noErr(t, "DueOutbox", err)
		equal(t, "due with a limit", outTexts(first), []string{"Welcome", "reply 1"})
		// Once the reply went out, the ones after it are free.
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "w1", at(time.Minute)))
		noErr(t, "MarkSent", s.MarkSent(t.Context(), id, "w2", at(time.Hour)))
		equal(t, "due after reply 1 went out", outTexts(due(t, s, at(time.Hour))), []string{"reply 2", "Welcome"})
	}},
	{"DueOutboxRoundTripsAndLimits", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second, 3*time.Second)
		got, err := s.DueOutbox(t.Context(), at(time.Minute), 2)
		noErr(t, "DueOutbox", err)
		if len(got) != 2 || got[0].ID == 0 || got[1].ID <= got[0].ID {
			t.Fatalf("DueOutbox(limit 2) = %+v, want two rows with increasing ids", got)
		}
		want := outbound(p, "Welcome", time.Second)
		want.ID = got[0].ID
		equal(t, "first due reply", got[0], want)
	}},
	{"DueOutboxSaysWhoOptedOut", func(t *testing.T, s Store) {
		// The sender holds back a broadcast queued from a list read before its participant
		// opted out: DueOutbox says who is opted out now.
		p := MustJoin(t, s, "u1")
		if got := due(t, s, at(time.Hour)); len(got) != 1 || got[0].OptedOut {
			t.Fatalf("due before opting out = %+v, want the welcome, not opted out", got)
		}
		out := next(p, engine.StateOptedOut, time.Minute)
		out.Finished = true
		MustCommit(t, s, engine.Step{Participant: out, PrevVersion: p.Version, CancelOutbox: true,
			Outbox: []engine.Outbound{outbound(p, "Bye", time.Minute)}})
		cast := outbound(p, "News", time.Minute)
		cast.BroadcastID, cast.From = "b1", "pn-b"
		noErr(t, "Enqueue", s.Enqueue(t.Context(), []engine.Outbound{cast}))
		got := due(t, s, at(time.Hour))
		equal(t, "due", outTexts(got), []string{"Bye", "News"})
		equal(t, "broadcast sent from", got[1].From, "pn-b")
		for _, o := range got {
			if !o.OptedOut {
				t.Errorf("due %q: OptedOut = false, want true", o.Text)
			}
		}
	}},
	{"MarkSentAddsTranscriptLine", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second)
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "wamid.out1", at(3*time.Second)))
		lines, err := s.Transcript(t.Context(), p.ID)
		noErr(t, "Transcript", err)
		if len(lines) != 1 {
			t.Fatalf("Transcript = %+v, want the sent reply", lines)
		}
		lines[0].ID = 0
		equal(t, "Transcript", lines, []engine.Line{{ParticipantID: p.ID, Direction: engine.Out,
			Text: "Welcome", At: at(3 * time.Second)}})
		equal(t, "still due", outTexts(due(t, s, at(time.Hour))), []string{"reply 1"})
		if l, ok := s.(OutboxLister); ok {
			all, err := l.Outbox(t.Context(), p.ID)
			noErr(t, "Outbox", err)
			if all[0].Status != engine.StatusSent || all[0].PlatformID != "wamid.out1" {
				t.Errorf("sent row = %+v, want status sent with the platform id", all[0])
			}
		}
	}},
	{"DeliveryReportsNeverDowngrade", func(t *testing.T, s Store) {
		rec, ok1 := s.(DeliveryRecorder)
		l, ok2 := s.(OutboxLister)
		if !ok1 || !ok2 {
			t.Skip("store records no delivery reports")
		}
		p := queue(t, s, 2*time.Second)
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "wamid.d1", at(3*time.Second)))
		steps := []struct {
			report engine.Delivery
			want   string
		}{
			{engine.Delivery{Status: "sent", At: at(4 * time.Second)}, "sent"},
			{engine.Delivery{Status: "read", At: at(6 * time.Second)}, "read"},
			{engine.Delivery{Status: "delivered", At: at(5 * time.Second)}, "read"},
			{engine.Delivery{Status: "failed", ErrorCode: 131026, ErrorTitle: "undeliverable", At: at(7 * time.Second)}, "read"},
			{engine.Delivery{Status: "bogus", At: at(8 * time.Second)}, "read"},
		}
		for _, st := range steps {
			noErr(t, "UpdateDelivery", rec.UpdateDelivery(t.Context(), "wamid.d1", st.report))
			all, err := l.Outbox(t.Context(), p.ID)
			noErr(t, "Outbox", err)
			if got := all[0].Delivery.Status; got != st.want {
				t.Fatalf("after %q the delivery is %q, want %q", st.report.Status, got, st.want)
			}
		}
		noErr(t, "UpdateDelivery of an unknown message", rec.UpdateDelivery(t.Context(), "wamid.elsewhere", engine.Delivery{Status: "read"}))
	}},
	{"DeliveryReportBeforeTheSendIsRecorded", func(t *testing.T, s Store) {
		// The platform reports on a reply as soon as it accepted it; the sender may record the
		// send later (a round's sends are recorded together). The report waits for the record.
		rec, ok1 := s.(DeliveryRecorder)
		l, ok2 := s.(OutboxLister)
		if !ok1 || !ok2 {
			t.Skip("store records no delivery reports")
		}
		p := queue(t, s, 2*time.Second)
		welcome := dueID(t, s, "Welcome")
		read := engine.Delivery{Status: "read", At: at(5 * time.Second)}
		for _, r := range []engine.Delivery{
			{Status: "delivered", At: at(4 * time.Second)},
			read,
			{Status: "delivered", At: at(6 * time.Second)}, // late and lower: changes nothing
		} {
			noErr(t, "UpdateDelivery before MarkSent", rec.UpdateDelivery(t.Context(), "wamid.early", r))
		}
		noErr(t, "UpdateDelivery of another message", rec.UpdateDelivery(t.Context(), "wamid.other", engine.Delivery{Status: "failed", At: at(4 * time.Second)}))
		noErr(t, "MarkSent", s.MarkSent(t.Context(), welcome, "wamid.early", at(3*time.Second)))
		all, err := l.Outbox(t.Context(), p.ID)
		noErr(t, "Outbox", err)
		equal(t, "delivery kept for the record", all[0].Delivery, read)
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "reply 1"), "wamid.late", at(7*time.Second)))
		all, err = l.Outbox(t.Context(), p.ID)
		noErr(t, "Outbox", err)
		equal(t, "a reply with no report", all[1].Delivery, engine.Delivery{})
		// A report after the record is taken as before.
		noErr(t, "UpdateDelivery after MarkSent", rec.UpdateDelivery(t.Context(), "wamid.late", engine.Delivery{Status: "delivered", At: at(8 * time.Second)}))
		all, err = l.Outbox(t.Context(), p.ID)
		noErr(t, "Outbox", err)
		equal(t, "delivery after the record", all[1].Delivery.Status, "delivered")
	}},
	{"FailedDeliveryKeepsCodeAndTitle", func(t *testing.T, s Store) {
		rec, ok1 := s.(DeliveryRecorder)
		l, ok2 := s.(OutboxLister)
		if !ok1 || !ok2 {
			t.Skip("store records no delivery reports")
		}
		p := queue(t, s, 2*time.Second)
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "wamid.f1", at(3*time.Second)))
		d := engine.Delivery{Status: "failed", ErrorCode: 131026, ErrorTitle: "Message undeliverable", At: at(4 * time.Second)}
		noErr(t, "UpdateDelivery", rec.UpdateDelivery(t.Context(), "wamid.f1", d))
		all, err := l.Outbox(t.Context(), p.ID)
		noErr(t, "Outbox", err)
		equal(t, "delivery", all[0].Delivery, d)
	}},
	{"TranscriptKeepsWriteOrder", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "w1", at(time.Second)))
		id := MustSaveInbound(t, s, inbound("m1", "u1", "let me in"))
		MustCommit(t, s, engine.Step{InboundID: id, Participant: next(p, "door", time.Minute), PrevVersion: p.Version,
			Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "let me in", At: at(time.Minute)}},
			Outbox: []engine.Outbound{outbound(p, "No.", time.Minute)}})
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "No."), "w2", at(time.Minute)))
		equal(t, "Transcript", lineTexts(t, s, p.ID), []string{"out:Welcome", "in:let me in", "out:No."})
	}},
	{"TranscriptOfUnknownParticipantIsEmpty", func(t *testing.T, s Store) {
		equal(t, "Transcript", lineTexts(t, s, "nobody"), []string{})
	}},
	{"MarkSentTwiceConflicts", func(t *testing.T, s Store) {
		p := queue(t, s)
		id := dueID(t, s, "Welcome")
		noErr(t, "MarkSent", s.MarkSent(t.Context(), id, "w1", at(time.Second)))
		wantErr(t, "second MarkSent", s.MarkSent(t.Context(), id, "w2", at(2*time.Second)), errs.ErrConflict)
		equal(t, "Transcript", lineTexts(t, s, p.ID), []string{"out:Welcome"})
	}},
	{"MarkFailedRecordsReason", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second)
		noErr(t, "MarkFailed", s.MarkFailed(t.Context(), dueID(t, s, "Welcome"), "no sender for channel webchat", at(time.Second)))
		equal(t, "still due", outTexts(due(t, s, at(time.Hour))), []string{"reply 1"})
		equal(t, "Transcript", lineTexts(t, s, p.ID), []string{})
		if l, ok := s.(OutboxLister); ok {
			all, err := l.Outbox(t.Context(), p.ID)
			noErr(t, "Outbox", err)
			equal(t, "Outbox", texts(all, func(o engine.Outbound) string { return o.Status + ":" + o.Error }),
				[]string{"failed:no sender for channel webchat", "pending:"})
		}
	}},
	{"MarkUnknownReplyIsNotFound", func(t *testing.T, s Store) {
		wantErr(t, "MarkSent", s.MarkSent(t.Context(), 987654, "x", t0), errs.ErrNotFound)
		wantErr(t, "MarkFailed", s.MarkFailed(t.Context(), 987654, "x", t0), errs.ErrNotFound)
	}},
}
