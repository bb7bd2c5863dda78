package telegram_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type (
	incoming = channeltest.Incoming[*rig]
	outgoing = channeltest.Outgoing[*rig]
)

// TestConformanceIncoming is the webhook on the channel conformance harness: what each update
// answers, what it hands to the engine, and what it asks of the Bot API meanwhile
// (testdata/incoming).
func TestConformanceIncoming(t *testing.T) {
	secretHeader := func(v string) map[string]string { return map[string]string{telegram.SecretHeader: v} }
	huge := append([]byte(`{"update_id":1,"pad":"`), bytes.Repeat([]byte("x"), telegram.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	photo := func(r *rig) {
		r.api.AddFile("AgACAgQAAxkBAAIHNGm_large", "photos/file_12.jpg", []byte("\xff\xd8\xff\xe0 a photo"))
	}
	groupPhoto := func(r *rig) { r.api.AddFile("grp_large", "photos/g.jpg", []byte("\xff\xd8\xff\xe0 team photo")) }
	bad := fmt.Errorf("bad: %w", errs.ErrInvalid)
	cases := []incoming{
		// Refused: nothing handed over, nothing asked of the Bot API.
		{Name: "RejectsMissingSecret", Body: "updates/text.json", Unsigned: true, Status: 401},
		{Name: "RejectsWrongSecret", Body: "updates/text.json", Unsigned: true, Header: secretHeader("s3cr3t-Token_2"), Status: 401},
		{Name: "RejectsPrefixOfTheSecret", Body: "updates/text.json", Unsigned: true, Header: secretHeader(secret[:5]), Status: 401},
		{Name: "RejectsSecretWithMore", Body: "updates/text.json", Unsigned: true, Header: secretHeader(secret + "x"), Status: 401},
		{Name: "RejectsMalformedJSON", BodyBytes: []byte(`{"update_id":`), Status: 400},
		{Name: "RejectsAnArray", BodyBytes: []byte(`[{"update_id":1}]`), Status: 400},
		{Name: "RejectsAnUpdateWithoutID", BodyBytes: []byte(`{"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`), Status: 400},
		{Name: "RejectsBodiesOverTheLimit", BodyBytes: huge, Status: 413},

		// Private chats.
		{Name: "Text", Body: "updates/text.json", Status: 200},
		{Name: "DuplicateDeliveryIsKeptOnce", Body: "updates/text.json", Repeat: 2, Status: 200, Golden: "Text"},
		{Name: "StartPayloadIsAJoin", Body: "updates/start_payload.json", Status: 200},
		{Name: "LargestPhotoSizeIsFetched", Body: "updates/photo.json", Setup: photo, Status: 200},
		{Name: "Video", Body: "updates/video.json", Setup: func(r *rig) { r.api.AddFile("BAACAgQAAxkBvideo", "videos/v.mp4", []byte("video bytes")) }, Status: 200},
		{Name: "VoiceIsAudio", Body: "updates/voice.json", Setup: func(r *rig) { r.api.AddFile("AwACAgQAAxkBvoice", "voice/v.oga", []byte("OggS voice")) }, Status: 200},
		{Name: "Document", Body: "updates/document.json", Setup: func(r *rig) { r.api.AddFile("BQACAgQAAxkBdoc", "documents/cv.pdf", []byte("%PDF-1.7")) }, Status: 200},
		{Name: "FileAnnouncedOver20MBIsAnsweredNotFetched", Body: "updates/video_too_big.json", Status: 200},
		{Name: "FileGetFileRefusesAsTooBigIsAnswered", Body: "updates/video.json", Setup: func(r *rig) { r.api.AddBigFile("BAACAgQAAxkBvideo", 30<<20) }, Status: 200},
		{Name: "FileTheStoreRefusesIsUnsupported", Body: "updates/photo.json", Setup: func(r *rig) { photo(r); r.media.err = fmt.Errorf("not a photo: %w", errs.ErrInvalid) }, Status: 200},
		{Name: "FileUnknownToGetFileIsUnsupported", Body: "updates/photo.json", Status: 200},
		{Name: "FileStoreFailureAsksForRedelivery", Body: "updates/photo.json", Setup: func(r *rig) { photo(r); r.media.err = errTransient }, Status: 500, Golden: "GetFileOnly"},
		{Name: "CallbackQueryIsAChoiceAndAnswered", Body: "updates/callback.json", Status: 200},
		{Name: "Location", Body: "updates/location.json", Status: 200},
		{Name: "Contact", Body: "updates/contact.json", Status: 200},
		{Name: "StickerIsUnsupported", Body: "updates/sticker.json", Status: 200},
		{Name: "EditIsIgnored", Body: "updates/edited.json", Status: 200, Golden: "nothing"},
		{Name: "BlockedBotIsAcknowledged", Body: "updates/blocked.json", Status: 200, Golden: "nothing"},
		{Name: "ChannelPostIsIgnored", Body: "updates/channel_post.json", Status: 200, Golden: "nothing"},
		{Name: "UnknownUpdateIsIgnored", Body: "updates/unknown_update.json", Status: 200, Golden: "nothing"},
		{Name: "PrivateChatToATeamCampaignGetsTheGroupLink", Body: "updates/start_payload.json", Setup: func(r *rig) { r.rec.teams = true }, Status: 200},

		// Groups.
		{Name: "StartInAGroupRegistersItsTeam", Body: "updates/start_in_group.json", Status: 200},
		{Name: "GroupPhotoCountsForTheTeam", Body: "updates/group_photo.json", Setup: groupPhoto, Status: 200},
		{Name: "BotAddedToAGroupRecordsWhoAddedIt", Body: "updates/bot_added.json", Status: 200},
		{Name: "NewChatMembersAreRecorded", Body: "updates/new_chat_members.json", Status: 200},
		{Name: "ChatMemberJoinedIsRecorded", Body: "updates/member_joined.json", Status: 200},
		{Name: "MemberTheTeamCannotTakeStillPlaysForIt", Body: "updates/group_photo.json",
			Setup: func(r *rig) { groupPhoto(r); r.rec.joinErr = engine.ErrTeamFull }, Status: 200},
		{Name: "MigrationToASupergroupIsRecorded", Body: "updates/migrate_to.json", Status: 200},
		{Name: "MigrationSeenFromTheSupergroupIsRecorded", Body: "updates/migrate_from.json", Status: 200, Golden: "MigrationToASupergroupIsRecorded"},
		{Name: "SupergroupMessageIsTheTeams", Body: "updates/group_photo.json", Status: 200, Setup: func(r *rig) {
			groupPhoto(r)
			_ = r.aliases.SetAlias(t.Context(), "telegram", "-4001234567", "-1000000000001") // the group was a basic group before
		}},

		// What the engine answers.
		{Name: "NoCampaignIsAcknowledgedAndIgnored", Body: "updates/text.json", Setup: func(r *rig) { r.rec.RouteNowhere() }, Status: 200, Golden: "nothing"},
		{Name: "CallbackToNoCampaignIsStillAnswered", Body: "updates/callback.json", Setup: func(r *rig) { r.rec.RouteNowhere() }, Status: 200},
		{Name: "RouteFailureAsksForRedelivery", Body: "updates/text.json", Setup: func(r *rig) { r.rec.FailRoute(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "ReceiveFailureAsksForRedelivery", Body: "updates/text.json", Setup: func(r *rig) { r.rec.FailReceive(errTransient) }, Status: 500, Golden: "nothing"},
		{Name: "TeamFailureAsksForRedelivery", Body: "updates/start_in_group.json", Setup: func(r *rig) { r.rec.joinErr = errTransient }, Status: 500, Golden: "nothing"},
		{Name: "UpdateTheEngineRefusesIsDropped", Body: "updates/text.json", Setup: func(r *rig) { r.rec.FailReceive(bad) }, Status: 200, Golden: "nothing"},
	}
	channeltest.RunIncoming(t, fixture, telegram.WebhookPath, cases)
}

// TestConformanceOutgoing is the Sender on the channel conformance harness: the Bot API
// requests each reply makes (testdata/outgoing) and how refusals map to the engine's classes.
func TestConformanceOutgoing(t *testing.T) {
	to, group := "5123456789", "-4001234567"
	hi := engine.Outbound{To: to, Text: "hi"}
	fail := func(code int, description string, retryAfter int) func(*rig) {
		return func(r *rig) { r.api.Fail("sendMessage", code, description, retryAfter) }
	}
	buttons := []engine.Button{{ID: "consent_yes", Title: "Yes, I agree"}, {ID: "consent_no", Title: "No thanks"}}
	cases := []outgoing{
		{Name: "Text", Out: engine.Outbound{To: to, Text: "Welcome aboard!"}},
		{Name: "Buttons", Out: engine.Outbound{To: to, Text: "Do you agree?", Buttons: buttons}},
		{Name: "GroupText", Out: engine.Outbound{To: group, Text: "Round one, the harbour"}},
		{Name: "GroupButtonsStayButtons", Out: engine.Outbound{To: group, Text: "Ready?", Buttons: buttons[:1]}},
		{Name: "Photo", Out: engine.Outbound{To: group, Text: "Round one", MediaURL: "https://cdn.example.com/harbour.jpg"}},
		{Name: "PhotoWithButtons", Out: engine.Outbound{To: to, Text: "Ready?", MediaURL: "https://cdn.example.com/a.png", Buttons: buttons[:1]}},
		{Name: "Video", Out: engine.Outbound{To: to, MediaURL: "https://cdn.example.com/teaser.mp4?v=2"}},
		{Name: "Voice", Out: engine.Outbound{To: to, Text: "From the captain", MediaURL: "https://cdn.example.com/ahoy.ogg"}},
		{Name: "Audio", Out: engine.Outbound{To: to, MediaURL: "https://cdn.example.com/song.mp3"}},
		{Name: "Document", Out: engine.Outbound{To: to, Text: "The rules", MediaURL: "https://cdn.example.com/rules.pdf"}},
		{Name: "TemplateIsNoTelegramThing", Out: engine.Outbound{To: to, Text: "Your code is ready", Template: &engine.TemplateCall{Name: "code_ready", Language: "en"}}},
		{Name: "GroupUpgradedToASupergroupIsFollowed", Out: engine.Outbound{To: group, Text: "hi"},
			Setup: func(r *rig) { r.api.Migrate(group, -1001987654321) }},

		// What Telegram cannot carry is refused before any request.
		{Name: "RefusesEmpty", Out: engine.Outbound{To: to}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesNoChat", Out: engine.Outbound{Text: "hi"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesAChatThatIsNoID", Out: engine.Outbound{To: "@channel", Text: "hi"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesTextTooLong", Out: engine.Outbound{To: to, Text: strings.Repeat("é", telegram.MaxTextLen+1)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesCaptionTooLong", Out: engine.Outbound{To: to, MediaURL: "https://x/a.jpg", Text: strings.Repeat("a", telegram.MaxCaptionLen+1)}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesButtonIDOver64Bytes", Out: engine.Outbound{To: to, Text: "pick", Buttons: []engine.Button{{ID: strings.Repeat("a", 65), Title: "A"}}}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "RefusesButtonWithoutTitle", Out: engine.Outbound{To: to, Text: "pick", Buttons: []engine.Button{{ID: "a"}}}, Err: errs.ErrInvalid, NoRequests: true},

		// Bot API answers, mapped to the engine's classes.
		{Name: "TooManyRequestsThenSuccess", Out: hi, Setup: fail(http.StatusTooManyRequests, "Too Many Requests: retry after 7", 7), Golden: "HiTwice"},
		{Name: "ServerErrorThenSuccess", Out: hi, Setup: fail(http.StatusBadGateway, "Bad Gateway", 0), Golden: "HiTwice"},
		{Name: "GivesUpAfterMaxRetriesWithTheWait", Out: hi, Setup: func(r *rig) {
			for range 4 {
				r.api.Fail("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 9", 9)
			}
		}, Err: channeltest.Transient, RetryAfter: 9 * time.Second, Golden: "HiFourTimes"},
		{Name: "BlockedByTheUserIsPermanent", Out: hi, Setup: fail(http.StatusForbidden, "Forbidden: bot was blocked by the user", 0), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "ChatNotFoundIsPermanent", Out: hi, Setup: fail(http.StatusBadRequest, "Bad Request: chat not found", 0), Err: errs.ErrInvalid, Golden: "Hi"},
		{Name: "WrongTokenIsUnauthorized", Out: hi, Setup: fail(http.StatusUnauthorized, "Unauthorized", 0), Err: errs.ErrUnauthorized, Golden: "Hi"},
	}
	channeltest.RunOutgoing(t, fixture, cases)
}
