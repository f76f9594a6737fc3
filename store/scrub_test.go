package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/storetest"
)

// TestScrubFreePages: a deleted customer's values are in the file's free
// pages after the delete, and nowhere in its bytes after the scrub; the
// live data is untouched and the file passes bbolt's check.
func TestScrubFreePages(t *testing.T) {
	db, path := openTest(t)
	secret := "zed.secret@erase.example"
	for i := range 200 { // enough customers for several pages
		id := fmt.Sprintf("c%03d", i)
		storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
			p := storetest.NewProfile(id, uint64(i+1), t0)
			if i == 100 {
				p.Attributes["EmailAddress"] = []any{secret}
			}
			if err := tx.PutProfile(p); err != nil {
				return err
			}
			return tx.PutRecords("phone", id, []schema.Record{{"PhoneNumber": fmt.Sprintf("555%04d", i)}})
		})
	}
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c100")
		if err != nil {
			return err
		}
		return tx.DeleteProfile(p)
	})
	raw := func() []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Contains(raw(), []byte(secret)) || !bytes.Contains(raw(), []byte("5550100")) {
		t.Fatal("the deleted values are not in the file before the scrub: the test proves nothing")
	}
	pages, err := db.ScrubFreePages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Fatal("no free page scrubbed")
	}
	for _, v := range []string{secret, "5550100"} {
		if bytes.Contains(raw(), []byte(v)) {
			t.Errorf("%q survives in the file after scrubbing %d pages", v, pages)
		}
	}
	// Scrubbed pages nothing wrote since are not written again (a start
	// scrubs every free page): only what the first scrub's own commit freed
	// (bbolt's previous freelist page).
	if again, err := db.ScrubFreePages(t.Context()); err != nil || again > 2 {
		t.Errorf("a second scrub overwrote %d pages (%v), want at most the freelist's (the first overwrote %d)", again, err, pages)
	}
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		for _, id := range []string{"c000", "c099", "c101", "c199"} {
			if p, err := tx.Profile(id); err != nil || p == nil {
				t.Errorf("%s after the scrub: %v %v", id, p, err)
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(path); err != nil {
		t.Fatalf("bbolt check after the scrub: %v", err)
	}
}

// TestScrubFreePages_WaitsForOlderReaders: while a read transaction that
// began before the delete is open, the pages it reads are not
// overwritten; the scrub waits and runs once it ends.
func TestScrubFreePages_WaitsForOlderReaders(t *testing.T) {
	db, _ := openTest(t)
	// Free pages to write into first: a commit that had to grow the file
	// would wait for the open reader (bbolt remaps under it).
	for _, put := range []bool{true, false} {
		storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
			for i := range 100 {
				p := storetest.NewProfile(fmt.Sprintf("filler%03d", i), uint64(i+10), t0)
				if put {
					if err := tx.PutProfile(p); err != nil {
						return err
					}
				} else if _, err := tx.Profile(p.ID); err != nil {
					return err
				} else if err := tx.DeleteProfile(p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		p := storetest.NewProfile("c1", 1, t0)
		p.Attributes["Secret"] = "old-value"
		return tx.PutProfile(p)
	})
	reading, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.View(context.Background(), "", func(tx profile.Tx) error {
			close(reading)
			<-release
			p, err := tx.Profile("c1") // the old tree: its pages must still hold it
			if err == nil && (p == nil || p.Attributes["Secret"] != "old-value") {
				err = fmt.Errorf("the old reader sees %+v", p)
			}
			return err
		})
	}()
	<-reading
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil {
			return err
		}
		p.Attributes["Secret"] = "new-value"
		return tx.PutProfile(p)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := db.ScrubFreePages(ctx); !errors.Is(err, errReadersBehind) {
		t.Fatalf("scrub with an older reader open = %v, want it to wait", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := db.ScrubFreePages(t.Context()); err != nil {
		t.Fatalf("scrub after the reader ended: %v", err)
	}
}

// TestScrubFreePages_UnderLoad: readers that overlap without pause and
// steady writers do not starve the scrub (the committer holds back commits
// while older readers finish), and a read that panicked is not counted as
// open for ever.
func TestScrubFreePages_UnderLoad(t *testing.T) {
	db, _ := openTest(t)
	func() {
		defer func() { recover() }()
		db.View(context.Background(), "", func(profile.Tx) error { panic("a read that fails hard") })
	}()
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("c0", 1, t0)) })

	ctx, stop := context.WithCancel(context.Background())
	var load sync.WaitGroup
	for r := range 8 {
		load.Go(func() {
			for ctx.Err() == nil {
				db.View(ctx, "", func(tx profile.Tx) error {
					time.Sleep(time.Duration(5+r) * time.Millisecond)
					_, err := tx.Profile("c0")
					return err
				})
			}
		})
	}
	for w := range 4 {
		load.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				db.Update(ctx, "", func(tx profile.Tx) error {
					return tx.PutProfile(storetest.NewProfile(fmt.Sprintf("w%d-%d", w, i), uint64(100+w*100000+i), t0))
				})
			}
		})
	}
	defer func() { stop(); load.Wait() }()
	time.Sleep(50 * time.Millisecond)
	scrubCtx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := db.ScrubFreePages(scrubCtx); err != nil {
		t.Fatalf("scrub under load: %v", err)
	}
}

