// Package draw owns verifiable random draws: picking winners at random among the eligible
// participants in a way anyone can check afterwards. Before a draw closes, its commitment is
// published: the SHA-256 of the eligible list in canonical form, the algorithm's name and
// version, and the SHA-256 of a secret seed. When it closes, the seed is revealed and the
// winners drawn; from the published list, algorithm and seed, anyone recomputes the winners
// (Verify, `campaign draw verify`) without access to the server. docs/draws.md specifies the
// algorithm so it can be written again in any language.
package draw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/errs"
)

// AlgorithmV1 is the one algorithm there is: a partial Fisher–Yates shuffle of the canonical
// list, its random numbers taken from HMAC-SHA256 keyed with the seed (see Pick). A change to
// the algorithm gets a new name, so a published draw is always checked the way it was made.
const AlgorithmV1 = "hmac-sha256-fisher-yates-v1"

// SeedSize is the length of the seeds Commit makes, in bytes.
const SeedSize = 32

// Canonical returns the canonical form of an eligible list: each participant once (one chance
// per participant), sorted by byte value. A participant is a non-empty UTF-8 string without
// line breaks; anything else is errs.ErrInvalid.
func Canonical(ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := checkID(id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("draw: %w: an empty participant in the eligible list", errs.ErrInvalid)
	}
	if !utf8.ValidString(id) || strings.ContainsAny(id, "\r\n") {
		return fmt.Errorf("draw: %w: participant %q is not one line of UTF-8", errs.ErrInvalid, id)
	}
	return nil
}

// IsCanonical reports whether list is in canonical form: every item valid, strictly
// increasing in byte order (so no participant twice).
func IsCanonical(list []string) bool {
	for i, id := range list {
		if checkID(id) != nil || i > 0 && list[i-1] >= id {
			return false
		}
	}
	return true
}

// ListText is the canonical list as the bytes that are hashed: each participant followed by
// one line feed ("\n"), nothing else. The empty list is the empty text.
func ListText(list []string) string {
	var b strings.Builder
	for _, id := range list {
		b.WriteString(id)
		b.WriteByte('\n')
	}
	return b.String()
}

// ListHash is the SHA-256 of ListText(list), as lowercase hex.
func ListHash(list []string) string {
	sum := sha256.Sum256([]byte(ListText(list)))
	return hex.EncodeToString(sum[:])
}

// SeedHash is the SHA-256 of the seed's bytes (not of its hex text), as lowercase hex.
func SeedHash(seed []byte) string {
	sum := sha256.Sum256(seed)
	return hex.EncodeToString(sum[:])
}

// Pick draws n winners from the canonical list with the seed, by AlgorithmV1, and returns
// them in the order they were drawn. With n at least the list's length everyone wins, in a
// random order. The same list, seed and n always give the same winners.
//
// The algorithm: let a be a copy of the list and N its length. For i = 0, 1, … while i < n
// and i < N, draw r uniformly from 0 … N-i-1 and swap a[i] with a[i+r]; the winners are
// a[0] … a[min(n,N)-1]. Each uniform number in 0 … m-1 comes from a random stream: block c
// (c = 0, 1, 2, … over the whole draw) is HMAC-SHA256 with the seed as key and c as 8 bytes
// big-endian as message; x is the block's first 8 bytes as an unsigned big-endian integer;
// x is used as x mod m when x < 2^64 - (2^64 mod m), else it is thrown away (so every
// number is equally likely) and the next block is taken.
func Pick(list []string, seed []byte, n int) ([]string, error) {
	if !IsCanonical(list) {
		return nil, fmt.Errorf("draw: %w: the eligible list is not in canonical form (sorted, each participant once)", errs.ErrInvalid)
	}
	if len(seed) == 0 {
		return nil, fmt.Errorf("draw: %w: no seed", errs.ErrInvalid)
	}
	if n < 1 {
		return nil, fmt.Errorf("draw: %w: a draw picks at least one winner", errs.ErrInvalid)
	}
	a := slices.Clone(list)
	k := min(n, len(a))
	s := stream{mac: hmac.New(sha256.New, seed)}
	for i := range k {
		r := s.uniform(uint64(len(a) - i))
		j := i + int(r)
		a[i], a[j] = a[j], a[i]
	}
	return a[:k], nil
}

// stream is the random numbers of one draw.
type stream struct {
	mac     hash.Hash
	counter uint64
}

func (s *stream) block() uint64 {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], s.counter)
	s.counter++
	s.mac.Reset()
	s.mac.Write(msg[:])
	return binary.BigEndian.Uint64(s.mac.Sum(nil)[:8])
}

// uniform returns a number in 0 … m-1, m ≥ 1, every one equally likely.
func (s *stream) uniform(m uint64) uint64 {
	// rem is 2^64 mod m; the x above math.MaxUint64-rem would make the low numbers likelier.
	rem := (math.MaxUint64%m + 1) % m
	for {
		if x := s.block(); x <= math.MaxUint64-rem {
			return x % m
		}
	}
}
