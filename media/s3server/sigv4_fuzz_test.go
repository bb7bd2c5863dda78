package s3server

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary Authorization, X-Amz-Date and payload-hash headers to the
// signature check: it must refuse them (nothing random carries our signature) and never
// panic.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=campaign-ak/20261201/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261201T120000Z", "UNSIGNED-PAYLOAD")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=", "", "")
	f.Add("Basic dXNlcjpwYXNz", "x", "y")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := newSigV4(nil, "campaign-ak", "secret", func() time.Time { return now })
	f.Fuzz(func(t *testing.T, auth, date, payload string) {
		r := httptest.NewRequest("GET", "/bkt/key", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", payload)
		if err := s.verify(r); err == nil {
			t.Fatalf("accepted Authorization %q", auth)
		}
	})
}
