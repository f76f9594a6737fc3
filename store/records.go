package store

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
)

// Extension records, one key each: recs/<extension>/<customer key><seq>,
// where the customer key is the id's length and the id (customerKey), and
// seq, 8 bytes big-endian, keeps the set's order. A write stores only the
// records it changes (codec.DiffRecords), so inserting into a large set
// costs what the insert writes. Sets written before per-record storage
// (ext/<extension>/<id>, one value each) are read as they are and moved
// to per-record keys when their customer's set is next written.
var bucketRecords = []byte("recs")

// setKey names one customer's set of one extension (lower-cased name).
type setKey struct{ ext, id string }

// maxCachedSets bounds the sets a write transaction keeps as it read them
// (a later PutRecords diffs against them instead of reading again). A
// batch of writes reads a few hundred; an index rebuild reads every
// customer's, which kept a whole store's records in memory until commit.
// Past the bound PutRecords reads the stored set, as for a set never read.
const maxCachedSets = 4096

func recordKey(id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(customerKey(id, nil), seq)
}

// storedSet reads customer id's records of ext as stored, in order, and
// whether they are a set of the old form.
func (t *tx) storedSet(ext, id string) (recs []codec.StoredRecord, legacy bool, err error) {
	old, err := t.eachStored(ext, id, func(seq uint64, v []byte) error {
		r, err := codec.DecodeRecord(v)
		recs = append(recs, codec.StoredRecord{Seq: seq, Value: v, Record: r})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if old == nil {
		return recs, false, nil
	}
	set, err := codec.DecodeRecords(old)
	if err != nil {
		return nil, false, codec.Corrupt(id, err)
	}
	for i, r := range set {
		recs = append(recs, codec.StoredRecord{Seq: uint64(i + 1), Record: r})
	}
	return recs, true, nil
}

// eachStored calls fn with each of customer id's records of ext as stored
// (sequence number and the page's bytes), in order. A set of the old form
// is returned whole instead. fn's errors are the customer's Corrupt.
func (t *tx) eachStored(ext, id string, fn func(seq uint64, v []byte) error) (oldForm []byte, err error) {
	name := lower(ext)
	found := false
	if b := child(t.setGroup(bucketRecords, &t.recs), name); b != nil {
		prefix := customerKey(id, nil)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
			if err := fn(binary.BigEndian.Uint64(k[len(prefix):]), v); err != nil {
				return nil, codec.Corrupt(id, err)
			}
			found = true
		}
	}
	if found {
		return nil, nil
	}
	return get(child(t.setGroup(bucketExt, &t.legacy), name), []byte(id)), nil
}

// groupBucket is a tenant's bucket group as a read transaction found it.
type groupBucket struct {
	b      *bolt.Bucket // nil when absent
	looked bool
}

// setGroup returns the tenant's bucket group ("recs" or "ext"), nil when
// absent; a read transaction looks each up once, into g.
func (t *tx) setGroup(group []byte, g *groupBucket) *bolt.Bucket {
	if t.btx.Writable() {
		return t.bucket(group)
	}
	if !g.looked {
		g.b, g.looked = t.bucket(group), true
	}
	return g.b
}

// child is bucket b's child name, nil when either is absent.
func child(b *bolt.Bucket, name []byte) *bolt.Bucket {
	if b == nil {
		return nil
	}
	return b.Bucket(name)
}

func (t *tx) Records(ext, id string) ([]schema.Record, error) {
	stored, legacy, err := t.storedSet(ext, id)
	if err != nil || len(stored) == 0 {
		return nil, err
	}
	if t.btx.Writable() && !legacy && len(t.sets) < maxCachedSets {
		if t.sets == nil {
			t.sets = map[setKey][]codec.StoredRecord{}
		}
		for i := range stored { // the page bytes are the transaction's only until it writes
			stored[i].Value = bytes.Clone(stored[i].Value)
		}
		t.sets[setKey{strings.ToLower(ext), id}] = stored
	}
	recs := make([]schema.Record, len(stored))
	for i, r := range stored {
		recs[i] = r.Record
	}
	return recs, nil
}

// RecordSets reads each extension in turn: bbolt reads cost no round trip.
func (t *tx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	out := make(map[string][]schema.Record, len(exts))
	for _, ext := range exts {
		recs, err := t.Records(ext, id)
		if err != nil {
			return nil, err
		}
		if recs != nil {
			out[ext] = recs
		}
	}
	return out, nil
}

func (t *tx) StoredExtensions(id string) ([]string, error) {
	var names []string
	for _, group := range [][]byte{bucketRecords, bucketExt} {
		if g := t.bucket(group); g != nil {
			if err := g.ForEachBucket(func(name []byte) error {
				if !slices.Contains(names, string(name)) {
					names = append(names, string(name))
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	var held []string
	for _, name := range names {
		found := false
		old, err := t.eachStored(name, id, func(uint64, []byte) error { found = true; return nil })
		if err != nil {
			return nil, err
		}
		if found || old != nil {
			held = append(held, name)
		}
	}
	slices.Sort(held)
	return held, nil
}

func (t *tx) RecordDocuments(id string, exts []string) (map[string][][]profile.Member, error) {
	out := make(map[string][][]profile.Member, len(exts))
	for _, ext := range exts {
		var pages [][]byte
		old, err := t.eachStored(ext, id, func(_ uint64, v []byte) error {
			pages = append(pages, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		var recs [][]profile.Member
		switch {
		case old != nil:
			recs, err = codec.DecodeRecordsDocument(bytes.Clone(old)) // the page bytes are the transaction's only
		case len(pages) > 0:
			recs, err = codec.DecodeRecordSetDocument(copyPages(pages))
		}
		if err != nil {
			return nil, codec.Corrupt(id, err)
		}
		if recs != nil {
			out[ext] = recs
		}
	}
	return out, nil
}

// copyPages replaces page bytes, which are the transaction's only, with
// copies, all in one buffer.
func copyPages(pages [][]byte) [][]byte {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	for i, p := range pages {
		buf = append(buf, p...)
		pages[i] = buf[len(buf)-len(p):]
	}
	return pages
}

// PutRecords stores records as customer id's set of ext, writing and
// deleting only the records that differ from what is stored: against the
// set as this transaction read it, or else (a create, a PUT) as its bytes
// stand, so a PUT that sends a set unchanged writes nothing.
func (t *tx) PutRecords(ext, id string, records []schema.Record) error {
	key := setKey{strings.ToLower(ext), id}
	old, read := t.sets[key]
	if !read {
		var err error
		if old, err = t.storedBytes(ext, id); err != nil {
			return err
		}
	}
	puts, deletes := codec.DiffRecords(old, records)
	if len(puts)+len(deletes) == 0 {
		return nil
	}
	b, err := t.writeBucket(bucketRecords, lower(ext))
	if err != nil {
		return err
	}
	for _, seq := range deletes {
		if err := b.Delete(recordKey(id, seq)); err != nil {
			return err
		}
	}
	for _, w := range puts {
		if err := b.Put(recordKey(id, w.Seq), w.Value); err != nil {
			return err
		}
	}
	t.db.recordsWritten.Add(uint64(len(puts)))
	if t.sets == nil {
		t.sets = map[setKey][]codec.StoredRecord{}
	}
	t.sets[key] = codec.Applied(old, puts, deletes) // for a later write of the set in this transaction
	return nil
}

// storedBytes returns customer id's records of ext as stored, undecoded;
// a set of the old form is removed (the records are then all written).
func (t *tx) storedBytes(ext, id string) ([]codec.StoredRecord, error) {
	if b := t.bucket(bucketExt, lower(ext)); b != nil && b.Get([]byte(id)) != nil {
		return nil, t.deleteRecords(ext, id)
	}
	b := t.bucket(bucketRecords, lower(ext))
	if b == nil {
		return nil, nil
	}
	var out []codec.StoredRecord
	err := forPrefix(b, customerKey(id, nil), func(k, v []byte) error {
		out = append(out, codec.StoredRecord{Seq: binary.BigEndian.Uint64(k[len(k)-8:]), Value: bytes.Clone(v)})
		return nil
	})
	return out, err
}

// deleteRecords removes customer id's set of ext, in either form.
func (t *tx) deleteRecords(ext, id string) error {
	delete(t.sets, setKey{strings.ToLower(ext), id})
	if b := t.bucket(bucketExt, lower(ext)); b != nil {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
	}
	b := t.bucket(bucketRecords, lower(ext))
	if b == nil {
		return nil
	}
	return deleteWalked(b, func(fn func(k, v []byte) error) error { return forPrefix(b, customerKey(id, nil), fn) })
}

// deleteAllRecords removes customer id's records of every extension.
func (t *tx) deleteAllRecords(id string) error {
	var exts []string
	for _, group := range [][]byte{bucketRecords, bucketExt} {
		if g := t.bucket(group); g != nil {
			if err := g.ForEachBucket(func(name []byte) error { exts = append(exts, string(name)); return nil }); err != nil {
				return err
			}
		}
	}
	for _, ext := range exts {
		if err := t.deleteRecords(ext, id); err != nil {
			return err
		}
	}
	return nil
}

// forPrefix calls fn for every per-record key of a customer prefix.
func forPrefix(b *bolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+8 {
			continue // a longer id that starts with these bytes cannot: the length leads
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}
