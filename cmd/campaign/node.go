package main

import (
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// nodeFile keeps, in the data folder, the name this server's engine gives its leases and send
// attempts (engine.Config.Owner).
const nodeFile = "node-id"

// node is the engine's owner name and the lock that makes it this process's alone.
type node struct {
	Owner string
	// Shared is set when another live process holds the data folder's name: this one then
	// runs under a name of its own, and cannot take back what a dead predecessor left.
	Shared bool
	f      *os.File
}

// openNode returns the owner name kept in the data folder, created at the first start, with
// the host name added: a server restarted on the same data (after a kill -9, a power cut) is
// the same owner and takes back its leases at once (engine.TakeBack) instead of waiting for
// them to run out, while a copy of the folder on another machine sharing a MongoDB is not.
// The file stays locked (flock) while the server runs, so two processes on one data folder
// never share a name, which would let both hold one lease; the lock goes with the process,
// kill -9 included.
func openNode(data string) (*node, error) {
	path := filepath.Join(data, nodeFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("node id: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("node id: lock %s: %w", path, err)
		}
		return &node{Owner: host + "-" + cryptorand.Text()[:12], Shared: true}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("node id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		id = cryptorand.Text()[:12]
		if _, err := f.WriteString(id + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("node id: write %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("node id: write %s: %w", path, err)
		}
	}
	return &node{Owner: id + "@" + host, f: f}, nil
}

// lockForWrite takes the data folder's lock for a command that writes what a running server
// keeps in memory (the participants it routes and steps, on the embedded store): such a
// write behind the server's back would be undone or contradicted by its next step. It
// refuses while a server holds the folder, and holds the lock until the returned node is
// closed, so no server starts in the middle. Without a node file no server ever ran there.
func lockForWrite(data, what, instead string) (*node, error) {
	f, err := os.OpenFile(filepath.Join(data, nodeFile), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return &node{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node id: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("a campaign serve is running on the data folder %s: %s would write behind its back (it keeps the participants it routes in memory); %s, or stop the server first", data, what, instead)
		}
		return nil, fmt.Errorf("node id: lock %s: %w", filepath.Join(data, nodeFile), err)
	}
	return &node{f: f}, nil
}

// Close gives up the lock.
func (n *node) Close() error {
	if n == nil || n.f == nil {
		return nil
	}
	return n.f.Close()
}
