package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// errPermanent marks a media failure a redelivery cannot cure.
var errPermanent = errors.New("permanent")

// permanent wraps err so that errors.Is(err, errPermanent) holds, keeping its own chain.
type permanentError struct{ err error }

func (p permanentError) Error() string        { return p.err.Error() }
func (p permanentError) Unwrap() []error      { return []error{p.err, errPermanent} }
func permanent(format string, a ...any) error { return permanentError{fmt.Errorf(format, a...)} }

// mediaInfo is the Graph API's answer to GET /{media-id}.
type mediaInfo struct {
	URL    string `json:"url"`
	MIME   string `json:"mime_type"`
	SHA256 string `json:"sha256"`
	// FileSize is a string in Meta's examples and a number elsewhere.
	FileSize json.Number `json:"file_size"`
}

// fetchAndStore downloads the media ref names and stores it for the participant. Errors
// wrapping errPermanent will not go away on a redelivery.
func (c *Channel) fetchAndStore(ctx context.Context, campaign, participant string, ref MediaRef) (engine.Media, error) {
	if c.cfg.Media == nil {
		return engine.Media{}, errors.New("whatsapp: no media store configured")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MediaTimeout)
	defer cancel()
	data, mime, err := c.FetchMedia(ctx, ref)
	if err != nil {
		return engine.Media{}, err
	}
	m, err := c.cfg.Media.PutMedia(ctx, campaign, participant, ref.Kind, mime, bytes.NewReader(data))
	if errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge) {
		return engine.Media{}, permanentError{fmt.Errorf("whatsapp: store media %s: %w", ref.ID, err)}
	}
	if err != nil {
		return engine.Media{}, fmt.Errorf("whatsapp: store media %s: %w", ref.ID, err)
	}
	return m, nil
}

// FetchMedia resolves a media id through the Graph API and downloads it with the access
// token, refusing more than the kind's limit while streaming and bytes whose sha256 differs
// from the one announced (the webhook's, else the media endpoint's; base64 or hex). It
// returns the bytes and the declared MIME type. Errors wrap errs.ErrTooLarge or
// errs.ErrInvalid for media that can never be fetched as announced.
func (c *Channel) FetchMedia(ctx context.Context, ref MediaRef) (data []byte, mime string, err error) {
	limit, ok := c.limits[ref.Kind]
	if !ok {
		return nil, "", permanent("whatsapp: media kind %q is not fetched: %w", ref.Kind, errs.ErrInvalid)
	}
	// A download URL lives five minutes; a 404 on it means ask for a fresh one, once.
	for attempt := 0; ; attempt++ {
		info, err := c.mediaInfo(ctx, ref.ID)
		if err != nil {
			return nil, "", err
		}
		if n, err := strconv.ParseInt(info.FileSize.String(), 10, 64); err == nil && n > limit {
			return nil, "", permanent("whatsapp: media %s is %d bytes, more than %d for a %s: %w", ref.ID, n, limit, ref.Kind, errs.ErrTooLarge)
		}
		data, err = c.download(ctx, info.URL, limit)
		var st statusError
		if errors.As(err, &st) && st.code == http.StatusNotFound && attempt == 0 {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("whatsapp: download media %s: %w", ref.ID, err)
		}
		want := ref.SHA256
		if want == "" {
			want = info.SHA256
		}
		if err := checkDigest(data, want); err != nil {
			return nil, "", fmt.Errorf("whatsapp: media %s: %w", ref.ID, err)
		}
		mime = ref.MIME
		if mime == "" {
			mime = info.MIME
		}
		return data, mime, nil
	}
}

type statusError struct{ code int }

func (s statusError) Error() string { return fmt.Sprintf("HTTP status %d", s.code) }

func (c *Channel) mediaInfo(ctx context.Context, id string) (mediaInfo, error) {
	if id == "" || strings.ContainsAny(id, "/?#%") {
		return mediaInfo{}, permanent("whatsapp: media id %q is not an id: %w", id, errs.ErrInvalid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/"+url.PathEscape(id), nil)
	if err != nil {
		return mediaInfo{}, fmt.Errorf("whatsapp: media %s: %w", id, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return mediaInfo{}, fmt.Errorf("whatsapp: resolve media %s: %w", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return mediaInfo{}, fmt.Errorf("whatsapp: resolve media %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := parseAPIError(resp.StatusCode, body)
		// Media ids from webhooks live seven days; an unknown id stays unknown.
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest {
			return mediaInfo{}, permanentError{fmt.Errorf("whatsapp: resolve media %s: %w", id, apiErr)}
		}
		return mediaInfo{}, fmt.Errorf("whatsapp: resolve media %s: %w", id, apiErr)
	}
	var info mediaInfo
	if err := json.Unmarshal(body, &info); err != nil || info.URL == "" {
		return mediaInfo{}, fmt.Errorf("whatsapp: resolve media %s: answer without a url", id)
	}
	u, err := url.Parse(info.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return mediaInfo{}, fmt.Errorf("whatsapp: resolve media %s: bad url %q", id, info.URL)
	}
	return info, nil
}

// download streams url into memory, failing as soon as it passes limit.
func (c *Channel) download(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	// The download URL needs the same token; without it Meta answers 401.
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError{resp.StatusCode}
	}
	if resp.ContentLength > limit {
		return nil, permanent("%d bytes announced, more than %d: %w", resp.ContentLength, limit, errs.ErrTooLarge)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, permanent("more than %d bytes: %w", limit, errs.ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// checkDigest compares data with a sha256 given in base64 (Meta's webhook examples) or hex.
// An empty or unreadable digest is not checked: the media endpoint's answer was authenticated
// by TLS and the token, and refusing all media over a format change would be worse.
func checkDigest(data []byte, want string) error {
	sum := sha256.Sum256(data)
	var expect []byte
	if b, err := hex.DecodeString(want); err == nil && len(b) == sha256.Size {
		expect = b
	} else if b, err := base64.StdEncoding.DecodeString(want); err == nil && len(b) == sha256.Size {
		expect = b
	} else if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(want, "=")); err == nil && len(b) == sha256.Size {
		expect = b
	}
	if expect == nil {
		return nil
	}
	if !bytes.Equal(expect, sum[:]) {
		return permanent("sha256 of the downloaded bytes is %x, not the announced %s: %w", sum, want, errs.ErrInvalid)
	}
	return nil
}
