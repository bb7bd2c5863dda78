// Package mongotest owns starting a MongoDB wire-protocol server for tests: FerretDB v1
// in-process with its SQLite handler in a temporary folder, or the server named by
// CAMPAIGN_TEST_MONGODB_URI when that is set. No MongoDB server can be installed on the
// machines this project is tested on; FerretDB speaks the same protocol.
package mongotest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Start returns the URI of a server and a function that stops it (and removes its files).
func Start(ctx context.Context) (uri string, stop func(), err error) {
	if uri := os.Getenv("CAMPAIGN_TEST_MONGODB_URI"); uri != "" {
		return uri, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "ferretdb-")
	if err != nil {
		return "", nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	return f.MongoDBURI(), func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}
