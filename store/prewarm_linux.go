package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/KimMachineGun/automemlimit/memlimit"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// prewarmChunk is what one read transaction maps: a remap (the file
// outgrowing the mapping) waits for it, so it stays short.
const prewarmChunk = 16 << 20

// Prewarm maps the data file's pages into the process ahead of the reads
// that would otherwise fault them in one at a time. After a restart or an
// import, the first reads of a file not in the page cache wait on page
// faults, random 4 KiB reads from disk: on the 1M-profile file (2.8 GB),
// with the page cache dropped, get by id ran at 2.5k req/s in its first
// 3 s, 8.1k with Prewarm, 14k once warm (docs/performance.md). Prewarm
// reads the file in order instead, in chunks, each under a read
// transaction so the mapping cannot move under it, with MADV_POPULATE_READ
// (Linux 5.14; older kernels skip it). A file larger than half the memory
// (see memoryLimit) is left alone: warming it would only evict its own
// pages.
func (db *DB) Prewarm(ctx context.Context) (PrewarmResult, error) {
	var size int64
	if err := db.view(func(btx *bolt.Tx) error { size = btx.Size(); return nil }); err != nil {
		return PrewarmResult{}, err
	}
	if memory := memoryLimit(); memory > 0 && uint64(size) > memory/2 {
		return PrewarmResult{Skipped: fmt.Sprintf("the data file (%d bytes) is over half the memory (%d bytes)", size, memory)}, nil
	}
	var warmed int64
	for warmed < size {
		if err := ctx.Err(); err != nil {
			return PrewarmResult{Bytes: warmed}, err
		}
		n := min(size-warmed, prewarmChunk)
		// Not db.view: the scrub of free pages need not wait for a reader
		// that only maps pages.
		err := db.bolt.View(func(*bolt.Tx) error {
			return populate(db.bolt.Info().Data+uintptr(warmed), n)
		})
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return PrewarmResult{Bytes: warmed}, errClosed
		}
		if errors.Is(err, unix.EINVAL) && warmed == 0 {
			return PrewarmResult{Skipped: "the kernel has no MADV_POPULATE_READ (Linux 5.14)"}, nil
		}
		if err != nil {
			return PrewarmResult{Bytes: warmed}, fmt.Errorf("store: prewarming the data file: %w", err)
		}
		warmed += n
	}
	return PrewarmResult{Bytes: warmed}, nil
}

// populate maps length bytes of bbolt's mapping at addr. bbolt maps the
// file MADV_RANDOM (no readahead), under which populating 2.8 GB from disk
// took 52 s, page by page; marked MADV_SEQUENTIAL for the while it took
// 0.9 s (reading the file through a descriptor first, 2.4 s).
func populate(addr uintptr, length int64) error {
	if err := madvise(addr, length, unix.MADV_SEQUENTIAL); err != nil {
		return err
	}
	err := madvise(addr, length, unix.MADV_POPULATE_READ)
	if restore := madvise(addr, length, unix.MADV_RANDOM); err == nil {
		err = restore
	}
	return err
}

// cgroupLimit is the memory limit of the process's cgroup (a container's,
// a systemd unit's, the lowest on its path); a variable for tests.
var cgroupLimit = memlimit.FromCgroup

// memoryLimit is the machine's memory, or the memory limit of the
// process's cgroup where that is lower (mapped file pages are charged to
// the cgroup); 0 when neither is known.
func memoryLimit() uint64 {
	limit, _ := memlimit.FromSystem()
	if n, err := cgroupLimit(); err == nil && n > 0 && (limit == 0 || n < limit) {
		limit = n
	}
	return limit
}

// madvise is unix.Madvise on an address: the mapping is bbolt's, known
// only by its address, and a slice made from it would be unsafe.Pointer
// arithmetic vet rightly questions.
func madvise(addr uintptr, length int64, advice int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(length), uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}
