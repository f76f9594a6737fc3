package codec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

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
	if v[0] != codecV1 {
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
