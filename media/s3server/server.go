// Package s3server owns the embedded S3-compatible endpoint: with no S3 configured,
// `campaign serve` keeps media in a folder under its data directory and still reaches it
// through the real S3 API on loopback, so the media path is the same code in development and
// at scale.
//
// It runs gofakes3 with the s3afero filesystem backend rather than s3bolt: objects are plain
// files under <dir>/buckets/<bucket>/<key> (metadata beside them under <dir>/metadata), so
// they stream from disk instead of being loaded whole from a database page, the folder can be
// backed up with any file tool, and it does not grow a single file that never shrinks.
//
// s3afero writes an object in place; this package makes each write all-or-nothing instead
// (see durable.go), because a retried or cancelled upload of content-addressed media must
// never truncate a photo that is already stored.
//
// gofakes3 checks no request signatures; this package does (sigv4.go): every request must be
// signed with the credentials Start generated, which only the process that started it knows,
// so other users on the host cannot read, change or delete media through 127.0.0.1.
package s3server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// tmpDir is where uploads are spooled and objects written before they are renamed into place;
// it is on the same filesystem as the objects, so the rename is atomic.
const tmpDir = "tmp"

// shutdownGrace is how long Close lets requests in flight finish.
const shutdownGrace = 5 * time.Second

// Server is a running embedded S3 endpoint.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:<port>, for media.Config.Endpoint.
	URL string
	// AccessKey and SecretKey are the only credentials the server accepts, random for each
	// Start.
	AccessKey, SecretKey string

	http      *http.Server
	served    chan error
	closeOnce sync.Once
	closeErr  error
}

// Start serves the objects kept under dir (created if missing) on 127.0.0.1 at a free port.
// Objects written by an earlier server on the same dir are served again.
func Start(dir string) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("s3server: data dir %s: %w", dir, err)
	}
	// Whatever is left in tmp was being written when a previous process stopped; it was never
	// an object.
	if err := os.RemoveAll(filepath.Join(abs, tmpDir)); err != nil {
		return nil, fmt.Errorf("s3server: clear %s: %w", tmpDir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("s3server: create %s: %w", abs, err)
	}
	root := afero.NewBasePathFs(afero.NewOsFs(), abs)
	fs := &durableFs{Fs: root}
	backend, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, fmt.Errorf("s3server: open backend in %s: %w", abs, err)
	}
	faker := gofakes3.New(&spoolBackend{Backend: backend, fs: fs},
		gofakes3.WithLogger(gofakes3.DiscardLog()))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("s3server: listen: %w", err)
	}
	access, secret := "campaign-"+randomKey(8), randomKey(32)
	s := &Server{
		URL:       "http://" + ln.Addr().String(),
		AccessKey: access, SecretKey: secret,
		http: &http.Server{
			Handler:           newSigV4(faker.Server(), access, secret, time.Now),
			ReadHeaderTimeout: 10 * time.Second,
		},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// Close stops the server, letting requests in flight finish for a few seconds. Everything
// acknowledged before is on disk. Closing again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.http.Close())
	}
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("s3server: close %s: %w", s.URL, err)
	}
	return nil
}
