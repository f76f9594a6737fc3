package codec

import (
	"slices"
	"testing"

	"github.com/contactcenter/profiled/schema"
)

// TestDiffRecords: each change an operation makes to a set costs writes
// for what changed only, and applying them gives the new set in order.
func TestDiffRecords(t *testing.T) {
	rec := func(n string) schema.Record { return schema.Record{"PhoneNumber": n} }
	stored := func(names ...string) []StoredRecord {
		var out []StoredRecord
		for i, n := range names {
			r := rec(n)
			out = append(out, StoredRecord{Seq: uint64(10 * (i + 1)), Value: EncodeRecord(r), Record: r})
		}
		return out
	}
	records := func(names ...string) []schema.Record {
		var out []schema.Record
		for _, n := range names {
			out = append(out, rec(n))
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		old          []StoredRecord
		new          []schema.Record
		puts, delete int
	}{
		{"unchanged", stored("a", "b", "c"), records("a", "b", "c"), 0, 0},
		{"appended", stored("a", "b", "c"), records("a", "b", "c", "d"), 1, 0},
		{"replaced in the middle", stored("a", "b", "c"), records("a", "B", "c"), 1, 0},
		{"removed from the middle", stored("a", "b", "c"), records("a", "c"), 0, 1},
		{"removed first", stored("a", "b", "c"), records("b", "c"), 0, 1},
		{"removed last", stored("a", "b", "c"), records("a", "b"), 0, 1},
		{"emptied", stored("a", "b"), nil, 0, 2},
		{"from nothing", nil, records("a", "b"), 2, 0},
		{"inserted in the middle", stored("a", "c"), records("a", "b", "c"), 2, 0},
		{"reversed", stored("a", "b", "c"), records("c", "b", "a"), 2, 0}, // b stays
	} {
		t.Run(tc.name, func(t *testing.T) {
			puts, deletes := DiffRecords(tc.old, tc.new)
			if len(puts) != tc.puts || len(deletes) != tc.delete {
				t.Errorf("%d puts, %d deletes; want %d, %d", len(puts), len(deletes), tc.puts, tc.delete)
			}
			after := Applied(tc.old, puts, deletes)
			var got, want []string
			for i, r := range after {
				if i > 0 && r.Seq <= after[i-1].Seq {
					t.Errorf("sequence numbers out of order: %d after %d", r.Seq, after[i-1].Seq)
				}
				d, err := DecodeRecord(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d["PhoneNumber"].(string))
			}
			for _, r := range tc.new {
				want = append(want, r["PhoneNumber"].(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("after the writes %v, want %v", got, want)
			}
		})
	}
	// A record handed out and passed back is not even encoded: the same
	// map is the same record, even when its bytes would not say so.
	old := stored("a")
	old[0].Value = []byte("not what a encodes to")
	if puts, deletes := DiffRecords(old, []schema.Record{old[0].Record}); len(puts)+len(deletes) != 0 {
		t.Errorf("the record read, passed back: %d puts, %d deletes", len(puts), len(deletes))
	}
}
