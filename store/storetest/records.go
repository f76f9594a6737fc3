package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/transfer"
)

func phones(recs []schema.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, fmt.Sprint(r["PhoneNumber"]))
	}
	return out
}

// testRecordWritesOnlyWhatChanged: records are stored one by one, so a
// write that read a large set stores only the records it appends, replaces
// or removes (not the set again), keeps the order, and a write that did
// not read the set replaces it whole.
func testRecordWritesOnlyWhatChanged(t *testing.T, s Store) {
	var want []string
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if err := tx.PutProfile(NewProfile("c1", 1, t0)); err != nil {
			return err
		}
		var recs []schema.Record
		for i := range 300 {
			recs = append(recs, schema.Record{"PhoneNumber": fmt.Sprintf("555%04d", i)})
		}
		want = phones(recs)
		return tx.PutRecords("phone", "c1", recs)
	})
	check := func(what string, wantWritten uint64, edit func([]schema.Record) []schema.Record) {
		t.Helper()
		before := s.RecordsWritten()
		MustUpdate(t, s, "", func(tx profile.Tx) error {
			recs, err := tx.Records("phone", "c1")
			if err != nil {
				return err
			}
			return tx.PutRecords("phone", "c1", edit(slices.Clone(recs)))
		})
		if n := s.RecordsWritten() - before; n != wantWritten {
			t.Errorf("%s: %d records written, want %d", what, n, wantWritten)
		}
		MustView(t, s, "", func(tx profile.Tx) error {
			recs, err := tx.Records("Phone", "c1")
			if got := phones(recs); err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: stored %d records %v..., want %d (%v)", what, len(got), got[:min(3, len(got))], len(want), err)
			}
			return nil
		})
	}
	check("an append", 1, func(recs []schema.Record) []schema.Record {
		want = append(want, "5559999")
		return append(recs, schema.Record{"PhoneNumber": "5559999"})
	})
	check("a replacement in the middle", 1, func(recs []schema.Record) []schema.Record {
		want[150] = "5558888"
		recs[150] = schema.Record{"PhoneNumber": "5558888"}
		return recs
	})
	check("a removal from the middle", 0, func(recs []schema.Record) []schema.Record {
		want = slices.Delete(want, 10, 11)
		return slices.Delete(recs, 10, 11)
	})
	check("an unchanged set", 0, func(recs []schema.Record) []schema.Record { return recs })
	// Two writes of one set in one transaction: the second diffs against
	// what the first stored.
	before := s.RecordsWritten()
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		recs, err := tx.Records("phone", "c1")
		if err != nil {
			return err
		}
		recs = append(recs, schema.Record{"PhoneNumber": "5557777"})
		if err := tx.PutRecords("phone", "c1", recs); err != nil {
			return err
		}
		return tx.PutRecords("phone", "c1", append(recs, schema.Record{"PhoneNumber": "5556666"}))
	})
	want = append(want, "5557777", "5556666")
	if n := s.RecordsWritten() - before; n != 2 {
		t.Errorf("two appends in one transaction: %d records written, want 2", n)
	}
	// Without reading it first, a write replaces the set whole.
	before = s.RecordsWritten()
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		return tx.PutRecords("phone", "c1", []schema.Record{{"PhoneNumber": "1"}, {"PhoneNumber": "2"}})
	})
	want = []string{"1", "2"}
	if n := s.RecordsWritten() - before; n != 2 {
		t.Errorf("a whole replacement: %d records written, want 2", n)
	}
	MustView(t, s, "", func(tx profile.Tx) error {
		recs, err := tx.Records("phone", "c1")
		if got := phones(recs); err != nil || !slices.Equal(got, want) {
			t.Errorf("after the whole replacement: %v (%v), want %v", got, err, want)
		}
		return nil
	})
}

// OldFormSet checks a store in which customer old1 (a profile) holds the
// Phone set {1, 2} in the whole-set form written before per-record
// storage: the set reads as it is, export hands it on as one set, and a
// write that appends a record leaves the three in order. The caller checks
// that the old form is gone afterwards.
func OldFormSet(t *testing.T, s Store, export func(fn func(transfer.Item) error) error) {
	t.Helper()
	read := func() []string {
		var got []string
		MustView(t, s, "", func(tx profile.Tx) error {
			recs, err := tx.Records("Phone", "old1")
			got = phones(recs)
			return err
		})
		return got
	}
	if got := read(); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("the old set reads %v", got)
	}
	MustView(t, s, "", func(tx profile.Tx) error {
		sets, err := tx.RecordDocuments("old1", []string{"Phone"})
		if recs := sets["Phone"]; len(recs) != 2 || decodeMembers(t, recs[1])["PhoneNumber"] != "2" {
			t.Errorf("the old set reads as documents %q", recs)
		}
		return err
	})
	sets := 0
	if err := export(func(it transfer.Item) error {
		if it.Kind == transfer.KindRecords {
			sets++
		}
		return nil
	}); err != nil || sets != 1 {
		t.Fatalf("export: %d record sets, %v", sets, err)
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		recs, err := tx.Records("phone", "old1")
		if err != nil {
			return err
		}
		return tx.PutRecords("phone", "old1", append(recs, schema.Record{"PhoneNumber": "3"}))
	})
	if got := read(); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("after a write: %v", got)
	}
}

// testManySetsReadInOneWrite: a write transaction that reads more record
// sets than a store keeps as read (an index rebuild reads every customer's)
// still writes each set it changes exactly: the first sets it read and the
// last alike, whether a write replaces, removes or adds records (a store
// that diffed a set read past its bound against nothing would leave a
// removed record behind).
func testManySetsReadInOneWrite(t *testing.T, s Store) {
	const customers = 5000 // past either store's bound on sets kept as read
	id := func(i int) string { return fmt.Sprintf("m%05d", i) }
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for i := range customers {
			if err := tx.PutProfile(NewProfile(id(i), uint64(i+1), t0)); err != nil {
				return err
			}
			if err := tx.PutRecords("phone", id(i), []schema.Record{{"PhoneNumber": "1"}, {"PhoneNumber": fmt.Sprint(i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for i := range customers {
			if _, err := tx.Records("phone", id(i)); err != nil {
				return err
			}
		}
		for _, i := range []int{0, customers - 3, customers - 2, customers - 1} {
			recs, err := tx.Records("phone", id(i))
			if err != nil {
				return err
			}
			var next []schema.Record
			switch i {
			case customers - 2: // removes the first record
				next = recs[1:]
			case customers - 1: // adds one
				next = append(recs, schema.Record{"PhoneNumber": "new"})
			default: // replaces one
				next = append(recs[1:], schema.Record{"PhoneNumber": "new"})
			}
			if err := tx.PutRecords("phone", id(i), next); err != nil {
				return err
			}
		}
		return nil
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, i := range []int{0, 1, customers - 3, customers - 2, customers - 1} {
			recs, err := tx.Records("phone", id(i))
			if err != nil {
				return err
			}
			want := map[int][]string{
				1:             {"1", "1"},
				customers - 2: {fmt.Sprint(i)},
				customers - 1: {"1", fmt.Sprint(i), "new"},
			}[i]
			if want == nil {
				want = []string{fmt.Sprint(i), "new"}
			}
			if got := phones(recs); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", id(i), got, want)
			}
		}
		return nil
	})
}
