// Package media owns the media participants send: photos, videos, voice notes and other audio,
// and documents. It checks what an upload really is (from its bytes, never its name or the
// type a platform declares), refuses what is too large or would decode to too many pixels,
// makes a thumbnail of each photo for the moderation queue, and keeps everything in S3 under
// content-addressed keys. It is the only package that imports the AWS S3 client; the rest of
// the project sees engine.Media values and errs kinds.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Defaults for Config fields left zero.
const (
	DefaultRegion   = "us-east-1"
	DefaultMaxBytes = 10 << 20
	// The defaults for video, audio and documents are WhatsApp's own limits for what it
	// carries, so nothing a participant can send there is refused here.
	DefaultMaxVideoBytes    = 16 << 20
	DefaultMaxAudioBytes    = 16 << 20
	DefaultMaxDocumentBytes = 100 << 20
)

// maxSegment bounds a campaign or participant name in a key; S3 keys are limited to 1024
// bytes and these are ids, not prose.
const maxSegment = 128

// Config says where media is kept.
type Config struct {
	Bucket string
	// Endpoint is empty for AWS's own endpoint resolution; when set (the embedded server, MinIO
	// and the like) requests go to it with path-style addressing.
	Endpoint string
	// Region defaults to DefaultRegion.
	Region string
	// AccessKey and SecretKey are static credentials, used with the embedded server; when
	// AccessKey is empty the default AWS credential chain applies.
	AccessKey string
	SecretKey string
	// MaxBytes is the largest photo accepted; it defaults to DefaultMaxBytes.
	MaxBytes int64
	// MaxVideoBytes, MaxAudioBytes and MaxDocumentBytes limit PutMedia for those kinds;
	// they default to DefaultMaxVideoBytes and so on.
	MaxVideoBytes    int64
	MaxAudioBytes    int64
	MaxDocumentBytes int64
	// CreateBucket makes New create the bucket when it does not exist yet.
	CreateBucket bool
	// MaxDecodeBytes bounds the memory one photo may take to decode (pixels times the bytes
	// its colour model needs); DecodeMemory bounds all decodes at once, and DecodeWait how long
	// an upload waits for room in it. They default to DefaultMaxDecodeBytes and so on.
	MaxDecodeBytes int64
	DecodeMemory   int64
	DecodeWait     time.Duration
}

// objectAPI is the part of the S3 client the store uses, declared here so the SDK stays at
// this boundary.
type objectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ objectAPI = (*s3.Client)(nil)

// Store keeps checked photos and their thumbnails in one S3 bucket. It is safe for concurrent
// use.
type Store struct {
	client   objectAPI
	bucket   string
	maxBytes int64
	// maxKind limits PutMedia per kind other than photo.
	maxKind map[string]int64
	decode  *decodeBudget
}

