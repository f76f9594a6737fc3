// Package bolttest damages bbolt data files as a failing disk or a stray
// write would, for tests of what profiled does with them. Only tests
// import it.
package bolttest

import (
	"encoding/binary"
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// bbolt's page layout (go.etcd.io/bbolt internal/common), little-endian on
// every platform profiled ships for: a 16-byte header (id, flags, count,
// overflow), then count elements of 16 bytes; a branch element ends with
// its child's page id, a leaf element holds the offset of its key from the
// element and the key's length.
const (
	headerSize  = 16
	elementSize = 16
	branchPage  = 0x01
	leafPage    = 0x02
)

// Leaf is a leaf page of a bucket and the keys it holds.
type Leaf struct {
	Page uint64
	Keys []string
}

// Leaves returns the leaf pages of the bucket at path (bucket names from
// the file's root, e.g. "tenants", "t:", "profiles") in key order. A bucket
// small enough to live inline in its parent has none: the test must store
// more.
func Leaves(t testing.TB, file string, path ...string) []Leaf {
	t.Helper()
	db, err := bolt.Open(file, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	pageSize := db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, name := range path[1:] {
			if b == nil {
				break
			}
			b = b.Bucket([]byte(name))
		}
		if b == nil {
			t.Fatalf("no bucket %q in %s", path, file)
		}
		root = uint64(b.Root())
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if root == 0 {
		t.Fatalf("bucket %q of %s is inline: store more so that it has pages", path, file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []Leaf
	var walk func(id uint64)
	walk = func(id uint64) {
		p := data[id*uint64(pageSize):]
		count := int(binary.LittleEndian.Uint16(p[10:]))
		switch binary.LittleEndian.Uint16(p[8:]) {
		case branchPage:
			for i := range count {
				walk(binary.LittleEndian.Uint64(p[headerSize+i*elementSize+8:]))
			}
		case leafPage:
			leaf := Leaf{Page: id}
			for i := range count {
				e := headerSize + i*elementSize
				pos, size := int(binary.LittleEndian.Uint32(p[e+4:])), int(binary.LittleEndian.Uint32(p[e+8:]))
				leaf.Keys = append(leaf.Keys, string(p[e+pos:e+pos+size]))
			}
			leaves = append(leaves, leaf)
		default:
			t.Fatalf("page %d of %s is neither a branch nor a leaf", id, file)
		}
	}
	walk(root)
	return leaves
}

// DamageMiddleLeaf overwrites the middle leaf page of the bucket at path
// with garbage (Damage) and returns it.
func DamageMiddleLeaf(t testing.TB, file string, path ...string) Leaf {
	t.Helper()
	leaves := Leaves(t, file, path...)
	leaf := leaves[len(leaves)/2]
	Damage(t, file, leaf.Page)
	return leaf
}

// Damage overwrites page of file with the same garbage every time: bytes
// that make no page header, so bbolt's check of the page's own id fails
// wherever it is read.
func Damage(t testing.TB, file string, page uint64) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pageSize := pageSizeOf(t, f)
	garbage := make([]byte, pageSize)
	for i := range garbage {
		garbage[i] = byte(i*131 + 7)
	}
	if _, err := f.WriteAt(garbage, int64(page)*int64(pageSize)); err != nil {
		t.Fatal(err)
	}
}

// FreelistPage is the freelist page the newest meta page names: a
// writable open reads it.
func FreelistPage(t testing.TB, file string) uint64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pageSize := pageSizeOf(t, f)
	var freelist, newest uint64
	for _, meta := range []int64{0, int64(pageSize)} {
		m := make([]byte, 64) // magic, version, page size, flags, root (16), freelist, pgid, txid, checksum
		if _, err := f.ReadAt(m, meta+headerSize); err != nil {
			t.Fatal(err)
		}
		if txid := binary.LittleEndian.Uint64(m[48:]); txid >= newest {
			freelist, newest = binary.LittleEndian.Uint64(m[32:]), txid
		}
	}
	return freelist
}

// pageSizeOf reads the page size from meta page 0.
func pageSizeOf(t testing.TB, f *os.File) int {
	t.Helper()
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, headerSize+8); err != nil {
		t.Fatal(err)
	}
	return int(binary.LittleEndian.Uint32(b))
}
