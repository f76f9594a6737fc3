package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

func TestProfileLifecycle(t *testing.T) {
	db, _ := openTest(t)
	p := &profile.Profile{ID: "c1", Created: t0, Updated: t0.Add(time.Second), Rev: 3, Attributes: map[string]any{
		"name": "Ann", "vip": true, "score": json.Number("12.50"), "phones": []any{"+331", "+332"},
	}}
	orders := []schema.Record{{"id": "o1", "amount": json.Number("3")}}
	mustUpdate(t, db, "", func(tx profile.Tx) error {
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

	mustView(t, db, "", func(tx profile.Tx) error {
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
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		if err := tx.PutProfile(&r); err != nil {
			return err
		}
		return tx.PutRecords("orders", "c1", nil)
	})
	mustView(t, db, "", func(tx profile.Tx) error {
		if id, _ := tx.IDByNum(oldNum); id != "" {
			t.Errorf("old num still maps to %q", id)
		}
		if id, _ := tx.IDByNum(99); id != "c1" {
			t.Errorf("new num maps to %q", id)
		}
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("created entries = %q", ids)
		}
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanCreated(t0, t0, fn) }); len(ids) != 0 {
			t.Errorf("old created entry left: %q", ids)
		}
		if recs, _ := tx.Records("orders", "c1"); recs != nil {
			t.Errorf("records after empty put = %v", recs)
		}
		return nil
	})

	// Delete takes the profile, its num and created entries and records.
	mustUpdate(t, db, "", func(tx profile.Tx) error { return tx.DeleteProfile(&r) })
	mustView(t, db, "", func(tx profile.Tx) error {
		if got, _ := tx.Profile("c1"); got != nil {
			t.Errorf("deleted profile read: %+v", got)
		}
		if id, _ := tx.IDByNum(99); id != "" {
			t.Errorf("deleted num maps to %q", id)
		}
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); len(ids) != 0 {
			t.Errorf("created entries left: %q", ids)
		}
		if recs, _ := tx.Records("notes", "c1"); recs != nil {
			t.Errorf("records left: %v", recs)
		}
		return nil
	})
}

func TestScanIndex(t *testing.T) {
	db, _ := openTest(t)
	entries := []struct {
		values []string
		id     string
	}{
		{[]string{"ab", "c"}, "p1"},
		{[]string{"a", "bc"}, "p2"},
		{[]string{"a\x00x", "y"}, "p3"},
		{[]string{"a", "b"}, "p5"},
		{[]string{"a", "b"}, "p4"},
		{[]string{"gone", "x"}, "p6"},
	}
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		for _, e := range entries {
			if err := tx.AddIndexEntry("Phone", e.values, e.id, false); err != nil {
				return err
			}
		}
		return tx.RemoveIndexEntry("PHONE", []string{"gone", "x"}, "p6")
	})
	mustView(t, db, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			prefix []string
			want   []string
		}{
			{nil, []string{"p4", "p5", "p2", "p3", "p1"}},
			{[]string{"a"}, []string{"p4", "p5", "p2"}},
			{[]string{"a", "b"}, []string{"p4", "p5"}}, // not "bc"
			{[]string{"a\x00x"}, []string{"p3"}},
			{[]string{"ab"}, []string{"p1"}},
			{[]string{"ab", "c"}, []string{"p1"}},
			{[]string{"a", "bc", "z"}, []string{}},
			{[]string{"gone"}, []string{}},
		} {
			got := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", c.prefix, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanIndex(%q) = %q, want %q", c.prefix, got, c.want)
			}
		}
		n := 0
		if err := tx.ScanIndex("phone", nil, func(string) bool { n++; return false }); err != nil || n != 1 {
			t.Errorf("scan stopped after %d, %v", n, err)
		}
		if got := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("nokey", nil, fn) }); len(got) != 0 {
			t.Errorf("missing index scanned %q", got)
		}
		return nil
	})
}