// New connects to the bucket cfg names. With CreateBucket it creates the bucket when missing;
// otherwise it does not touch S3, so a credential allowed only to read and write objects is
// enough.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("media: no bucket configured: %w", errs.ErrInvalid)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(cfg.Region)}
	if cfg.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: load AWS config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	})
	s := &Store{client: client, bucket: cfg.Bucket, maxBytes: cfg.MaxBytes, maxKind: map[string]int64{
		KindVideo:    orDefault(cfg.MaxVideoBytes, DefaultMaxVideoBytes),
		KindAudio:    orDefault(cfg.MaxAudioBytes, DefaultMaxAudioBytes),
		KindDocument: orDefault(cfg.MaxDocumentBytes, DefaultMaxDocumentBytes),
	}, decode: newDecodeBudget(cfg.MaxDecodeBytes, cfg.DecodeMemory, cfg.DecodeWait)}
	if cfg.CreateBucket {
		if err := s.ensureBucket(ctx, cfg.Region); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func orDefault(v, d int64) int64 {
	if v <= 0 {
		return d
	}
	return v
}

// ensureBucket creates the bucket unless it exists; another process creating it first is fine.
func (s *Store) ensureBucket(ctx context.Context, region string) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("media: check bucket %s: %w", s.bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	// us-east-1 is the one region S3 refuses an explicit location constraint for.
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(region),
		}
	}
	_, err = s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("media: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

// Put checks and stores one uploaded photo and its thumbnail.
//
// It reads at most MaxBytes+1 bytes from r: a larger upload fails with an error wrapping
// errs.ErrTooLarge and nothing is stored. The type is sniffed from the bytes; anything but a
// JPEG, PNG, GIF or WebP photo, a damaged one, or one whose header claims more than 40
// megapixels fails with an error wrapping errs.ErrInvalid that says why, before any pixel is
// decoded. A campaign or participant that is empty, too long, or not made of letters, digits,
// '-', '_' and '.' (without a leading '.') is refused with errs.ErrInvalid.
//
// The photo is stored without its metadata (EXIF with GPS, XMP, IPTC, maker notes, text
// chunks; see strip.go), its pixels untouched; a JPEG's orientation survives as a one-field
// EXIF block, and the thumbnail is drawn upright.
//
// Keys are "<campaign>/<participant>/<sha256hex>.<ext>" and the same with ".thumb.jpg", so
// storing the same bytes again is idempotent and returns the same Media.
func (s *Store) Put(ctx context.Context, campaign, participant string, r io.Reader) (engine.Media, error) {
	if err := checkSegment("campaign", campaign); err != nil {
		return engine.Media{}, err
	}
	if err := checkSegment("participant", participant); err != nil {
		return engine.Media{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, s.maxBytes+1))
	if err != nil {
		return engine.Media{}, fmt.Errorf("media: read upload: %w", err)
	}
	if int64(len(data)) > s.maxBytes {
		return engine.Media{}, fmt.Errorf("media: the file is larger than %d bytes: %w", s.maxBytes, errs.ErrTooLarge)
	}
	p, err := check(data)
	if err != nil {
		return engine.Media{}, err
	}
	// What is stored, hashed and thumbnailed is the photo without its metadata (strip.go),
	// so no copy of a participant's GPS position or camera serial reaches S3.
	data, orientation, err := stripPhoto(p.ext, data)
	if err != nil {
		return engine.Media{}, err
	}
	release, err := s.decode.acquire(ctx, p)
	if err != nil {
		return engine.Media{}, err
	}
	thumb, err := thumbnail(data, p, orientation)
	release()
	if err != nil {
		return engine.Media{}, err
	}
	sum := sha256.Sum256(data)
	base := campaign + "/" + participant + "/" + hex.EncodeToString(sum[:])
	m := engine.Media{
		Kind:     "photo",
		Key:      base + "." + p.ext,
		ThumbKey: base + ".thumb.jpg",
		MIME:     p.mime,
		Size:     int64(len(data)),
	}
	// The thumbnail goes first so that whoever finds the photo can rely on its thumbnail.
	if err := s.put(ctx, m.ThumbKey, "image/jpeg", thumb); err != nil {
		return engine.Media{}, err
	}
	if err := s.put(ctx, m.Key, m.MIME, data); err != nil {
		return engine.Media{}, err
	}
	return m, nil
}

func (s *Store) put(ctx context.Context, key, contentType string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
		// The key holds the content's hash, so the object never changes under it.
		CacheControl: aws.String("private, max-age=31536000, immutable"),
	})
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	return nil
}

// Open streams a stored object; the caller closes body. It fails with an error wrapping
// errs.ErrNotFound when there is no such object, and errs.ErrInvalid for a key Put could never
// have made (so a key taken from a URL cannot walk out of its folder).
func (s *Store) Open(ctx context.Context, key string) (body io.ReadCloser, contentType string, err error) {
	if err := checkKey(key); err != nil {
		return nil, "", err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, "", fmt.Errorf("media: open %s: %w", key, errs.ErrNotFound)
		}
		return nil, "", fmt.Errorf("media: open %s: %w", key, err)
	}
	contentType = aws.ToString(out.ContentType)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return out.Body, contentType, nil
}

// isNotFound recognises S3's ways of saying "no such thing": typed errors for GetObject, a
// bare 404 for HEAD requests, which carry no body to name an error code.
func isNotFound(err error) bool {
	var noKey *types.NoSuchKey
	var noBucket *types.NoSuchBucket
	var notFound *types.NotFound
	if errors.As(err, &noKey) || errors.As(err, &noBucket) || errors.As(err, &notFound) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound":
			return true
		}
	}
	var resp *awshttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound
}

// checkSegment makes sure a campaign or participant is one harmless key segment: no '/', no
// "." or "..", nothing a filesystem-backed S3 or a log would treat specially.
func checkSegment(what, v string) error {
	if v == "" || len(v) > maxSegment || v[0] == '.' {
		return fmt.Errorf("media: %s %q is not a valid name: %w", what, v, errs.ErrInvalid)
	}
	for _, c := range []byte(v) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("media: %s %q is not a valid name: %w", what, v, errs.ErrInvalid)
		}
	}
	return nil
}

// checkKey accepts keys made of valid segments: every key Put makes, and nothing that could
// name a parent folder on a filesystem-backed server.
func checkKey(key string) error {
	for _, p := range strings.Split(key, "/") {
		if err := checkSegment("key part", p); err != nil {
			return fmt.Errorf("media: key %q is not a media key: %w", key, errs.ErrInvalid)
		}
	}
	return nil
}
