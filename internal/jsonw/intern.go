package jsonw

import (
	"hash/maphash"
	"sync/atomic"
)

// maxInterned is the longest member name the table keeps; schema names
// are shorter.
const maxInterned = 64

// internTable is a table of strings with two slots per name: a name may
// sit in the slot its hash picks or the next one. Lookups take no lock; a
// miss just costs the allocation the table saves otherwise, so its size
// bounds memory whatever names clients send. (With one slot per name, two
// schema names sharing a slot, as in about half of all processes with a
// schema of 40 names, pushed each other out on every profile read.)
type internTable struct {
	seed  maphash.Seed
	slots [1024]atomic.Pointer[string]
}

var names = &internTable{seed: maphash.MakeSeed()}

// intern returns b as a string, from the table when it holds b (b is
// plain ASCII: no escapes to decode).
func (t *internTable) intern(b []byte) string {
	i := maphash.Bytes(t.seed, b) % uint64(len(t.slots))
	first, second := &t.slots[i], &t.slots[(i+1)%uint64(len(t.slots))]
	for _, slot := range [2]*atomic.Pointer[string]{first, second} {
		if s := slot.Load(); s != nil && *s == string(b) {
			return *s
		}
	}
	s := string(b)
	if first.Load() == nil || second.Load() != nil {
		first.Store(&s)
	} else {
		second.Store(&s)
	}
	return s
}
