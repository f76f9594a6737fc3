package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Conformance tests added with the suite (the ones above came from the bbolt
// store's tests).

// create stores new profiles in one update, each with a numeric id from
// NextNum, and returns the ids' nums.
func create(t *testing.T, s Store, tenant string, created time.Time, ids ...string) map[string]uint64 {
	t.Helper()
	nums := map[string]uint64{}
	MustUpdate(t, s, tenant, func(tx profile.Tx) error {
		clear(nums) // fn may run again
		for _, id := range ids {
			num, err := tx.NextNum()
			if err != nil {
				return err
			}
			if err := tx.PutProfile(NewProfile(id, num, created)); err != nil {
				return err
			}
			nums[id] = num
		}
		return nil
	})
	return nums
}

func profileIDs(ps []*profile.Profile) []string {
	ids := []string{}
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// uniqueViolation reports whether err is the store's refusal of a unique
// key's entry.
func uniqueViolation(err error) bool {
	e := errs.As(err)
	return e != nil && e.Code == profile.CodeUniqueKeyViolation && e.Kind == errs.KindConflict
}

func testCustomerIDRoundTrip(t *testing.T, s Store) {
	ids := []string{"Ab_9-xY_z-012345", "-_", "_-"}
	if len(ids[0]) != 16 {
		t.Fatalf("%q is not 16 characters, the longest customer_id", ids[0])
	}
	nums := create(t, s, "", t0, ids...)
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, id := range ids {
			if err := tx.PutRecords("orders", id, []schema.Record{{"id": "o-" + id}}); err != nil {
				return err
			}
			if err := tx.AddIndexEntry("email", []string{id + "@x"}, id, true); err != nil {
				return err
			}
		}
		return nil
	})
	sorted := []string{"-_", "Ab_9-xY_z-012345", "_-"} // byte order
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, id := range ids {
			if p, err := tx.Profile(id); err != nil || p == nil || p.ID != id || p.Num != nums[id] {
				t.Errorf("Profile(%q) = %+v, %v", id, p, err)
			}
			if got, err := tx.IDByNum(nums[id]); got != id || err != nil {
				t.Errorf("IDByNum(%d) = %q, %v; want %q", nums[id], got, err, id)
			}
			if recs, err := tx.Records("orders", id); err != nil || len(recs) != 1 || recs[0]["id"] != "o-"+id {
				t.Errorf("Records(orders, %q) = %v, %v", id, recs, err)
			}
			if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{id + "@x"}, fn) }); !slices.Equal(got, []string{id}) {
				t.Errorf("ScanIndex(%q) = %q, want %q", id+"@x", got, id)
			}
		}
		if got := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(t0, t0, fn) }); !slices.Equal(got, sorted) {
			t.Errorf("ScanCreated = %q, want %q", got, sorted)
		}
		if page, err := tx.ProfilesAfter("", 10); err != nil || !slices.Equal(profileIDs(page), sorted) {
			t.Errorf("ProfilesAfter = %q, %v; want %q", profileIDs(page), err, sorted)
		}
		return nil
	})
}

func testIDByNum(t *testing.T, s Store) {
	nums := create(t, s, "", t0, "c1", "c2", "c3")
	other := create(t, s, "t", t0, "c1")
	MustView(t, s, "", func(tx profile.Tx) error {
		for id, num := range nums {
			if got, err := tx.IDByNum(num); got != id || err != nil {
				t.Errorf("IDByNum(%d) = %q, %v; want %q", num, got, err, id)
			}
		}
		for _, num := range []uint64{0, other["c1"], 1 << 40} {
			if got, err := tx.IDByNum(num); got != "" || err != nil {
				t.Errorf("IDByNum(%d) = %q, %v; want absent", num, got, err)
			}
		}
		return nil
	})
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c2")
		if err != nil || p == nil {
			return fmt.Errorf("c2 = %v, %v", p, err)
		}
		return tx.DeleteProfile(p)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		if got, err := tx.IDByNum(nums["c2"]); got != "" || err != nil {
			t.Errorf("IDByNum of deleted c2 = %q, %v", got, err)
		}
		if got, err := tx.IDByNum(nums["c3"]); got != "c3" || err != nil {
			t.Errorf("IDByNum(c3) = %q, %v", got, err)
		}
		return nil
	})
}

