// Package fastconn owns what the project's fasthttp clients (the WhatsApp channel's, to the
// Graph API, and the load tool's, to the server) do when a connection breaks under a request.
package fastconn

import (
	"errors"
	"io"
	"syscall"

	"github.com/valyala/fasthttp"
)

// DropIdleIfBroken closes hc's idle connections when err says a connection broke under the
// request (closed before the answer, reset, a broken pipe) rather than a timeout or an
// answer. The peer then most likely dropped them all (a restart, a network cut), and
// fasthttp does not notice that while they sit idle: each would fail a request of its own,
// one retry apart, where the next request should dial anew.
func DropIdleIfBroken(hc *fasthttp.HostClient, err error) {
	if Broken(err) {
		hc.CloseIdleConnections()
	}
}

// Broken says err is a connection that broke under the request.
func Broken(err error) bool {
	return errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF)
}
