package whatsapp

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

// textCases are replies whose bodies appendTextMessage builds, odd texts and recipients
// among them.
var textCases = []engine.Outbound{
	{To: "447911123456", Text: "Who are you?", ID: 7},
	{To: "+447911123456", Text: "hi"},
	{To: "group:120363025246125244", Text: "Team, <b>go</b> & win", ID: 99},
	{To: "31600000001", Text: "see https://example.com/a?b=1&c=2"},
	{To: "31600000001", Text: "quote \" backslash \\ tab \t newline \n \x00 \u2028 ✓ 😀 \xff"},
	{To: "31600000001", Text: "http://plain.example"},
	{To: "31600000001", Text: "x", ID: -5},
}

// textReference is the body buildMessages and encoding/json make for out.
func textReference(out engine.Outbound) ([]byte, error) {
	msgs, err := buildMessages(out)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, errors.New("not one message")
	}
	return json.Marshal(msgs[0])
}

func checkTextBody(t *testing.T, out engine.Outbound) {
	t.Helper()
	if !isPlainText(out) {
		return
	}
	want, wantErr := textReference(out)
	got, err := appendTextMessage(nil, out)
	if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("appendTextMessage(%+v): error %v, buildMessages says %v", out, err, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("appendTextMessage(%+v) =\n%s\nencoding/json writes\n%s", out, got, want)
	}
}

func TestTextBodyIsWhatJSONWrites(t *testing.T) {
	for _, out := range textCases {
		checkTextBody(t, out)
	}
	for _, bad := range []engine.Outbound{{To: "", Text: "x"}, {To: "group:", Text: "x"}, {To: "31 6", Text: "x"},
		{To: "316", Text: string(make([]rune, MaxTextLen+1))}} {
		if _, err := appendTextMessage(nil, bad); err == nil {
			t.Errorf("appendTextMessage(to %q, %d characters) took it", bad.To, len([]rune(bad.Text)))
		}
		checkTextBody(t, bad)
	}
}

func TestMarkReadBodyIsWhatJSONWrites(t *testing.T) {
	for _, id := range []string{"wamid.IN1", `wamid."odd"\<>&`, ""} {
		for _, typing := range []bool{false, true} {
			m := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": id}
			if typing {
				m["typing_indicator"] = map[string]string{"type": "text"}
			}
			want, _ := json.Marshal(m)
			if got := appendMarkRead(nil, id, typing); string(got) != string(want) {
				t.Errorf("appendMarkRead(%q, %v) = %s, want %s", id, typing, got, want)
			}
		}
	}
}

func FuzzTextBody(f *testing.F) {
	for _, out := range textCases {
		f.Add(out.To, out.Text, out.ID)
	}
	f.Fuzz(func(t *testing.T, to, text string, id int64) {
		checkTextBody(t, engine.Outbound{To: to, Text: text, ID: id})
		m := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": text, "typing_indicator": map[string]string{"type": "text"}}
		if want, _ := json.Marshal(m); string(appendMarkRead(nil, text, true)) != string(want) {
			t.Fatalf("appendMarkRead(%q) = %s, want %s", text, appendMarkRead(nil, text, true), want)
		}
	})
}