func testNextNumStrictlyIncreasing(t *testing.T, s Store) {
	var seq []uint64
	for i, tenant := range []string{"", "a", "", "b", "a"} {
		var got []uint64
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			got = got[:0] // fn may run again
			for range i%2 + 1 {
				n, err := tx.NextNum()
				if err != nil {
					return err
				}
				got = append(got, n)
			}
			return nil
		})
		seq = append(seq, got...)
	}
	for i, n := range seq {
		if n == 0 || i > 0 && n <= seq[i-1] {
			t.Fatalf("NextNum in turn returned %d: not strictly increasing from 1", seq)
		}
	}

	// Concurrent writers never share one.
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			var n uint64
			err := s.Update(context.Background(), fmt.Sprint("t", i%3), func(tx profile.Tx) error {
				var err error
				n, err = tx.NextNum()
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			} else if seen[n] || n <= seq[len(seq)-1] {
				t.Errorf("concurrent NextNum returned %d again or not after %d", n, seq[len(seq)-1])
			}
			seen[n] = true
		})
	}
	wg.Wait()
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		n, err := tx.NextNum()
		for m := range seen {
			if n <= m {
				t.Errorf("NextNum = %d after %d was handed out", n, m)
			}
		}
		return err
	})
}

func testDeleteProfile(t *testing.T, s Store) {
	nums := create(t, s, "", t0, "c1", "c2")
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, id := range []string{"c1", "c2"} {
			for _, ext := range []string{"Orders", "notes"} {
				if err := tx.PutRecords(ext, id, []schema.Record{{"id": ext + "-" + id}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if n := profileCount(t, s); n != 2 {
		t.Fatalf("ProfileCount = %d, want 2", n)
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil || p == nil {
			return fmt.Errorf("c1 = %v, %v", p, err)
		}
		return tx.DeleteProfile(p)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		if p, err := tx.Profile("c1"); p != nil || err != nil {
			t.Errorf("deleted c1 = %+v, %v", p, err)
		}
		for _, ext := range []string{"orders", "NOTES"} {
			if recs, err := tx.Records(ext, "c1"); recs != nil || err != nil {
				t.Errorf("deleted c1's %s = %v, %v", ext, recs, err)
			}
			if recs, err := tx.Records(ext, "c2"); len(recs) != 1 || err != nil {
				t.Errorf("c2's %s after c1's delete = %v, %v", ext, recs, err)
			}
		}
		if id, _ := tx.IDByNum(nums["c1"]); id != "" {
			t.Errorf("deleted num maps to %q", id)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); !slices.Equal(ids, []string{"c2"}) {
			t.Errorf("ScanCreated after delete = %q", ids)
		}
		if page, err := tx.ProfilesAfter("", 10); err != nil || !slices.Equal(profileIDs(page), []string{"c2"}) {
			t.Errorf("ProfilesAfter after delete = %q, %v", profileIDs(page), err)
		}
		return nil
	})
	if n := profileCount(t, s); n != 1 {
		t.Errorf("ProfileCount after delete = %d, want 1", n)
	}
	// The id can be used again, and its old records do not come back.
	create(t, s, "", t0, "c1")
	MustView(t, s, "", func(tx profile.Tx) error {
		if recs, err := tx.Records("orders", "c1"); recs != nil || err != nil {
			t.Errorf("records of the re-created c1 = %v, %v", recs, err)
		}
		return nil
	})
	if n := profileCount(t, s); n != 2 {
		t.Errorf("ProfileCount after re-creating = %d, want 2", n)
	}
}

// testPurgeProfile: PurgeProfile removes a customer, its records, numeric
// id, creation entry and index entries, given only its id, and nothing of
// another customer, whatever its id starts with, or of another tenant.
func testPurgeProfile(t *testing.T, s Store) {
	nums := create(t, s, "", t0, "c1", "c2", "c10")
	create(t, s, "other", t0, "c1")
	for _, tenant := range []string{"", "other"} {
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			for _, e := range []struct {
				key, value, id string
				unique         bool
			}{{"email", "a@x", "c1", false}, {"email", "a@x", "c2", false}, {"email", "b@x", "c10", false}, {"phone", "555", "c1", true}} {
				if err := tx.AddIndexEntry(e.key, []string{e.value}, e.id, e.unique); err != nil {
					return err
				}
			}
			for _, id := range []string{"c1", "c10"} {
				if err := tx.PutRecords("orders", id, []schema.Record{{"id": "o-" + id}}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.PurgeProfile("c1") })

	for _, tenant := range []string{"", "other"} {
		MustView(t, s, tenant, func(tx profile.Tx) error {
			gone := tenant == ""
			if p, err := tx.Profile("c1"); err != nil || (p == nil) != gone {
				t.Errorf("tenant %q: c1 = %+v, %v after the purge", tenant, p, err)
			}
			if recs, err := tx.Records("orders", "c1"); err != nil || (recs == nil) != gone {
				t.Errorf("tenant %q: c1's orders = %v, %v after the purge", tenant, recs, err)
			}
			wantEmail, wantPhone := []string{"c1", "c2"}, []string{"c1"}
			if gone {
				wantEmail, wantPhone = []string{"c2"}, []string{}
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"a@x"}, fn) }); !slices.Equal(ids, wantEmail) {
				t.Errorf("tenant %q: email a@x finds %q, want %q", tenant, ids, wantEmail)
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", []string{"555"}, fn) }); !slices.Equal(ids, wantPhone) {
				t.Errorf("tenant %q: phone 555 finds %q, want %q", tenant, ids, wantPhone)
			}
			return nil
		})
	}
	MustView(t, s, "", func(tx profile.Tx) error {
		if id, _ := tx.IDByNum(nums["c1"]); id != "" {
			t.Errorf("the purged customer's num maps to %q", id)
		}
		if id, _ := tx.IDByNum(nums["c10"]); id != "c10" {
			t.Errorf("c10's num maps to %q", id)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); !slices.Equal(ids, []string{"c10", "c2"}) {
			t.Errorf("ScanCreated after the purge = %q", ids)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"b@x"}, fn) }); !slices.Equal(ids, []string{"c10"}) {
			t.Errorf("email b@x finds %q after c1's purge", ids)
		}
		if recs, err := tx.Records("orders", "c10"); len(recs) != 1 || err != nil {
			t.Errorf("c10's orders after c1's purge = %v, %v", recs, err)
		}
		return nil
	})
	if n := profileCount(t, s); n != 3 { // c2, c10 and the other tenant's c1
		t.Errorf("ProfileCount after the purge = %d, want 3", n)
	}
	// The unique value is free, and the id can be created again.
	create(t, s, "", t0, "c1")
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.AddIndexEntry("phone", []string{"555"}, "c2", true) })
}

