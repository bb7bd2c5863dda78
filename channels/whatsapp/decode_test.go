package whatsapp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedBodies are every webhook of testdata, which the decoder must read itself.
func seedBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// decodeCases are bodies that probe what encoding/json does that a reader of its own could
// get wrong; each says whether decodeEnvelope must read it itself (false: it must give up,
// and encoding/json decides).
var decodeCases = []struct {
	body string
	own  bool
}{
	{`{}`, true},
	{` {"entry":[]} `, true},
	{`{"entry":null,"object":null}`, true},
	{`{"entry":[null,{"time":null,"changes":[{"value":null}]}]}`, true},
	{`{"entry":[{"time":"1767614400","changes":[{"field":"messages","value":{"messages":[{"id":"a\u00e9\ud83c\udf89\ud800x\/","from":"1","type":"text","text":{"body":"\u2028<>&\"\\\b\f\n\r\t"}}]}}]}]}`, true},
	{"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"id\":\"\xff\xfe\xed\xa0\x80\",\"text\":{\"body\":\"\xe2\x82\"}}]}}]}]}", true},
	{`{"entry":[{"changes":[{"value":{"messages":[{"location":{"latitude":-1.5e3,"longitude":0}},{"location":{"latitude":1E-2,"longitude":-0}}]}}]}]}`, true},
	{`{"entry":[{"changes":[{"value":{"errors":[{"code":-7,"error_data":{"details":"x"},"extra":[1,{"a":[true,false,null]}]}]}}]}]}`, true},
	{`{"entry":[{"changes":[{"value":{"messages":[{"image":{"voice":true},"audio":{"voice":null},"context":null,"text":{}}]}}]}]}`, true},
	{`{"unknown":{"deep":[[[[]]]]},"entry":[]}`, true},
	// What encoding/json decides: it refuses, folds case, merges duplicates or keeps its own
	// odd rules.
	{`null`, false},
	{``, false},
	{`[]`, false},
	{`{"entry":[]} x`, false},
	{`{"Entry":[]}`, false},
	{`{"entry":[{"ID":"x"}]}`, false},
	{`{"entry":[],"entry":[]}`, false},
	{`{"entr\u0079":[]}`, false},
	{`{"entry":[{"changes":[{"value":{"errors":[{"code":1.5}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"errors":[{"code":"1"}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"errors":[{"code":99999999999999999999}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"messages":[{"location":{"latitude":1e999}}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"messages":[{"timestamp":5}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"messages":[{"text":"hi"}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"messages":[{"id":"\x"}]}}]}]}`, false},
	{`{"entry":[{"changes":[{"value":{"messages":[{"id":"a` + "\n" + `"}]}}]}]}`, false},
	{`{"entry":[{"x":01}]}`, false},
	{`{"entry":[{"x":1.}]}`, false},
	{`{"entry":[{"x":tru}]}`, false},
	{`{"entry":[{"x":[1,]}]}`, false},
	{`{"entry":[{"x":{"a":1,}}]}`, false},
	{`{"entry":[{"x":"\ud800\uzzzz"}]}`, false},
	{`{"entry":[{"k":1}]` + "\u212a" + `}`, false},
}

func TestDecodeEnvelopeOwnsTheWebhooks(t *testing.T) {
	for name, body := range seedBodies(t) {
		var env envelope
		if !decodeEnvelope(body, &env) {
			t.Errorf("%s: left to encoding/json", name)
		}
		checkDecode(t, body)
	}
	for _, tt := range decodeCases {
		var env envelope
		if got := decodeEnvelope([]byte(tt.body), &env); got != tt.own {
			t.Errorf("decodeEnvelope(%q) read it itself: %v, want %v", tt.body, got, tt.own)
		}
		checkDecode(t, []byte(tt.body))
	}
}

// checkDecode fails when decodeEnvelope reads body itself and its result is not
// json.Unmarshal's.
func checkDecode(t *testing.T, body []byte) {
	t.Helper()
	var got envelope
	if !decodeEnvelope(body, &got) {
		return
	}
	var want envelope
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("decodeEnvelope read %q, which encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeEnvelope(%q) =\n%#v\nencoding/json:\n%#v", body, got, want)
	}
}

