package fastconn

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestBroken(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fasthttp.ErrConnectionClosed, true},
		{fmt.Errorf("post: %w", syscall.ECONNRESET), true},
		{syscall.EPIPE, true},
		{fasthttp.ErrTimeout, false},
		{context.DeadlineExceeded, false},
		{syscall.ECONNREFUSED, false}, // nothing listens: no connection kept is to blame
		{errors.New("HTTP 500"), false},
	}
	for _, tt := range tests {
		if got := Broken(tt.err); got != tt.want {
			t.Errorf("Broken(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