// testStoredExtensions: StoredExtensions names, lower-cased and sorted,
// the extensions a customer has records of, whatever the schema declares,
// and not those whose set was emptied.
func testStoredExtensions(t *testing.T, s Store) {
	create(t, s, "", t0, "c1", "c2", "c3")
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, set := range []struct{ ext, id string }{{"Orders", "c1"}, {"notes", "c1"}, {"orders", "c2"}} {
			if err := tx.PutRecords(set.ext, set.id, []schema.Record{{"id": set.ext}}); err != nil {
				return err
			}
		}
		return nil
	})
	stored := func(want map[string][]string) {
		t.Helper()
		MustView(t, s, "", func(tx profile.Tx) error {
			for id, names := range want {
				if got, err := tx.StoredExtensions(id); err != nil || !slices.Equal(got, names) {
					t.Errorf("StoredExtensions(%s) = %q, %v; want %q", id, got, err, names)
				}
			}
			return nil
		})
	}
	stored(map[string][]string{"c1": {"notes", "orders"}, "c2": {"orders"}, "c3": nil})
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.PutRecords("NOTES", "c1", nil) })
	stored(map[string][]string{"c1": {"orders"}})
}

func testProfilesAfter(t *testing.T, s Store) {
	nums := create(t, s, "", t0, "b", "a-1", "Z", "a", "_x", "0", "a_", "c")
	create(t, s, "other", t0, "a0", "d")
	MustView(t, s, "", func(tx profile.Tx) error {
		var got [][]string
		for after := ""; ; {
			page, err := tx.ProfilesAfter(after, 3)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				if p.Num != nums[p.ID] || p.Attributes["name"] != p.ID || !p.Created.Equal(t0) {
					t.Errorf("paged profile = %+v", p)
				}
			}
			got = append(got, profileIDs(page))
			after = page[len(page)-1].ID
			if len(got) > 10 {
				t.Fatalf("paging does not end: %q", got)
			}
		}
		want := [][]string{{"0", "Z", "_x"}, {"a", "a-1", "a_"}, {"b", "c"}} // byte order
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages = %q, want %q", got, want)
		}
		for _, c := range []struct {
			after string
			limit int
			want  []string
		}{
			{"a0", 10, []string{"a_", "b", "c"}}, // after an id no profile has
			{"", 1, []string{"0"}},
			{"c", 10, []string{}},
			{"zzz", 10, []string{}},
		} {
			if page, err := tx.ProfilesAfter(c.after, c.limit); err != nil || !slices.Equal(profileIDs(page), c.want) {
				t.Errorf("ProfilesAfter(%q, %d) = %q, %v; want %q", c.after, c.limit, profileIDs(page), err, c.want)
			}
		}
		return nil
	})
	MustView(t, s, "empty", func(tx profile.Tx) error {
		if page, err := tx.ProfilesAfter("", 10); len(page) != 0 || err != nil {
			t.Errorf("ProfilesAfter of a tenant without profiles = %q, %v", profileIDs(page), err)
		}
		return nil
	})
}

