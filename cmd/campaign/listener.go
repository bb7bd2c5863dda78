package main

import (
	"net"
	"sync"
	"sync/atomic"
)

// quietListener is the server's listener. Closing it, which the HTTP server does first thing
// when it shuts down, also closes the connections that have not sent a byte yet.
//
// Browsers open connections ahead of time and leave them unused. fasthttp counts such a
// connection as busy (it is waiting for the first request) and waits for it: the shutdown then
// ran into its deadline and `campaign serve` exited 1 after Ctrl-C. A connection with nothing
// sent carries no request, so closing it loses nothing; one that carried a request is
// fasthttp's to finish or to close when idle.
type quietListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newQuietListener(ln net.Listener) *quietListener {
	return &quietListener{Listener: ln, conns: map[*trackedConn]struct{}{}}
}

func (l *quietListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *quietListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	var unused []*trackedConn
	for c := range l.conns {
		if !c.used.Load() {
			unused = append(unused, c)
		}
	}
	l.mu.Unlock()
	for _, c := range unused {
		c.Close()
	}
	return err
}

func (l *quietListener) forget(c *trackedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// trackedConn remembers whether anything was read from it.
type trackedConn struct {
	net.Conn
	l    *quietListener
	used atomic.Bool
	once sync.Once
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.used.Load() {
		c.used.Store(true)
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.l.forget(c) })
	return c.Conn.Close()
}
