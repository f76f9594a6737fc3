package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/bolttest"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/storetest"
)

// TestConformance runs the store conformance suite (what every engine
// does alike) on bbolt; the tests below are about bbolt itself.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, _ := openTest(t)
		return db
	})
}

func TestReopen(t *testing.T) {
	db, path := openTest(t)
	var num uint64
	storetest.MustUpdate(t, db, "t1", func(tx profile.Tx) error {
		num, _ = tx.NextNum()
		if err := tx.PutProfile(storetest.NewProfile("c1", num, t0)); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}}); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", false)
	})
	if err := db.UpdateSchema(t.Context(), 0, []byte("overlay"), nil, "", func(string, profile.Tx) error { return nil }); err != nil {
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
	storetest.MustUpdate(t, db, "t1", func(tx profile.Tx) error {
		if p, _ := tx.Profile("c1"); p == nil || p.Num != num {
			t.Errorf("profile after reopen = %+v", p)
		}
		if id, _ := tx.IDByNum(num); id != "c1" {
			t.Errorf("IDByNum after reopen = %q", id)
		}
		if recs, _ := tx.Records("orders", "c1"); len(recs) != 1 {
			t.Errorf("records after reopen = %v", recs)
		}
		if ids := storetest.Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"ann@x"}, fn) }); len(ids) != 1 {
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
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "is in use by another profiled process") ||
		!strings.Contains(err.Error(), path) {
		t.Errorf("error = %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	db, _ := openTest(t)
	storetest.MustUpdate(t, db, "a", func(tx profile.Tx) error {
		for i := range 200 {
			if err := tx.PutProfile(storetest.NewProfile(fmt.Sprintf("c%d", i), uint64(i+1), t0)); err != nil {
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
	storetest.MustUpdate(t, db, "a", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("later", 0, t0)) })

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

// TestSnapshot_WritesGoOnDuringABackup: writes that grow the file well past
// its size commit while a hot backup's read transaction is open (bbolt
// remaps a file that outgrows its mapping only when no reader is open).
func TestSnapshot_WritesGoOnDuringABackup(t *testing.T) {
	if initialMmapSize == 0 {
		t.Skip("32-bit: the file is mapped as it grows, and a remap waits for readers")
	}
	db, _ := openTest(t)
	used := func() int64 { // bytes up to the highest page in use
		var n int64
		if err := db.bolt.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := used()
	big := strings.Repeat("x", 4000)
	err := db.Snapshot(func(size int64, writeTo func(io.Writer) (int64, error)) error {
		wrote := make(chan error, 1)
		go func() {
			for i := range 64 { // 64 commits of 64 KiB: 4 MiB
				err := db.Update(t.Context(), "", func(tx profile.Tx) error {
					for j := range 16 {
						p := storetest.NewProfile(fmt.Sprintf("c%d-%d", i, j), 0, t0)
						p.Attributes["Note"] = big
						if err := tx.PutProfile(p); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		select {
		case err := <-wrote:
			if err != nil {
				return err
			}
		case <-time.After(time.Minute): // a deadlock, not a slow machine
			return errors.New("writes wait for the backup's read transaction")
		}
		_, err := writeTo(io.Discard)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := used(); after < before+4<<20 {
		t.Errorf("the data grew from %d to %d bytes: the writes needed no more room, the test proves nothing", before, after)
	}
}

// sameSession compares records by instant, as a JSON round trip keeps it.
func sameSession(a, b session.Record) bool {
	return a.ID == b.ID && a.User == b.User && a.Created.Equal(b.Created) && a.LastSeen.Equal(b.LastSeen)
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

// TestStats: bbolt's counters. (Ping and ProfileCount are in the
// conformance suite.)
func TestStats(t *testing.T) {
	db, _ := openTest(t)
	for _, tenant := range []string{"", "a", "b"} {
		storetest.MustUpdate(t, db, tenant, func(tx profile.Tx) error {
			for i := range 400 {
				id := fmt.Sprintf("c%d", i)
				if err := tx.PutProfile(storetest.NewProfile(id, 0, t0)); err != nil {
					return err
				}
				if err := tx.AddIndexEntry("email", []string{id + "@x"}, id, false); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Identifying by a key visits its index entries only, no profile.
	before := db.Stats()
	storetest.MustView(t, db, "a", func(tx profile.Tx) error {
		if ids := storetest.Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"c7@x"}, fn) }); !slices.Equal(ids, []string{"c7"}) {
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
	err := db.UpdateSchema(t.Context(), 0, []byte(`{"extensions":[{"name":"orders","type":"list"}]}`), nil, "", func(string, profile.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadOverlay(path, 50*time.Millisecond); !errors.Is(err, ErrInUse) {
		t.Errorf("ReadOverlay of a file in use = %v", err)
	}
	db.Close()
	doc, err := ReadOverlay(path, 0)
	if err != nil || len(doc.Extensions) != 1 || doc.Extensions[0].Name != "orders" {
		t.Errorf("ReadOverlay = %+v, %v", doc, err)
	}
}

// TestOpen_RefusesDamagedFiles: a truncated copy (bbolt would crash on its
// freelist), an empty file (bbolt would start an empty store in it) and a
// file whose header is not bbolt's are refused before bbolt reads them,
// with a message naming the file; a path that does not exist is created.
func TestOpen_RefusesDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 { // enough pages that half the file loses some
		if err := db.Update(context.Background(), "", func(tx profile.Tx) error {
			return tx.PutProfile(storetest.NewProfile(fmt.Sprintf("p%03d", i), uint64(i+1), time.Now()))
		}); err != nil {
			t.Fatal(err)
		}
	}
	var used int64 // the file is larger: it grows ahead of its data
	if err := db.bolt.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte("not bbolt "), 1000)
	for name, content := range map[string][]byte{
		"truncated.db": data[:used/2],
		"empty.db":     {},
		"garbage.db":   garbage,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, Options{})
		if !errors.Is(err, ErrDamagedFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
			t.Errorf("%s: Open = %v, want ErrDamagedFile naming the file and the way back", name, err)
		}
		if err := CheckFile(path); !errors.Is(err, ErrDamagedFile) {
			t.Errorf("%s: CheckFile = %v, want ErrDamagedFile", name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
			t.Errorf("%s: the refused file was changed", name)
		}
	}
	fresh := filepath.Join(dir, "new", "profiles.db")
	db, err = Open(fresh, Options{})
	if err != nil {
		t.Fatalf("a new path: %v", err)
	}
	db.Close()
	if db, err = Open(good, Options{}); err != nil {
		t.Fatalf("the intact file: %v", err)
	}
	db.Close()
}

// damagedStore stores 300 profiles of tenant "" in a closed data file and
// overwrites the middle leaf page of its profiles bucket with garbage; it
// returns the file and the leaf pages as they were (the damaged one is
// leaves[damaged]).
func damagedStore(t *testing.T) (path string, leaves []bolttest.Leaf, damaged int) {
	t.Helper()
	db, path := openTest(t)
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		for i := range 300 {
			if err := tx.PutProfile(storetest.NewProfile(fmt.Sprintf("p%03d", i), uint64(i+1), t0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	leaves = bolttest.Leaves(t, path, "tenants", "t:", "profiles")
	if len(leaves) < 3 {
		t.Fatalf("%d leaf pages of profiles: store more", len(leaves))
	}
	damaged = len(leaves) / 2
	bolttest.Damage(t, path, leaves[damaged].Page)
	return path, leaves, damaged
}

// TestDamagedPage: a page of the file overwritten with garbage, on which
// bbolt panics by design, fails what reaches it with an error of kind
// corrupt: reads and writes of the customers on it, and a commit that
// merges a page into it; the process, the committer and the other
// customers carry on. A panic of the caller's own is not taken for damage.
func TestDamagedPage(t *testing.T) {
	path, leaves, damaged := damagedStore(t)
	db, err := Open(path, Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatalf("Open of a file with a damaged profile page: %v", err)
	}
	defer db.Close()
	ctx := context.Background()
	lost, next, sound := leaves[damaged].Keys[0], leaves[damaged+1].Keys, leaves[0].Keys[0]
	wantDamage := func(what string, err error) {
		t.Helper()
		if e := errs.As(err); e == nil || e.Kind != errs.KindCorrupt || e.Code != "DATA_CORRUPT" {
			t.Errorf("%s: %v, want a corrupt error of the damaged page", what, err)
		}
	}

	wantDamage("reading a profile of the damaged page", db.View(ctx, "", func(tx profile.Tx) error {
		_, err := tx.Profile(lost)
		return err
	}))
	wantDamage("replacing it", db.Update(ctx, "", func(tx profile.Tx) error {
		p, err := tx.Profile(lost)
		if err != nil {
			return err
		}
		return tx.PutProfile(p)
	}))
	// Deleting all but one profile of the next page leaves it to be
	// merged into its left sibling, the damaged page, at the commit.
	mergeIntoDamage := func(tx profile.Tx) error {
		for _, id := range next[1:] {
			p, err := tx.Profile(id)
			if err != nil {
				return err
			}
			if err := tx.DeleteProfile(p); err != nil {
				return err
			}
		}
		return nil
	}
	wantDamage("a commit merging a page into the damaged one", db.Update(ctx, "", mergeIntoDamage))
	// In one batch with it, another write commits: each call of a batch
	// whose commit reached the damage commits alone.
	release := holdCommitter(t, db)
	merged, created := make(chan error, 1), make(chan error, 1)
	go func() { merged <- db.Update(ctx, "", mergeIntoDamage) }()
	waitQueued(t, db, 1)
	go func() {
		created <- db.Update(ctx, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("fresh", 1000, t0)) })
	}()
	waitQueued(t, db, 2)
	release()
	wantDamage("the merge batched with a create", <-merged)
	if err := <-created; err != nil {
		t.Errorf("a create batched with the merge: %v", err)
	}
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		for _, id := range []string{sound, next[len(next)-1], "fresh"} {
			if p, err := tx.Profile(id); p == nil || err != nil {
				t.Errorf("profile %s: %v, %v", id, p, err)
			}
		}
		return nil
	})

	func() {
		defer func() {
			if recover() == nil {
				t.Error("a nil map write in a view's function was recovered as damage")
			}
		}()
		_ = db.View(ctx, "", func(profile.Tx) error {
			var m map[string]bool
			m["x"] = true
			return nil
		})
	}()
	err = db.Update(ctx, "", func(profile.Tx) error {
		var m map[string]bool
		m["x"] = true
		return nil
	})
	if err == nil || errs.Is(err, errs.KindCorrupt) {
		t.Errorf("a nil map write in an update's function: %v, want an internal error", err)
	}
}

// TestDamagedPage_CommitPanicAfterAllocatingLosesNoPages: a panic bbolt
// raises in a commit after it allocated the batch's new pages (here on
// the freelist page, read wrong once: its header says page 0) is
// recovered, but bbolt's public Rollback does not give those pages back
// to its in-memory freelist. A later commit would write that freelist
// without them, and the file would hold pages neither used nor free
// ("unreachable unfreed", which profiled check reports as damage) for
// good. The file on disk is the last commit's, sound: nothing more may
// be committed from the freelist in memory.
func TestDamagedPage_CommitPanicAfterAllocatingLosesNoPages(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	for round := range 3 { // pages freed by each commit: a freelist to lose from
		storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
			for i := range 200 {
				if err := tx.PutProfile(storetest.NewProfile(fmt.Sprintf("p%d-%03d", round, i), uint64(round*1000+i+1), t0)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := int64(bolttest.FreelistPage(t, path)) * int64(db.bolt.Info().PageSize)
	header := make([]byte, 8) // the page's own id
	if _, err := f.ReadAt(header, at); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 8), at); err != nil { // seen through bbolt's shared mapping
		t.Fatal(err)
	}
	err = db.Update(ctx, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("fresh", 5000, t0)) })
	if !errs.Is(err, errs.KindCorrupt) {
		t.Fatalf("a commit whose freelist page reads wrong: %v, want a corrupt error", err)
	}
	if _, err := f.WriteAt(header, at); err != nil {
		t.Fatal(err)
	}
	_ = db.Update(ctx, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("after", 5001, t0)) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(path); err != nil {
		t.Errorf("the data file after a commit panicked past its allocations: %v", err)
	}
}

// TestOpen_RefusesDamagedPagesItReads: a page that opening a file for
// writing reads (the meta bucket's, the freelist) cannot be read: Open
// refuses the file as damaged, naming it and the way back, instead of
// panicking.
func TestOpen_RefusesDamagedPagesItReads(t *testing.T) {
	for name, page := range map[string]func(path string) uint64{
		"meta bucket": func(path string) uint64 { return bolttest.Leaves(t, path, "meta")[0].Page },
		"freelist":    func(path string) uint64 { return bolttest.FreelistPage(t, path) },
	} {
		t.Run(name, func(t *testing.T) {
			db, path := openTest(t)
			storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("c1", 1, t0)) })
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			bolttest.Damage(t, path, page(path))
			_, err := Open(path, Options{OpenTimeout: time.Second})
			if !errors.Is(err, ErrDamagedFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
				t.Errorf("Open = %v, want ErrDamagedFile naming the file and the way back", err)
			}
		})
	}
}

// TestOpen_AddressSpaceLimited: under an address-space limit (ulimit -v)
// smaller than the mapping Open asks for, the file is mapped as it grows
// instead, and writes and reads work. It runs in a child process of this
// test binary, which limits itself.
func TestOpen_AddressSpaceLimited(t *testing.T) {
	if initialMmapSize == 0 {
		t.Skip("32-bit: no large initial mapping")
	}
	const limit = 4 << 30 // below initialMmapSize, room for the Go runtime
	if dir := os.Getenv("PROFILED_TEST_RLIMIT_AS_DIR"); dir != "" {
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "profiles.db")
		for range 2 { // create, then reopen what was written
			db, err := Open(path, Options{OpenTimeout: time.Second})
			if err != nil {
				t.Fatalf("Open under a %d GiB address-space limit: %v", limit>>30, err)
			}
			storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
				return tx.PutProfile(storetest.NewProfile(fmt.Sprint("c", time.Now().UnixNano()), 0, t0))
			})
			if n, err := db.ProfileCount(); err != nil || n == 0 {
				t.Fatalf("count after a write: %d, %v", n, err)
			}
			db.Close()
		}
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpen_AddressSpaceLimited$", "-test.v")
	cmd.Env = append(os.Environ(), "PROFILED_TEST_RLIMIT_AS_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOpen_AddressSpaceLimited") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