func testFailingUpdateKeepsNothing(t *testing.T, s Store) {
	nums := create(t, s, "", t0, "c1")
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if err := tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}}); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", true)
	})
	boom := errors.New("boom")
	var num2 uint64
	fail := func(tenant string, fn func(tx profile.Tx) error) {
		t.Helper()
		err := s.Update(context.Background(), tenant, func(tx profile.Tx) error {
			if err := fn(tx); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("failing update = %v, want boom", err)
		}
	}
	// A create with records and index entries, a change and a delete.
	fail("", func(tx profile.Tx) error {
		var err error
		if num2, err = tx.NextNum(); err != nil {
			return err
		}
		if err := tx.PutProfile(NewProfile("c2", num2, t0.Add(time.Minute))); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c2", []schema.Record{{"id": "o2"}}); err != nil {
			return err
		}
		if err := tx.AddIndexEntry("email", []string{"bob@x"}, "c2", true); err != nil {
			return err
		}
		if err := tx.AddIndexEntry("name", []string{"bob"}, "c2", false); err != nil {
			return err
		}
		p, err := tx.Profile("c1")
		if err != nil || p == nil {
			return fmt.Errorf("c1 = %v, %v", p, err)
		}
		p.Rev++
		p.Attributes["name"] = "changed"
		if err := tx.PutProfile(p); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c1", nil); err != nil {
			return err
		}
		return tx.RemoveIndexEntry("email", []string{"ann@x"}, "c1")
	})
	fail("", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil || p == nil {
			return fmt.Errorf("c1 = %v, %v", p, err)
		}
		return tx.DeleteProfile(p)
	})
	// A first write of a new tenant.
	fail("new", func(tx profile.Tx) error {
		num, err := tx.NextNum()
		if err != nil {
			return err
		}
		if err := tx.PutProfile(NewProfile("n1", num, t0)); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "n1", true)
	})

	MustView(t, s, "", func(tx profile.Tx) error {
		if p, err := tx.Profile("c2"); p != nil || err != nil {
			t.Errorf("c2 of a failed update = %+v, %v", p, err)
		}
		if id, _ := tx.IDByNum(num2); id != "" {
			t.Errorf("num of a failed update maps to %q", id)
		}
		if recs, _ := tx.Records("orders", "c2"); recs != nil {
			t.Errorf("records of a failed update = %v", recs)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"bob@x"}, fn) }); len(ids) != 0 {
			t.Errorf("unique entry of a failed update = %q", ids)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("name", []string{"bob"}, fn) }); len(ids) != 0 {
			t.Errorf("entry of a failed update = %q", ids)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("ScanCreated = %q, want c1 only", ids)
		}
		p, err := tx.Profile("c1")
		if err != nil || p == nil || p.Rev != 1 || p.Attributes["name"] != "c1" || p.Num != nums["c1"] {
			t.Errorf("c1 after failed change and delete = %+v, %v", p, err)
		}
		if recs, _ := tx.Records("orders", "c1"); len(recs) != 1 {
			t.Errorf("c1's records after a failed update = %v", recs)
		}
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"ann@x"}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("c1's entry after a failed update = %q", ids)
		}
		return nil
	})
	MustView(t, s, "new", func(tx profile.Tx) error {
		if p, err := tx.Profile("n1"); p != nil || err != nil {
			t.Errorf("profile of a failed first write = %+v, %v", p, err)
		}
		return nil
	})
	if n := profileCount(t, s); n != 1 {
		t.Errorf("ProfileCount = %d, want 1", n)
	}
	if tenants, err := s.Tenants(); err != nil || !slices.Equal(tenants, []string{""}) {
		t.Errorf("Tenants = %q, %v; want only the default tenant", tenants, err)
	}
}

