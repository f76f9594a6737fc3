// Package codec is the stored form of profiles, record sets and index entries,
// shared by every store engine so data copies between them byte for byte.
package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// A version byte leads every stored profile and record set, so formats can
// be read side by side. v1 is the version byte and the JSON; v2 (written
// since 2026-12) adds a CRC-32C (Castagnoli) of everything before it, 4
// bytes big-endian at the end, so a changed byte is detected on read
// instead of served. v1 values are still read, without that check, and
// become v2 when next written.
const (
	codecV1 = 1
	codecV2 = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks a stored value that cannot be read back: its checksum
// does not match, its version is unknown, or its JSON is broken.
var ErrCorrupt = errors.New("stored value is damaged")

// seal turns an encoded v1 value (version byte included) into v2.
func seal(b []byte) []byte {
	b[0] = codecV2
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// payload returns the JSON of a stored value after checking its version
// and, for v2, its checksum.
func payload(v []byte) ([]byte, error) {
	switch {
	case len(v) > 0 && v[0] == codecV1:
		return v[1:], nil
	case len(v) >= 5 && v[0] == codecV2:
		body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
		if crc32.Checksum(body, castagnoli) != sum {
			return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
		}
		return body[1:], nil
	case len(v) == 0:
		return nil, fmt.Errorf("%w: empty value", ErrCorrupt)
	}
	return nil, fmt.Errorf("%w: unknown encoding version %d", ErrCorrupt, v[0])
}

// Verify checks a stored value's version and checksum without decoding
// it; a v1 value, which has none, passes.
func Verify(v []byte) error {
	_, err := payload(v)
	return err
}

// Checksummed reports whether a stored value carries a checksum (v2);
// values written before checksums existed do not until rewritten.
func Checksummed(v []byte) bool { return len(v) > 0 && v[0] == codecV2 }

// Corrupt is the error a store returns for a damaged value of customer id:
// a 500 whose code and message name the customer, so an operator can
// restore it, while nothing of the damaged bytes reaches the client.
func Corrupt(id string, err error) *errs.Error {
	return &errs.Error{Kind: errs.KindCorrupt, Code: CodeDataCorrupt, Err: err,
		Message: fmt.Sprintf("the stored data of customer %q is damaged (it fails its checksum or cannot be decoded); restore it from a backup", id)}
}

// CodeDataCorrupt is the code of Corrupt's errors.
const CodeDataCorrupt = "DATA_CORRUPT"

// A profile's core data is stored (v1) as the JSON object
//
//	{"id":…, "num":…, "created":RFC 3339 nanos, "updated":…, "rev":…, "attrs":{…}}
//
// Extensions are stored apart, per extension, as a JSON array of records,
// so reading the core never decodes them.

// EncodeProfile writes that JSON by hand: it runs inside the
// single write transaction, where reflection would cost every writer.
func EncodeProfile(p *profile.Profile) ([]byte, error) {
	b := make([]byte, 0, 132+32*len(p.Attributes))
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
	return seal(append(b, '}')), nil
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
		return nil, fmt.Errorf("%w: decoding profile %q: %w", ErrCorrupt, p.ID, err)
	}
	return p, nil
}

// DecodeDocument reads a stored profile for a read that only shows it: the
// document's members point into v, which must not change while it is used.
func DecodeDocument(v []byte) (*profile.Document, error) {
	data, err := payload(v)
	if err != nil {
		return nil, err
	}
	var room [8]profile.Member // the six fields, on the stack
	top, err := jsonw.AppendMembers(room[:0], data)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding profile: %w", ErrCorrupt, err)
	}
	d := &profile.Document{}
	var found [4]bool // num, rev, created, updated: as DecodeProfile, each is required
	for _, m := range top {
		switch m.Name {
		case "id": // as DecodeProfile: a later member wins, and a non-string is no id
			d.ID = ""
			if m.Value[0] == '"' {
				d.ID, err = jsonw.String(m.Value)
			}
		case "num":
			d.Num, err = strconv.ParseUint(string(m.Value), 10, 64)
			found[0] = true
		case "rev":
			d.Rev, err = strconv.ParseUint(string(m.Value), 10, 64)
			found[1] = true
		case "created":
			d.Created, err = documentTime(m.Value)
			found[2] = true
		case "updated":
			d.Updated, err = documentTime(m.Value)
			found[3] = true
		case "attrs":
			d.Attributes = nil
			if m.Value[0] == '{' {
				d.Attributes, err = jsonw.Members(m.Value)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: decoding profile %q: %s: %w", ErrCorrupt, d.ID, m.Name, err)
		}
	}
	if found != [4]bool{true, true, true, true} {
		return nil, fmt.Errorf("%w: decoding profile %q: a field is missing", ErrCorrupt, d.ID)
	}
	return d, nil
}

func documentTime(v []byte) (time.Time, error) {
	s, err := jsonw.String(v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, s)
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
	b := make([]byte, 0, 6+128*len(records))
	b = append(b, codecV1, '[')
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendObject(b, r)
	}
	return seal(append(b, ']')), nil
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
			return nil, fmt.Errorf("%w: decoding records: item %d is not an object", ErrCorrupt, i)
		}
		records[i] = r
	}
	return records, nil
}

// DecodeRecordsDocument is DecodeRecords for a read that only shows the
// records; they point into v.
func DecodeRecordsDocument(v []byte) ([][]profile.Member, error) {
	data, err := payload(v)
	if err != nil {
		return nil, err
	}
	items, err := jsonw.Elements(data)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding records: %w", ErrCorrupt, err)
	}
	return recordMembers(items, false)
}

