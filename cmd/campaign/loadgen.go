package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/chatcampaigns/campaign/loadgen"
)

// loadgenCmd is `campaign loadgen`: load a running server with signed WhatsApp webhooks and
// receive its replies on a fake Graph API; see package loadgen and docs/performance.md.
func loadgenCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := loadgen.Config{Progress: stdout}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: campaign loadgen [flags]

Sends signed WhatsApp text webhooks to a running "campaign serve" and receives its replies on a
fake Graph API on loopback: open loop at --rate, or closed loop with --senders (each waits for
the reply to its message before sending the next). --resend sends every webhook again until it
is answered 200 and judges exactly-once after --lease-wait, as the platform does through a
crash. The report's cpu line is the server's CPU a message (its /metrics) and the tool's.
Start the server with the load campaign and the Graph API address:

  WHATSAPP_API_URL=http://127.0.0.1:9099/v23.0 WHATSAPP_ACCESS_TOKEN=loadgen \
  WHATSAPP_APP_SECRET=loadgen WHATSAPP_VERIFY_TOKEN=loadgen WHATSAPP_PHONE_NUMBER_ID=100000000000000 \
  campaign serve --data "$(mktemp -d)" --campaigns loadgen/testdata/echo.yaml

Flags:
`)
		fs.PrintDefaults()
	}
	secret := getenv("WHATSAPP_APP_SECRET")
	if secret == "" {
		secret = loadgen.DefaultSecret
	}
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fs.StringVar(&cfg.Secret, "secret", secret, "the server's WhatsApp app secret (default $WHATSAPP_APP_SECRET, else loadgen)")
	fs.StringVar(&cfg.Number, "number", loadgen.DefaultNumber, "business phone_number_id the webhooks are addressed to")
	fs.IntVar(&cfg.Senders, "senders", 0, "closed loop: this many participants at once, each waiting for its reply before sending the next (--rate is then ignored)")
	fs.Float64Var(&cfg.Rate, "rate", 1000, "open loop: webhooks per second in the measured phase (0: as fast as --concurrency allows)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send (open loop: when --messages is 0)")
	fs.IntVar(&cfg.Messages, "messages", 0, "how many webhooks to send (open loop default rate × duration; closed loop: no bound but --duration)")
	fs.IntVar(&cfg.Participants, "participants", 0, "distinct participants the measured messages come from (default: open loop min(messages, max(prefill, 1000)), closed loop max(senders, prefill))")
	fs.IntVar(&cfg.Prefill, "prefill", 0, "participants to create before measuring (one message each, at full speed)")
	fs.IntVar(&cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency, "webhooks in flight at most")
	fs.DurationVar(&cfg.Drain, "drain", loadgen.DefaultDrain, "give up waiting for replies after this long without one")
	fs.DurationVar(&cfg.After, "after", loadgen.DefaultAfter, "count the messages still unanswered this long after the load")
	fs.DurationVar(&cfg.ReplyTimeout, "reply-timeout", loadgen.DefaultReplyTimeout, "closed loop: a sender gives up waiting for its reply after this long and sends on")
	fs.BoolVar(&cfg.Resend, "resend", false, "crash mode: resend each webhook (same message id) until it is answered 200, one participant per message, judge after --lease-wait")
	fs.DurationVar(&cfg.Backoff, "backoff", loadgen.DefaultBackoff, "with --resend: first wait before a resend (doubling up to 2s)")
	fs.DurationVar(&cfg.ResendFor, "resend-for", loadgen.DefaultResendFor, "with --resend: give a webhook up after resending it this long")
	fs.DurationVar(&cfg.LeaseWait, "lease-wait", loadgen.DefaultLeaseWait, "with --resend: after the drain, listen this long more (past every send lease) before judging")
	fs.StringVar(&cfg.GraphAddr, "graph", loadgen.DefaultGraphAddr, "loopback address of the fake Graph API")
	fs.StringVar(&cfg.Token, "token", loadgen.DefaultToken, "access token the fake Graph API expects (the server's WHATSAPP_ACCESS_TOKEN)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "campaign loadgen: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *quiet {
		cfg.Progress = nil
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Write(stdout)
	if !rep.OK() {
		return fmt.Errorf("not every message got exactly one reply")
	}
	return nil
}