// testScanIndexBytesRoundTrip: index values are bytes; NUL, the codec's
// terminator and escape bytes, non-ASCII and non-UTF-8 bytes inside values
// come back exactly and in byte order.
func testScanIndexBytesRoundTrip(t *testing.T, s Store) {
	entries := []struct{ value, id string }{ // in byte order of the values
		{"\x00", "n0"},
		{"\x00\x01", "n01"},
		{"a", "a"},
		{"a\x00", "a0"},
		{"a\x00b", "a0b"},
		{"a\x00\xffb", "a0ffb"},
		{"é", "e"},
		{"日本", "jp"},
		{"\xff", "ff"},
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, i := range []int{4, 0, 8, 2, 6, 1, 7, 3, 5} {
			if err := tx.AddIndexEntry("k", []string{entries[i].value}, entries[i].id, true); err != nil {
				return err
			}
		}
		// Components do not bleed into each other.
		if err := tx.AddIndexEntry("pair", []string{"a\x00", "b"}, "p1", false); err != nil {
			return err
		}
		return tx.AddIndexEntry("pair", []string{"a", "\x00b"}, "p2", false)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		var all []string
		for _, e := range entries {
			all = append(all, e.id)
			if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("k", []string{e.value}, fn) }); !slices.Equal(got, []string{e.id}) {
				t.Errorf("ScanIndex(%q) = %q, want %q", e.value, got, e.id)
			}
		}
		for _, c := range []struct {
			key      string
			prefix   []string
			from, to string
			want     []string
		}{
			{"k", nil, "\x00", "\xff", all},
			{"k", nil, "a", "a\x00b", []string{"a", "a0", "a0b"}},
			{"k", nil, "a\x00", "日本", []string{"a0", "a0b", "a0ffb", "e", "jp"}},
			{"pair", []string{"a"}, "\x00", "\x00b", []string{"p2"}},
			{"pair", []string{"a\x00"}, "b", "b", []string{"p1"}},
		} {
			if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange(c.key, c.prefix, c.from, c.to, fn) }); !slices.Equal(got, c.want) {
				t.Errorf("ScanIndexRange(%s, %q, %q, %q) = %q, want %q", c.key, c.prefix, c.from, c.to, got, c.want)
			}
		}
		for _, c := range []struct {
			prefix []string
			want   []string
		}{
			{[]string{"a"}, []string{"p2"}},
			{[]string{"a\x00"}, []string{"p1"}},
			{[]string{"a\x00", "b"}, []string{"p1"}},
			{[]string{"a", "\x00b"}, []string{"p2"}},
			{[]string{"a", "\x00"}, []string{}},
		} {
			if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("pair", c.prefix, fn) }); !slices.Equal(got, c.want) {
				t.Errorf("ScanIndex(pair, %q) = %q, want %q", c.prefix, got, c.want)
			}
		}
		return nil
	})
	// They are removed by the same bytes, and only those.
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.RemoveIndexEntry("k", []string{"a\x00b"}, "a0b") })
	MustView(t, s, "", func(tx profile.Tx) error {
		if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange("k", nil, "a", "a\x00\xffb", fn) }); !slices.Equal(got, []string{"a", "a0", "a0ffb"}) {
			t.Errorf("after removing a\\x00b: %q", got)
		}
		return nil
	})
}

