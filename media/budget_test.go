package media_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

// bigPNG16 writes a w×h 16-bit RGBA PNG row by row, so making the attack costs the test a
// few hundred kilobytes, not the hundreds of megabytes decoding it would.
func bigPNG16(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits per channel, RGBA
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+w*8)
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// The PNG from issue 15: 6324×6324 at 16 bits per channel is under the 40-megapixel cap but
// decodes to 320 MB. It must be refused from its header, with the figures, before any pixel
// is allocated.
func TestPutRefusesPhotoTooCostlyToDecode(t *testing.T) {
	data := bigPNG16(t, 6324, 6324)
	t.Logf("attack PNG: %d KB", len(data)>>10)
	st := MustStore(t, MustServer(t, t.TempDir()), 0)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := st.Put(context.Background(), "c", "p", bytes.NewReader(data))
	runtime.ReadMemStats(&after)

	if !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("Put = %v, want errs.ErrTooLarge", err)
	}
	for _, want := range []string{"6324x6324", "306 MB", "192 MB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	grew := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("refusing it allocated %d KB (decoding it whole: %d MB)", grew>>10, 6324*6324*8>>20)
	if grew > 32<<20 {
		t.Errorf("refusing the photo allocated %d MB, want under 32 MB", grew>>20)
	}
}

// Several uploads at once share one budget: while one decode holds it, another that does not
// fit waits, and is refused with "try again" when its wait runs out, instead of adding its
// pixels to the heap.
func TestPutSharesDecodeBudget(t *testing.T) {
	srv := MustServer(t, t.TempDir())
	st, err := media.New(context.Background(), media.Config{
		Bucket: "media", Endpoint: srv.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CreateBucket: true,
		// A 2000×2000 NRGBA PNG needs 16 MB: one fits in 20 MB, two do not.
		MaxDecodeBytes: 20 << 20, DecodeMemory: 20 << 20, DecodeWait: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	photo := MustPNG(t, 2000, 2000)
	hold := media.HoldDecodeMemory(st, 16<<20)
	_, err = st.Put(context.Background(), "c", "p", bytes.NewReader(photo))
	if err == nil || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("Put while the budget is held = %v, want a busy refusal", err)
	}
	hold()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for i := range 3 {
		wg.Go(func() {
			_, err := st.Put(context.Background(), "c", "p"+string(rune('a'+i)), bytes.NewReader(photo))
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	ok := 0
	for err := range errc {
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Fatal("no upload went through once the budget was free")
	}
}
