package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ErrFileTooBig is a file above what a bot may download (Config.MaxMedia, at most 20 MB):
// Telegram will not hand it over however often it is asked. It wraps errs.ErrTooLarge.
var ErrFileTooBig = fmt.Errorf("telegram: file above the bot download limit: %w", errs.ErrTooLarge)

// mediaFailure is a media failure a redelivery cannot cure; the participant is told.
type mediaFailure struct{ err error }

func (m mediaFailure) Error() string { return m.err.Error() }
func (m mediaFailure) Unwrap() error { return m.err }

// tgFile is the documented File object.
type tgFile struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size"`
	FilePath string `json:"file_path"`
}

// FetchFile resolves ref with getFile and downloads it, refusing more than Config.MaxMedia
// before and while streaming (ErrFileTooBig). Errors that will not go away on a retry wrap
// errs.ErrTooLarge or errs.ErrInvalid.
func (c *Channel) FetchFile(ctx context.Context, ref FileRef) ([]byte, error) {
	limit := c.cfg.MaxMedia
	if ref.Size > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFileTooBig, ref.Size, limit)
	}
	var f tgFile
	if err := c.call(ctx, "getFile", map[string]string{"file_id": ref.FileID}, &f); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Permanent {
			// "file is too big" is how getFile refuses a file past 20 MB.
			if strings.Contains(strings.ToLower(apiErr.Description), "too big") {
				return nil, fmt.Errorf("%w: %v", ErrFileTooBig, apiErr)
			}
		}
		return nil, err
	}
	if f.FileSize > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFileTooBig, f.FileSize, limit)
	}
	if f.FilePath == "" || strings.Contains(f.FilePath, "..") {
		return nil, fmt.Errorf("telegram: getFile gave no usable file_path for %s: %w", ref.FileID, errs.ErrInvalid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/file/bot"+c.cfg.Token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", err)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: download %s: %w", ref.Kind, hideURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The link lives an hour; the next delivery of the update asks getFile again.
		return nil, fmt.Errorf("telegram: download %s: HTTP %d", ref.Kind, resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes announced, more than %d", ErrFileTooBig, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("telegram: download %s: %w", ref.Kind, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrFileTooBig, limit)
	}
	return buf.Bytes(), nil
}

// fetchAndStore downloads ref and stores it for the participant. A mediaFailure will not go
// away on a redelivery.
func (c *Channel) fetchAndStore(ctx context.Context, campaign, participant string, ref FileRef) (engine.Media, error) {
	if c.cfg.Media == nil {
		return engine.Media{}, errors.New("telegram: no media store configured")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MediaTimeout)
	defer cancel()
	data, err := c.FetchFile(ctx, ref)
	if errors.Is(err, errs.ErrTooLarge) || errors.Is(err, errs.ErrInvalid) {
		return engine.Media{}, mediaFailure{err}
	}
	if err != nil {
		return engine.Media{}, err
	}
	m, err := c.cfg.Media.PutMedia(ctx, campaign, participant, ref.Kind, ref.MIME, bytes.NewReader(data))
	if errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge) {
		return engine.Media{}, mediaFailure{fmt.Errorf("telegram: store %s: %w", ref.Kind, err)}
	}
	if err != nil {
		return engine.Media{}, fmt.Errorf("telegram: store %s: %w", ref.Kind, err)
	}
	return m, nil
}