func testScanIndexRangeOpenBounds(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, e := range []struct{ value, id string }{{"2020-01-02", "d2"}, {"1999-12-31", "old"}, {"2020-01-01", "d1"}} {
			if err := tx.AddIndexEntry("dob", []string{e.value}, e.id, false); err != nil {
				return err
			}
		}
		return tx.AddIndexEntry("dobx", []string{"2020-01-01"}, "other-key", false)
	})
	MustUpdate(t, s, "t", func(tx profile.Tx) error {
		return tx.AddIndexEntry("dob", []string{"2020-01-01"}, "other-tenant", false)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			from, to string
			want     []string
		}{
			{"", "", []string{"old", "d1", "d2"}},
			{"", "2020-01-01", []string{"old", "d1"}},
			{"2020-01-01", "", []string{"d1", "d2"}},
		} {
			if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange("DOB", nil, c.from, c.to, fn) }); !slices.Equal(got, c.want) {
				t.Errorf("ScanIndexRange(dob, [], %q, %q) = %q, want %q", c.from, c.to, got, c.want)
			}
		}
		n := 0
		if err := tx.ScanIndexRange("dob", nil, "", "", func(string) bool { n++; return false }); err != nil || n != 1 {
			t.Errorf("open range scan stopped after %d, %v", n, err)
		}
		if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange("nokey", nil, "", "", fn) }); len(got) != 0 {
			t.Errorf("missing index scanned %q", got)
		}
		return nil
	})
}

func testUniqueIndexEntry(t *testing.T, s Store) {
	create(t, s, "", t0, "c1")
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if err := tx.AddIndexEntry("Email", []string{"ann@x"}, "c1", true); err != nil {
			return err
		}
		return tx.AddIndexEntry("name_dob", []string{"ann", "2000"}, "c1", true)
	})
	// The holder may add its entry again.
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", true) })

	// Another customer's entry with those values is refused, and its
	// transaction keeps nothing.
	for _, c := range []struct {
		key    string
		values []string
	}{
		{"EMAIL", []string{"ann@x"}},
		{"name_dob", []string{"ann", "2000"}},
	} {
		var num uint64
		var addErr error
		err := s.Update(context.Background(), "", func(tx profile.Tx) error {
			var err error
			if num, err = tx.NextNum(); err != nil {
				return err
			}
			if err := tx.PutProfile(NewProfile("c2", num, t0)); err != nil {
				return err
			}
			if err := tx.PutRecords("orders", "c2", []schema.Record{{"id": "o2"}}); err != nil {
				return err
			}
			if err := tx.AddIndexEntry("phone", []string{"2"}, "c2", false); err != nil {
				return err
			}
			addErr = tx.AddIndexEntry(c.key, c.values, "c2", true)
			return addErr
		})
		// A store may defer writes to the next read or the commit (see
		// profile.Tx), so the refusal comes from AddIndexEntry or Update.
		if addErr != nil && !uniqueViolation(addErr) {
			t.Errorf("AddIndexEntry(%s, %q) of another customer = %v, want nil or a conflict %s", c.key, c.values, addErr, profile.CodeUniqueKeyViolation)
		}
		if !uniqueViolation(err) {
			t.Errorf("Update = %v, want a conflict %s", err, profile.CodeUniqueKeyViolation)
		}
		// The refusal names the key and values as profile.TakenValues, as
		// the service's own check does, so adapters can word it (eGain:
		// the address in 400-107) whichever of the two answers.
		var taken *profile.TakenValues
		if !errors.As(err, &taken) || !strings.EqualFold(taken.Key, c.key) || !slices.Equal(taken.Values, c.values) {
			t.Errorf("Update = %v, cause %+v, want TakenValues{%s %q}", err, taken, c.key, c.values)
		}
		MustView(t, s, "", func(tx profile.Tx) error {
			if p, _ := tx.Profile("c2"); p != nil {
				t.Errorf("profile of the refused transaction: %+v", p)
			}
			if id, _ := tx.IDByNum(num); id != "" {
				t.Errorf("num of the refused transaction maps to %q", id)
			}
			if recs, _ := tx.Records("orders", "c2"); recs != nil {
				t.Errorf("records of the refused transaction: %v", recs)
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", []string{"2"}, fn) }); len(ids) != 0 {
				t.Errorf("index entry of the refused transaction: %q", ids)
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex(c.key, c.values, fn) }); !slices.Equal(ids, []string{"c1"}) {
				t.Errorf("ScanIndex(%s, %q) = %q, want the holder c1 only", c.key, c.values, ids)
			}
			return nil
		})
		if n := profileCount(t, s); n != 1 {
			t.Errorf("ProfileCount = %d after a refused transaction, want 1", n)
		}
	}

	// Other values are free, however close; and tenants do not share keys.
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, e := range []struct {
			key    string
			values []string
		}{
			{"email", []string{"ann@x.org"}},
			{"email", []string{"ann@"}},
			{"email", []string{"Ann@x"}},
			{"name_dob", []string{"ann", "2001"}},
			{"name_dob", []string{"ann2", "000"}},
			{"phone", []string{"ann@x"}},
		} {
			if err := tx.AddIndexEntry(e.key, e.values, "c2", true); err != nil {
				return fmt.Errorf("%s %q: %w", e.key, e.values, err)
			}
		}
		return nil
	})
	MustUpdate(t, s, "t", func(tx profile.Tx) error { return tx.AddIndexEntry("email", []string{"ann@x"}, "c2", true) })
}

