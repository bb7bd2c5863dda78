package s3server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxClockSkew is how far a request's X-Amz-Date may be from the server's clock, as on AWS:
// a captured request cannot be replayed later than that.
const maxClockSkew = 15 * time.Minute

// sigV4 refuses every request not signed with the server's own credentials, so the other
// users and programs on the host, who can all reach 127.0.0.1, can neither read nor change
// media. It recomputes the signature with the SDK's signer over the headers the client says
// it signed and compares; gofakes3 itself checks nothing.
type sigV4 struct {
	next              http.Handler
	accessKey, secret string
	now               func() time.Time
	signer            *v4.Signer
}

func newSigV4(next http.Handler, accessKey, secret string, now func() time.Time) *sigV4 {
	return &sigV4{next: next, accessKey: accessKey, secret: secret, now: now,
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })}
}

func (s *sigV4) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.verify(r); err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>%s</Message></Error>\n", xmlEscape(err.Error()))
		return
	}
	s.next.ServeHTTP(w, r)
}

// authorization is the parsed Authorization header of a SigV4 request.
type authorization struct {
	accessKey, date, region, service string
	signedHeaders                    []string
}

func parseAuthorization(h string) (authorization, error) {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return authorization{}, fmt.Errorf("the request is not signed with AWS Signature Version 4")
	}
	var a authorization
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signed == "" {
		return authorization{}, fmt.Errorf("the Authorization header is malformed")
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

func (s *sigV4) verify(r *http.Request) error {
	if r.URL.Query().Has("X-Amz-Signature") {
		return fmt.Errorf("presigned URLs are not accepted")
	}
	got := r.Header.Get("Authorization")
	a, err := parseAuthorization(got)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(a.accessKey), []byte(s.accessKey)) != 1 {
		return fmt.Errorf("unknown access key")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("the request has no valid X-Amz-Date")
	}
	if d := s.now().Sub(at); d > maxClockSkew || d < -maxClockSkew {
		return fmt.Errorf("the request was signed at %s, too far from now", at.Format(time.RFC3339))
	}
	// Rebuild the request from what was signed only, sign it again with our secret and
	// compare: a header added after signing cannot change the outcome.
	again, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host, nil)
	if err != nil {
		return fmt.Errorf("the request cannot be rebuilt: %v", err)
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	again.URL = &u
	again.Host = r.Host
	for _, h := range a.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			if v, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				again.Header[http.CanonicalHeaderKey(h)] = v
			}
		}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return fmt.Errorf("the request has no X-Amz-Content-Sha256")
	}
	creds := aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: s.secret}
	if err := s.signer.SignHTTP(context.Background(), creds, again, payload, a.service, a.region, at); err != nil {
		return fmt.Errorf("the request cannot be signed again: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(signature(again.Header.Get("Authorization"))), []byte(signature(got))) != 1 {
		return fmt.Errorf("the signature does not match")
	}
	return nil
}

// signature is the Signature= part of an Authorization header.
func signature(h string) string {
	_, sig, _ := strings.Cut(h, "Signature=")
	return strings.TrimSpace(sig)
}

func randomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