// DecodeRecordSetDocument decodes the records of a set, each stored as
// EncodeRecord wrote it, for a read that only shows them: they point into
// values.
func DecodeRecordSetDocument(values [][]byte) ([][]profile.Member, error) {
	return recordMembers(values, true)
}

// recordMembers splits each record (a stored value when sealed, else its
// JSON) into its members. The records share one array of members:
// a slice of their own each cost a set an allocation per record.
func recordMembers(values [][]byte, sealed bool) ([][]profile.Member, error) {
	out := make([][]profile.Member, len(values))
	all := make([]profile.Member, 0, 8*len(values))
	for i, v := range values {
		data := v
		if sealed {
			var err error
			if data, err = payload(v); err != nil {
				return nil, err
			}
		}
		start := len(all)
		var err error
		if all, err = jsonw.AppendMembers(all, data); err != nil {
			return nil, fmt.Errorf("%w: decoding record %d: %w", ErrCorrupt, i+1, err)
		}
		out[i] = all[start:len(all):len(all)]
	}
	return out, nil
}

// decodeAs reads a stored value of JSON type T; every failure wraps
// ErrCorrupt. jsonw.Parse keeps numbers as the json.Number the schema layer
// stores, and reads without reflection: decoding was most of the cost of a
// profile read.
func decodeAs[T any](v []byte) (T, error) {
	var zero T
	data, err := payload(v)
	if err != nil {
		return zero, err
	}
	x, err := jsonw.Parse(data)
	if err != nil {
		return zero, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	t, ok := x.(T)
	if !ok {
		return zero, fmt.Errorf("%w: stored value is a %T", ErrCorrupt, x)
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

// EntryHasEmptyValue reports whether one of entry's components is empty
// (its attribute unset): such an entry of a unique key is not held as
// unique (profile's uniqueEntry). A terminator 00 01 opens the entry or
// follows another only around an empty component (00 inside a value is
// 00 FF).
func EntryHasEmptyValue(entry []byte) bool {
	vals := EntryValues(entry)
	return bytes.HasPrefix(vals, []byte{0, term}) || bytes.Contains(vals, []byte{0, term, 0, term})
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

// An audit entry is stored as sealed JSON of its fields but the time,
// sequence number and tenant, which the key and the bucket (bbolt) or the
// columns (PostgreSQL) hold: the trail is written with every write, so
// every byte of it is paid for in the commit.

// EncodeAuditEntry writes an entry by hand, without reflection: it runs in
// the single committer.
func EncodeAuditEntry(e *profile.AuditEntry) ([]byte, error) {
	b := make([]byte, 0, 160+24*(len(e.Customers)+len(e.Attributes)+len(e.Extensions)+len(e.Keys)))
	b = append(b, codecV1)
	b = append(b, `{"actor":`...)
	b = jsonw.AppendString(b, e.Actor)
	b = append(b, `,"op":`...)
	b = jsonw.AppendString(b, e.Op)
	for _, f := range []struct {
		name string
		v    string
	}{{"client", e.Client}, {"request_id", e.RequestID}} {
		if f.v != "" {
			b = append(b, ',', '"')
			b = append(b, f.name...)
			b = append(b, '"', ':')
			b = jsonw.AppendString(b, f.v)
		}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"customer_ids", e.Customers}, {"attributes", e.Attributes}, {"extensions", e.Extensions}, {"keys", e.Keys}} {
		if len(f.list) == 0 {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':', '[')
		for i, v := range f.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, v)
		}
		b = append(b, ']')
	}
	return seal(append(b, '}')), nil
}

// DecodeAuditEntry reads what EncodeAuditEntry wrote; the caller sets the
// time, sequence number and tenant.
func DecodeAuditEntry(v []byte) (*profile.AuditEntry, error) {
	data, err := payload(v)
	if err != nil {
		return nil, err
	}
	var e profile.AuditEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%w: audit entry: %w", ErrCorrupt, err)
	}
	return &e, nil
}

// AuditKey is 8 bytes of microseconds since 1970 and 8 of the sequence
// number, big-endian: byte order is (time, sequence) order.
func AuditKey(at time.Time, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(max(at.UnixMicro(), 0)))
	return binary.BigEndian.AppendUint64(k, seq)
}

// AuditKeyTime is the time of an AuditKey.
func AuditKeyTime(k []byte) time.Time {
	return time.UnixMicro(int64(binary.BigEndian.Uint64(k[:8]))).UTC()
}

// AuditKeySeq is the sequence number of an AuditKey.
func AuditKeySeq(k []byte) uint64 {
	return binary.BigEndian.Uint64(k[8:])
}

// Since 2026-12 each record of an extension is stored on its own (under
// its customer and a sequence number that keeps the set's order), so a
// write stores the records it changes, not the whole set again. A record
// is the sealed JSON object; record sets written before stay readable
// (DecodeRecords) until their customer's set is next written.

// EncodeRecord writes one record with its checksum.
func EncodeRecord(r schema.Record) []byte {
	b := make([]byte, 0, 5+128)
	b = append(b, codecV1)
	b = jsonw.AppendObject(b, r)
	return seal(b)
}

// DecodeRecord reads what EncodeRecord wrote.
func DecodeRecord(v []byte) (schema.Record, error) {
	m, err := decodeAs[map[string]any](v)
	if err != nil {
		return nil, fmt.Errorf("store: decoding a record: %w", err)
	}
	return m, nil
}