func testNonUniqueIndexEntry(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if err := tx.AddIndexEntry("name", []string{"Ann"}, "c2", false); err != nil {
			return err
		}
		return tx.AddIndexEntry("name", []string{"Ann"}, "c3", false)
	})
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.AddIndexEntry("Name", []string{"Ann"}, "c1", false) })
	MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.AddIndexEntry("name", []string{"Ann"}, "c1", false) }) // again
	MustView(t, s, "", func(tx profile.Tx) error {
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("name", []string{"Ann"}, fn) }); !slices.Equal(ids, []string{"c1", "c2", "c3"}) {
			t.Errorf("ScanIndex(name, Ann) = %q, want c1, c2, c3", ids)
		}
		return nil
	})
}

func testRemoveIndexEntry(t *testing.T, s Store) {
	add := func(key, value, id string, unique bool) error {
		return s.Update(context.Background(), "", func(tx profile.Tx) error {
			return tx.AddIndexEntry(key, []string{value}, id, unique)
		})
	}
	remove := func(key, value, id string) {
		t.Helper()
		MustUpdate(t, s, "", func(tx profile.Tx) error { return tx.RemoveIndexEntry(key, []string{value}, id) })
	}
	expect := func(key, value string, want ...string) {
		t.Helper()
		MustView(t, s, "", func(tx profile.Tx) error {
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex(key, []string{value}, fn) }); !slices.Equal(ids, append([]string{}, want...)) {
				t.Errorf("ScanIndex(%s, %q) = %q, want %q", key, value, ids, want)
			}
			return nil
		})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// A unique value is freed by removing its entry.
	must(add("email", "ann@x", "c1", true))
	remove("EMAIL", "ann@x", "c1")
	expect("email", "ann@x")
	must(add("email", "ann@x", "c2", true))
	if err := add("email", "ann@x", "c1", true); !uniqueViolation(err) {
		t.Errorf("c1 re-adding c2's value = %v, want %s", err, profile.CodeUniqueKeyViolation)
	}
	remove("email", "ann@x", "c2")
	must(add("email", "ann@x", "c1", true))
	expect("email", "ann@x", "c1")

	// Removing one customer's entry keeps the others'.
	must(add("name", "Ann", "c1", false))
	must(add("name", "Ann", "c2", false))
	remove("name", "Ann", "c1")
	expect("name", "Ann", "c2")
	must(add("name", "Ann", "c1", false))
	expect("name", "Ann", "c1", "c2")

	// Removing what is not there is no error and removes nothing.
	remove("name", "Ann", "c9")
	remove("name", "Bob", "c1")
	remove("never-built", "x", "c1")
	expect("name", "Ann", "c1", "c2")

	// Removed and added again in one transaction.
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		if err := tx.RemoveIndexEntry("email", []string{"ann@x"}, "c1"); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", true)
	})
	expect("email", "ann@x", "c1")
}

