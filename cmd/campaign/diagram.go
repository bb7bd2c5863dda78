package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/chatcampaigns/campaign/campaigns"
)

// diagramCmd prints a campaign's state machine as Mermaid (default) or Graphviz DOT.
func diagramCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dot := fs.Bool("dot", false, "print Graphviz DOT instead of Mermaid")
	file, err := parseFileArgs(fs, args, "campaign diagram FILE [--dot]")
	if err != nil {
		return err
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
