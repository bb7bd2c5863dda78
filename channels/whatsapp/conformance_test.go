package whatsapp_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata (channeltest reads it)")

type (
	incoming = channeltest.Incoming[*rig]
	outgoing = channeltest.Outgoing[*rig]
)

func verify(mode, token string) string {
	q := url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}
	return whatsapp.WebhookPath + "?" + q.Encode()
}

// TestConformanceIncoming is the webhook on the channel conformance harness: what each
// payload answers and what it hands to the engine (testdata/incoming).
func TestConformanceIncoming(t *testing.T) {
	sig := func(body []byte) map[string]string {
		return map[string]string{whatsapp.SignatureHeader: graphtest.Sign(appSecret, body)}
	}
	text := mustRead(t, "text.json")
	huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), whatsapp.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	photo := []byte("\xff\xd8\xff\xe0 pretend JPEG bytes")
	big := bytes.Repeat([]byte("x"), 5<<20+1)
	image := func(data []byte) []byte {
		return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", data, "")
	}
	withMedia := func(data []byte, more func(*rig)) func(*rig) {
		return func(r *rig) {
			r.graph.AddMedia("m1", "image/jpeg", data)
			if more != nil {
				more(r)
			}
		}
	}
	bad := fmt.Errorf("bad: %w", errs.ErrInvalid)
	cases := []incoming{
		// The subscription handshake.
		{Name: "VerifyAcceptsTheVerifyToken", Method: "GET", Path: verify("subscribe", verifyToken), Unsigned: true, Status: 200, Response: "1158201444", Golden: "nothing"},
		{Name: "VerifyRefusesAWrongToken", Method: "GET", Path: verify("subscribe", "guess"), Unsigned: true, Status: 403},
		{Name: "VerifyRefusesAMissingToken", Method: "GET", Path: verify("subscribe", ""), Unsigned: true, Status: 403},
		{Name: "VerifyRefusesAnotherMode", Method: "GET", Path: verify("unsubscribe", verifyToken), Unsigned: true, Status: 403},

		// Refused: nothing handed over.
		{Name: "RejectsForgedSignature", Body: "text.json", Unsigned: true, Header: map[string]string{whatsapp.SignatureHeader: graphtest.Sign("not-the-secret", text)}, Status: 401},
		{Name: "RejectsMissingSignature", Body: "text.json", Unsigned: true, Status: 401},
		{Name: "RejectsSignatureWithoutPrefix", Body: "text.json", Unsigned: true, Header: map[string]string{whatsapp.SignatureHeader: strings.TrimPrefix(graphtest.Sign(appSecret, text), "sha256=")}, Status: 401},
		{Name: "RejectsSignatureThatIsNotHex", Body: "text.json", Unsigned: true, Header: map[string]string{whatsapp.SignatureHeader: "sha256=zz"}, Status: 401},
		{Name: "RejectsSHA1Signature", Body: "text.json", Unsigned: true, Header: map[string]string{whatsapp.SignatureHeader: "sha1=" + strings.TrimPrefix(graphtest.Sign(appSecret, text), "sha256=")}, Status: 401},
		{Name: "RejectsTamperedBody", Body: "text.json", Tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("Let me in"), []byte("Let us in"), 1) }, Status: 401},
		{Name: "RejectsMalformedJSON", BodyBytes: []byte(`{"entry":[{"changes":`), Status: 400},
		{Name: "RejectsNonEnvelopeJSON", BodyBytes: []byte(`["entry"]`), Status: 400},
		{Name: "RejectsBodiesOverTheLimit", BodyBytes: huge, Header: sig(huge), Status: 413},

		// Messages.
		{Name: "Text", Body: "text.json", Status: 200},
		{Name: "TextWithUnicodeEscapes", Body: "text_unicode_escaped.json", Status: 200},
		{Name: "DuplicateDeliveryIsKeptOnce", Body: "text.json", Repeat: 2, Status: 200, Golden: "Text"},
		{Name: "BatchKeepsOrder", Body: "batch.json", Status: 200},
		{Name: "GroupMessage", Body: "group.json", Status: 200},
		{Name: "ButtonReply", Body: "interactive_button_reply.json", Status: 200},
		{Name: "Location", Body: "location.json", Status: 200},
		{Name: "StickerIsUnsupported", Body: "sticker.json", Status: 200},
		{Name: "UnknownTypeIsUnsupported", Body: "unknown_type.json", Status: 200},
		{Name: "ReactionIsIgnored", Body: "reaction.json", Status: 200, Golden: "nothing"},
		{Name: "SystemNoticeIsIgnored", Body: "system.json", Status: 200, Golden: "nothing"},
		{Name: "OutOfBandErrorsAreAcknowledged", Body: "value_errors.json", Status: 200, Golden: "nothing"},
		{Name: "OtherFieldsAreAcknowledged", Body: "other_field.json", Status: 200, Golden: "nothing"},

		// What the engine answers.
		{Name: "NoCampaignIsAcknowledgedAndIgnored", Body: "text.json", Setup: func(r *rig) { r.rec.RouteNowhere() }, Status: 200, Golden: "nothing"},
		{Name: "RouteFailureAsksForRedelivery", Body: "text.json", Setup: func(r *rig) { r.rec.FailRoute(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "ReceiveFailureAsksForRedelivery", Body: "text.json", Setup: func(r *rig) { r.rec.FailReceive(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "MessageTheEngineRefusesIsDropped", Body: "text.json", Setup: func(r *rig) { r.rec.FailReceive(bad) }, Status: 200, Golden: "nothing"},
		{Name: "StoreNotFoundAsksForRedelivery", Body: "text.json", Setup: func(r *rig) { r.rec.FailReceive(fmt.Errorf("store: %w", errs.ErrNotFound)) }, Status: 500, Golden: "nothing"},

		// Delivery statuses.
		{Name: "StatusSent", Body: "status_sent.json", Status: 200},
		{Name: "StatusRead", Body: "status_read.json", Status: 200},
		{Name: "StatusFailed", Body: "status_failed.json", Status: 200},
		{Name: "DeliveryFailureAsksForRedelivery", Body: "status_read.json", Setup: func(r *rig) { r.dels.err = errTransient }, Status: 500, Golden: "nothing"},

		// Groups.
		{Name: "GroupCreated", Body: "group_created.json", Status: 200},
		{Name: "GroupCreateFailed", Body: "group_create_failed.json", Status: 200},
		{Name: "GroupJoined", Body: "group_joined.json", Status: 200},
		{Name: "GroupLeftIsAcknowledged", Body: "group_left.json", Status: 200, Golden: "nothing"},
		{Name: "GroupDeletedIsAcknowledged", Body: "group_deleted.json", Status: 200, Golden: "nothing"},
		{Name: "GroupFailureAsksForRedelivery", Body: "group_joined.json", Setup: func(r *rig) { r.groups.err = errTransient }, Status: 500, Golden: "nothing"},
		{Name: "GroupStatusesAggregated", Body: "status_group_read.json", Status: 200},
		{Name: "GroupCreatedTwiceIsPassedOnTwice", Body: "group_created.json", Repeat: 2, Status: 200, Golden: "GroupCreatedTwice"},

		// Number health and marketing preferences (numbers.go).
		{Name: "QualityDowngradeLowersTheLimit", Body: "quality_downgrade.json", Setup: readBefore, Status: 200},
		{Name: "QualityFlaggedLowersTheRating", Body: "quality_flagged.json", Setup: readBefore, Status: 200},
		{Name: "ThroughputUpgrade", Body: "quality_throughput_upgrade.json", Setup: readBefore, Status: 200},
		{Name: "QualityUpdateDeliveredTwiceIsKeptOnce", Body: "quality_flagged.json", Setup: readBefore, Repeat: 2, Status: 200, Golden: "QualityFlaggedLowersTheRating"},
		{Name: "QualityUpdateOlderThanTheLastReadIsIgnored", Body: "quality_downgrade.json", Setup: func(r *rig) {
			readBefore(r)
			h, _ := r.nums.get(testNumber)
			h.CheckedAt = h.CheckedAt.Add(2 * time.Hour) // read after the webhook was sent: it was redelivered late
			r.nums.seed(h)
		}, Status: 200, Golden: "nothing"},
		{Name: "QualityUpdateForANumberNotReadYetIsAcknowledged", Body: "quality_downgrade.json", Status: 200, Golden: "nothing"},
		{Name: "QualityUpdateStoreFailureAsksForRedelivery", Body: "quality_downgrade.json", Setup: func(r *rig) { readBefore(r); r.nums.err = errTransient }, Status: 500, Golden: "nothing"},
		{Name: "RejectsUnsignedQualityUpdate", Body: "quality_flagged.json", Unsigned: true, Setup: readBefore, Status: 401},
		{Name: "RejectsTamperedQualityUpdate", Body: "quality_flagged.json", Setup: readBefore, Tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("FLAGGED"), []byte("UNFLAGGED"), 1) }, Status: 401},
		{Name: "UserPreferences", Body: "user_preferences.json", Status: 200},
		{Name: "UserPreferencesStoreFailureAsksForRedelivery", Body: "user_preferences.json", Setup: func(r *rig) { r.nums.err = errTransient }, Status: 500, Golden: "nothing"},
		{Name: "RejectsTamperedUserPreferences", Body: "user_preferences.json", Tamper: func(b []byte) []byte { return bytes.Replace(b, []byte(`"stop"`), []byte(`"resume"`), 1) }, Status: 401},
		{Name: "RejectsUnsignedUserPreferences", Body: "user_preferences.json", Unsigned: true, Status: 401},

		// Media.
		{Name: "MediaIsFetchedCheckedAndStored", BodyBytes: image(photo), Setup: withMedia(photo, nil), Status: 200},
		{Name: "MediaHexDigestFromTheMediaEndpoint", Setup: withMedia(photo, func(r *rig) { r.graph.HexDigests(true) }),
			// No digest in the webhook: the media endpoint's (hex) one is checked.
			BodyBytes: bytes.Replace(image(photo), []byte(`"sha256":"`), []byte(`"sha256_":"`), 1), Status: 200, Golden: "MediaIsFetchedCheckedAndStored"},
		{Name: "MediaDigestMismatchStoresNothing", BodyBytes: image([]byte("other bytes")), Setup: withMedia(photo, nil), Status: 200, Golden: "MediaUnsupported"},
		{Name: "MediaOversizeIsRefusedWhileStreaming", BodyBytes: image(big), Setup: withMedia(big, nil), Status: 200, Golden: "MediaUnsupported"},
		{Name: "MediaOversizeWithoutADeclaredSize", BodyBytes: image(big), Setup: withMedia(big, func(r *rig) { r.graph.OmitFileSizes(true) }), Status: 200, Golden: "MediaUnsupported"},
		{Name: "MediaUnknownIDIsUnsupported", BodyBytes: image(photo), Status: 200, Golden: "MediaUnsupported"},
		{Name: "MediaTheStoreRefusesIsUnsupported", BodyBytes: image(photo), Setup: withMedia(photo, func(r *rig) { r.media.err = fmt.Errorf("not a photo: %w", errs.ErrInvalid) }), Status: 200, Golden: "MediaUnsupported"},
		{Name: "MediaStoreFailureAsksForRedelivery", BodyBytes: image(photo), Setup: withMedia(photo, func(r *rig) { r.media.err = errTransient }), Status: 500, Golden: "nothing"},
		{Name: "MediaExpiredTokenAsksForRedelivery", BodyBytes: image(photo), Setup: withMedia(photo, func(r *rig) { r.graph.SetToken("renewed") }), Status: 500, Golden: "nothing"},
	}
	channeltest.RunIncoming(t, fixture, whatsapp.WebhookPath, cases)
}

