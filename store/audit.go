package store

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/codec"
)

// The audit trail of a tenant: bucket "audit" maps codec.AuditKey to the
// entry, and "audit_customers" maps customerKey(id, AuditKey) to nothing,
// so a customer's entries are one range, newest last.
var (
	bucketAudit          = []byte("audit")
	bucketAuditCustomers = []byte("audit_customers")
)

// customerKey prefixes an entry's key with the customer id, length first
// so that no id is a prefix of another's range.
func customerKey(id string, key []byte) []byte {
	k := make([]byte, 0, 1+len(id)+len(key))
	k = append(k, byte(len(id)))
	k = append(k, id...)
	return append(k, key...)
}

func (t *tx) AppendAudit(e *profile.AuditEntry) error {
	b, err := t.writeBucket(bucketAudit)
	if err != nil {
		return err
	}
	if e.Seq, err = b.NextSequence(); err != nil {
		return err
	}
	return t.putAudit(b, e)
}

// putAudit stores e in entries (the tenant's audit bucket) under its time
// and sequence number, and under every customer it names.
func (t *tx) putAudit(entries *bolt.Bucket, e *profile.AuditEntry) error {
	v, err := codec.EncodeAuditEntry(e)
	if err != nil {
		return err
	}
	key := codec.AuditKey(e.At, e.Seq)
	if err := entries.Put(key, v); err != nil {
		return err
	}
	if len(e.Customers) == 0 {
		return nil
	}
	cb, err := t.writeBucket(bucketAuditCustomers)
	if err != nil {
		return err
	}
	for _, id := range e.Customers {
		if err := cb.Put(customerKey(id, key), nil); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) Audit(f profile.StoreFilter, fn func(e *profile.AuditEntry) bool) error {
	entries := t.bucket(bucketAudit)
	if entries == nil {
		return nil
	}
	// Keys run from low (oldest) to high; the listing walks down from the
	// first key above its upper bound.
	var prefix []byte
	scan := entries
	if f.CustomerID != "" {
		if scan = t.bucket(bucketAuditCustomers); scan == nil {
			return nil
		}
		prefix = customerKey(f.CustomerID, nil)
	}
	high := append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // past every key of prefix
	if !f.To.IsZero() {
		high = append(bytes.Clone(prefix), codec.AuditKey(f.To.Add(time.Microsecond), 0)...)
	}
	if f.Before != nil {
		if b := append(bytes.Clone(prefix), codec.AuditKey(f.Before.At, f.Before.Seq)...); bytes.Compare(b, high) < 0 {
			high = b
		}
	}
	c := scan.Cursor()
	k, _ := c.Seek(high)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		key := k[len(prefix):]
		if len(key) != 16 {
			continue
		}
		if !f.From.IsZero() && codec.AuditKeyTime(key).Before(f.From) {
			return nil
		}
		v := entries.Get(key)
		if v == nil {
			continue // swept between the index and the entry: cannot happen in one transaction, but never fail a listing on it
		}
		e, err := codec.DecodeAuditEntry(v)
		if err != nil {
			return err
		}
		e.At, e.Seq, e.Tenant = codec.AuditKeyTime(key), codec.AuditKeySeq(key), t.Tenant()
		if !fn(e) {
			return nil
		}
	}
	return nil
}

func (t *tx) DeleteAuditBefore(before time.Time, max int) (int, error) {
	entries := t.bucket(bucketAudit)
	if entries == nil {
		return 0, nil
	}
	limit := codec.AuditKey(before, 0)
	var keys [][]byte
	c := entries.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < max && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	customers := t.bucket(bucketAuditCustomers)
	for _, k := range keys {
		// A damaged entry is deleted all the same; its customer keys,
		// unknown now, are skipped by listings as pointing at nothing.
		if e, err := codec.DecodeAuditEntry(entries.Get(k)); err == nil && customers != nil {
			for _, id := range e.Customers {
				if err := customers.Delete(customerKey(id, k)); err != nil {
					return 0, err
				}
			}
		}
		if err := entries.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
