package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// TestPrewarm_MapsTheWholeFile: after Prewarm, reading every value of a
// freshly opened file faults no page in; without it the same read does.
func TestPrewarm_MapsTheWholeFile(t *testing.T) {
	db, path := openTest(t)
	filler := []byte("filler")
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(filler)
		if err != nil {
			return err
		}
		value := make([]byte, 3000)
		for i := range 3000 { // about 9 MB
			value[0], value[1] = byte(i), byte(i>>8)
			if err := b.Put([]byte{byte(i >> 8), byte(i)}, value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reopen := func() {
		t.Helper()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = Open(path, Options{OpenTimeout: time.Second}); err != nil {
			t.Fatal(err)
		}
	}

	reopen() // a new mapping: no page of it is mapped yet
	if cold := faultsReading(t, db, filler); cold < 50 {
		t.Fatalf("reading a freshly opened file faulted %d pages in; the test cannot tell a warm mapping", cold)
	}

	reopen()
	res, err := db.Prewarm(context.Background())
	if err != nil || res.Skipped != "" {
		t.Fatalf("Prewarm = %+v, %v", res, err)
	}
	var size int64
	if err := db.bolt.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if res.Bytes != size {
		t.Errorf("prewarmed %d bytes of %d", res.Bytes, size)
	}
	if warm := faultsReading(t, db, filler); warm > 5 {
		t.Errorf("after Prewarm, reading the file faulted %d pages in", warm)
	}
	db.Close()
}

// faultsReading reads every byte of bucket's values and returns the page
// faults it took.
func faultsReading(t *testing.T, db *DB, bucket []byte) int64 {
	t.Helper()
	runtime.LockOSThread() // RUSAGE_THREAD counts this thread's faults only
	defer runtime.UnlockOSThread()
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		t.Fatal(err)
	}
	var sum byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			for _, b := range v {
				sum += b
			}
		}
		return nil
	})
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = sum
	return after.Minflt + after.Majflt - before.Minflt - before.Majflt
}

func TestPrewarm_StopsWithItsContextAndOnAClosedStore(t *testing.T) {
	db, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := db.Prewarm(ctx); !errors.Is(err, context.Canceled) || res.Bytes != 0 {
		t.Errorf("Prewarm with a cancelled context = %+v, %v", res, err)
	}
	db.Close()
	if _, err := db.Prewarm(context.Background()); !errors.Is(err, errClosed) {
		t.Errorf("Prewarm on a closed store: %v, want %v", err, errClosed)
	}
}

func TestMemoryLimit_TheCgroupsWhereLower(t *testing.T) {
	var sys unix.Sysinfo_t
	if err := unix.Sysinfo(&sys); err != nil {
		t.Fatal(err)
	}
	machine := uint64(sys.Totalram) * uint64(sys.Unit)
	for _, tc := range []struct {
		name, file, content string
		want                uint64
	}{
		{"no cgroup files", "", "", machine},
		{"v2 without a limit", "memory.max", "max\n", machine},
		{"v2 limit", "memory.max", "536870912\n", 512 << 20},
		{"v1 without a limit", "memory/memory.limit_in_bytes", "9223372036854771712\n", machine},
		{"v1 limit", "memory/memory.limit_in_bytes", "1073741824\n", 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.file != "" {
				path := filepath.Join(root, tc.file)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := memoryLimit(root); got != tc.want {
				t.Errorf("memoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPrewarm_LeavesAFileOverHalfTheMemoryAlone(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "memory.max"), []byte("32768\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := cgroupRoot
	cgroupRoot = root
	t.Cleanup(func() { cgroupRoot = old })
	db, _ := openTest(t) // a new file holds 28 KiB
	res, err := db.Prewarm(context.Background())
	if err != nil || res.Bytes != 0 || !strings.Contains(res.Skipped, "over half the memory (32768 bytes)") {
		t.Errorf("Prewarm under a 32 KiB limit = %+v, %v", res, err)
	}
}
