// Package metahook owns what Meta's webhooks share across its platforms (WhatsApp Cloud API,
// Messenger): the subscription handshake (GET with hub.mode, hub.verify_token and
// hub.challenge) and the X-Hub-Signature-256 check over the raw body. A channel mounts
// Verify for GET and calls SignedBody first thing in its POST handler, so a forged body never
// reaches its parser.
package metahook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>".
const SignatureHeader = "X-Hub-Signature-256"

// Verify answers the subscription handshake Meta makes when a callback URL or verify token is
// saved in the App Dashboard: 200 with hub.challenge as the body when hub.mode is subscribe
// and hub.verify_token is token (compared in constant time), 403 otherwise. channel names the
// platform in the log.
func Verify(channel, token string, log *slog.Logger) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		mode := ctx.Query("hub.mode")
		got := ctx.Query("hub.verify_token")
		challenge := strings.Clone(ctx.Query("hub.challenge"))
		if mode != "subscribe" || token == "" || !hmac.Equal([]byte(got), []byte(token)) {
			log.Warn(channel+": webhook verification refused", "mode", mode)
			return ctx.SendStatus(fiber.StatusForbidden)
		}
		ctx.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return ctx.Status(fiber.StatusOK).SendString(challenge)
	}
}

// ValidSignature checks header ("sha256=<hex>") against the HMAC-SHA256 of the raw body under
// secret, in constant time. Meta signs the bytes it sent (unicode escaped as \uXXXX), so the
// body must be hashed as received, never re-encoded.
func ValidSignature(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	return checkSignature(hmac.New(sha256.New, []byte(secret)), body, []byte(header), nil)
}

// verifier checks signatures under one secret. Its HMACs are keyed once and reset for each
// body (a pool of them, for concurrent webhooks), where a new one per body hashed the key
// anew and allocated its two digests.
type verifier struct {
	secret string
	macs   sync.Pool
}

func newVerifier(secret string) *verifier {
	v := &verifier{secret: secret}
	v.macs.New = func() any { return &keyedMAC{mac: hmac.New(sha256.New, []byte(secret))} }
	return v
}

// keyedMAC is a keyed HMAC and the room for its sum: a sum on the stack escaped to the heap
// through the hash.Hash interface, one allocation per webhook.
type keyedMAC struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// valid is ValidSignature for header as bytes.
func (v *verifier) valid(body, header []byte) bool {
	if v.secret == "" {
		return false
	}
	k := v.macs.Get().(*keyedMAC)
	k.mac.Reset()
	ok := checkSignature(k.mac, body, header, k.sum[:0])
	v.macs.Put(k)
	return ok
}

// checkSignature compares header ("sha256=<hex>") with body's HMAC by mac, keyed and reset;
// the sum is appended to sum.
func checkSignature(mac hash.Hash, body, header, sum []byte) bool {
	hexSig, ok := bytes.CutPrefix(header, []byte("sha256="))
	if !ok || len(hexSig) != 2*sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], hexSig); err != nil {
		return false
	}
	mac.Write(body)
	return hmac.Equal(got[:], mac.Sum(sum))
}

// Sign returns the X-Hub-Signature-256 value Meta sends for body under secret; fake
// platform servers in tests sign their webhooks with it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedBody returns the raw body of a webhook POST when it is at most max bytes and signed
// with secret. Otherwise it answers the request itself (413 too large, 401 a bad or missing
// signature) and returns ok false: the caller returns err and does nothing else.
//
// The body is the request's own buffer, not a copy, even with Fiber's Immutable: it is valid
// only until the handler returns, and a parser must copy what it keeps (encoding/json does).
func SignedBody(ctx *fiber.Ctx, channel, secret string, max int, log *slog.Logger) (body []byte, ok bool, err error) {
	return signedBody(ctx, channel, newVerifier(secret), max, log)
}

