package media

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Keys lists the keys of every object stored for a participant (photos, thumbnails, videos,
// recordings, documents), in key order. Every key Put and PutMedia make starts with
// "<campaign>/<participant>/", so this is all of it. An empty campaign lists the whole
// bucket's keys of no one: it is refused like a bad name.
func (s *Store) Keys(ctx context.Context, campaign, participant string) ([]string, error) {
	prefix, err := ownerPrefix(campaign, participant)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, prefix)
}

// CampaignKeys lists every object of a campaign, for purging it.
func (s *Store) CampaignKeys(ctx context.Context, campaign string) ([]string, error) {
	if err := checkSegment("campaign", campaign); err != nil {
		return nil, err
	}
	return s.list(ctx, campaign+"/")
}

func ownerPrefix(campaign, participant string) (string, error) {
	if err := checkSegment("campaign", campaign); err != nil {
		return "", err
	}
	if err := checkSegment("participant", participant); err != nil {
		return "", err
	}
	return campaign + "/" + participant + "/", nil
}

func (s *Store) list(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	for {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("media: list %s: %w", prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return keys, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// Delete removes stored objects; a key already gone is no error (S3 says the same), so an
// erase cut short can run again. It returns how many it deleted.
func (s *Store) Delete(ctx context.Context, keys []string) (int, error) {
	for i, key := range keys {
		if err := checkKey(key); err != nil {
			return i, err
		}
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil && !isNotFound(err) {
			return i, fmt.Errorf("media: delete %s: %w", key, err)
		}
	}
	return len(keys), nil
}
