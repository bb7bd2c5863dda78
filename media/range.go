package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/chatcampaigns/campaign/errs"
)

// ErrRange is an OpenRange past the end of the object (HTTP's 416); it wraps errs.ErrInvalid,
// which is what callers that do not import this package test for.
var ErrRange = fmt.Errorf("range not satisfiable: %w", errs.ErrInvalid)

// maxRangeEnd is the largest end of a range passed on to the store.
const maxRangeEnd = 1 << 62

// OpenRange streams the bytes start to end (inclusive) of a stored object, so that a browser
// can seek in a video without the whole file; end beyond the object is its last byte. It
// returns the object's type and total size too. Errors are as for Open, and wrap ErrRange
// when start is at or past the end.
func (s *Store) OpenRange(ctx context.Context, key string, start, end int64) (body io.ReadCloser, contentType string, size int64, err error) {
	if err := checkKey(key); err != nil {
		return nil, "", 0, err
	}
	// No object comes near this size; a larger end (bytes=0-9223372036854775807 is a valid
	// request) would overflow a store that adds one to it, as gofakes3 does.
	end = min(end, maxRangeEnd)
	if start < 0 || end < start {
		return nil, "", 0, fmt.Errorf("media: range %d-%d of %s: %w", start, end, key, ErrRange)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
		Range:  aws.String("bytes=" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)),
	}, func(o *s3.Options) {
		// The object's checksum is of the whole object; a store that sends it along with a
		// part (gofakes3 does) would fail the SDK's check of the part against it.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err != nil {
		var api smithy.APIError
		switch {
		case isNotFound(err):
			return nil, "", 0, fmt.Errorf("media: open %s: %w", key, errs.ErrNotFound)
		case errors.As(err, &api) && api.ErrorCode() == "InvalidRange":
			return nil, "", 0, fmt.Errorf("media: range %d- of %s: %w", start, key, ErrRange)
		}
		return nil, "", 0, fmt.Errorf("media: open %s: %w", key, err)
	}
	// Content-Range: bytes START-END/SIZE
	cr := aws.ToString(out.ContentRange)
	_, total, ok := strings.Cut(cr, "/")
	size, perr := strconv.ParseInt(total, 10, 64)
	if !ok || perr != nil {
		out.Body.Close()
		return nil, "", 0, fmt.Errorf("media: range of %s: the store answered Content-Range %q", key, cr)
	}
	contentType = aws.ToString(out.ContentType)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return out.Body, contentType, size, nil
}
