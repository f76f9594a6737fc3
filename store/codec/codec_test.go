package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

func TestIndexEntryEncoding(t *testing.T) {
	for _, id := range []string{"c1", "a\x00b", "a\x00\x01b", "\x00"} {
		if got := EntryID(IndexEntry([]string{"x\x00\x01", ""}, id)); got != id {
			t.Errorf("EntryID round trip of %q = %q", id, got)
		}
		if got := EntryID(IndexEntry(nil, id)); got != id {
			t.Errorf("EntryID without components of %q = %q", id, got)
		}
	}

	if bytes.Equal(IndexEntry([]string{"ab", "c"}, "id"), IndexEntry([]string{"a", "bc"}, "id")) {
		t.Error(`"ab"+"c" and "a"+"bc" encode alike`)
	}
	if bytes.HasPrefix(IndexEntry([]string{"ab"}, "id"), IndexPrefix([]string{"a"})) {
		t.Error(`entry "ab" has the prefix of component "a"`)
	}
	if bytes.HasPrefix(IndexEntry([]string{"a\x00b"}, "id"), IndexPrefix([]string{"a"})) {
		t.Error(`entry "a\x00b" has the prefix of component "a"`)
	}
	if !bytes.HasPrefix(IndexEntry([]string{"a\x00", "b"}, "id"), IndexPrefix([]string{"a\x00"})) {
		t.Error(`entry "a\x00"+"b" lacks the prefix of its first component`)
	}

	// Entries sort as their component lists do, byte by byte.
	lists := [][]string{{"a"}, {"a", ""}, {"a", "b"}, {"a\x00"}, {"a\x01"}, {"ab"}, {"b"}}
	for i := 1; i < len(lists); i++ {
		if bytes.Compare(IndexPrefix(lists[i-1]), IndexPrefix(lists[i])) >= 0 {
			t.Errorf("%q does not sort before %q", lists[i-1], lists[i])
		}
	}
}

func TestValueTypesRoundTrip(t *testing.T) {
	records := []schema.Record{
		{"s": "<b>&ünï", "b": false, "n": json.Number("12.50"), "i": json.Number("-7"), "m": []any{"x", json.Number("1"), true}},
		{"s": ""},
	}
	v, err := EncodeRecords(records)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != codecV2 || !Checksummed(v) {
		t.Errorf("version byte %d", v[0])
	}
	got, err := DecodeRecords(v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, records) {
		t.Errorf("records = %#v, want %#v", got, records)
	}

	if _, err := DecodeRecords(slices.Concat([]byte{9}, v[1:])); err == nil {
		t.Error("unknown version decoded")
	}
}

// TestChecksums: every byte of a stored value is covered: changing any one
// (or cutting the value) is ErrCorrupt on decode, never a different value;
// values written before checksums (v1) still decode.
func TestChecksums(t *testing.T) {
	p := &profile.Profile{ID: "c1", Num: 7, Rev: 2, Created: time.Unix(1, 2).UTC(), Updated: time.Unix(3, 4).UTC(),
		Attributes: map[string]any{"FirstName": "Bruce", "EmailAddress": []any{"b@x.dom"}}}
	pv, err := EncodeProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := EncodeRecords([]schema.Record{{"PhoneNumber": "555", "PhoneType": json.Number("1")}})
	if err != nil {
		t.Fatal(err)
	}
	recv := EncodeRecord(schema.Record{"PhoneNumber": "555"})
	for _, tc := range []struct {
		name   string
		v      []byte
		decode func([]byte) error
	}{
		{"profile", pv, func(v []byte) error { _, err := DecodeProfile(v); return err }},
		{"profile document", pv, func(v []byte) error { _, err := DecodeDocument(v); return err }},
		{"records", rv, func(v []byte) error { _, err := DecodeRecords(v); return err }},
		{"records document", rv, func(v []byte) error { _, err := DecodeRecordsDocument(v); return err }},
		{"record", recv, func(v []byte) error { _, err := DecodeRecord(v); return err }},
		{"record document", recv, func(v []byte) error { _, err := DecodeRecordSetDocument([][]byte{v}); return err }},
	} {
		name, v, decode := tc.name, tc.v, tc.decode
		if err := decode(v); err != nil {
			t.Fatalf("%s: intact value: %v", name, err)
		}
		for i := range v {
			for _, flip := range []byte{0x01, 0x80} {
				damaged := bytes.Clone(v)
				damaged[i] ^= flip
				if err := decode(damaged); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: byte %d ^ %#x: %v, want ErrCorrupt", name, i, flip, err)
				}
			}
		}
		if err := decode(v[:len(v)-1]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: cut value: %v", name, err)
		}
		legacy := slices.Concat([]byte{codecV1}, v[1:len(v)-4])
		if err := decode(legacy); err != nil || Checksummed(legacy) {
			t.Errorf("%s: v1 value: %v", name, err)
		}
		if err := decode(legacy[:len(legacy)-1]); !errors.Is(err, ErrCorrupt) { // no checksum to catch it
			t.Errorf("%s: v1 value cut: %v", name, err)
		}
	}
	for _, doc := range []string{`{"id":"c1","num":1,"rev":1,"created":"2026-01-01T00:00:00Z"}`, `{"id":"c1","num":"1","rev":1,"created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`} {
		v := slices.Concat([]byte{codecV1}, []byte(doc))
		_, perr := DecodeProfile(v)
		_, derr := DecodeDocument(v)
		if !errors.Is(perr, ErrCorrupt) || !errors.Is(derr, ErrCorrupt) {
			t.Errorf("%s: DecodeProfile %v, DecodeDocument %v; want both ErrCorrupt", doc, perr, derr)
		}
	}
}

// FuzzDecodeDocument holds DecodeDocument to DecodeProfile on any stored
// profile (v1, so no checksum stops the input): the same verdict, and the
// same fields and attributes when both read it.
func FuzzDecodeDocument(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1","num":7,"created":"2026-01-02T15:04:05.123Z","updated":"2026-01-02T15:04:05Z","rev":2,"attrs":{"FirstName":"Bruce","EmailAddress":["b@x.dom"]}}`,
		`{"id":"c1","num":7,"created":"2026-01-02T15:04:05Z","updated":"2026-01-02T15:04:05Z","rev":2,"attrs":{"a":1},"attrs":2,"id":3}`,
		`{"num":"7","created":"x","updated":"2026-01-02T15:04:05Z","rev":2}`, `{"num":1,"rev":1,"created":"2026-01-02T15:04:05Z","updated":"2026-01-02T15:04:05Z","attrs":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := append([]byte{codecV1}, data...)
		p, perr := DecodeProfile(v)
		d, derr := DecodeDocument(v)
		if (perr == nil) != (derr == nil) {
			t.Fatalf("%q: DecodeProfile %v, DecodeDocument %v", data, perr, derr)
		}
		if perr != nil {
			return
		}
		if d.ID != p.ID || d.Num != p.Num || d.Rev != p.Rev || !d.Created.Equal(p.Created) || !d.Updated.Equal(p.Updated) {
			t.Fatalf("%q: document %+v, profile %+v", data, d, p)
		}
		attrs := map[string]any{}
		for _, m := range d.Attributes {
			attrs[m.Name], _ = jsonw.Parse(m.Value)
		}
		if len(attrs) != len(p.Attributes) || (len(attrs) > 0 && !reflect.DeepEqual(attrs, p.Attributes)) {
			t.Fatalf("%q: document attributes %v, profile %v", data, attrs, p.Attributes)
		}
	})
}
