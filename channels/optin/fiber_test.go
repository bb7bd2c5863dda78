package optin_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestKeptNameSurvivesLaterRequests: the name handed to the engine is the engine's to keep; in
// an app without Immutable, Fiber's form values point into request buffers it reuses.
func TestKeptNameSurvivesLaterRequests(t *testing.T) {
	app, fe := setup(t)
	post(t, app, "/optin/fridge", url.Values{"name": {"Ann"}, "phone": {"+31 6 1234 5678"}, "consent": {"yes"}})
	for i := range 30 {
		post(t, app, "/optin/fridge", url.Values{"name": {strings.Repeat("Z", 1+i%20)}, "phone": {fmt.Sprintf("+31 6 5555 %04d", i)}, "consent": {"yes"}})
	}
	if len(fe.received) == 0 || fe.received[0].Name != "Ann" || fe.received[0].From != "31612345678" {
		t.Errorf("first opt-in after more requests: %+v", fe.received[0])
	}
}
