package s3server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/spf13/afero"
)

// durableFs turns every "create or replace this file" into write-to-temp, fsync, rename, so a
// reader or a restart sees the old file or the new one, never half of one. s3afero creates
// objects with Create and metadata with WriteFile (O_CREATE|O_TRUNC); both come through here.
type durableFs struct {
	afero.Fs
	seq atomic.Uint64
}

// tempFile creates a fresh file in tmpDir. The name carries the start time as well as a
// counter, so even a second server wrongly pointed at the same dir fails on O_EXCL rather
// than sharing a file.
func (d *durableFs) tempFile(kind string, perm os.FileMode) (afero.File, string, error) {
	name := filepath.Join(tmpDir, fmt.Sprintf("%s-%d-%d", kind, time.Now().UnixNano(), d.seq.Add(1)))
	f, err := d.Fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, "", err
	}
	return f, name, nil
}

func (d *durableFs) Create(name string) (afero.File, error) {
	return d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (d *durableFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	const replace = os.O_CREATE | os.O_TRUNC
	if flag&replace != replace || flag&(os.O_EXCL|os.O_APPEND) != 0 {
		return d.Fs.OpenFile(name, flag, perm)
	}
	f, tmp, err := d.tempFile("obj", perm)
	if err != nil {
		return nil, err
	}
	return &durableFile{File: f, fs: d.Fs, tmp: tmp, final: name}, nil
}

// durableFile is a file being written under a temporary name; Close puts it in place unless a
// write failed, in which case the old file, if any, stays.
type durableFile struct {
	afero.File
	fs         afero.Fs
	tmp, final string
	failed     error
	closed     bool
}

func (f *durableFile) Name() string { return f.final }

func (f *durableFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	if err != nil && f.failed == nil {
		f.failed = err
	}
	return n, err
}

func (f *durableFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *durableFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	if err != nil && f.failed == nil {
		f.failed = err
	}
	return n, err
}

func (f *durableFile) Close() error {
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	err := f.failed
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.fs.Rename(f.tmp, f.final)
	}
	if err != nil {
		_ = f.fs.Remove(f.tmp)
		return fmt.Errorf("write %s: %w", f.final, err)
	}
	return nil
}

// spoolBackend receives an upload completely, into a temporary file, before the backend
// sees it. s3afero copies the request body straight into the object, so a client that goes
// away mid-body (a cancelled context) would otherwise leave a truncated object, possibly in
// place of a good one; here it leaves nothing.
type spoolBackend struct {
	gofakes3.Backend
	fs *durableFs
}

func (b *spoolBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader,
	size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	f, tmp, err := b.fs.tempFile("put", 0o600)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	defer func() {
		_ = f.Close()
		_ = b.fs.Fs.Remove(tmp)
	}()
	// The reader fails at EOF when the body does not match its Content-MD5, so a corrupt body
	// stops here too.
	n, err := io.Copy(f, input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if n != size {
		return gofakes3.PutObjectResult{}, gofakes3.ErrIncompleteBody
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return b.Backend.PutObject(bucket, key, meta, f, size, conditions)
}
