package store

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestPrewarm_MapsTheWholeFile: a freshly opened file has few of its
// pages mapped; after Prewarm, all of them.
func TestPrewarm_MapsTheWholeFile(t *testing.T) {
	db, path := openTest(t)
	fillBucket(t, db, "filler", 3000) // about 9 MB
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{OpenTimeout: time.Second}) // a new mapping
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	if err := db.bolt.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if cold := residentBytes(t, path); cold*2 > size {
		t.Skipf("a fresh mapping has %d of %d bytes resident already (huge pages?): nothing to tell apart", cold, size)
	}
	res, err := db.Prewarm(context.Background())
	if err != nil || res.Skipped != "" {
		t.Fatalf("Prewarm = %+v, %v", res, err)
	}
	if res.Bytes != size {
		t.Errorf("prewarmed %d bytes of %d", res.Bytes, size)
	}
	if warm := residentBytes(t, path); warm < size {
		t.Errorf("after Prewarm %d of the file's %d bytes are mapped", warm, size)
	}
}

// residentBytes is the Rss of this process's mappings of the file at path
// (/proc/self/smaps).
func residentBytes(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	inFile := false
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's header line
			inFile = len(fields) == 6 && fields[5] == path
		case inFile && len(fields) == 3 && fields[0] == "Rss:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb << 10
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	return total
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

// withCgroupLimit makes the process's cgroup limit read as limit, err.
func withCgroupLimit(t *testing.T, limit uint64, err error) {
	old := cgroupLimit
	cgroupLimit = func() (uint64, error) { return limit, err }
	t.Cleanup(func() { cgroupLimit = old })
}

func TestMemoryLimit_TheCgroupsWhereLower(t *testing.T) {
	withCgroupLimit(t, 0, errors.New("memory is not limited"))
	machine := memoryLimit()
	if machine == 0 {
		t.Fatal("the machine's memory reads as 0")
	}
	withCgroupLimit(t, 512<<20, nil)
	if got := memoryLimit(); got != min(machine, 512<<20) {
		t.Errorf("under a 512 MiB cgroup limit: %d", got)
	}
	withCgroupLimit(t, machine*2, nil)
	if got := memoryLimit(); got != machine {
		t.Errorf("under a cgroup limit above the machine's memory: %d, want %d", got, machine)
	}
}

func TestPrewarm_LeavesAFileOverHalfTheMemoryAlone(t *testing.T) {
	withCgroupLimit(t, 32768, nil)
	db, _ := openTest(t) // a new file holds 28 KiB
	res, err := db.Prewarm(context.Background())
	if err != nil || res.Bytes != 0 || !strings.Contains(res.Skipped, "over half the memory (32768 bytes)") {
		t.Errorf("Prewarm under a 32 KiB limit = %+v, %v", res, err)
	}
}