// readBefore leaves what a read of the test number found an hour before the webhooks'
// time: a limit of 10,000, green, connected.
func readBefore(r *rig) {
	r.nums.seed(broadcast.NumberHealth{Channel: "whatsapp", Number: testNumber, Display: "+44 7700 900123",
		Limit: 10000, Throughput: whatsapp.StandardThroughput, Quality: broadcast.QualityGreen, Status: "CONNECTED",
		CheckedAt: time.Unix(1767614400, 0).Add(-time.Hour).UTC()})
}

// TestConformanceOutgoing is the Sender on the channel conformance harness: the Graph API
// requests each reply makes (testdata/outgoing) and how refusals map to the engine's classes.
func TestConformanceOutgoing(t *testing.T) {
	to := "447911123456"
	buttons := []engine.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}, {ID: "later", Title: "Maybe later"}}
	var rows []engine.Button
	for _, s := range []string{"S", "M", "L", "XL", "XXL"} {
		rows = append(rows, engine.Button{ID: "size_" + s, Title: "Size " + s})
	}
	many := make([]engine.Button, 11)
	for i := range many {
		many[i] = engine.Button{ID: string(rune('a' + i)), Title: "x"}
	}
	fail := func(fails ...[2]int) func(*rig) {
		return func(r *rig) {
			for _, f := range fails {
				r.graph.FailNext(f[0], f[1])
			}
		}
	}
	hi := engine.Outbound{To: to, Text: "hi"}
	cases := []outgoing{
		{Name: "Text", Out: engine.Outbound{ID: 7, To: to, Text: "Who are you?"}},
		{Name: "TextWithLink", Out: engine.Outbound{ID: 8, To: "+" + to, Text: "Rules: https://example.com/rules"}},
		{Name: "Image", Out: engine.Outbound{To: to, Text: "Your ticket", MediaURL: "https://cdn.example.com/t/ticket.JPG?v=2"}},
		{Name: "Video", Out: engine.Outbound{To: to, Text: "Watch this", MediaURL: "https://cdn.example.com/intro.mp4"}},
		{Name: "Document", Out: engine.Outbound{To: to, Text: "The rules", MediaURL: "https://cdn.example.com/docs/rules.pdf"}},
		{Name: "AudioWithText", Out: engine.Outbound{To: to, Text: "Listen", MediaURL: "https://cdn.example.com/sven.ogg"}},
		{Name: "Buttons", Out: engine.Outbound{To: to, Text: "Ready?", Buttons: buttons}},
		{Name: "ButtonsWithImage", Out: engine.Outbound{To: to, Text: "Like it?", Buttons: buttons[:2], MediaURL: "https://cdn.example.com/a.png"}},
		{Name: "List", Out: engine.Outbound{To: to, Text: "Pick a size", Buttons: rows}},
		{Name: "LongTitlesMakeAList", Out: engine.Outbound{To: to, Text: "Pick", Buttons: []engine.Button{{ID: "a", Title: "A title over twenty chars"[:22]}}}},
		{Name: "Template", Out: engine.Outbound{To: to, Text: "ignored", Template: &engine.TemplateCall{Name: "round_reminder", Language: "nl", Params: []string{"Amira", "2"}},
			LastInboundAt: now.Add(-48 * time.Hour)}},
		{Name: "TemplateWithoutParams", Out: engine.Outbound{To: to, Template: &engine.TemplateCall{Name: "hello_world", Language: "en_US"}}},
		{Name: "Group", Out: engine.Outbound{To: "group:120363041234567890", Text: "Round 2 starts now"}},
		{Name: "GroupButtonsAsText", Out: engine.Outbound{To: "group:120363041234567890", Text: "Ready?", Buttons: buttons[:2]}},
		{Name: "InsideTheWindow", Out: engine.Outbound{To: to, Text: "hi", LastInboundAt: now.Add(-23 * time.Hour)}, Golden: "Hi"},

		// What WhatsApp cannot carry is refused before any request.
		{Name: "RefusesEmpty", Out: engine.Outbound{To: to}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesNoRecipient", Out: engine.Outbound{Text: "hi"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesRecipientNotANumber", Out: engine.Outbound{To: "44791112345x", Text: "hi"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesTooManyChoices", Out: engine.Outbound{To: to, Text: "pick", Buttons: many}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesButtonsWithoutText", Out: engine.Outbound{To: to, Buttons: many[:2]}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesListWithMedia", Out: engine.Outbound{To: to, Text: "pick", Buttons: many[:5], MediaURL: "https://x/a.png"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesRowTitleTooLong", Out: engine.Outbound{To: to, Text: "pick", Buttons: []engine.Button{{ID: "a", Title: "twenty-five characters..."}, {ID: "b", Title: "b"}, {ID: "c", Title: "c"}, {ID: "d", Title: "d"}}}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesTextTooLong", Out: engine.Outbound{To: to, Text: string(make([]byte, 4097))}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesFreeFormOutsideTheWindow", Out: engine.Outbound{To: to, Text: "hi", LastInboundAt: now.Add(-24 * time.Hour)}, Err: errs.ErrInvalid, NoRequests: true},

		// Platform answers, mapped to the engine's classes.
		{Name: "ThroughputLimitThenSuccess", Out: hi, Setup: fail([2]int{130429, 400}), Golden: "HiTwice"},
		{Name: "ServiceUnavailableThenSuccess", Out: hi, Setup: fail([2]int{131000, 500}, [2]int{1, 500}), Golden: "HiThrice"},
		{Name: "HTTP429WithUnknownCodeIsRetried", Out: hi, Setup: fail([2]int{99999, 429}), Golden: "HiTwice"},
		{Name: "GivesUpAfterMaxRetriesAsTransient", Out: hi, Setup: fail([2]int{130429, 400}, [2]int{130429, 400}, [2]int{130429, 400}, [2]int{130429, 400}), Err: channeltest.Transient, Golden: "HiFourTimes"},
		{Name: "Undeliverable131026IsPermanent", Out: hi, Setup: fail([2]int{131026, 400}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "ReengagementRequired131047IsPermanent", Out: hi, Setup: fail([2]int{131047, 400}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "UserStoppedMarketing131050IsPermanent", Out: hi, Setup: fail([2]int{131050, 400}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "UserStoppedMarketing131050IsAMarketingOptOut", Out: hi, Setup: fail([2]int{131050, 400}), Err: engine.ErrMarketingOptOut, Golden: "Hi"},
		{Name: "MarketingLimit131049IsPermanent", Out: hi, Setup: fail([2]int{131049, 400}), Err: engine.ErrMarketingLimit, Golden: "Hi"},
		{Name: "SpamRate131048IsPermanent", Out: hi, Setup: fail([2]int{131048, 400}), Err: engine.ErrSpamRate, Golden: "Hi"},
		{Name: "SanctionedCountry130403IsPermanent", Out: hi, Setup: fail([2]int{130403, 400}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "TemplateMissing132001IsPermanent", Out: hi, Setup: fail([2]int{132001, 404}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "PolicyBlock368IsPermanent", Out: hi, Setup: fail([2]int{368, 403}), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "ExpiredToken190IsUnauthorized", Out: hi, Setup: fail([2]int{190, 401}), Err: errs.ErrUnauthorized, Golden: "Hi"},
		{Name: "HTTP401WithoutCodeIsUnauthorized", Out: hi, Setup: fail([2]int{0, 401}), Err: errs.ErrUnauthorized, Golden: "Hi"},
	}
	channeltest.RunOutgoing(t, func(tb testing.TB) *rig { return newRig(tb, func(c *whatsapp.Config) { c.RateLimit = 1000 }) }, cases)
}
