package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// codecV1 leads every stored profile and record set, so a later format can
// be introduced and both read side by side.
const codecV1 = 1

// storedProfile is the v1 form of a profile's core data. Extensions are
// stored apart, per extension, so reading the core never decodes them.
type storedProfile struct {
	ID         string         `json:"id"`
	Num        uint64         `json:"num"`
	Created    time.Time      `json:"created"` // RFC 3339 with nanoseconds
	Updated    time.Time      `json:"updated"`
	Rev        uint64         `json:"rev"`
	Attributes map[string]any `json:"attrs,omitempty"`
}

// encodeProfile writes the storedProfile JSON by hand: it runs inside the
// single write transaction, where reflection would cost every writer.
func encodeProfile(p *profile.Profile) ([]byte, error) {
	b := make([]byte, 0, 128+32*len(p.Attributes))
	b = append(b, codecV1)
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, p.ID)
	b = append(b, `,"num":`...)
	b = strconv.AppendUint(b, p.Num, 10)
	b = append(b, `,"created":`...)
	b = appendTime(b, p.Created)
	b = append(b, `,"updated":`...)
	b = appendTime(b, p.Updated)
	b = append(b, `,"rev":`...)
	b = strconv.AppendUint(b, p.Rev, 10)
	if len(p.Attributes) > 0 {
		b = append(b, `,"attrs":`...)
		b = jsonw.AppendObject(b, p.Attributes)
	}
	return append(b, '}'), nil
}

// appendTime writes t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func decodeProfile(v []byte) (*profile.Profile, error) {
	var s storedProfile
	if err := decode(v, &s); err != nil {
		return nil, fmt.Errorf("store: decoding profile: %w", err)
	}
	return &profile.Profile{ID: s.ID, Num: s.Num, Created: s.Created, Updated: s.Updated, Rev: s.Rev, Attributes: s.Attributes}, nil
}

func encodeRecords(records []schema.Record) ([]byte, error) {
	b := make([]byte, 0, 1+128*len(records))
	b = append(b, codecV1, '[')
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendObject(b, r)
	}
	return append(b, ']'), nil
}

func decodeRecords(v []byte) ([]schema.Record, error) {
	var records []schema.Record
	if err := decode(v, &records); err != nil {
		return nil, fmt.Errorf("store: decoding records: %w", err)
	}
	return records, nil
}

// decode reads a v1 value. UseNumber keeps numbers as the json.Number the
// schema layer stores; everything else (string, bool, []any) round-trips
// through JSON as it is.
func decode(v []byte, x any) error {
	if len(v) == 0 || v[0] != codecV1 {
		return fmt.Errorf("unknown encoding version")
	}
	d := json.NewDecoder(bytes.NewReader(v[1:]))
	d.UseNumber()
	return d.Decode(x)
}

// Index entries are keys built from the index texts of an identification
// key's attributes, then the customer_id:
//
//	escape(c1) 00 01  escape(c2) 00 01 ... escape(id)
//
// escape turns 00 into 00 FF, so 00 01 occurs only as a terminator. Hence
// the entries of a prefix of components share a byte prefix, "ab"+"c" and
// "a"+"bc" differ, byte order of entries is the order of their component
// lists, and the last 00 01 ends the components. The id is escaped too so
// that an id holding 00 01 cannot be misread.
const (
	esc  = 0xFF
	term = 0x01
)

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i])
		if s[i] == 0 {
			dst = append(dst, esc)
		}
	}
	return dst
}

// indexPrefix encodes whole components: the prefix every entry that starts
// with them shares.
func indexPrefix(values []string) []byte {
	var k []byte
	for _, v := range values {
		k = append(appendEscaped(k, v), 0, term)
	}
	return k
}

func indexEntry(values []string, id string) []byte {
	return appendEscaped(indexPrefix(values), id)
}

// entryID decodes the customer_id from the tail of an index entry.
func entryID(k []byte) string {
	if i := bytes.LastIndex(k, []byte{0, term}); i >= 0 {
		k = k[i+2:]
	}
	return string(bytes.ReplaceAll(k, []byte{0, esc}, []byte{0}))
}

// createdKey orders by creation time: unix nanoseconds, big-endian, with
// the sign bit flipped so that times before 1970 sort first too.
func createdKey(t time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(unixNanos(t))^1<<63)
	return append(k, id...)
}

// Nanoseconds since 1970 span the years 1678 to 2262; range bounds outside
// that (a search for created=[2999-01-01,]) are clamped, not wrapped.
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func numKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
