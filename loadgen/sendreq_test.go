package loadgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// referenceSendRequest reads body as parseSendRequest promises to: encoding/json into a map
// (exact keys, the last of a repeated key), the four fields strings or null.
func referenceSendRequest(body []byte) (map[string]string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return nil, false
	}
	out := map[string]string{}
	for _, k := range []string{"messaging_product", "to", "type", "status"} {
		raw, ok := m[k]
		if !ok || string(raw) == "null" {
			out[k] = ""
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		out[k] = s
	}
	return out, true
}

func checkSendRequest(t *testing.T, body []byte) {
	t.Helper()
	want, wantOK := referenceSendRequest(body)
	got, ok := parseSendRequest(body)
	if ok != wantOK {
		t.Fatalf("parseSendRequest(%q) ok = %v, encoding/json says %v", body, ok, wantOK)
	}
	if !ok {
		return
	}
	for k, g := range map[string][]byte{"messaging_product": got.MessagingProduct, "to": got.To, "type": got.Type, "status": got.Status} {
		if string(g) != want[k] {
			t.Fatalf("parseSendRequest(%q)[%s] = %q, encoding/json says %q", body, k, g, want[k])
		}
	}
}

// sendRequestSeeds are the channel's own request bodies (its goldens) and odd shapes.
func sendRequestSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(`{"messaging_product":"whatsapp","to":"+31600000001","type":"text","text":{"body":"ok"}}`),
		[]byte(`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.1","typing_indicator":{"type":"text"}}`),
		[]byte(` { "to" : "+1" , "to":"+2", "type":null, "x":[1,{"to":"no"},"]"], "n":-1.5e3, "t":true } `),
		[]byte(`{"t\u006f":"\u002b31\"6","messaging_product":"what\u0073app","type":"te\\xt"}`),
		[]byte(`{"to":5}`), []byte(`{"type":{}}`), []byte(`[]`), []byte(`"to"`), []byte(`null`), []byte(`{`),
		[]byte(`{"to":"bad \xff"}`), []byte(`{"status":"read"} x`), []byte(`{}`),
	}
	files, _ := filepath.Glob("../channels/whatsapp/testdata/outgoing/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var reqs []map[string]json.RawMessage
		if json.Unmarshal(data, &reqs) != nil {
			continue
		}
		for _, r := range reqs {
			body := r["body"]
			if body == nil {
				body, _ = json.Marshal(r) // MarkRead.json holds the bodies themselves
			}
			seeds = append(seeds, body)
		}
	}
	if len(files) == 0 {
		t.Fatal("no goldens of the WhatsApp channel to seed with")
	}
	return seeds
}

func TestParseSendRequest(t *testing.T) {
	for _, body := range sendRequestSeeds(t) {
		checkSendRequest(t, body)
	}
	r, ok := parseSendRequest([]byte(`{"to":"+31\"6","type":"text","messaging_product":"whatsapp","text":{"to":"x"}}`))
	if !ok || string(r.To) != `+31"6` || string(r.Type) != "text" || string(r.MessagingProduct) != "whatsapp" || r.Status != nil {
		t.Fatalf("parsed %q %q %q %q, %v", r.MessagingProduct, r.To, r.Type, r.Status, ok)
	}
}

func FuzzParseSendRequest(f *testing.F) {
	for _, body := range sendRequestSeeds(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSendRequest(t, body) })
}
