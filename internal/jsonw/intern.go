package jsonw

import (
	"hash/maphash"
	"sync/atomic"
)

// maxInterned is the longest member name the table keeps; schema names
// are shorter.
const maxInterned = 64

// internTable is a direct-mapped table of strings: a slot holds the last
// name that hashed to it. Lookups take no lock; a collision just costs
// the allocation the table saves otherwise, so its size bounds memory
// whatever names clients send.
type internTable struct {
	seed  maphash.Seed
	slots [1024]atomic.Pointer[string]
}

var names = &internTable{seed: maphash.MakeSeed()}

// intern returns b as a string, from the table when it holds b (b is
// plain ASCII: no escapes to decode).
func (t *internTable) intern(b []byte) string {
	slot := &t.slots[maphash.Bytes(t.seed, b)%uint64(len(t.slots))]
	if s := slot.Load(); s != nil && *s == string(b) {
		return *s
	}
	s := string(b)
	slot.Store(&s)
	return s
}
