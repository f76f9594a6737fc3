package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

func testProfileLifecycle(t *testing.T, s Store) {
	p := &profile.Profile{ID: "c1", Created: t0, Updated: t0.Add(time.Second), Rev: 3, Attributes: map[string]any{
		"name": "Ann", "vip": true, "score": json.Number("12.50"), "phones": []any{"+331", "+332"},
	}}
	orders := []schema.Record{{"id": "o1", "amount": json.Number("3")}}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		num, err := tx.NextNum()
		if err != nil {
			return err
		}
		p.Num = num
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		if err := tx.PutRecords("Orders", "c1", orders); err != nil {
			return err
		}
		return tx.PutRecords("notes", "c1", []schema.Record{{"text": "hi"}})
	})

	MustView(t, s, "", func(tx profile.Tx) error {
		got, err := tx.Profile("c1")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got.Attributes, p.Attributes) || got.Num != p.Num || got.Rev != 3 ||
			!got.Created.Equal(p.Created) || !got.Updated.Equal(p.Updated) {
			t.Errorf("profile = %+v, want %+v", got, p)
		}
		if id, _ := tx.IDByNum(p.Num); id != "c1" {
			t.Errorf("IDByNum = %q", id)
		}
		if recs, _ := tx.Records("ORDERS", "c1"); !reflect.DeepEqual(recs, orders) {
			t.Errorf("records = %#v", recs)
		}
		if missing, err := tx.Profile("nope"); missing != nil || err != nil {
			t.Errorf("absent profile = %v, %v", missing, err)
		}
		return nil
	})

	// Replacing with a new num and creation time drops the old entries.
	oldNum := p.Num
	r := *p
	r.Num, r.Created, r.Rev = 99, t0.Add(time.Hour), 4
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		// A replace reads the profile first (see the package comment).
		if _, err := tx.Profile("c1"); err != nil {
			return err
		}
		if err := tx.PutProfile(&r); err != nil {
			return err
		}
		return tx.PutRecords("orders", "c1", nil)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		if id, _ := tx.IDByNum(oldNum); id != "" {
			t.Errorf("old num still maps to %q", id)
		}
		if id, _ := tx.IDByNum(99); id != "c1" {
			t.Errorf("new num maps to %q", id)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("created entries = %q", ids)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(t0, t0, fn) }); len(ids) != 0 {
			t.Errorf("old created entry left: %q", ids)
		}
		if recs, _ := tx.Records("orders", "c1"); recs != nil {
			t.Errorf("records after empty put = %v", recs)
		}
		return nil
	})

	// Delete takes the profile, its num and created entries and records.
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.DeleteProfile(&r) })
	MustView(t, s, "", func(tx profile.Tx) error {
		if got, _ := tx.Profile("c1"); got != nil {
			t.Errorf("deleted profile read: %+v", got)
		}
		if id, _ := tx.IDByNum(99); id != "" {
			t.Errorf("deleted num maps to %q", id)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); len(ids) != 0 {
			t.Errorf("created entries left: %q", ids)
		}
		if recs, _ := tx.Records("notes", "c1"); recs != nil {
			t.Errorf("records left: %v", recs)
		}
		return nil
	})
}

func testScanCreated(t *testing.T, s Store) {
	t1, t2 := t0.Add(time.Nanosecond), t0.Add(time.Hour)
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, p := range []*profile.Profile{NewProfile("late", 1, t2), NewProfile("b", 2, t1), NewProfile("a", 3, t1), NewProfile("first", 4, t0), NewProfile("y1960", 5, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))} {
			if err := tx.PutProfile(p); err != nil {
				return err
			}
		}
		return nil
	})
	var zero time.Time
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			from, to time.Time
			want     []string
		}{
			{zero, zero, []string{"y1960", "first", "a", "b", "late"}},
			{t1, t1, []string{"a", "b"}},
			{t1, zero, []string{"a", "b", "late"}},
			{t0, t1, []string{"first", "a", "b"}},
			{t2.Add(time.Nanosecond), zero, []string{}},
		} {
			got := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(c.from, c.to, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanCreated(%v, %v) = %q, want %q", c.from, c.to, got, c.want)
			}
		}
		return nil
	})
}

