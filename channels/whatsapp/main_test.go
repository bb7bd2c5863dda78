package whatsapp_test

import (
	"flag"
	"os"
	"testing"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
)

// netHTTPOnly is set for the second run of the tests: every test's channel then sends on
// net/http, as one with a proxy or a caller's HTTPClient does, so both paths pass the same
// tests (fastpost.go).
var netHTTPOnly bool

// TestMain runs the tests twice, on the fasthttp path (the default) and on net/http. A
// benchmark run goes once: the benchmarks name their path themselves.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.bench").Value.String() == "" {
		netHTTPOnly = true
		code = m.Run()
	}
	os.Exit(code)
}

// onPath sets cfg to send on the path of this run.
func onPath(cfg *whatsapp.Config) {
	if netHTTPOnly {
		whatsapp.NetHTTPOnly(cfg)
	}
}
