package messenger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type (
	incoming = channeltest.Incoming[*rig]
	outgoing = channeltest.Outgoing[*rig]
)

var errTransient = errors.New("disk on fire")

type busy struct{}

func (busy) Admit(context.Context) (time.Duration, error) { return 3 * time.Second, engine.ErrBusy }

// reconfigured is a Setup that builds the case's channel again with change applied.
func reconfigured(change func(*messenger.Config)) func(*rig) {
	return func(r *rig) {
		if err := r.rebuild(change); err != nil {
			panic(err) // the base configuration is valid
		}
	}
}

// attachments is a Setup that serves files on the fake CDN (messengertest.CDNURL).
func attachments(ids ...string) func(*rig) {
	return func(r *rig) {
		for _, id := range ids {
			r.api.AddAttachment(id, "image/jpeg", []byte("\xff\xd8\xff\xe0 pretend JPEG "+id))
		}
	}
}

func verify(token string) string {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}
	return messenger.WebhookPath + "?" + q.Encode()
}

// TestConformanceIncoming is the webhook on the channel conformance harness: what each
// payload (testdata/webhooks) answers and what it hands to the engine (testdata/incoming).
func TestConformanceIncoming(t *testing.T) {
	text := mustRead(t, "text.json")
	huge := append([]byte(`{"object":"page","entry":[],"pad":"`), bytes.Repeat([]byte("x"), messenger.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	w := func(name string) string { return "webhooks/" + name + ".json" }
	cases := []incoming{
		{Name: "VerifyAcceptsTheVerifyToken", Method: "GET", Path: verify(verifyToken), Unsigned: true, Status: 200, Response: "1158201444", Golden: "nothing"},
		{Name: "VerifyRefusesAWrongToken", Method: "GET", Path: verify("guess"), Unsigned: true, Status: 403},
		{Name: "VerifyRefusesAMissingToken", Method: "GET", Path: verify(""), Unsigned: true, Status: 403},

		// Refused: nothing handed over.
		{Name: "RejectsForgedSignature", Body: w("text"), Unsigned: true, Header: map[string]string{metahook.SignatureHeader: metahook.Sign("not-the-secret", text)}, Status: 401},
		{Name: "RejectsMissingSignature", Body: w("text"), Unsigned: true, Status: 401},
		{Name: "RejectsTamperedBody", Body: w("text"), Tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("Let me in"), []byte("Let us in"), 1) }, Status: 401},
		{Name: "RejectsMalformedJSON", BodyBytes: []byte(`{"entry":[`), Status: 400, Response: "not a messenger webhook body"},
		{Name: "RejectsNonObjectJSON", BodyBytes: []byte(`[1]`), Status: 400},
		{Name: "RejectsBodiesOverTheLimit", BodyBytes: huge, Status: 413},

		// Messages, postbacks, receipts.
		{Name: "Text", Body: w("text"), Status: 200},
		{Name: "TextWithUnicodeEscapesAndReply", Body: w("text_unicode_escaped"), Status: 200},
		{Name: "DuplicateDeliveryIsKeptOnce", Body: w("text"), Repeat: 2, Status: 200, Golden: "Text"},
		{Name: "BatchOfEntriesInTimeOrder", Body: w("batch"), Status: 200},
		{Name: "QuickReplyIsAChoice", Body: w("quick_reply"), Status: 200},
		{Name: "PostbackIsAChoice", Body: w("postback"), Status: 200},
		{Name: "GetStartedWithoutMid", Body: w("postback_get_started"), Status: 200},
		{Name: "DeliveryReceipt", Body: w("delivery"), Status: 200},
		{Name: "StickerIsUnsupported", Body: w("sticker"), Status: 200},
		{Name: "FallbackAndReelAreUnsupported", Body: w("fallback"), Status: 200},
		{Name: "EchoIsIgnored", Body: w("echo"), Status: 200, Golden: "nothing"},
		{Name: "ReadAndReactionAreIgnored", Body: w("read_reaction"), Status: 200, Golden: "nothing"},
		{Name: "InstagramIsIgnored", Body: w("instagram"), Status: 200, Golden: "nothing"},
		{Name: "EventsWithoutMidOrSenderAreIgnored", Body: w("no_mid"), Status: 200, Golden: "nothing"},

		// Attachments, fetched from their URL into the media store.
		{Name: "ImageIsFetchedAndStored", Body: w("image"), Setup: attachments("img1"), Status: 200},
		{Name: "SeveralAttachmentsAreSeveralEntries", Body: w("attachments_several"), Setup: attachments("a", "b", "c", "d"), Status: 200},
		{Name: "AttachmentOverTheLimitIsUnsupported", Body: w("image"), Setup: func(r *rig) {
			attachments("img1")(r)
			reconfigured(func(c *messenger.Config) { c.MediaLimit = 10 })(r)
		}, Status: 200, Golden: "AttachmentUnsupported"},
		{Name: "AttachmentTheStoreRefusesIsUnsupported", Body: w("image"), Setup: func(r *rig) {
			attachments("img1")(r)
			r.media.err = fmt.Errorf("not a photo: %w", errs.ErrInvalid)
		}, Status: 200, Golden: "AttachmentUnsupported"},
		{Name: "ExpiredAttachmentLinkIsUnsupported", Body: w("image"), Status: 200, Golden: "AttachmentUnsupported"},
		{Name: "MediaStoreFailureAsksForRedelivery", Body: w("image"), Setup: func(r *rig) {
			attachments("img1")(r)
			r.media.err = errTransient
		}, Status: 500, Golden: "nothing"},

		// What the engine answers.
		{Name: "NoCampaignIsAcknowledgedAndIgnored", Body: w("text"), Setup: func(r *rig) { r.rec.RouteNowhere() }, Status: 200, Golden: "nothing"},
		{Name: "RouteFailureAsksForRedelivery", Body: w("text"), Setup: func(r *rig) { r.rec.FailRoute(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "ReceiveFailureAsksForRedelivery", Body: w("text"), Setup: func(r *rig) { r.rec.FailReceive(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "MessageTheEngineRefusesIsDropped", Body: w("text"), Setup: func(r *rig) { r.rec.FailReceive(fmt.Errorf("empty: %w", errs.ErrInvalid)) }, Status: 200, Golden: "nothing"},
		{Name: "FullBacklogAsksForRedeliveryLater", Body: w("text"), Setup: reconfigured(func(c *messenger.Config) { c.Intake = busy{} }), Status: 503, Golden: "nothing"},
	}
	channeltest.RunIncoming(t, fixture, messenger.WebhookPath, cases)
}

// TestConformanceOutgoing is the Sender on the harness: the Send API requests each reply
// makes (testdata/outgoing), the window and its HUMAN_AGENT tag, and how refusals map to the
// engine's classes.
func TestConformanceOutgoing(t *testing.T) {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	two := []engine.Button{{ID: "yes", Title: "Ready!"}, {ID: "no", Title: "Not yet"}}
	var colours, numbers []engine.Button
	for _, c := range []string{"Red", "Blue", "Green", "Gold", "Black"} {
		colours = append(colours, engine.Button{ID: strings.ToLower(c), Title: c})
	}
	for i := 1; i <= 14; i++ {
		numbers = append(numbers, engine.Button{ID: fmt.Sprint("c", i), Title: fmt.Sprint("Choice ", i)})
	}
	fail := func(status, code, subcode int) func(*rig) {
		return func(r *rig) { r.api.FailNext(status, code, subcode) }
	}
	hi := engine.Outbound{ParticipantID: "p1", To: psid, Text: "hi", LastInboundAt: ago(time.Hour)}
	cases := []outgoing{
		{Name: "TextInsideTheWindow", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Welcome aboard, crew!", LastInboundAt: ago(time.Hour)}},
		{Name: "ReplyToAStranger", Out: engine.Outbound{To: psid, Text: "This campaign is not running."}},
		{Name: "AgentInsideTheWindowIsAResponse", Out: engine.Outbound{ParticipantID: "p1", To: psid, Agent: "chef Bo", Text: "Try an omelette.", LastInboundAt: ago(2 * time.Hour)}},
		{Name: "AgentAfterTheWindowIsTaggedHumanAgent", Out: engine.Outbound{ParticipantID: "p1", To: psid, Agent: "chef Bo", Text: "Sorry for the wait: try an omelette.", LastInboundAt: ago(50 * time.Hour)}},
		{Name: "MediaThenText", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Here is the map.", MediaURL: "https://cdn.example.com/maps/harbour.jpg?v=2", LastInboundAt: ago(time.Minute)}},
		{Name: "FileAlone", Out: engine.Outbound{ParticipantID: "p1", To: psid, MediaURL: "https://cdn.example.com/rules.pdf", LastInboundAt: ago(time.Minute)}},
		{Name: "ButtonTemplate", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Ready for round one?", Buttons: two, LastInboundAt: ago(time.Minute)}},
		{Name: "VideoThenButtonTemplate", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Is this your team?", Buttons: two, MediaURL: "https://cdn.example.com/team.mp4", LastInboundAt: ago(time.Minute)}},
		{Name: "QuickRepliesBeyondThreeButtons", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Pick your team colour.", Buttons: colours, LastInboundAt: ago(time.Minute)}},
		{Name: "LinesBeyondThirteenChoices", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Pick a number.", Buttons: numbers, LastInboundAt: ago(time.Minute)}},
		{Name: "LinesForTitlesOverTwentyCharacters", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Where do you want to go?",
			Buttons: []engine.Button{{ID: "a", Title: "The harbour at sunrise, by boat"}, {ID: "b", Title: "The rooftop"}}, LastInboundAt: ago(time.Minute)}},

		// Nothing promotional outside the window: refused before any request, for good.
		{Name: "RefusesTheBotAfterTheWindow", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Round two starts now!", LastInboundAt: ago(25 * time.Hour)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesAnAgentAfterSevenDays", Out: engine.Outbound{ParticipantID: "p1", To: psid, Agent: "chef Bo", Text: "Still there?", LastInboundAt: ago(169 * time.Hour)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesATemplate", Out: engine.Outbound{ParticipantID: "p1", To: psid, Text: "Round two!", Template: &engine.TemplateCall{Name: "round_start", Language: "en"}, LastInboundAt: ago(25 * time.Hour)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesEmpty", Out: engine.Outbound{To: psid}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesNoRecipient", Out: engine.Outbound{Text: "hi"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesTextTooLong", Out: engine.Outbound{To: psid, Text: strings.Repeat("x", 2001)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesButtonsWithoutText", Out: engine.Outbound{To: psid, Buttons: two}, Err: errs.ErrInvalid, NoRequests: true},

		// Send API errors, mapped: the engine retries the transient ones after its backoff.
		{Name: "RateLimit613IsTransient", Out: hi, Setup: fail(400, 613, 0), Err: channeltest.Transient, Golden: "Hi"},
		{Name: "AppRateLimit4IsTransient", Out: hi, Setup: fail(403, 4, 0), Err: channeltest.Transient, Golden: "Hi"},
		{Name: "PlatformErrorIsTransient", Out: hi, Setup: fail(500, 2, 0), Err: channeltest.Transient, Golden: "Hi"},
		{Name: "WindowClosed2018278IsPermanent", Out: hi, Setup: fail(400, 10, 2018278), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "UserUnavailable551IsPermanent", Out: hi, Setup: fail(400, 551, 1545041), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "NoMatchingUser2018001IsPermanent", Out: hi, Setup: fail(400, 100, 2018001), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "ExpiredToken190IsUnauthorized", Out: hi, Setup: fail(401, 190, 463), Err: errs.ErrUnauthorized, Golden: "Hi"},
	}
	channeltest.RunOutgoing(t, fixture, cases)
}

// TestSendErrorKinds: a refusal says what happened, in the words the reply's record shows.
func TestSendErrorKinds(t *testing.T) {
	for code, kind := range map[[3]int]string{
		{400, 613, 0}: messenger.ErrRateLimited, {400, 10, 2018278}: messenger.ErrWindowClosed,
		{400, 551, 1545041}: messenger.ErrUserUnavailable, {401, 190, 0}: messenger.ErrAuth,
		{500, 2, 0}: messenger.ErrPlatform, {400, 100, 0}: messenger.ErrRefused,
	} {
		r := fixture(t)
		r.api.FailNext(code[0], code[1], code[2])
		_, err := r.ch.Send(t.Context(), engine.Outbound{To: psid, Text: "hi"})
		var apiErr *messenger.APIError
		if !errors.As(err, &apiErr) || apiErr.Kind != kind || apiErr.Code != code[1] || apiErr.Subcode != code[2] {
			t.Errorf("%v: %v, want %q", code, err, kind)
		}
	}
}

func TestNewRefusesMissingSecrets(t *testing.T) {
	for _, cfg := range []messenger.Config{
		{AppSecret: "s", VerifyToken: "v"},
		{PageToken: "t", VerifyToken: "v"},
		{PageToken: "t", AppSecret: "s"},
	} {
		if _, err := messenger.New(cfg); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}