func testScanCreatedBoundsOutsideNanosecondRange(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		return tx.PutProfile(&profile.Profile{ID: "a", Num: 1, Created: t0, Updated: t0, Rev: 1})
	})
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	early := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to time.Time
		want     int
	}{{far, time.Time{}, 0}, {early, far, 1}, {time.Time{}, early, 0}} {
		var got int
		MustView(t, s, "", func(tx profile.Tx) error {
			return tx.ScanCreated(tc.from, tc.to, func(string) bool { got++; return true })
		})
		if got != tc.want {
			t.Errorf("ScanCreated(%v, %v) found %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

func testForEachProfileWhileWriting(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for i := range 300 {
			if err := tx.PutProfile(NewProfile(fmt.Sprintf("c%03d", i), uint64(i+1), t0)); err != nil {
				return err
			}
		}
		return nil
	})
	visits := map[string]int{}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		clear(visits) // fn may run again
		return tx.ForEachProfile(func(p *profile.Profile) error {
			visits[p.ID]++
			if strings.HasSuffix(p.ID, "0") {
				return tx.DeleteProfile(p)
			}
			p.Rev++
			p.Attributes["extra"] = strings.Repeat("x", 500) // splits pages under the cursor
			return tx.PutProfile(p)
		})
	})
	if len(visits) != 300 {
		t.Errorf("visited %d profiles, want 300", len(visits))
	}
	for id, n := range visits {
		if n != 1 {
			t.Errorf("%s visited %d times", id, n)
		}
	}
	n, err := s.ProfileCount()
	if err != nil || n != 270 {
		t.Errorf("ProfileCount = %d, %v; want 270", n, err)
	}
	MustView(t, s, "", func(tx profile.Tx) error {
		if p, _ := tx.Profile("c001"); p == nil || p.Rev != 2 {
			t.Errorf("c001 = %+v", p)
		}
		return nil
	})
}

func testProfileCount(t *testing.T, s Store) {
	put := func(tenant, id string, num uint64) {
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			if _, err := tx.Profile(id); err != nil { // a replace reads first
				return err
			}
			return tx.PutProfile(&profile.Profile{ID: id, Num: num, Created: t0, Updated: t0, Rev: 1})
		})
	}
	put("", "a", 1)
	put("", "b", 2)
	put("", "a", 1) // a replace is not a new profile
	put("t1", "a", 3)
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.DeleteProfile(&profile.Profile{ID: "b"}) })
	if n, err := s.ProfileCount(); err != nil || n != 2 {
		t.Errorf("ProfileCount after deleting b = %d, %v; want 2", n, err)
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.DeleteProfile(&profile.Profile{ID: "gone"}) })
	if n, err := s.ProfileCount(); err != nil || n != 2 {
		t.Fatalf("ProfileCount = %d, %v; want 2 (deleting an absent profile changes nothing)", n, err)
	}
}

// testPingAndCount is the engine-neutral part of the bbolt store's
// TestPingCountAndStats.
func testPingAndCount(t *testing.T, s Store) {
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
	for ti, tenant := range []string{"", "a", "b"} {
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			for i := range 400 {
				id := fmt.Sprintf("c%d", i)
				if err := tx.PutProfile(NewProfile(id, uint64(ti*400+i+1), t0)); err != nil {
					return err
				}
				if err := tx.AddIndexEntry("email", []string{id + "@x"}, id, false); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if n, err := s.ProfileCount(); n != 1200 || err != nil {
		t.Errorf("ProfileCount = %d, %v", n, err)
	}
	MustView(t, s, "a", func(tx profile.Tx) error {
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"c7@x"}, fn) }); !slices.Equal(ids, []string{"c7"}) {
			t.Errorf("identify found %q", ids)
		}
		return nil
	})
}

