package metahook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
)

var discard = slog.New(slog.DiscardHandler)

// TestVerify: only the subscribe mode with the verify token gets the challenge back.
func TestVerify(t *testing.T) {
	app := fiber.New()
	app.Get("/hook", metahook.Verify("test", "verify-me", discard))
	answers := map[string]string{
		"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=4242":   "200 4242",
		"hub.mode=subscribe&hub.verify_token=verify-you&hub.challenge=4242":  "403 Forbidden",
		"hub.mode=subscribe&hub.challenge=4242":                              "403 Forbidden",
		"hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=4242": "403 Forbidden",
	}
	for query, want := range answers {
		req, _ := http.NewRequest(http.MethodGet, "http://localhost/hook?"+query, nil)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if got := fmt.Sprintf("%d %s", resp.StatusCode, body); got != want {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
}

func TestValidSignature(t *testing.T) {
	// Meta signs the bytes it sends, with unicode escaped: the escaped form is what is hashed.
	body := []byte(`{"text":"\u00e4\u00f6\u00e5"}`)
	good := metahook.Sign("secret", body)
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 bool
	}{
		{"Good", "secret", good, body, true},
		{"OtherSecret", "other", good, body, false},
		{"NoSecret", "", metahook.Sign("", body), body, false},
		{"ReEncodedBody", "secret", good, []byte(`{"text":"äöå"}`), false},
		{"NoPrefix", "secret", strings.TrimPrefix(good, "sha256="), body, false},
		{"SHA1", "secret", "sha1=" + strings.TrimPrefix(good, "sha256="), body, false},
		{"NotHex", "secret", "sha256=zz", body, false},
		{"UpperCaseHex", "secret", "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), body, true},
		{"Short", "secret", good[:len(good)-1], body, false},
		{"Long", "secret", good + "0", body, false},
		{"HexOfTheSecret", "secret", "sha256=" + strings.Repeat("g", 64), body, false},
		{"Empty", "secret", "", body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metahook.ValidSignature(tt.secret, tt.body, tt.header); got != tt.want {
				t.Errorf("ValidSignature = %v, want %v", got, tt.want)
			}
		})
	}
}

type busy struct{ err error }

func (b busy) Admit(context.Context) (time.Duration, error) { return 7 * time.Second, b.err }

func TestSignedBodyAndAdmit(t *testing.T) {
	var intake metahook.Admitter
	app := fiber.New()
	app.Post("/hook", func(c *fiber.Ctx) error {
		body, ok, err := metahook.SignedBody(c, "test", "secret", 64, discard)
		if !ok {
			return err
		}
		if ok, err := metahook.Admit(c, "test", intake, discard); !ok {
			return err
		}
		return c.Send(body)
	})
	post := func(body []byte, sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://localhost/hook", bytes.NewReader(body))
		req.Header.Set(metahook.SignatureHeader, sig)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After") + string(b)
	}
	body := []byte(`{"object":"page"}`)
	if st, got := post(body, metahook.Sign("secret", body)); st != 200 || got != string(body) {
		t.Errorf("signed: %d %q, want 200 and the body", st, got)
	}
	if st, _ := post(body, metahook.Sign("forged", body)); st != 401 {
		t.Errorf("forged: %d, want 401", st)
	}
	big := bytes.Repeat([]byte("x"), 65)
	if st, _ := post(big, metahook.Sign("secret", big)); st != 413 {
		t.Errorf("too large: %d, want 413", st)
	}
	intake = busy{engine.ErrBusy}
	if st, got := post(body, metahook.Sign("secret", body)); st != 503 || !strings.HasPrefix(got, "7") {
		t.Errorf("busy: %d %q, want 503 with Retry-After 7", st, got)
	}
}

func TestDecode(t *testing.T) {
	var v struct {
		Object string `json:"object"`
	}
	for body, want := range map[string]string{
		`{"object":"page"}`:     "",
		" {\"object\":\"x\"}\n": "",
		`{"object":"page"} x`:   "test: webhook body has data after the JSON object: invalid",
		`{} {}`:                 "test: webhook body has data after the JSON object: invalid",
		`{"object":`:            "test: webhook body is not the documented JSON: unexpected end of JSON input: invalid",
		``:                      "test: webhook body is not the documented JSON: unexpected end of JSON input: invalid",
		`{"object":5}`:          "test: webhook body is not the documented JSON: json: cannot unmarshal number into Go struct field .object of type string: invalid",
		`[}`:                    "test: webhook body is not the documented JSON: invalid character '}' looking for beginning of value: invalid",
	} {
		err := metahook.Decode("test", []byte(body), &v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Decode(%q) = %q, want %q", body, got, want)
		}
	}
}
