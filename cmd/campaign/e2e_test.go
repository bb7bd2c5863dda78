package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/store/mongo/mongotest"
)

// testClock is the server's clock in tests: the test moves it past the persona's typing delay
// instead of sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startServer runs `campaign serve` in-process on a random port with the bouncer campaign.
func startServer(t *testing.T, data string, options ...func(*Config)) (*server, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)}
	cfg := Config{
		Addr:      "127.0.0.1:0",
		Data:      data,
		Campaigns: []string{"../../campaigns/examples/bouncer.yaml"},
		Now:       clock.Now,
		Rand:      rand.New(rand.NewPCG(7, 7)),
		Poll:      10 * time.Millisecond,
	}
	for _, o := range options {
		o(&cfg)
	}
	srv, err := newServer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, clock
}

// client is a browser-like HTTP client: a cookie jar and the headers a same-origin page sends.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) do(method, path, contentType string, body io.Reader) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) postJSON(path string, v any) (int, string) {
	b, _ := json.Marshal(v)
	return c.do(http.MethodPost, path, "application/json", bytes.NewReader(b))
}

func (c *client) postForm(path string, form url.Values) (int, string) {
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (c *client) upload(path, filename string, content []byte) (int, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("photo", filename)
	fw.Write(content)
	w.WriteField("id", fmt.Sprintf("upload-%d", len(content)))
	w.Close()
	return c.do(http.MethodPost, path, w.FormDataContentType(), &buf)
}

// chatEvent is one line of the web chat as the events stream sends it.
type chatEvent struct {
	ID   string `json:"id"`
	Dir  string `json:"dir"`
	Text string `json:"text"`
}

// events follows the participant's event stream and hands every event to the test.
func (c *client) events(ctx context.Context, campaign string) <-chan chatEvent {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/play/"+campaign+"/events", nil)
	stream := &http.Client{Jar: c.http.Jar}
	resp, err := stream.Do(req)
	if err != nil {
		c.t.Fatalf("open event stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("event stream: status %d", resp.StatusCode)
	}
	ch := make(chan chatEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev chatEvent
			if json.Unmarshal([]byte(data), &ev) == nil {
				ch <- ev
			}
		}
	}()
	return ch
}

// waitReply advances the clock past the persona's delay until a reply containing want
// arrives, and fails after a few seconds of real time.
func waitReply(t *testing.T, clock *testClock, events <-chan chatEvent, want string) chatEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event stream closed while waiting for %q", want)
			}
			if ev.Dir == "out" && strings.Contains(ev.Text, want) {
				return ev
			}
		case <-tick.C:
			clock.Advance(time.Second)
		case <-deadline:
			t.Fatalf("no reply containing %q", want)
		}
	}
}

func testPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		img.Set(x, x%48, color.RGBA{200, 30, 90, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// login signs into the dashboard and returns the CSRF token of the forms.
func (c *client) login(user, password string) (int, string) {
	c.t.Helper()
	_, page := c.do(http.MethodGet, "/dashboard/login", "", nil)
	return c.postForm("/dashboard/login", url.Values{"username": {user}, "password": {password}, "csrf": {csrfOf(c.t, page)}})
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := doc.Find(`input[name=csrf]`).First().Attr("value")
	if !ok || tok == "" {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return tok
}

var doorCode = regexp.MustCompile(`door code is ([A-Z2-9]{6})`)

func TestPlayBouncerEndToEnd(t *testing.T) {
	srv, clock := startServer(t, t.TempDir())
	playBouncer(t, srv, clock)
}

// TestPlayBouncerOnMongoDB plays the same game with the MongoDB store (FerretDB in-process,
// or CAMPAIGN_TEST_MONGODB_URI), as several servers sharing one database would run.
func TestPlayBouncerOnMongoDB(t *testing.T) {
	uri, stop, err := mongotest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) { c.MongoURI = uri })
	playBouncer(t, srv, clock)
}

// playBouncer plays the bouncer over HTTP as a participant and a moderator would.
func playBouncer(t *testing.T, srv *server, clock *testClock) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The participant opens the page, joins, and follows the replies.
	ann := newClient(t, srv.URL())
	if code, body := ann.do(http.MethodGet, "/play/bouncer", "", nil); code != 200 || !strings.Contains(body, "Convince the bouncer") {
		t.Fatalf("play page: %d\n%s", code, body)
	}
	events := ann.events(ctx, "bouncer")
	if code, body := ann.postJSON("/play/bouncer/join", map[string]string{}); code >= 300 {
		t.Fatalf("join: %d %s", code, body)
	}
	waitReply(t, clock, events, "nobody gets past this door")

	if code, body := ann.postJSON("/play/bouncer/messages", map[string]string{"id": "msg-0001", "text": "   "}); code != 400 || !strings.Contains(body, "Type a message") {
		t.Errorf("empty message: %d %s, want 400 with a reason", code, body)
	}
	if code, body := ann.postJSON("/play/bouncer/messages", map[string]string{"id": "msg-0002", "text": "Let me in, I know the DJ"}); code >= 300 {
		t.Fatalf("text: %d %s", code, body)
	}
	waitReply(t, clock, events, "Talk is cheap")

	if code, body := ann.upload("/play/bouncer/media", "party.png", []byte("<html>not a photo</html>")); code != 415 || !strings.Contains(body, "photo") {
		t.Errorf("non-image upload: %d %s, want 415 with a reason", code, body)
	}
	if code, body := ann.upload("/play/bouncer/media", "me.png", testPNG(t)); code >= 300 {
		t.Fatalf("photo upload: %d %s", code, body)
	}
	waitReply(t, clock, events, "Let me show this to the boss")

	// The moderator logs in and approves the photo.
	mod := newClient(t, srv.URL())
	if code, body := mod.login("admin", "wrong password!"); code != 401 || !strings.Contains(body, "Wrong username or password") {
		t.Errorf("wrong password: %d, want 401 with a message", code)
	}
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther && code != http.StatusFound {
		t.Fatalf("login: status %d", code)
	}
	code, page := mod.do(http.MethodGet, "/dashboard/entries", "", nil)
	if code != 200 {
		t.Fatalf("entries: %d", code)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	entry := doc.Find(".entry").First()
	id, _ := entry.Attr("data-id")
	if id == "" || entry.Find("img.thumb").Length() != 1 {
		t.Fatalf("no entry with a thumbnail in the queue:\n%s", page)
	}
	thumb, _ := entry.Find("img.thumb").Attr("src")
	if code, body := mod.do(http.MethodGet, thumb, "", nil); code != 200 || !strings.HasPrefix(body, "\xff\xd8") {
		t.Errorf("thumbnail %s: %d, want a JPEG", thumb, code)
	}
	if code, _ := mod.postForm("/dashboard/entries/"+id+"/approve", url.Values{}); code != http.StatusForbidden {
		t.Errorf("approve without CSRF token: %d, want 403", code)
	}
	csrf := csrfOf(t, page)
	if code, _ := mod.postForm("/dashboard/entries/"+id+"/approve", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	ev := waitReply(t, clock, events, "door code is")
	if doorCode.FindStringSubmatch(ev.Text) == nil {
		t.Errorf("no door code in %q", ev.Text)
	}
	// A second verdict on the decided entry is refused with a message and changes nothing.
	mod.postForm("/dashboard/entries/"+id+"/reject", url.Values{"csrf": {csrf}})
	if _, page := mod.do(http.MethodGet, "/dashboard/entries/"+id, "", nil); !strings.Contains(page, "already decided") {
		t.Errorf("second verdict: no 'already decided' message on the entry page")
	}
	if _, page := mod.do(http.MethodGet, "/dashboard/entries?status=approved", "", nil); !strings.Contains(page, id) {
		t.Errorf("entry is not listed as approved after a refused second verdict")
	}
}

func TestRestartKeepsConversationAndAdmin(t *testing.T) {
	data := t.TempDir()
	srv, clock := startServer(t, data)
	if srv.adminPassword == "" {
		t.Fatal("first start created no admin")
	}
	ann := newClient(t, srv.URL())
	ann.do(http.MethodGet, "/play/bouncer", "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	events := ann.events(ctx, "bouncer")
	ann.postJSON("/play/bouncer/join", map[string]string{})
	waitReply(t, clock, events, "nobody gets past")
	cancel()
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	srv2, _ := startServer(t, data)
	if srv2.adminPassword != "" {
		t.Error("second start created another admin password")
	}
	ann.base = srv2.URL()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	var got chatEvent
	for got = range ann.events(ctx2, "bouncer") {
		if got.Dir != "" {
			break
		}
	}
	if got.Dir != "out" || !strings.Contains(got.Text, "nobody gets past") {
		t.Errorf("first line after restart = %+v, want the greeting from the stored transcript", got)
	}
}
