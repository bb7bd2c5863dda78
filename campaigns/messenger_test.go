package campaigns_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestMessengerWindowWarns: on Messenger a reminder a day or more after a state is entered
// never goes out, template or not; the marketer hears it at validation.
func TestMessengerWindowWarns(t *testing.T) {
	reminder := r(valid, "        goto: b\n", "        goto: b\n      - after: 2d\n        say: still there?\n", 1)
	tests := []struct{ name, src, want string }{
		{"Reminder", "channels: [messenger]\n" + reminder,
			`demo.yaml:11:14: warning: on Messenger this message is not sent: it goes out 2d after state "a" is entered, after Messenger's 24-hour window, and Messenger has no templates`},
		{"ShortReminder", "channels: [messenger]\n" + strings.Replace(reminder, "2d", "23h", 1), ""},
		{"NotOnMessenger", "channels: [webchat]\n" + reminder, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			if got := probs.Error(); got != tt.want {
				t.Errorf("problems:\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}