func testRecordSets(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, p := range []*profile.Profile{NewProfile("c1", 1, t0), NewProfile("c2", 2, t0)} {
			if err := tx.PutProfile(p); err != nil {
				return err
			}
		}
		if err := tx.PutRecords("Orders", "c1", []schema.Record{{"id": "o1"}, {"id": "o2"}}); err != nil {
			return err
		}
		if err := tx.PutRecords("notes", "c1", []schema.Record{{"text": "hi"}}); err != nil {
			return err
		}
		return tx.PutRecords("Orders", "c2", []schema.Record{{"id": "o3"}})
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		sets, err := tx.RecordSets("c1", []string{"orders", "Notes", "absent"})
		if err != nil {
			return err
		}
		if len(sets) != 2 || len(sets["orders"]) != 2 || sets["orders"][1]["id"] != "o2" || sets["Notes"][0]["text"] != "hi" {
			t.Errorf("RecordSets(c1) = %v, want orders (2) and Notes (1) under the names asked for", sets)
		}
		if _, ok := sets["absent"]; ok {
			t.Error("RecordSets reports an extension without records")
		}
		if sets, err := tx.RecordSets("nobody", []string{"orders"}); err != nil || len(sets) != 0 {
			t.Errorf("RecordSets of an unknown customer = %v, %v", sets, err)
		}
		return nil
	})
}

// testReadsAreIndependent: what a read returns is the caller's own. A
// reader that changes it (the Profile, its attributes, its records)
// changes no later read, a write's changes reach no earlier read, and a
// read after a write sees the write. (A cache of decoded values shared
// between transactions would have to keep all of this; one was tried.)
func testReadsAreIndependent(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		num, err := tx.NextNum()
		if err != nil {
			return err
		}
		p := NewProfile("c1", num, t0)
		p.Attributes["phones"] = []any{"+331", "+332"}
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		return tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}})
	})
	read := func() (*profile.Profile, []schema.Record) {
		var p *profile.Profile
		var recs []schema.Record
		MustView(t, s, "", func(tx profile.Tx) (err error) {
			if p, err = tx.Profile("c1"); err != nil {
				return err
			}
			recs, err = tx.Records("orders", "c1")
			return err
		})
		return p, recs
	}
	first, firstRecs := read()
	first.Extensions = map[string][]schema.Record{"orders": firstRecs}
	first.Rev = 77
	first.Attributes["phones"].([]any)[0] = "+330"
	firstRecs[0]["id"] = "changed by a reader"
	again, againRecs := read()
	if again == first || again.Extensions != nil || again.Rev != 1 || again.Attributes["phones"].([]any)[0] != "+331" ||
		againRecs[0]["id"] != "o1" {
		t.Fatalf("a second read sees what the first reader changed: %+v %v", again, againRecs)
	}
	first.Attributes["phones"].([]any)[0] = "+331"
	firstRecs[0]["id"] = "o1"

	// A write edits what it read in place, as the service does.
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil {
			return err
		}
		p.Attributes["name"] = "changed"
		p.Attributes["phones"].([]any)[0] = "+339"
		p.Rev++
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		// (records read are passed back unchanged or replaced: DiffRecords)
		if _, err := tx.Records("orders", "c1"); err != nil {
			return err
		}
		return tx.PutRecords("orders", "c1", []schema.Record{{"id": "o2"}})
	})
	if first.Attributes["name"] != "c1" || first.Attributes["phones"].([]any)[0] != "+331" || firstRecs[0]["id"] != "o1" {
		t.Errorf("a write changed what an earlier read returned: %v %v", first.Attributes, firstRecs)
	}
	after, afterRecs := read()
	if after.Attributes["name"] != "changed" || after.Attributes["phones"].([]any)[0] != "+339" || after.Rev != 2 ||
		len(afterRecs) != 1 || afterRecs[0]["id"] != "o2" {
		t.Errorf("read after the write = %v rev %d, %v", after.Attributes, after.Rev, afterRecs)
	}
}

