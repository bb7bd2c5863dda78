package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
)

// diagramCmd prints a campaign's state machine as Mermaid (default) or Graphviz DOT.
func diagramCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dot := fs.Bool("dot", false, "print Graphviz DOT instead of Mermaid")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		fmt.Fprintln(stderr, "usage: campaign diagram FILE [--dot]")
		return errUsage
	}
	def, probs := campaigns.LoadFile(file)
	if def == nil {
		for _, p := range probs {
			fmt.Fprintln(stderr, p.String())
		}
		return fmt.Errorf("%s has errors", file)
	}
	if *dot {
		fmt.Fprint(stdout, campaigns.DOT(def, nil))
	} else {
		fmt.Fprint(stdout, campaigns.Mermaid(def, nil))
	}
	return nil
}
