package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/store/storetest"
)

// TestAddCodesInParts: a long codes file (a partner's hundred thousand vouchers) is written in
// parts, so that a participant's step, which shares the one writer, is not held up until the
// last code is in; and loading the same file again (every start) writes nothing.
func TestAddCodesInParts(t *testing.T) {
	db := MustOpen(t, filepath.Join(t.TempDir(), "codes.db"))
	ctx := t.Context()
	codes := make([]string, 60000)
	for i := range codes {
		codes[i] = fmt.Sprintf("CITY-%06d", i)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.AddCodes(ctx, "hunt", "prizes", codes)
		done <- err
	}()
	// Once the first part is in, a step waits at most for the part being written.
	for {
		_, total, err := db.CodesLeft(ctx, "hunt", "prizes")
		if err != nil {
			t.Fatal(err)
		}
		if total > 0 {
			break
		}
	}
	storetest.MustJoin(t, db, "+31600000001")
	if _, total, _ := db.CodesLeft(ctx, "hunt", "prizes"); total == len(codes) {
		t.Errorf("a step waited until all %d codes were written", total)
	}
	if err := <-done; err != nil {
		t.Fatalf("AddCodes: %v", err)
	}
	left, total, err := db.CodesLeft(ctx, "hunt", "prizes")
	if err != nil || left != len(codes) || total != len(codes) {
		t.Fatalf("CodesLeft = %d of %d, %v; want all %d", left, total, err, len(codes))
	}
	if code, err := db.NextCode(ctx, "hunt", "prizes"); err != nil || code != codes[0] {
		t.Errorf("NextCode = %q, %v; want the first of the file, %q", code, err, codes[0])
	}
	// The same file again, with one new code at the end and one in another case: one is new.
	n, err := db.AddCodes(ctx, "hunt", "prizes", append(append(codes, "city-000007"), "CITY-NEW"))
	if err != nil || n != 1 {
		t.Errorf("AddCodes of the file again = %d, %v; want the 1 new code", n, err)
	}
}
