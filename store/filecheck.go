package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ErrDamagedFile marks a data file that cannot be opened safely.
var ErrDamagedFile = errors.New("data file is truncated or corrupt")

// bbolt's on-disk meta page (go.etcd.io/bbolt internal/common): a 16-byte
// page header, then magic, version, page size, flags (4 bytes each), the
// root bucket (16), the freelist page id, the high-water page id, the
// transaction id and an FNV-64a checksum of the 56 bytes before it (8
// each), in the machine's byte order (little-endian on every platform
// profiled ships for).
const (
	metaOffset    = 16
	metaLength    = 64
	boltMagic     = 0xED0CDAED
	boltVersion   = 2
	maxPageSize   = 1 << 16
	minPageSize   = 1 << 9
	restoreAdvice = "restore the last backup (docs/deploy.md, \"Restore\") or move the file away to start with an empty store"
)

// checkDataFile refuses an existing data file that bbolt would crash on or
// silently treat as new: an empty file, one without a valid meta page, and
// one shorter than the pages its newest valid meta page says it holds (a
// truncated copy). A path that does not exist passes: it is created.
func checkDataFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("store: data file %s is a directory: give the path of a file, for example %s/profiles.db", path, path)
	}
	damaged := func(why string, args ...any) error {
		return fmt.Errorf("store: data file %s: %w: %s; %s", path, ErrDamagedFile, fmt.Sprintf(why, args...), restoreAdvice)
	}
	size := info.Size()
	if size == 0 {
		return damaged("it is empty (0 bytes), so it holds no data file header")
	}
	var best *boltMeta
	for _, at := range []int64{0, -1} { // meta page 0, then page 1 at the page size meta 0 gives
		if at < 0 {
			if best == nil {
				at = int64(os.Getpagesize()) // no usable meta 0: bbolt then assumes the OS page size too
			} else {
				at = int64(best.pageSize)
			}
		}
		m, ok := readMeta(f, at)
		if ok && (best == nil || m.txid > best.txid) {
			best = &m
		}
	}
	if best == nil {
		return damaged("no valid bbolt meta page (size %d bytes)", size)
	}
	if need := int64(best.highWater) * int64(best.pageSize); size < need {
		return damaged("it is %d bytes but its header says it holds %d pages of %d bytes (%d bytes)", size, best.highWater, best.pageSize, need)
	}
	return nil
}

type boltMeta struct {
	pageSize  uint32
	highWater uint64
	txid      uint64
}

// readMeta reads and verifies the meta page at offset.
func readMeta(r io.ReaderAt, offset int64) (boltMeta, bool) {
	buf := make([]byte, metaOffset+metaLength)
	if _, err := r.ReadAt(buf, offset); err != nil {
		return boltMeta{}, false
	}
	b := buf[metaOffset:]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(b[:56])
	m := boltMeta{pageSize: le.Uint32(b[8:]), highWater: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	ok := le.Uint32(b[0:]) == boltMagic && le.Uint32(b[4:]) == boltVersion && le.Uint64(b[56:]) == h.Sum64() &&
		m.pageSize >= minPageSize && m.pageSize <= maxPageSize && m.pageSize&(m.pageSize-1) == 0
	return m, ok
}