func TestScanIndexRange(t *testing.T) {
	db, _ := openTest(t)
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		for i := 1; i <= 5; i++ {
			if err := tx.AddIndexEntry("dob", []string{"x", fmt.Sprintf("2020-01-0%d", i)}, fmt.Sprintf("d%d", i), false); err != nil {
				return err
			}
		}
		if err := tx.AddIndexEntry("dob", []string{"x", "2020-01-03x"}, "d3x", false); err != nil {
			return err
		}
		return tx.AddIndexEntry("dob", []string{"y", "2020-01-03"}, "y3", false)
	})
	mustView(t, db, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			prefix   []string
			from, to string
			want     []string
		}{
			{[]string{"x"}, "2020-01-02", "2020-01-03", []string{"d2", "d3"}},
			{[]string{"x"}, "2020-01-03", "2020-01-03", []string{"d3"}},
			{[]string{"x"}, "2020-01-03", "2020-01-03x", []string{"d3", "d3x"}},
			{[]string{"x"}, "", "2020-01-02", []string{"d1", "d2"}},
			{[]string{"x"}, "2020-01-04", "", []string{"d4", "d5"}},
			{[]string{"x"}, "2020-01-02x", "2020-01-03", []string{"d3"}},
			{[]string{"x"}, "", "", []string{"d1", "d2", "d3", "d3x", "d4", "d5"}},
			{[]string{"x"}, "2020-01-06", "", []string{}},
			{[]string{"x"}, "2020-01-04", "2020-01-02", []string{}},
			{nil, "y", "y", []string{"y3"}},
			{nil, "", "x", []string{"d1", "d2", "d3", "d3x", "d4", "d5"}},
		} {
			got := scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange("DOB", c.prefix, c.from, c.to, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanIndexRange(%q, %q, %q) = %q, want %q", c.prefix, c.from, c.to, got, c.want)
			}
		}
		return nil
	})
}

func TestScanCreated(t *testing.T) {
	db, _ := openTest(t)
	t1, t2 := t0.Add(time.Nanosecond), t0.Add(time.Hour)
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		for _, p := range []*profile.Profile{newProfile("late", 0, t2), newProfile("b", 0, t1), newProfile("a", 0, t1), newProfile("first", 0, t0), newProfile("y1960", 0, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))} {
			if err := tx.PutProfile(p); err != nil {
				return err
			}
		}
		return nil
	})
	var zero time.Time
	mustView(t, db, "", func(tx profile.Tx) error {
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
			got := scan(t, func(fn func(string) bool) error { return tx.ScanCreated(c.from, c.to, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanCreated(%v, %v) = %q, want %q", c.from, c.to, got, c.want)
			}
		}
		return nil
	})
}

func TestTenantIsolation(t *testing.T) {
	db, _ := openTest(t)
	var num uint64
	mustUpdate(t, db, "a", func(tx profile.Tx) error {
		var err error
		if num, err = tx.NextNum(); err != nil {
			return err
		}
		if err := tx.PutProfile(newProfile("c1", num, t0)); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}}); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", false)
	})
	for _, tenant := range []string{"b", ""} {
		mustView(t, db, tenant, func(tx profile.Tx) error {
			if p, _ := tx.Profile("c1"); p != nil {
				t.Errorf("tenant %q reads a's profile", tenant)
			}
			if id, _ := tx.IDByNum(num); id != "" {
				t.Errorf("tenant %q maps a's num", tenant)
			}
			if recs, _ := tx.Records("orders", "c1"); recs != nil {
				t.Errorf("tenant %q reads a's records", tenant)
			}
			if ids := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", nil, fn) }); len(ids) != 0 {
				t.Errorf("tenant %q scans a's index: %q", tenant, ids)
			}
			if ids := scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); len(ids) != 0 {
				t.Errorf("tenant %q scans a's creations: %q", tenant, ids)
			}
			return tx.ForEachProfile(func(p *profile.Profile) error {
				t.Errorf("tenant %q visits %s", tenant, p.ID)
				return nil
			})
		})
	}
	mustUpdate(t, db, "b", func(tx profile.Tx) error {
		n, err := tx.NextNum()
		if err == nil && n <= num {
			t.Errorf("tenant b got num %d after a's %d", n, num)
		}
		return err
	})
	mustView(t, db, "a", func(tx profile.Tx) error {
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"ann@x"}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("tenant a scans %q", ids)
		}
		return nil
	})
}

