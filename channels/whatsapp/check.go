package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatcampaigns/campaign/channels"
)

// phoneNumberInfo is the part of the Graph API's phone number node the check reads.
// webhook_configuration lists the callback URL at each level: a phone number override, a
// WABA override, the app's own; the first one set is where webhooks go.
type phoneNumberInfo struct {
	ID                   string `json:"id"`
	DisplayPhoneNumber   string `json:"display_phone_number"`
	VerifiedName         string `json:"verified_name"`
	OfficialBusiness     bool   `json:"is_official_business_account"`
	WebhookConfiguration struct {
		PhoneNumber string `json:"phone_number"`
		WABA        string `json:"whatsapp_business_account"`
		Application string `json:"application"`
	} `json:"webhook_configuration"`
}

func (p phoneNumberInfo) callbackURL() string {
	w := p.WebhookConfiguration
	for _, u := range []string{w.PhoneNumber, w.WABA, w.Application} {
		if u != "" {
			return u
		}
	}
	return ""
}

// Check asks the Graph API about the default sending number (PhoneNumberID) with the access
// token, in one request: whether the API answers, whether it takes the token and knows the
// number (and whether it may make groups), and where the number's webhooks go. That must be publicURL+WebhookPath when
// publicURL is given, else any URL ending in WebhookPath. Whether the app subscribed the
// messages field needs the app's own token and is not checked (docs/whatsapp.md).
func (c *Channel) Check(ctx context.Context, publicURL string) []channels.Check {
	reach := channels.Check{What: channels.CheckReachable}
	creds := channels.Check{What: channels.CheckCredentials}
	hook := channels.Check{What: channels.CheckWebhook}
	notChecked := func(why string) []channels.Check {
		if !creds.OK && creds.Detail == "" {
			creds.Detail = "not checked: " + why
		}
		hook.Detail = "not checked: " + why
		return []channels.Check{reach, creds, hook}
	}
	if c.cfg.PhoneNumberID == "" {
		reach.Detail = "not checked: no phone number id (WHATSAPP_PHONE_NUMBER_ID)"
		return notChecked("no phone number id")
	}
	endpoint := c.cfg.APIURL + "/" + url.PathEscape(c.cfg.PhoneNumberID) +
		"?fields=display_phone_number,verified_name,is_official_business_account,webhook_configuration"
	rctx, cancel := context.WithTimeout(ctx, c.cfg.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, endpoint, nil)
	if err != nil {
		reach.Detail = fmt.Sprintf("WHATSAPP_API_URL %q: %v", c.cfg.APIURL, err)
		return notChecked("unreachable")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		reach.Detail = fmt.Sprintf("%s did not answer: %v", c.cfg.APIURL, err)
		return notChecked("unreachable")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		reach.Detail = fmt.Sprintf("%s: reading the answer: %v", c.cfg.APIURL, err)
		return notChecked("unreachable")
	}
	if resp.StatusCode >= 500 {
		reach.Detail = fmt.Sprintf("%s answered HTTP %d", c.cfg.APIURL, resp.StatusCode)
		return notChecked("the API is failing")
	}
	reach.OK, reach.Detail = true, c.cfg.APIURL+" answered"
	if resp.StatusCode != http.StatusOK {
		e := parseAPIError(resp.StatusCode, data)
		switch {
		case e.HTTPStatus == http.StatusUnauthorized || e.Code == 190:
			creds.Detail = "the access token was refused (WHATSAPP_ACCESS_TOKEN): " + e.Title
		case e.HTTPStatus == http.StatusNotFound || e.Code == 100:
			creds.Detail = fmt.Sprintf("phone number id %s is unknown, or not one this token may use (WHATSAPP_PHONE_NUMBER_ID): %s", c.cfg.PhoneNumberID, e.Title)
		default:
			creds.Detail = e.Error()
		}
		return notChecked("credentials refused")
	}
	var info phoneNumberInfo
	if err := json.Unmarshal(data, &info); err != nil {
		creds.Detail = fmt.Sprintf("unreadable answer: %v", err)
		return notChecked("unreadable answer")
	}
	creds.OK = true
	creds.Detail = fmt.Sprintf("token accepted for %s %q (phone number id %s)", info.DisplayPhoneNumber, info.VerifiedName, c.cfg.PhoneNumberID)
	// Team campaigns need groups, which only an Official Business Account may make; the
	// check says so rather than fail: most campaigns need none.
	if info.OfficialBusiness {
		creds.Detail += "; an Official Business Account: groups for team campaigns work"
	} else {
		creds.Detail += "; not an Official Business Account: no groups for team campaigns"
	}
	got := info.callbackURL()
	want := ""
	if publicURL != "" {
		want = strings.TrimRight(publicURL, "/") + WebhookPath
	}
	switch {
	case got == "":
		hook.Detail = "no callback URL is set: enter " + orPath(want) + " in the App Dashboard (WhatsApp, Configuration)"
	case want != "" && got != want:
		hook.Detail = fmt.Sprintf("webhooks go to %s, not %s", got, want)
	case want == "" && !strings.HasSuffix(strings.TrimRight(got, "/"), WebhookPath):
		hook.Detail = fmt.Sprintf("webhooks go to %s, which is not a %s of this server", got, WebhookPath)
	default:
		hook.OK, hook.Detail = true, "webhooks go to "+got
	}
	return []channels.Check{reach, creds, hook}
}

func orPath(want string) string {
	if want != "" {
		return want
	}
	return "https://YOUR-HOST" + WebhookPath
}
