package sqlite

import (
	"encoding/binary"
	"iter"

	"github.com/chatcampaigns/campaign/engine"
)

// packed is one participant encoded in a string, for routeCache: the garbage collector never
// looks inside a string, and unpacking hands out substrings of it, so only the Vars map is
// allocated on a hit. The version and the update time come first, at fixed offsets, for the
// cache's comparisons; the id follows them.
//
// Layout: version and updated_at as 8 bytes each (little endian), then as varints the
// lengths and bytes of id, campaign, channel, address, state, def_version, then entered,
// finished (0 or 1), last_inbound_at, last_reply_due, created_at, the number of vars and
// each var's key and value. Times are kept as the table keeps them (unixNano), so a cached
// participant reads back exactly as a read of the row would.
type packed string

const packedHeader = 16

func pack(p engine.Participant) packed {
	n := packedHeader + 6*binary.MaxVarintLen64 + 5*binary.MaxVarintLen64 + 1 +
		len(p.ID) + len(p.Campaign) + len(p.Channel) + len(p.Address) + len(p.State) + len(p.DefVersion)
	for k, v := range p.Vars {
		n += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	b := make([]byte, packedHeader, n)
	binary.LittleEndian.PutUint64(b[0:], uint64(p.Version))
	binary.LittleEndian.PutUint64(b[8:], uint64(unixNano(p.UpdatedAt)))
	for _, s := range [...]string{p.ID, p.Campaign, p.Channel, p.Address, p.State, p.DefVersion} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, p.Entered)
	if p.Finished {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, unixNano(p.LastInboundAt))
	b = binary.AppendVarint(b, unixNano(p.LastReplyDue))
	b = binary.AppendVarint(b, unixNano(p.CreatedAt))
	b = binary.AppendUvarint(b, uint64(len(p.Vars)))
	for k, v := range p.Vars {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	return packed(b)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// updatedAtOr0 is updatedAt, or 0 for a participant not kept (the zero packed).
func (p packed) updatedAtOr0() int64 {
	if p == "" {
		return 0
	}
	return p.updatedAt()
}

func (p packed) version() int64 { return le64(string(p[0:8])) }

func (p packed) updatedAt() int64 { return le64(string(p[8:16])) }

func le64(s string) int64 {
	_ = s[7]
	return int64(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
}

func (p packed) id() string {
	r := unpacker{s: string(p), at: packedHeader}
	return r.string()
}

// unpack returns the participant with a Vars map of the caller's own.
func (p packed) unpack() engine.Participant {
	r := unpacker{s: string(p), at: packedHeader}
	q := engine.Participant{
		Version:    p.version(),
		UpdatedAt:  fromUnixNano(p.updatedAt()),
		ID:         r.string(),
		Campaign:   r.string(),
		Channel:    r.string(),
		Address:    r.string(),
		State:      r.string(),
		DefVersion: r.string(),
	}
	q.Entered = r.varint()
	q.Finished = r.byte() == 1
	q.LastInboundAt = fromUnixNano(r.varint())
	q.LastReplyDue = fromUnixNano(r.varint())
	q.CreatedAt = fromUnixNano(r.varint())
	n := int(r.uvarint())
	q.Vars = make(map[string]string, n)
	for range n {
		k := r.string()
		q.Vars[k] = r.string()
	}
	return q
}

// unpacker reads what pack wrote; the input is always pack's, so it does not check lengths.
type unpacker struct {
	s  string
	at int
}

func (r *unpacker) uvarint() uint64 {
	var x uint64
	for shift := 0; ; shift += 7 {
		c := r.s[r.at]
		r.at++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
}

func (r *unpacker) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *unpacker) byte() byte {
	c := r.s[r.at]
	r.at++
	return c
}

func (r *unpacker) string() string {
	n := int(r.uvarint())
	s := r.s[r.at : r.at+n]
	r.at += n
	return s
}

// routeIDs are the ids of the participants at one address, each as pack's strings are.
type routeIDs string

func packIDs(ids []string) routeIDs {
	var b []byte
	for _, id := range ids {
		b = appendString(b, id)
	}
	return routeIDs(b)
}

func (r routeIDs) len() int {
	n := 0
	for range r.all() {
		n++
	}
	return n
}

func (r routeIDs) has(id string) bool {
	for x := range r.all() {
		if x == id {
			return true
		}
	}
	return false
}

func (r routeIDs) all() iter.Seq[string] {
	return func(yield func(string) bool) {
		u := unpacker{s: string(r)}
		for u.at < len(u.s) {
			if !yield(u.string()) {
				return
			}
		}
	}
}
