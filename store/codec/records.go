package codec

import (
	"bytes"
	"reflect"

	"github.com/contactcenter/profiled/schema"
)

// StoredRecord is one record of a set as a transaction read it: its
// sequence number (the set's order), its stored bytes and the record
// handed out.
type StoredRecord struct {
	Seq    uint64
	Value  []byte
	Record schema.Record
}

// RecordWrite stores Value at sequence number Seq.
type RecordWrite struct {
	Seq   uint64
	Value []byte
}

// DiffRecords returns the writes and deletions that turn the stored set
// old (in sequence order) into records, touching only what differs: the
// records a write appended, replaced or removed. A record handed out by
// the read and passed back unchanged (the same map) is not even encoded.
// The order of records is kept: unchanged and replaced records keep their
// sequence numbers, removed ones are deleted, and new ones go after the
// last. It walks both lists once; an insertion in the middle, which no
// operation makes, costs rewriting the records after it, never a wrong
// order.
func DiffRecords(old []StoredRecord, records []schema.Record) (puts []RecordWrite, deletes []uint64) {
	encoded := make([][]byte, len(records))
	enc := func(i int) []byte {
		if encoded[i] == nil {
			encoded[i] = EncodeRecord(records[i])
		}
		return encoded[i]
	}
	same := func(i, j int) bool {
		if old[j].Record != nil && reflect.ValueOf(old[j].Record).UnsafePointer() == reflect.ValueOf(records[i]).UnsafePointer() {
			return true
		}
		return bytes.Equal(enc(i), old[j].Value)
	}
	next := uint64(1)
	if len(old) > 0 {
		next = old[len(old)-1].Seq + 1
	}
	i, j := 0, 0
	for i < len(records) && j < len(old) {
		switch {
		case same(i, j):
			i, j = i+1, j+1
		case j+1 < len(old) && same(i, j+1): // old[j] was removed
			deletes = append(deletes, old[j].Seq)
			j++
		default: // replaced in place
			puts = append(puts, RecordWrite{Seq: old[j].Seq, Value: enc(i)})
			i, j = i+1, j+1
		}
	}
	for ; j < len(old); j++ {
		deletes = append(deletes, old[j].Seq)
	}
	for ; i < len(records); i++ {
		puts = append(puts, RecordWrite{Seq: next, Value: enc(i)})
		next++
	}
	return puts, deletes
}

// Applied is old after puts and deletes (as DiffRecords gave them): the
// set as stored once they are written, for a later diff in the same
// transaction. Values are those of old and puts.
func Applied(old []StoredRecord, puts []RecordWrite, deletes []uint64) []StoredRecord {
	out := make([]StoredRecord, 0, len(old)+len(puts))
	put := make(map[uint64][]byte, len(puts))
	for _, w := range puts {
		put[w.Seq] = w.Value
	}
	gone := make(map[uint64]bool, len(deletes))
	for _, s := range deletes {
		gone[s] = true
	}
	for _, r := range old {
		if v, ok := put[r.Seq]; ok {
			out = append(out, StoredRecord{Seq: r.Seq, Value: v})
			delete(put, r.Seq)
		} else if !gone[r.Seq] {
			out = append(out, StoredRecord{Seq: r.Seq, Value: r.Value})
		}
	}
	for _, w := range puts { // appended: after every old one, in order
		if _, ok := put[w.Seq]; ok {
			out = append(out, StoredRecord{Seq: w.Seq, Value: w.Value})
		}
	}
	return out
}
