package s3server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/chatcampaigns/campaign/media/s3server"
)

// Plain HTTP requests, signed here with the server's credentials, speak S3 well enough; the
// path through aws-sdk-go-v2 is covered by the media package's tests.

// servers maps a started server's URL to it, so mustDo can sign with its credentials.
var servers sync.Map

func MustStart(tb testing.TB, dir string) *s3server.Server {
	tb.Helper()
	srv, err := s3server.Start(dir)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	servers.Store(srv.URL, srv)
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// sign signs req as the server at its URL expects, with the body's hash (or UNSIGNED-PAYLOAD
// when body is nil and the request has one the test will write itself).
func sign(tb testing.TB, req *http.Request, accessKey, secret string, body []byte) {
	tb.Helper()
	hash := "UNSIGNED-PAYLOAD"
	if body != nil || req.ContentLength == 0 {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}, req, hash, "s3", "us-east-1", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
}

func signedFor(tb testing.TB, url string) *s3server.Server {
	var found *s3server.Server
	servers.Range(func(k, v any) bool {
		if strings.HasPrefix(url, k.(string)+"/") {
			found = v.(*s3server.Server)
			return false
		}
		return true
	})
	if found == nil {
		tb.Fatalf("no server for %s", url)
	}
	return found
}

func mustDo(tb testing.TB, method, url string, body []byte, wantStatus int) []byte {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	srv := signedFor(tb, url)
	sign(tb, req, srv.AccessKey, srv.SecretKey, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		tb.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, wantStatus, b)
	}
	return b
}

func TestServer(t *testing.T) {
	t.Run("ListensOnLoopback", func(t *testing.T) {
		srv := MustStart(t, t.TempDir())
		if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
			t.Fatalf("URL = %s, want http://127.0.0.1:<port>", srv.URL)
		}
	})

	t.Run("ObjectsSurviveARestart", func(t *testing.T) {
		dir := t.TempDir()
		srv := MustStart(t, dir)
		mustDo(t, http.MethodPut, srv.URL+"/bkt", nil, http.StatusOK)
		mustDo(t, http.MethodPut, srv.URL+"/bkt/c/p/photo.jpg", []byte("stored"), http.StatusOK)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatalf("second Close = %v, want the first result", err)
		}

		again := MustStart(t, dir)
		if got := mustDo(t, http.MethodGet, again.URL+"/bkt/c/p/photo.jpg", nil, http.StatusOK); string(got) != "stored" {
			t.Fatalf("after restart got %q", got)
		}
	})

	t.Run("MissingObjectIs404", func(t *testing.T) {
		srv := MustStart(t, t.TempDir())
		mustDo(t, http.MethodPut, srv.URL+"/bkt", nil, http.StatusOK)
		mustDo(t, http.MethodGet, srv.URL+"/bkt/nothing", nil, http.StatusNotFound)
	})

	t.Run("AnUploadCutOffMidBodyKeepsTheStoredObject", func(t *testing.T) {
		dir := t.TempDir()
		srv := MustStart(t, dir)
		mustDo(t, http.MethodPut, srv.URL+"/bkt", nil, http.StatusOK)
		mustDo(t, http.MethodPut, srv.URL+"/bkt/k", []byte("the good photo"), http.StatusOK)

		// Promise 1000 bytes, send 10, hang up: what a cancelled client does.
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bkt/k", nil)
		req.ContentLength = 1000
		sign(t, req, srv.AccessKey, srv.SecretKey, nil)
		fmt.Fprintf(conn, "PUT /bkt/k HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\nX-Amz-Date: %s\r\nX-Amz-Content-Sha256: %s\r\nAuthorization: %s\r\n\r\n0123456789",
			req.Host, req.Header.Get("X-Amz-Date"), req.Header.Get("X-Amz-Content-Sha256"), req.Header.Get("Authorization"))
		conn.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, conn) // wait for the server to give up on the request
		conn.Close()

		if got := mustDo(t, http.MethodGet, srv.URL+"/bkt/k", nil, http.StatusOK); string(got) != "the good photo" {
			t.Fatalf("after a cut-off upload the object is %q", got)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	})

	t.Run("ClearsTemporaryFilesOfACrashedRun", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tmp", "obj-1-1"), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		MustStart(t, dir)
		if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
			t.Errorf("temporary files kept: %v", left)
		}
	})
}