// TestScrubFreePages_BesideCommits: the look for free pages reads bbolt's
// freelist, which commits change; run beside them it crashed the process
// (fatal error: concurrent map read and map write) within a fifth of a second.
func TestScrubFreePages_BesideCommits(t *testing.T) {
	db, _ := openTest(t)
	fillBucket(t, db, "gone", 1000)
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("gone")) }); err != nil {
		t.Fatal(err)
	}
	fillBucket(t, db, "kept", 4000)
	stopWrites := writeBeside(t, db, func(i int) ([]byte, []byte) { return []byte{byte(i % 50)}, make([]byte, 5000) })
	// At least a second of scrubs, and at least three however slow the
	// machine: how many fit in the second is no property of the code.
	deadline := time.Now().Add(time.Second)
	for scrubs := 0; scrubs < 3 || time.Now().Before(deadline); scrubs++ {
		if _, err := db.ScrubFreePages(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	stopWrites()
}

// TestScrubFreePages_FindsEveryFreePageBesideWrites: the look for free
// pages goes a slice at a time (here 3 pages) with commits between; no
// free page holding deleted bytes may be passed over between slices.
func TestScrubFreePages_FindsEveryFreePageBesideWrites(t *testing.T) {
	old := scanSlice
	scanSlice = 3
	t.Cleanup(func() { scanSlice = old })
	db, path := openTest(t)
	marker := []byte("deleted-marker-")
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("gone"))
		if err != nil {
			return err
		}
		for i := range 400 {
			if err := b.Put(fmt.Appendf(nil, "k%04d", i), bytes.Repeat(marker, 200)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("gone")) }); err != nil {
		t.Fatal(err)
	}
	stopWrites := writeBeside(t, db, func(i int) ([]byte, []byte) {
		return fmt.Appendf(nil, "v%d", i%40), bytes.Repeat([]byte{'w'}, 9000+i%5000) // runs of 3-4 pages
	})
	_, err = db.ScrubFreePages(t.Context())
	stopWrites()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, marker); n > 0 {
		t.Errorf("deleted bytes survive the scrub %d times", n)
	}
}

// writeBeside commits kv(i) into bucket "busy" for i = 0, 1, ... until the
// returned stop is called, which fails the test if a write failed.
func writeBeside(t *testing.T, db *DB, kv func(i int) (key, value []byte)) (stop func()) {
	t.Helper()
	done, writes := make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				writes <- nil
				return
			default:
			}
			err := db.update(t.Context(), func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("busy"))
				if err != nil {
					return err
				}
				return b.Put(kv(i))
			})
			if err != nil {
				writes <- err
				return
			}
		}
	}()
	return func() {
		t.Helper()
		close(done)
		if err := <-writes; err != nil {
			t.Fatal(err)
		}
	}
}
