package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// tokenFile holds the admin token of a server that was given none, so that `campaign launch`
// on the same machine finds it.
const tokenFile = "admin-token"

// launchCmd validates a definition locally, then sends it to a running server, which
// validates it again before it goes live.
func launchCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("launch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "URL of the running campaign server")
	token := fs.String("token", "", "admin token (default $CAMPAIGN_ADMIN_TOKEN, or the one in --data)")
	data := fs.String("data", "./data", "data folder of a local server, to read its admin token")
	draft := fs.Bool("draft", false, "upload as a draft instead of going live")
	// The server answers once the definition is live, after it stored the codes files sent
	// along: a million codes take a minute on a busy machine.
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the server's answer")
	file, err := parseFileArgs(fs, args, "campaign launch FILE [--server URL] [--token TOKEN] [--draft] [--timeout 5m]")
	if err != nil {
		return err
	}
	def, probs := campaigns.LoadFile(file)
	for _, p := range probs {
		fmt.Fprintln(stdout, p.String())
	}
	if def == nil {
		return fmt.Errorf("%s has errors; nothing was sent", file)
	}
	tok, err := adminTokenFor(*token, *data, getenv)
	if err != nil {
		return err
	}
	status := "live"
	if *draft {
		status = "draft"
	}
	u := strings.TrimRight(*server, "/") + "/api/campaigns?" + url.Values{"file": {filepath.Base(file)}, "status": {status}}.Encode()
	payload, contentType, err := launchBody(def)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, payload)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Timeout: *timeout}).Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no server answers at %s: start it with `campaign serve` (or pass --server URL of one that runs): %w", *server, err)
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("%s did not answer within %s; it may still finish the launch: see the campaign's page on the dashboard, or launch again (codes it has are not added twice); wait longer with --timeout", *server, *timeout)
	}
	if err != nil {
		return fmt.Errorf("send to %s: %w", *server, err)
	}
	defer resp.Body.Close()
	var body struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
		ID       string   `json:"id"`
		Version  string   `json:"version"`
		Status   string   `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return fmt.Errorf("server answered %s without a readable body", resp.Status)
	}
	for _, p := range body.Problems {
		fmt.Fprintln(stdout, p)
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("server refused the launch (%s): %s", resp.Status, body.Error)
	}
	fmt.Fprintf(stdout, "campaign %q version %s is %s on %s\n", body.ID, body.Version, body.Status, *server)
	return nil
}

// launchBody is what a launch sends: the definition's source or, when a pool reads its codes
// from a file (which the server cannot read), a multipart form with the definition and the
// codes of each such pool as read here (part codes/POOL).
func launchBody(def *campaigns.Definition) (io.Reader, string, error) {
	var files []string
	for name, pool := range def.Pools {
		if pool.CodesFile != "" {
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		return bytes.NewReader(def.Source), "application/yaml", nil
	}
	sort.Strings(files)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part := func(field, filename string, body []byte) error {
		fw, err := w.CreateFormFile(field, filename)
		if err == nil {
			_, err = fw.Write(body)
		}
		return err
	}
	if err := part("definition", filepath.Base(def.File), def.Source); err != nil {
		return nil, "", err
	}
	for _, name := range files {
		pool := def.Pools[name]
		codes := strings.Join(pool.Codes, "\n") + "\n"
		if err := part("codes/"+name, filepath.Base(pool.CodesFile), []byte(codes)); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}
