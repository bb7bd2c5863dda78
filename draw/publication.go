package draw

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// Publication is what a brand publishes about a draw, as one JSON file: at first the
// commitment (the eligible list, its hash, the algorithm and the seed's hash), and after the
// draw closed the same with the seed and the winners. Verify checks it with nothing else.
type Publication struct {
	Campaign string `json:"campaign"`
	Draw     string `json:"draw"`
	// Algorithm names the algorithm and its version (AlgorithmV1).
	Algorithm string `json:"algorithm"`
	// Winners is how many winners the draw picks.
	Winners        int       `json:"winners"`
	EligibleSHA256 string    `json:"eligible_sha256"`
	SeedSHA256     string    `json:"seed_sha256"`
	CommittedAt    time.Time `json:"committed_at"`
	// Eligible is the eligible list in canonical form (Canonical).
	Eligible []string `json:"eligible"`
	// Seed (hex), Drawn and ClosedAt are empty until the draw closed.
	Seed     string     `json:"seed,omitempty"`
	Drawn    []string   `json:"drawn,omitempty"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// Closed reports whether the publication reveals the seed.
func (p Publication) Closed() bool { return p.Seed != "" }

// ErrMismatch is a published draw that does not check out: the list, the seed or the winners
// are not what was committed to.
var ErrMismatch = errors.New("the draw does not verify")

// maxPublication bounds a publication file read by ReadPublication: a million participants of
// 64 bytes each, with room to spare.
const maxPublication = 128 << 20

// ReadPublication parses a publication file. Unknown fields are refused, so a typo in a
// hand-edited file is not silently ignored.
func ReadPublication(r io.Reader) (Publication, error) {
	var p Publication
	body, err := io.ReadAll(io.LimitReader(r, maxPublication+1))
	if err != nil {
		return p, fmt.Errorf("draw: read publication: %w", err)
	}
	if len(body) > maxPublication {
		return p, fmt.Errorf("draw: read publication: %w: larger than %d bytes", errs.ErrInvalid, maxPublication)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("draw: read publication: %w: %v", errs.ErrInvalid, err)
	}
	if dec.More() {
		return p, fmt.Errorf("draw: read publication: %w: more than one JSON value", errs.ErrInvalid)
	}
	return p, nil
}

// ReadList parses an eligible list published as text, one participant per line (ListText);
// a final line without its line feed and a carriage return before each line feed are taken
// as written on Windows. The result is as written, not canonicalised: Verify then says when
// it is not canonical.
func ReadList(r io.Reader) ([]string, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxPublication+1))
	if err != nil {
		return nil, fmt.Errorf("draw: read list: %w", err)
	}
	if len(body) > maxPublication {
		return nil, fmt.Errorf("draw: read list: %w: larger than %d bytes", errs.ErrInvalid, maxPublication)
	}
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return []string{}, nil
	}
	return strings.Split(text, "\n"), nil
}

// Check is one verification step and its outcome.
type Check struct {
	What string
	OK   bool
	// Detail says what was found when the check failed.
	Detail string
}

// Verify recomputes a closed draw from its publication: the list is canonical and hashes to
// the committed hash, the seed hashes to the committed seed hash, and the algorithm picks the
// published winners. It returns every check, and an error wrapping ErrMismatch when one
// failed (errs.ErrInvalid when the publication cannot be checked at all: an unknown
// algorithm, no seed yet, a seed that is not hex).
func Verify(p Publication) ([]Check, error) {
	if p.Algorithm != AlgorithmV1 {
		return nil, fmt.Errorf("draw: verify: %w: unknown algorithm %q (this version knows %s)", errs.ErrInvalid, p.Algorithm, AlgorithmV1)
	}
	if !p.Closed() {
		return nil, fmt.Errorf("draw: verify: %w: the draw is not closed yet: the publication has no seed", errs.ErrInvalid)
	}
	seed, err := hex.DecodeString(p.Seed)
	if err != nil || len(seed) == 0 {
		return nil, fmt.Errorf("draw: verify: %w: the seed is not hexadecimal", errs.ErrInvalid)
	}
	var checks []Check
	add := func(what string, ok bool, detail string) {
		c := Check{What: what, OK: ok}
		if !ok {
			c.Detail = detail
		}
		checks = append(checks, c)
	}
	canonical := IsCanonical(p.Eligible)
	add("the eligible list is in canonical form (sorted, each participant once)", canonical, "it is not: sort it byte by byte and remove repeats; the committed hash is of the canonical form")
	got := ListHash(p.Eligible)
	add("the eligible list hashes to eligible_sha256", got == strings.ToLower(p.EligibleSHA256),
		fmt.Sprintf("the list's SHA-256 is %s, the commitment says %s", got, p.EligibleSHA256))
	gotSeed := SeedHash(seed)
	add("the seed hashes to seed_sha256", gotSeed == strings.ToLower(p.SeedSHA256),
		fmt.Sprintf("the seed's SHA-256 is %s, the commitment says %s", gotSeed, p.SeedSHA256))
	if canonical && p.Winners >= 1 {
		want, _ := Pick(p.Eligible, seed, p.Winners)
		add(fmt.Sprintf("%s picks the published winners", AlgorithmV1), slices.Equal(want, p.Drawn),
			fmt.Sprintf("it picks %s; the publication says %s", strings.Join(want, ", "), strings.Join(p.Drawn, ", ")))
	} else {
		add(fmt.Sprintf("%s picks the published winners", AlgorithmV1), false, "not computed: the list is not canonical or the number of winners is below 1")
	}
	for _, c := range checks {
		if !c.OK {
			return checks, fmt.Errorf("draw: verify %s/%s: %w: %s", p.Campaign, p.Draw, ErrMismatch, c.What+": "+c.Detail)
		}
	}
	return checks, nil
}
