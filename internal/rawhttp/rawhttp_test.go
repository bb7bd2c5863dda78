package rawhttp_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/internal/rawhttp"
)

func TestReadMessage(t *testing.T) {
	in := "POST /v23.0/1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhello" +
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" +
		"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort"
	r := bufio.NewReader(strings.NewReader(in))
	for _, want := range []string{"hello", ""} {
		got, err := rawhttp.ReadMessage(r, []byte("kept:"))
		if err != nil || string(got) != "kept:"+want {
			t.Fatalf("ReadMessage = %q, %v; want %q", got, err, "kept:"+want)
		}
	}
	if _, err := rawhttp.ReadMessage(r, nil); err == nil {
		t.Error("a body cut short read without an error")
	}
}
