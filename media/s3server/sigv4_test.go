package s3server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// Issue 15: the embedded endpoint accepted unsigned reads, writes and deletes from anyone on
// the host. Now only requests signed with the credentials Start generated get through.
func TestRefusesRequestsNotSignedByTheServer(t *testing.T) {
	srv := MustStart(t, t.TempDir())
	mustDo(t, http.MethodPut, srv.URL+"/bkt", nil, http.StatusOK)
	mustDo(t, http.MethodPut, srv.URL+"/bkt/c/p/photo.jpg", []byte("stored"), http.StatusOK)

	for _, tc := range []struct {
		name string
		sign func(*http.Request, []byte)
	}{
		{"unsigned", func(*http.Request, []byte) {}},
		{"wrong secret", func(r *http.Request, b []byte) { sign(t, r, srv.AccessKey, "not-the-secret", b) }},
		{"wrong access key", func(r *http.Request, b []byte) { sign(t, r, "someone-else", srv.SecretKey, b) }},
		{"header changed after signing", func(r *http.Request, b []byte) {
			sign(t, r, srv.AccessKey, srv.SecretKey, b)
			r.Header.Set("X-Amz-Date", "20260101T000000Z")
		}},
		{"presigned query", func(r *http.Request, b []byte) {
			r.URL.RawQuery = "X-Amz-Signature=00"
		}},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				var body []byte
				if method == http.MethodPut {
					body = []byte("replaced")
				}
				req, _ := http.NewRequest(method, srv.URL+"/bkt/c/p/photo.jpg", bytes.NewReader(body))
				tc.sign(req, body)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("status %d, want 403", resp.StatusCode)
				}
			})
		}
	}
	if got := mustDo(t, http.MethodGet, srv.URL+"/bkt/c/p/photo.jpg", nil, http.StatusOK); string(got) != "stored" {
		t.Fatalf("after the refused requests the object is %q", got)
	}
}