// testDocuments: Document and RecordDocuments read what Profile and
// RecordSets read (under the names asked for, nothing for what is absent),
// and what they return stays the caller's after the transaction, whatever
// is written next (bbolt's TestDocument_OutlivesTheFile goes further).
func testDocuments(t *testing.T, s Store) {
	attrs := map[string]any{"FirstName": "Zoë \"Z\" \u2028", "Tags": []any{"a", json.Number("-1.5e3"), true, nil}, "Nested": map[string]any{"k": []any{}}}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		p := NewProfile("c1", 7, t0)
		p.Attributes = attrs
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		if err := tx.PutRecords("Orders", "c1", []schema.Record{{"id": "o1", "n": json.Number("1")}, {"id": "o2"}}); err != nil {
			return err
		}
		return tx.PutRecords("notes", "c1", []schema.Record{{"text": "hi\x01"}})
	})
	var d *profile.Document
	var sets map[string][][]profile.Member
	MustView(t, s, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil {
			return err
		}
		if d, err = tx.Document("c1"); err != nil {
			return err
		}
		if d.ID != p.ID || d.Num != p.Num || d.Rev != p.Rev || !d.Created.Equal(p.Created) || !d.Updated.Equal(p.Updated) ||
			!reflect.DeepEqual(decodeMembers(t, d.Attributes), p.Attributes) {
			t.Errorf("Document = %+v, Profile = %+v", d, p)
		}
		if sets, err = tx.RecordDocuments("c1", []string{"orders", "Notes", "absent"}); err != nil {
			return err
		}
		want, err := tx.RecordSets("c1", []string{"orders", "Notes", "absent"})
		if err != nil {
			return err
		}
		if len(sets) != len(want) {
			t.Errorf("RecordDocuments = %d sets, RecordSets %d", len(sets), len(want))
		}
		for ext, recs := range want {
			if len(sets[ext]) != len(recs) {
				t.Errorf("RecordDocuments[%s] has %d records, RecordSets %d", ext, len(sets[ext]), len(recs))
			}
			for i, r := range recs {
				if i >= len(sets[ext]) || !reflect.DeepEqual(schema.Record(decodeMembers(t, sets[ext][i])), r) {
					t.Errorf("RecordDocuments[%s] = %q, RecordSets %v", ext, sets[ext], recs)
				}
			}
		}
		if d, err := tx.Document("nobody"); d != nil || err != nil {
			t.Errorf("Document of an unknown customer = %v, %v", d, err)
		}
		if sets, err := tx.RecordDocuments("nobody", []string{"orders"}); err != nil || len(sets) != 0 {
			t.Errorf("RecordDocuments of an unknown customer = %v, %v", sets, err)
		}
		return nil
	})
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if _, err := tx.Profile("c1"); err != nil {
			return err
		}
		p := NewProfile("c1", 7, t0)
		p.Attributes = map[string]any{"FirstName": "changed"}
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		return tx.PutRecords("Orders", "c1", []schema.Record{{"id": "changed"}})
	})
	if got := decodeMembers(t, d.Attributes); !reflect.DeepEqual(got, attrs) {
		t.Errorf("after the transaction the document reads %v", got)
	}
	if got := decodeMembers(t, sets["orders"][0]); got["id"] != "o1" {
		t.Errorf("after the transaction the records read %v", got)
	}
}

func decodeMembers(t *testing.T, members []profile.Member) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, m := range members {
		v, err := jsonw.Parse(m.Value)
		if err != nil {
			t.Fatalf("member %s = %q: %v", m.Name, m.Value, err)
		}
		out[m.Name] = v
	}
	return out
}
