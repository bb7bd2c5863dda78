package messenger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/chatcampaigns/campaign/channels"
)

// SubscribedFields are the webhook fields the Page must be subscribed to: messages and taps
// on buttons, and the delivery receipts of the delivery monitor.
var SubscribedFields = []string{"messages", "messaging_postbacks", "message_deliveries"}

// Check is the channel's part of `campaign channels check`: whether the Graph API answers and
// takes the page token (GET /me names the Page), whether the Page is subscribed to
// SubscribedFields (GET /me/subscribed_apps), and, with publicURL, whether the verify
// handshake at publicURL+WebhookPath reaches a server with this verify token. The callback URL
// itself is set in the App Dashboard and needs the app's token to read: it is not checked.
func (c *Channel) Check(ctx context.Context, publicURL string) []channels.Check {
	reach := channels.Check{What: channels.CheckReachable}
	creds := channels.Check{What: channels.CheckCredentials}
	hook := channels.Check{What: channels.CheckWebhook}
	var page struct{ ID, Name string }
	status, err := c.getJSON(ctx, "/me?fields=id,name", &page)
	switch {
	case err != nil:
		reach.Detail = fmt.Sprintf("%s did not answer: %v", c.cfg.APIURL, err)
		creds.Detail, hook.Detail = "not checked: unreachable", "not checked: unreachable"
		return []channels.Check{reach, creds, hook}
	case status >= 500:
		reach.Detail = fmt.Sprintf("%s answered HTTP %d", c.cfg.APIURL, status)
		creds.Detail, hook.Detail = "not checked: the API is failing", "not checked: the API is failing"
		return []channels.Check{reach, creds, hook}
	}
	reach.OK, reach.Detail = true, c.cfg.APIURL+" answered"
	if status != http.StatusOK || page.ID == "" {
		creds.Detail = fmt.Sprintf("the page token was refused (MESSENGER_PAGE_TOKEN, HTTP %d): generate a new one in the App Dashboard (Messenger, Settings, Access Tokens)", status)
		hook.Detail = "not checked: credentials refused"
		return []channels.Check{reach, creds, hook}
	}
	creds.OK, creds.Detail = true, fmt.Sprintf("page token accepted for the Page %q (id %s)", page.Name, page.ID)
	hook.OK, hook.Detail = c.checkWebhook(ctx, publicURL)
	return []channels.Check{reach, creds, hook}
}

func (c *Channel) checkWebhook(ctx context.Context, publicURL string) (bool, string) {
	var apps struct {
		Data []struct {
			Name   string   `json:"name"`
			Fields []string `json:"subscribed_fields"`
		} `json:"data"`
	}
	status, err := c.getJSON(ctx, "/me/subscribed_apps", &apps)
	if err != nil || status != http.StatusOK {
		return false, fmt.Sprintf("the Page's subscriptions could not be read (HTTP %d, %v)", status, err)
	}
	var have []string
	for _, a := range apps.Data {
		have = append(have, a.Fields...)
	}
	var missing []string
	for _, f := range SubscribedFields {
		if !slices.Contains(have, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return false, "the Page is not subscribed to " + strings.Join(missing, ", ") +
			": add them in the App Dashboard (Messenger, Settings, Webhooks, Add subscriptions)"
	}
	detail := "the Page is subscribed to " + strings.Join(SubscribedFields, ", ")
	if publicURL == "" {
		return true, detail + " (give --public-url to try the callback URL's handshake)"
	}
	hookURL := strings.TrimRight(publicURL, "/") + WebhookPath
	if err := c.handshake(ctx, hookURL); err != nil {
		return false, fmt.Sprintf("the handshake at %s failed: %v", hookURL, err)
	}
	return true, detail + "; the handshake at " + hookURL + " answers with this verify token"
}

// handshake makes Meta's verify request to hookURL with the verify token and a challenge of
// its own, and wants the challenge back.
func (c *Channel) handshake(ctx context.Context, hookURL string) error {
	const challenge = "campaign-channels-check"
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {c.cfg.VerifyToken}, "hub.challenge": {challenge}}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hookURL+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK || string(body) != challenge {
		return fmt.Errorf("HTTP %d %q: not this server, or another MESSENGER_VERIFY_TOKEN", resp.StatusCode, body)
	}
	return nil
}

// getJSON makes a Graph API GET with the page token and decodes a 200 answer into v.
func (c *Channel) getJSON(ctx context.Context, endpoint string, v any) (int, error) {
	data, status, err := c.call(ctx, http.MethodGet, endpoint, nil)
	if err != nil || status != http.StatusOK {
		return status, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return status, fmt.Errorf("unreadable answer: %w", err)
	}
	return status, nil
}