func TestForEachProfileWhileWriting(t *testing.T) {
	db, _ := openTest(t)
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		for i := range 300 {
			if err := tx.PutProfile(newProfile(fmt.Sprintf("c%03d", i), 0, t0)); err != nil {
				return err
			}
		}
		return nil
	})
	visits := map[string]int{}
	mustUpdate(t, db, "", func(tx profile.Tx) error {
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
	n, err := db.ProfileCount()
	if err != nil || n != 270 {
		t.Errorf("ProfileCount = %d, %v; want 270", n, err)
	}
	mustView(t, db, "", func(tx profile.Tx) error {
		if p, _ := tx.Profile("c001"); p == nil || p.Rev != 2 {
			t.Errorf("c001 = %+v", p)
		}
		return nil
	})
}

func TestUpdateSchema(t *testing.T) {
	db, _ := openTest(t)
	for _, tenant := range []string{"a", ""} {
		mustUpdate(t, db, tenant, func(tx profile.Tx) error {
			if err := tx.AddIndexEntry("phone", []string{"1"}, "c1", false); err != nil {
				return err
			}
			return tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}})
		})
	}
	if o, err := schemaOverlay(db); o != nil || err != nil {
		t.Fatalf("initial overlay = %q, %v", o, err)
	}

	overlay := []byte(`{"extensions":[]}`)
	var tenants []string
	err := db.UpdateSchema(t.Context(), 0, overlay, nil, func(tenant string, tx profile.Tx) error {
		tenants = append(tenants, tenant)
		if err := tx.DropIndex("PHONE"); err != nil {
			return err
		}
		if err := tx.DropIndex("never-built"); err != nil {
			return err
		}
		return tx.DropExtension("Orders")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tenants, []string{"", "a"}) {
		t.Errorf("fn ran for tenants %q", tenants)
	}
	if o, _ := schemaOverlay(db); !bytes.Equal(o, overlay) {
		t.Errorf("overlay = %q", o)
	}
	mustView(t, db, "a", func(tx profile.Tx) error {
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", nil, fn) }); len(ids) != 0 {
			t.Errorf("dropped index scans %q", ids)
		}
		if recs, _ := tx.Records("orders", "c1"); recs != nil {
			t.Errorf("dropped extension reads %v", recs)
		}
		return nil
	})

	// A failing fn keeps nothing, not even the overlay.
	boom := errors.New("boom")
	if err := db.UpdateSchema(t.Context(), 1, []byte("new"), nil, func(string, profile.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateSchema = %v", err)
	}
	if o, _ := schemaOverlay(db); !bytes.Equal(o, overlay) {
		t.Errorf("overlay after failure = %q", o)
	}
	if err := db.UpdateSchema(t.Context(), 0, nil, nil, func(string, profile.Tx) error { return nil }); !errors.Is(err, profile.ErrSchemaMoved) {
		t.Errorf("UpdateSchema from an old version = %v, want ErrSchemaMoved", err)
	}
	if err := db.UpdateSchema(t.Context(), 1, nil, nil, func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.SchemaState(t.Context()); st.Version != 2 {
		t.Errorf("schema version after two changes = %d", st.Version)
	}
	if o, _ := schemaOverlay(db); o != nil {
		t.Errorf("removed overlay = %q", o)
	}
}

func TestReopen(t *testing.T) {
	db, path := openTest(t)
	var num uint64
	mustUpdate(t, db, "t1", func(tx profile.Tx) error {
		num, _ = tx.NextNum()
		if err := tx.PutProfile(newProfile("c1", num, t0)); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}}); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", false)
	})
	if err := db.UpdateSchema(t.Context(), 0, []byte("overlay"), nil, func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	sess := session.Record{ID: "s1", User: "ann", Created: t0, LastSeen: t0.Add(time.Second)}
	if _, err := db.OpenSession(sess, session.Limit{Max: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path, Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustUpdate(t, db, "t1", func(tx profile.Tx) error {
		if p, _ := tx.Profile("c1"); p == nil || p.Num != num {
			t.Errorf("profile after reopen = %+v", p)
		}
		if id, _ := tx.IDByNum(num); id != "c1" {
			t.Errorf("IDByNum after reopen = %q", id)
		}
		if recs, _ := tx.Records("orders", "c1"); len(recs) != 1 {
			t.Errorf("records after reopen = %v", recs)
		}
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"ann@x"}, fn) }); len(ids) != 1 {
			t.Errorf("index after reopen = %q", ids)
		}
		if n, _ := tx.NextNum(); n <= num {
			t.Errorf("NextNum after reopen = %d, not after %d", n, num)
		}
		return nil
	})
	if o, _ := schemaOverlay(db); string(o) != "overlay" {
		t.Errorf("overlay after reopen = %q", o)
	}
	if got, ok, err := db.GetSession("s1"); !ok || err != nil || !sameSession(got, sess) {
		t.Errorf("session after reopen = %+v, %t, %v", got, ok, err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	_, path := openTest(t)
	start := time.Now()
	db, err := Open(path, Options{OpenTimeout: 100 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("second Open of the same file succeeded")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("second Open took %v", elapsed)
	}
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "is in use by another profiled process") ||
		!strings.Contains(err.Error(), path) {
		t.Errorf("error = %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	db, _ := openTest(t)
	mustUpdate(t, db, "a", func(tx profile.Tx) error {
		for i := range 200 {
			if err := tx.PutProfile(newProfile(fmt.Sprintf("c%d", i), uint64(i+1), t0)); err != nil {
				return err
			}
		}
		return nil
	})
	backup := filepath.Join(t.TempDir(), "backup.db")
	err := db.Snapshot(func(size int64, writeTo func(io.Writer) (int64, error)) error {
		f, err := os.Create(backup)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := writeTo(f)
		if err == nil && n != size {
			err = fmt.Errorf("wrote %d of %d bytes", n, size)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot are not in it.
	mustUpdate(t, db, "a", func(tx profile.Tx) error { return tx.PutProfile(newProfile("later", 0, t0)) })

	if err := CheckFile(backup); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(backup, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if n, err := restored.ProfileCount(); n != 200 || err != nil {
		t.Errorf("backup holds %d profiles, %v", n, err)
	}

	garbage := filepath.Join(t.TempDir(), "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("x"), 8192), 0o600)
	if err := CheckFile(garbage); err == nil {
		t.Error("CheckFile accepted garbage")
	}
}

// sameSession compares records by instant, as a JSON round trip keeps it.
func sameSession(a, b session.Record) bool {
	return a.ID == b.ID && a.User == b.User && a.Created.Equal(b.Created) && a.LastSeen.Equal(b.LastSeen)
}

func TestSessions(t *testing.T) {
	db, _ := openTest(t)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	open := func(id, user string, created int, limit session.Limit) ([]string, error) {
		t.Helper()
		return db.OpenSession(session.Record{ID: id, User: user, Created: at(created), LastSeen: at(created)}, limit)
	}
	live := session.Limit{Max: 2, ExpiredBefore: at(0)}

	// Up to Max per user; other users do not count.
	for i, id := range []string{"a1", "a2"} {
		if ended, err := open(id, "ann", 10+i, live); err != nil || len(ended) != 0 {
			t.Fatalf("open %s = %q, %v", id, ended, err)
		}
	}
	if _, err := open("b1", "bob", 10, live); err != nil {
		t.Fatal(err)
	}
	// At Max without force: ErrLimit, and nothing is stored.
	if ended, err := open("a3", "ann", 20, live); !errors.Is(err, session.ErrLimit) || ended != nil {
		t.Fatalf("third session without force = %q, %v; want ErrLimit", ended, err)
	}
	if _, ok, _ := db.GetSession("a3"); ok {
		t.Error("a refused session was stored")
	}
	// With force the oldest by creation ends.
	force := live
	force.Force = true
	if ended, err := open("a3", "ann", 20, force); err != nil || !slices.Equal(ended, []string{"a1"}) {
		t.Fatalf("forced third session = %q, %v; want a1 ended", ended, err)
	}
	if _, ok, _ := db.GetSession("a1"); ok {
		t.Error("a1 survived a forced login")
	}
	// An id in use is refused.
	if _, err := open("b1", "bob", 21, live); err == nil || errors.Is(err, session.ErrLimit) {
		t.Errorf("reused id = %v", err)
	}

	// Get, Touch (forward only; absent is no error and creates nothing).
	if got, ok, err := db.GetSession("a2"); !ok || err != nil || !sameSession(got, session.Record{ID: "a2", User: "ann", Created: at(11), LastSeen: at(11)}) {
		t.Errorf("GetSession(a2) = %+v, %t, %v", got, ok, err)
	}
	if err := db.TouchSession("a2", at(30)); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSession("a2", at(25)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.GetSession("a2"); !got.LastSeen.Equal(at(30)) || !got.Created.Equal(at(11)) {
		t.Errorf("after touches a2 = %+v; want last seen 30 s, created 11 s", got)
	}
	if err := db.TouchSession("absent", at(30)); err != nil {
		t.Errorf("TouchSession(absent) = %v", err)
	}
	if _, ok, err := db.GetSession("absent"); ok || err != nil {
		t.Errorf("GetSession(absent) = %t, %v", ok, err)
	}

	// Expired sessions are deleted by the user's next login and not counted:
	// a3 (last seen 20 s) is expired at 25 s, a2 (30 s) is not.
	expiring := session.Limit{Max: 2, ExpiredBefore: at(25)}
	if ended, err := open("a4", "ann", 40, expiring); err != nil || !slices.Equal(ended, []string{"a3"}) {
		t.Fatalf("open with a3 expired = %q, %v; want a3 deleted", ended, err)
	}
	if _, ok, _ := db.GetSession("a3"); ok {
		t.Error("expired a3 is still stored")
	}
	if ended, err := open("a5", "ann", 41, expiring); !errors.Is(err, session.ErrLimit) {
		t.Errorf("a5 with a2 and a4 live = %q, %v; want ErrLimit", ended, err)
	}

	// Count and DeleteBefore: a2 at 30 s, a4 at 40 s, b1 at 10 s.
	for _, tc := range []struct {
		since int
		want  int
	}{{0, 3}, {10, 3}, {11, 2}, {40, 1}, {41, 0}} {
		if n, err := db.CountSessions(at(tc.since)); n != tc.want || err != nil {
			t.Errorf("CountSessions(%d s) = %d, %v; want %d", tc.since, n, err, tc.want)
		}
	}
	if n, err := db.DeleteSessionsBefore(at(30)); n != 1 || err != nil {
		t.Errorf("DeleteSessionsBefore(30 s) = %d, %v; want b1 only", n, err)
	}
	if _, ok, _ := db.GetSession("b1"); ok {
		t.Error("b1 survived DeleteSessionsBefore")
	}
	if err := db.DeleteSession("a2"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession("absent"); err != nil {
		t.Errorf("DeleteSession(absent) = %v", err)
	}
	if n, _ := db.CountSessions(time.Time{}); n != 1 {
		t.Errorf("%d sessions left, want a4 only", n)
	}
}

// TestSessionsStoredFormat: files written before session.Store keep their
// sessions; a value that is not a session record counts as absent and is
// cleaned up at the next DeleteSessionsBefore.
func TestSessionsStoredFormat(t *testing.T) {
	db, _ := openTest(t)
	legacy := `{"user":"ann","created":"2026-01-02T15:04:05.123456789Z","last_seen":"2026-01-02T15:05:00Z"}`
	err := db.bolt.Update(func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketSessions)
		if err := b.Put([]byte("old"), []byte(legacy)); err != nil {
			return err
		}
		return b.Put([]byte("junk"), []byte("not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := session.Record{ID: "old", User: "ann", Created: t0, LastSeen: time.Date(2026, 1, 2, 15, 5, 0, 0, time.UTC)}
	if got, ok, err := db.GetSession("old"); !ok || err != nil || !sameSession(got, want) {
		t.Errorf("legacy session = %+v, %t, %v", got, ok, err)
	}
	if _, ok, err := db.GetSession("junk"); ok || err != nil {
		t.Errorf("junk value = %t, %v; want absent", ok, err)
	}
	if n, _ := db.CountSessions(time.Time{}); n != 1 {
		t.Errorf("CountSessions = %d, want the legacy session only", n)
	}
	// What OpenSession writes is that same format.
	if _, err := db.OpenSession(session.Record{ID: "new", User: "bob", Created: t0, LastSeen: t0}, session.Limit{Max: 1}); err != nil {
		t.Fatal(err)
	}
	err = db.bolt.View(func(btx *bolt.Tx) error {
		var v map[string]any
		if err := json.Unmarshal(btx.Bucket(bucketSessions).Get([]byte("new")), &v); err != nil {
			return err
		}
		if len(v) != 3 || v["user"] != "bob" || v["created"] != "2026-01-02T15:04:05.123456789Z" || v["last_seen"] != v["created"] {
			t.Errorf("stored value = %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteSessionsBefore(t0); n != 1 || err != nil {
		t.Errorf("DeleteSessionsBefore = %d, %v; want the junk value removed", n, err)
	}
	if n, _ := db.CountSessions(time.Time{}); n != 2 {
		t.Errorf("CountSessions = %d after cleanup, want 2", n)
	}
}

// TestOpenSessionConcurrent: logins racing for one user never pass the
// limit together, whether or not the committer batches them.
func TestOpenSessionConcurrent(t *testing.T) {
	db, _ := openTest(t)
	const max, tries = 3, 40
	var wg sync.WaitGroup
	var opened, refused atomic.Int32
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.OpenSession(session.Record{ID: fmt.Sprintf("s%02d", i), User: "ann", Created: t0, LastSeen: t0}, session.Limit{Max: max})
			switch {
			case err == nil:
				opened.Add(1)
			case errors.Is(err, session.ErrLimit):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if opened.Load() != max || refused.Load() != tries-max {
		t.Errorf("opened %d, refused %d; want %d and %d", opened.Load(), refused.Load(), max, tries-max)
	}
	if n, _ := db.CountSessions(time.Time{}); n != max {
		t.Errorf("%d sessions stored, want %d", n, max)
	}
}

func TestPingCountAndStats(t *testing.T) {
	db, _ := openTest(t)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"", "a", "b"} {
		mustUpdate(t, db, tenant, func(tx profile.Tx) error {
			for i := range 400 {
				id := fmt.Sprintf("c%d", i)
				if err := tx.PutProfile(newProfile(id, 0, t0)); err != nil {
					return err
				}
				if err := tx.AddIndexEntry("email", []string{id + "@x"}, id, false); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if n, err := db.ProfileCount(); n != 1200 || err != nil {
		t.Errorf("ProfileCount = %d, %v", n, err)
	}

	// Identifying by a key visits its index entries only, no profile.
	before := db.Stats()
	mustView(t, db, "a", func(tx profile.Tx) error {
		if ids := scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"c7@x"}, fn) }); !slices.Equal(ids, []string{"c7"}) {
			t.Errorf("identify found %q", ids)
		}
		return nil
	})
	after := db.Stats()
	if d := after.IndexEntriesVisited - before.IndexEntriesVisited; d != 1 {
		t.Errorf("identify visited %d index entries", d)
	}
	if after.ProfileReads != before.ProfileReads {
		t.Errorf("identify read %d profiles", after.ProfileReads-before.ProfileReads)
	}
	if after.Commits != 3 || after.BatchedCalls != 3 || after.Size <= 0 || after.Bolt.TxN == 0 {
		t.Errorf("stats = %+v", after)
	}
}

func TestReadOverlay(t *testing.T) {
	if doc, err := ReadOverlay(filepath.Join(t.TempDir(), "none.db"), 0); err != nil || doc.Extensions != nil {
		t.Errorf("ReadOverlay of no file = %+v, %v", doc, err)
	}
	db, path := openTest(t)
	err := db.UpdateSchema(t.Context(), 0, []byte(`{"extensions":[{"name":"orders","type":"list"}]}`), nil, func(string, profile.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadOverlay(path, 50*time.Millisecond); !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("ReadOverlay of a file in use = %v", err)
	}
	db.Close()
	doc, err := ReadOverlay(path, 0)
	if err != nil || len(doc.Extensions) != 1 || doc.Extensions[0].Name != "orders" {
		t.Errorf("ReadOverlay = %+v, %v", doc, err)
	}
}

func TestScanCreated_BoundsOutsideNanosecondRange(t *testing.T) {
	db, _ := openTest(t)
	mustUpdate(t, db, "", func(tx profile.Tx) error {
		return tx.PutProfile(&profile.Profile{ID: "a", Num: 1, Created: t0, Updated: t0, Rev: 1})
	})
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	early := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to time.Time
		want     int
	}{{far, time.Time{}, 0}, {early, far, 1}, {time.Time{}, early, 0}} {
		var got int
		mustView(t, db, "", func(tx profile.Tx) error {
			return tx.ScanCreated(tc.from, tc.to, func(string) bool { got++; return true })
		})
		if got != tc.want {
			t.Errorf("ScanCreated(%v, %v) found %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestProfileCount(t *testing.T) {
	db, _ := openTest(t)
	put := func(tenant, id string) {
		mustUpdate(t, db, tenant, func(tx profile.Tx) error {
			return tx.PutProfile(&profile.Profile{ID: id, Created: t0, Updated: t0, Rev: 1})
		})
	}
	put("", "a")
	put("", "b")
	put("", "a") // a replace is not a new profile
	put("t1", "a")
	mustUpdate(t, db, "", func(tx profile.Tx) error { return tx.DeleteProfile(&profile.Profile{ID: "b"}) })
	mustUpdate(t, db, "", func(tx profile.Tx) error { return tx.DeleteProfile(&profile.Profile{ID: "gone"}) })
	if n, err := db.ProfileCount(); err != nil || n != 2 {
		t.Fatalf("ProfileCount = %d, %v; want 2", n, err)
	}
}
