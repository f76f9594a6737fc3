package store

import (
	"bytes"
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/transfer"
)

var (
	_ transfer.Source = (*DB)(nil)
	_ transfer.Target = (*DB)(nil)
)

// NextNumber is the next numeric id the sequence would hand out.
func (db *DB) NextNumber(ctx context.Context) (uint64, error) {
	var next uint64
	err := db.view(func(btx *bolt.Tx) error {
		next = btx.Bucket(bucketMeta).Bucket(bucketSeq).Sequence() + 1
		return nil
	})
	return next, err
}

// Export walks the whole file in one read transaction. Index entries carry
// no uniqueness of their own here; the flag comes from the manifest.
func (db *DB) Export(ctx context.Context, fn func(transfer.Item) error) error {
	st, err := db.SchemaState(ctx)
	if err != nil {
		return err
	}
	unique := profile.UniqueKeys(st.Manifest)
	return db.view(func(btx *bolt.Tx) error {
		err := btx.Bucket(bucketTenants).ForEachBucket(func(name []byte) error {
			tb := btx.Bucket(bucketTenants).Bucket(name)
			tenant := string(bytes.TrimPrefix(name, tenantPrefix))
			if b := tb.Bucket(bucketProfiles); b != nil {
				err := b.ForEach(func(k, v []byte) error {
					return fn(transfer.Item{Kind: transfer.KindProfile, Tenant: tenant, ID: string(k), Value: bytes.Clone(v)})
				})
				if err != nil {
					return err
				}
			}
			if err := forEachNested(tb.Bucket(bucketExt), func(ext string, k, v []byte) error {
				if recs := tb.Bucket(bucketRecords); recs != nil && recs.Bucket([]byte(ext)) != nil {
					prefix := customerKey(string(k), nil)
					if first, _ := recs.Bucket([]byte(ext)).Cursor().Seek(prefix); first != nil && bytes.HasPrefix(first, prefix) {
						return nil // both forms of one set cannot be: the per-record one is current
					}
				}
				return fn(transfer.Item{Kind: transfer.KindRecords, Tenant: tenant, Name: ext, ID: string(k), Value: bytes.Clone(v)})
			}); err != nil {
				return err
			}
			if err := exportRecordSets(tb.Bucket(bucketRecords), tenant, fn); err != nil {
				return err
			}
			err := forEachNested(tb.Bucket(bucketIdx), func(key string, k, _ []byte) error {
				return fn(transfer.Item{Kind: transfer.KindIndex, Tenant: tenant, Name: key, ID: codec.EntryID(k),
					Value: bytes.Clone(k), Unique: unique[key] && !codec.EntryHasEmptyValue(k)})
			})
			if err != nil {
				return err
			}
			if b := tb.Bucket(bucketAudit); b != nil {
				return b.ForEach(func(k, v []byte) error {
					return fn(transfer.Item{Kind: transfer.KindAudit, Tenant: tenant, Created: codec.AuditKeyTime(k), Seq: codec.AuditKeySeq(k), Value: bytes.Clone(v)})
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = btx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			rec, ok := decodeSession(k, v)
			if !ok {
				return nil // not a session (see decodeSession)
			}
			return fn(transfer.Item{Kind: transfer.KindSession, ID: rec.ID, User: rec.User, Created: rec.Created, LastSeen: rec.LastSeen})
		})
		if err != nil {
			return err
		}
		c := btx.Bucket(bucketMeta).Cursor()
		for k, v := c.Seek([]byte(settingsPrefix)); k != nil && bytes.HasPrefix(k, []byte(settingsPrefix)); k, v = c.Next() {
			if err := fn(transfer.Item{Kind: transfer.KindSetting, Name: string(k[len(settingsPrefix):]), Value: bytes.Clone(v)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// forEachNested visits every key of every bucket nested in group (b may
// be nil).
func forEachNested(group *bolt.Bucket, fn func(name string, k, v []byte) error) error {
	if group == nil {
		return nil
	}
	return group.ForEachBucket(func(name []byte) error {
		return group.Bucket(name).ForEach(func(k, v []byte) error { return fn(string(name), k, v) })
	})
}

// Empty reports whether the file holds no profile, session, audit entry or schema.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	st, err := db.SchemaState(ctx)
	if err != nil {
		return false, err
	}
	if st.Version > 0 || len(st.Overlay) > 0 {
		return false, nil
	}
	n, err := db.ProfileCount()
	if err != nil || n > 0 {
		return false, err
	}
	empty := true
	err = db.view(func(btx *bolt.Tx) error {
		k, _ := btx.Bucket(bucketSessions).Cursor().First()
		empty = k == nil
		return btx.Bucket(bucketTenants).ForEachBucket(func(name []byte) error {
			if b := btx.Bucket(bucketTenants).Bucket(name).Bucket(bucketAudit); b != nil {
				if k, _ := b.Cursor().First(); k != nil {
					empty = false
				}
			}
			return nil
		})
	})
	return empty, err
}

// Import stores a batch in one transaction, with every derived key a
// profile has (numeric id, creation time, count).
func (db *DB) Import(ctx context.Context, items []transfer.Item) error {
	defer db.sessions.drop()
	return db.update(ctx, func(btx *bolt.Tx) error {
		for _, it := range items {
			if it.Kind == transfer.KindSetting {
				if err := btx.Bucket(bucketMeta).Put([]byte(settingsPrefix+it.Name), it.Value); err != nil {
					return err
				}
				continue
			}
			if it.Kind == transfer.KindSession {
				v, err := encodeSession(session.Record{ID: it.ID, User: it.User, Created: it.Created, LastSeen: it.LastSeen})
				if err != nil {
					return err
				}
				if err := btx.Bucket(bucketSessions).Put([]byte(it.ID), v); err != nil {
					return err
				}
				continue
			}
			t := db.newTx(btx, it.Tenant)
			var err error
			switch it.Kind {
			case transfer.KindProfile:
				err = t.importProfile(it.ID, it.Value)
			case transfer.KindRecords:
				err = t.importRecords(it)
			case transfer.KindIndex:
				err = t.put([]byte{}, it.Value, bucketIdx, lower(it.Name))
			case transfer.KindAudit:
				err = t.importAudit(it)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// importRecords stores a copied set as records of their own; a damaged
// one is kept as it came, in the whole-set form, so that the copy
// completes and profiled check names it on the target as on the source.
func (t *tx) importRecords(it transfer.Item) error {
	recs, err := codec.DecodeRecords(it.Value)
	if err != nil {
		return t.put(it.Value, []byte(it.ID), bucketExt, lower(it.Name))
	}
	return t.PutRecords(it.Name, it.ID, recs)
}

// exportRecordSets hands out each customer's records of each extension as
// one set, the form copies carry (and profiled check reads).
func exportRecordSets(group *bolt.Bucket, tenant string, fn func(transfer.Item) error) error {
	if group == nil {
		return nil
	}
	return group.ForEachBucket(func(ext []byte) error {
		var id, damaged string
		var set []schema.Record
		emit := func() error {
			if len(set) == 0 {
				return nil
			}
			v, err := codec.EncodeRecords(set)
			if err != nil {
				return err
			}
			set = set[:0]
			return fn(transfer.Item{Kind: transfer.KindRecords, Tenant: tenant, Name: string(ext), ID: id, Value: v})
		}
		c := group.Bucket(ext).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) < 9 || int(k[0]) != len(k)-9 {
				continue // not a record key
			}
			if kid := string(k[1 : len(k)-8]); kid != id {
				if err := emit(); err != nil {
					return err
				}
				id = kid
			}
			if id == damaged {
				continue // the set went out as its damaged record
			}
			r, err := codec.DecodeRecord(v)
			if err != nil {
				// The customer's set goes out as the damaged record as it
				// is stored, once, so that check names the set damaged.
				set, damaged = set[:0], id
				if err := fn(transfer.Item{Kind: transfer.KindRecords, Tenant: tenant, Name: string(ext), ID: id, Value: bytes.Clone(v)}); err != nil {
					return err
				}
				continue
			}
			set = append(set, r)
		}
		return emit()
	})
}

// importAudit stores a copied entry under its own sequence number, which
// the tenant's bucket sequence then passes, so that entries appended after
// the copy are numbered after every copied one.
func (t *tx) importAudit(it transfer.Item) error {
	e, err := codec.DecodeAuditEntry(it.Value)
	if err != nil {
		return err
	}
	b, err := t.writeBucket(bucketAudit)
	if err != nil {
		return err
	}
	if it.Seq > b.Sequence() {
		if err := b.SetSequence(it.Seq); err != nil {
			return err
		}
	}
	e.At, e.Seq = it.Created, it.Seq
	return t.putAudit(b, e)
}

func (t *tx) importProfile(id string, v []byte) error {
	p, err := codec.DecodeProfile(v)
	if err != nil {
		return err
	}
	if err := t.put(v, []byte(id), bucketProfiles); err != nil {
		return err
	}
	if err := t.put([]byte(id), numKey(p.Num), bucketNums); err != nil {
		return err
	}
	if err := t.put([]byte{}, createdKey(p.Created, id), bucketCreated); err != nil {
		return err
	}
	// The sequence passes every copied number whatever the header says (a
	// source written between its header and its export), as the
	// PostgreSQL target's ImportHeader makes sure with max(num).
	if seq := t.btx.Bucket(bucketMeta).Bucket(bucketSeq); p.Num > seq.Sequence() {
		if err := seq.SetSequence(p.Num); err != nil {
			return err
		}
	}
	return t.addToCount(1)
}

// put stores key → v in the tenant's bucket at path, creating it.
func (t *tx) put(v, key []byte, path ...[]byte) error {
	b, err := t.writeBucket(path...)
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

// ImportHeader stores the schema state and moves the id sequence to h.
func (db *DB) ImportHeader(ctx context.Context, h transfer.Header) error {
	return db.update(ctx, func(btx *bolt.Tx) error {
		meta := btx.Bucket(bucketMeta)
		for key, value := range map[string][]byte{string(keyOverlay): h.Schema.Overlay, string(keyManifest): h.Schema.Manifest,
			string(keySchemaHash): []byte(profile.StoredHash(h.Schema.Version, h.Schema.Hash))} {
			if len(value) > 0 {
				if err := meta.Put([]byte(key), value); err != nil {
					return err
				}
			}
		}
		if err := meta.Put(keyVersion, binary.BigEndian.AppendUint64(nil, h.Schema.Version)); err != nil {
			return err
		}
		seq := meta.Bucket(bucketSeq)
		if h.NextNum > 0 && h.NextNum-1 > seq.Sequence() {
			return seq.SetSequence(h.NextNum - 1)
		}
		return nil
	})
}