func testTenants(t *testing.T, s Store) {
	if tenants, err := s.Tenants(); len(tenants) != 0 || err != nil {
		t.Errorf("Tenants of an empty store = %q, %v", tenants, err)
	}
	for _, tenant := range []string{"b", "", "a2", "a"} {
		create(t, s, tenant, t0, "c1")
	}
	if tenants, err := s.Tenants(); !slices.Equal(tenants, []string{"", "a", "a2", "b"}) || err != nil {
		t.Errorf("Tenants = %q, %v; want \"\", a, a2, b", tenants, err)
	}
}

func testSchemaVersion(t *testing.T, s Store) {
	versions := func(want uint64) {
		t.Helper()
		if st, err := s.SchemaState(context.Background()); st.Version != want || err != nil {
			t.Errorf("SchemaState().Version = %d, %v; want %d", st.Version, err, want)
		}
		check := func(tx profile.Tx) error {
			if v, err := tx.SchemaVersion(); v != want || err != nil {
				t.Errorf("SchemaVersion() = %d, %v; want %d", v, err, want)
			}
			return nil
		}
		MustUpdate(t, s, "", check)
		MustView(t, s, "", check)
		MustUpdate(t, s, "other", check)
	}
	if st, err := s.SchemaState(context.Background()); st.Overlay != nil || st.Manifest != nil || err != nil {
		t.Errorf("initial schema state = %+v, %v", st, err)
	}
	versions(0)

	overlay, manifest := []byte(`{"extensions":[]}`), []byte(`{"email":"core|email|unique=true"}`)
	if err := s.UpdateSchema(context.Background(), 0, overlay, manifest, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SchemaState(context.Background()); string(st.Overlay) != string(overlay) || string(st.Manifest) != string(manifest) || err != nil {
		t.Errorf("schema state = %+v, %v", st, err)
	}
	versions(1)

	if err := s.UpdateSchema(context.Background(), 1, overlay, nil, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SchemaState(context.Background()); st.Manifest != nil || err != nil {
		t.Errorf("removed manifest = %q, %v", st.Manifest, err)
	}
	versions(2)
}

func testDropExtensionAndIndex(t *testing.T, s Store) {
	for _, tenant := range []string{"", "b"} {
		create(t, s, tenant, t0, "c1", "c2")
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			for _, id := range []string{"c1", "c2"} {
				for _, ext := range []string{"orders", "Orders2", "ord", "notes"} {
					if err := tx.PutRecords(ext, id, []schema.Record{{"id": ext}}); err != nil {
						return err
					}
				}
				for _, key := range []string{"phone", "Phone2", "pho", "email"} {
					if err := tx.AddIndexEntry(key, []string{"v-" + id}, id, false); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, err := range []error{
			tx.DropExtension("ORDERS"), tx.DropIndex("Phone"),
			tx.DropExtension("never-made"), tx.DropIndex("never-built"),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	for _, tenant := range []string{"", "b"} {
		MustView(t, s, tenant, func(tx profile.Tx) error {
			for _, id := range []string{"c1", "c2"} {
				for _, ext := range []string{"orders", "orders2", "ORD", "notes"} {
					want := 1
					if ext == "orders" && tenant == "" {
						want = 0
					}
					if recs, err := tx.Records(ext, id); len(recs) != want || err != nil {
						t.Errorf("tenant %q: Records(%s, %s) = %v, %v; want %d", tenant, ext, id, recs, err, want)
					}
				}
				for _, key := range []string{"PHONE", "phone2", "pho", "email"} {
					want := []string{id}
					if key == "PHONE" && tenant == "" {
						want = []string{}
					}
					if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex(key, []string{"v-" + id}, fn) }); !slices.Equal(ids, want) {
						t.Errorf("tenant %q: ScanIndex(%s, v-%s) = %q, want %q", tenant, key, id, ids, want)
					}
				}
			}
			return nil
		})
	}
}