func signedBody(ctx *fiber.Ctx, channel string, v *verifier, max int, log *slog.Logger) (body []byte, ok bool, err error) {
	req := ctx.Request()
	if n := req.Header.ContentLength(); n > max {
		return nil, false, ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	if len(req.Header.Peek(fiber.HeaderContentEncoding)) == 0 {
		// Fiber's Body() looks for a Content-Encoding among all headers, copying each
		// header's name under Immutable, and copies the body: without one, read it as is.
		body = req.Body()
	} else {
		body = ctx.Body()
	}
	if len(body) > max {
		return nil, false, ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	if !v.valid(body, req.Header.Peek(SignatureHeader)) {
		log.Warn(channel+": webhook with a bad or missing signature refused", "ip", ctx.IP())
		return nil, false, ctx.SendStatus(fiber.StatusUnauthorized)
	}
	return body, true, nil
}

// Admitter decides whether messages may be taken in now (engine.Intake.Admit): nil after
// waiting for room if need be, or engine.ErrBusy and how long the platform should wait.
type Admitter interface {
	Admit(ctx context.Context) (retryAfter time.Duration, err error)
}

// Admit asks intake (nil: always yes) whether a webhook carrying messages may be handled now.
// When not, it answers the request itself, 503 with Retry-After, and returns ok false: the
// caller returns err having stored nothing, so the platform's redelivery is no duplicate.
func Admit(ctx *fiber.Ctx, channel string, intake Admitter, log *slog.Logger) (ok bool, err error) {
	if intake == nil {
		return true, nil
	}
	retry, err := intake.Admit(ctx.UserContext())
	if err == nil {
		return true, nil
	}
	if engine.IsBusy(err) {
		log.Debug(channel+": webhook refused, backlog full", "retry_after", retry)
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retry/time.Second)))
		return false, ctx.Status(fiber.StatusServiceUnavailable).SendString("too many messages waiting; retry later")
	}
	return false, ctx.SendStatus(fiber.StatusServiceUnavailable)
}

// Hook is what a channel's webhook needs to know (Mount, Handler).
type Hook struct {
	// Channel names the platform in logs and answers.
	Channel string
	// Secret is the app secret the body must be signed with; VerifyToken the string the
	// handshake must name.
	Secret, VerifyToken string
	// MaxBody is the largest body taken.
	MaxBody int
	// Intake, when not nil, is asked before a body carrying messages is handled.
	Intake Admitter
	Log    *slog.Logger
}

// Mount registers the handshake (Verify) for GET path and Handler for POST path on r.
func Mount[W Parsed](r fiber.Router, path string, h Hook, parse func(body []byte) (W, error), handle func(ctx context.Context, w W) error) {
	r.Get(path, Verify(h.Channel, h.VerifyToken, h.Log))
	r.Post(path, Handler(h, parse, handle))
}

// Parsed is a parsed webhook body; HasMessages says it carries messages (statuses and
// receipts are cheap, and are let through a full backlog).
type Parsed interface{ HasMessages() bool }

// Handler is the webhook POST handler every Meta channel shares: the body is checked
// (SignedBody), parsed (a parse error answers 400), admitted when it carries messages
// (Admit), and handled; a handle error answers 500 so that Meta delivers it again, and
// success 200.
func Handler[W Parsed](h Hook, parse func(body []byte) (W, error), handle func(ctx context.Context, w W) error) fiber.Handler {
	v := newVerifier(h.Secret)
	return func(ctx *fiber.Ctx) error {
		body, ok, err := signedBody(ctx, h.Channel, v, h.MaxBody, h.Log)
		if !ok {
			return err
		}
		w, err := parse(body)
		if err != nil {
			h.Log.Warn(h.Channel+": malformed webhook refused", "err", err)
			return ctx.Status(fiber.StatusBadRequest).SendString("not a " + h.Channel + " webhook body")
		}
		if w.HasMessages() {
			if ok, err := Admit(ctx, h.Channel, h.Intake, h.Log); !ok {
				return err
			}
		}
		if err := handle(ctx.UserContext(), w); err != nil {
			h.Log.Error(h.Channel+": webhook not handled; the platform will redeliver", "err", err)
			return ctx.SendStatus(fiber.StatusInternalServerError)
		}
		return ctx.SendStatus(fiber.StatusOK)
	}
}

// Decode reads a webhook body into v: exactly one JSON object, nothing after it. Anything
// else is an error wrapping errs.ErrInvalid (answered 400 by Handler). It is json.Unmarshal,
// which refuses data after the value itself: a json.Decoder copied the body into a buffer it
// grew as it read, for a third of the decoding's cost.
func Decode(channel string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) && syn.Offset > 0 && int(syn.Offset) <= len(body) && json.Valid(body[:syn.Offset-1]) {
			return fmt.Errorf("%s: webhook body has data after the JSON object: %w", channel, errs.ErrInvalid)
		}
		return fmt.Errorf("%s: webhook body is not the documented JSON: %v: %w", channel, err, errs.ErrInvalid)
	}
	return nil
}
