// Package rawhttp reads HTTP/1.1 messages off a socket with no HTTP library in between: the
// benchmarks of the channel's requests and of the load tool answer with it, so the figures
// count the code measured and not a server's.
package rawhttp

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// ReadMessage reads one HTTP/1.1 request or response whose body has a Content-Length (none
// is an empty body) and appends the body to buf.
func ReadMessage(r *bufio.Reader, buf []byte) ([]byte, error) {
	n := 0
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return buf, err
		}
		if !first && len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	start := len(buf)
	buf = append(buf, make([]byte, n)...)
	_, err := io.ReadFull(r, buf[start:])
	return buf, err
}
