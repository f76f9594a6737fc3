// Package codec is the stored form of profiles, record sets and index entries,
// shared by every store engine so data copies between them byte for byte.
package codec

import (
	"bytes"
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

// A profile's core data is stored (v1) as the JSON object
//
//	{"id":…, "num":…, "created":RFC 3339 nanos, "updated":…, "rev":…, "attrs":{…}}
//
// Extensions are stored apart, per extension, as a JSON array of records,
// so reading the core never decodes them.

// EncodeProfile writes that JSON by hand: it runs inside the
// single write transaction, where reflection would cost every writer.
func EncodeProfile(p *profile.Profile) ([]byte, error) {
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

func DecodeProfile(v []byte) (*profile.Profile, error) {
	m, err := decodeAs[map[string]any](v)
	if err != nil {
		return nil, fmt.Errorf("store: decoding profile: %w", err)
	}
	p := &profile.Profile{}
	p.ID, _ = m["id"].(string)
	attrs, _ := m["attrs"].(map[string]any)
	p.Attributes = attrs
	if p.Num, err = uintField(m, "num"); err == nil {
		if p.Rev, err = uintField(m, "rev"); err == nil {
			if p.Created, err = timeField(m, "created"); err == nil {
				p.Updated, err = timeField(m, "updated")
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: decoding profile %q: %w", p.ID, err)
	}
	return p, nil
}

func uintField(m map[string]any, name string) (uint64, error) {
	n, _ := m[name].(json.Number)
	return strconv.ParseUint(string(n), 10, 64)
}

func timeField(m map[string]any, name string) (time.Time, error) {
	s, _ := m[name].(string)
	return time.Parse(time.RFC3339Nano, s)
}

func EncodeRecords(records []schema.Record) ([]byte, error) {
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

func DecodeRecords(v []byte) ([]schema.Record, error) {
	list, err := decodeAs[[]any](v)
	if err != nil {
		return nil, fmt.Errorf("store: decoding records: %w", err)
	}
	records := make([]schema.Record, len(list))
	for i, item := range list {
		r, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("store: decoding records: item %d is not an object", i)
		}
		records[i] = r
	}
	return records, nil
}

// decodeAs reads a v1 value of JSON type T. jsonw.Parse keeps numbers as
// the json.Number the schema layer stores, and reads without reflection:
// decoding was most of the cost of a profile read.
func decodeAs[T any](v []byte) (T, error) {
	var zero T
	if len(v) == 0 || v[0] != codecV1 {
		return zero, fmt.Errorf("unknown encoding version")
	}
	x, err := jsonw.Parse(v[1:])
	if err != nil {
		return zero, err
	}
	t, ok := x.(T)
	if !ok {
		return zero, fmt.Errorf("stored value is a %T", x)
	}
	return t, nil
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

func AppendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i])
		if s[i] == 0 {
			dst = append(dst, esc)
		}
	}
	return dst
}

// IndexPrefix encodes whole components: the prefix every entry that starts
// with them shares.
func IndexPrefix(values []string) []byte {
	var k []byte
	for _, v := range values {
		k = append(AppendEscaped(k, v), 0, term)
	}
	return k
}

func IndexEntry(values []string, id string) []byte {
	return AppendEscaped(IndexPrefix(values), id)
}

// EntryID decodes the customer_id from the tail of an index entry.
func EntryID(k []byte) string {
	if i := bytes.LastIndex(k, []byte{0, term}); i >= 0 {
		k = k[i+2:]
	}
	return string(bytes.ReplaceAll(k, []byte{0, esc}, []byte{0}))
}

// Nanoseconds since 1970 span the years 1678 to 2262; range bounds outside
// that (a search for created=[2999-01-01,]) are clamped, not wrapped.
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

func UnixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// EntryValues is the part of an index entry before the customer_id: the
// encoded values, as IndexPrefix gives them.
func EntryValues(entry []byte) []byte {
	if i := bytes.LastIndex(entry, []byte{0, term}); i >= 0 {
		return entry[:i+2]
	}
	return nil
}