// FuzzDecodeEnvelope checks that what decodeEnvelope reads itself, encoding/json reads alike:
// the same envelope, nil and empty lists and pointers included.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, body := range seedBodies(f) {
		f.Add(body)
	}
	for _, tt := range decodeCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

// answerBodies are Graph API answers: the platform's own shapes, and what a reader of its own
// could get wrong.
var answerBodies = []string{
	`{"messaging_product":"whatsapp","contacts":[{"input":"+31600000042","wa_id":"31600000042"}],"messages":[{"id":"wamid.HBgLMzE2MDAwMDAwNDIVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]}`,
	`{"messaging_product":"whatsapp","contacts":[{"input":"+1","wa_id":"1"}],"messages":[{"id":"wamid.X","message_status":"accepted"}]}`,
	`{"success":true}`, `{"success":false}`, `{"success":null}`, `{}`, `null`, ``, `[]`, `{"success":"true"}`,
	`{"messages":[]}`, `{"messages":[{}],"success":true}`, `{"messages":[{"id":"a"},{"id":"b"}]}`, `{"messages":[{"id":"a"},{"id":5}]}`,
	`{"messages":[null,{"id":"b"}]}`, `{"messages":null,"success":true}`, `{"Messages":[{"id":"a"}]}`, `{"messages":[{"ID":"a"}]}`,
	`{"success":true,"success":false}`, `{"success":true} {}`, `{"messages":[{"id":"\u0077amid"}]}`,
	`{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"error_subcode":2494055,"error_data":{"messaging_product":"whatsapp","details":"Message Undeliverable."},"error_user_title":"t","fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`,
	`{"error":{"code":190}}`, `{"error":{"message":"x","code":"4"}}`, `{"error":{"code":1e3}}`, `{"error":null}`, `{"error":{"error_data":null}}`,
	`{"error":{"Code":4}}`, `<html>Bad gateway</html>`,
}

func TestDecodeAnswers(t *testing.T) {
	for _, body := range answerBodies {
		checkAnswer(t, []byte(body))
		checkGraphError(t, []byte(body))
	}
	// The platform's own shapes are read without encoding/json.
	for _, body := range []string{answerBodies[0], answerBodies[1], answerBodies[2], answerBodies[21]} {
		var a sendAnswer
		var g graphError
		if !decodeSendAnswer([]byte(body), &a) || !decodeGraphError([]byte(body), &g) {
			t.Errorf("%s: left to encoding/json", body)
		}
	}
}

// checkAnswer fails when answerID says something else of body than encoding/json does.
func checkAnswer(t *testing.T, body []byte) {
	t.Helper()
	id, err := answerID(body)
	var r sendResponse
	wantID, wantErr := "", json.Unmarshal(body, &r)
	switch {
	case wantErr != nil:
	case len(r.Messages) > 0:
		wantID = r.Messages[0].ID
	case !r.Success:
		wantErr = errors.New("no id")
	}
	if id != wantID || (err == nil) != (wantErr == nil) {
		t.Fatalf("answerID(%q) = %q, %v; encoding/json: %q, %v", body, id, err, wantID, wantErr)
	}
}

// checkGraphError fails when decodeGraphError reads body itself and its result is not
// json.Unmarshal's.
func checkGraphError(t *testing.T, body []byte) {
	t.Helper()
	var got graphError
	if !decodeGraphError(body, &got) {
		return
	}
	var want graphError
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("decodeGraphError read %q, which encoding/json refuses: %v", body, err)
	}
	if got != want {
		t.Fatalf("decodeGraphError(%q) = %+v, encoding/json: %+v", body, got, want)
	}
}

// FuzzDecodeAnswers checks the Graph API's answers read without reflection against
// encoding/json.
func FuzzDecodeAnswers(f *testing.F) {
	for _, body := range answerBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, body)
		checkGraphError(t, body)
	})
}
