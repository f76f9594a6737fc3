package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/codec"
)

var tenantPrefix = []byte("t:")

// tx is a profile.Tx over one tenant's bucket. Reads of buckets that do not
// exist yet see nothing; writes create them.
type tx struct {
	db     *DB
	btx    *bolt.Tx
	tenant []byte // the tenant bucket's name
	// tenantB is the tenant's bucket once found. bbolt caches child buckets
	// in write transactions only: in a read each walk from the root opened
	// the tenants and tenant buckets again, and an eGain read walks to a
	// dozen buckets (bucket walks were 15 % of an eGain search's handler
	// time in pprof). Tenant buckets are never deleted: one found stays
	// valid.
	tenantB *bolt.Bucket
	// In a read transaction, the tenant's buckets of record sets and of
	// legacy sets once looked up (nil when absent: a snapshot does not
	// change). Reading a profile's extensions looked both up again for each
	// extension, six times in an eGain read.
	recs, legacy groupBucket
	// read holds what this transaction read with Profile (or wrote) of the
	// profiles it may replace: PutProfile and DeleteProfile move their
	// derived keys from it instead of decoding the stored profile again.
	read map[string]linked
	// sets holds the record sets this write transaction read, as stored,
	// so that PutRecords writes only the records that changed (records.go).
	sets map[setKey][]codec.StoredRecord
}

// linked is what a stored profile's derived keys (nums, created) are made of.
type linked struct {
	num     uint64
	created time.Time
}

func (db *DB) newTx(btx *bolt.Tx, tenant string) *tx {
	return &tx{db: db, btx: btx, tenant: append(bytes.Clone(tenantPrefix), tenant...)}
}

// bucket returns the tenant's bucket at path (e.g. "ext", "<name>"), nil if
// it does not exist.
func (t *tx) bucket(path ...[]byte) *bolt.Bucket {
	if t.tenantB == nil { // not found yet: a write may have created it since
		t.tenantB = t.btx.Bucket(bucketTenants).Bucket(t.tenant)
	}
	b := t.tenantB
	for _, name := range path {
		if b == nil {
			return nil
		}
		b = b.Bucket(name)
	}
	return b
}

// writeBucket is bucket, creating what is missing.
func (t *tx) writeBucket(path ...[]byte) (*bolt.Bucket, error) {
	b, err := t.btx.Bucket(bucketTenants).CreateBucketIfNotExists(t.tenant)
	for _, name := range path {
		if err != nil {
			return nil, err
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	return b, err
}

// keyCount holds the tenant's number of profiles, kept with every create
// and delete so that counting (a metric scraped often) reads one key
// instead of walking every page of the profiles bucket.
var keyCount = []byte("profile_count")

func (t *tx) addToCount(delta int64) error {
	b, err := t.writeBucket()
	if err != nil {
		return err
	}
	n := int64(0)
	if v := b.Get(keyCount); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return b.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(n+delta)))
}

// get is Bucket.Get where a missing bucket holds nothing.
func get(b *bolt.Bucket, key []byte) []byte {
	if b == nil {
		return nil
	}
	return b.Get(key)
}

// lower is the bucket name of an extension or identification key: names
// are case-insensitive in the schema. Reads look one up per record set or
// index (an eGain search: seven), and making it anew was 12 % of reading a
// record set (pprof of a live eGain search), so names are kept once made.
// Callers get a shared slice and must not change it; bbolt copies bucket
// names it keeps. The names come from the schema, so few are ever made;
// past maxLowerNames they are made each time.
func lower(name string) []byte {
	if b, ok := lowerNames.Load(name); ok {
		return b.([]byte)
	}
	b := []byte(strings.ToLower(name))
	if lowerNameCount.Load() < maxLowerNames {
		if _, had := lowerNames.LoadOrStore(name, b); !had {
			lowerNameCount.Add(1)
		}
	}
	return b
}

const maxLowerNames = 1024

var (
	lowerNames     sync.Map // name → its lower-case bytes
	lowerNameCount atomic.Int32
)

func (t *tx) Profile(id string) (*profile.Profile, error) {
	v := get(t.bucket(bucketProfiles), []byte(id))
	if v == nil {
		return nil, nil
	}
	t.db.profileReads.Add(1)
	p, err := codec.DecodeProfile(v)
	if err != nil {
		return nil, codec.Corrupt(id, err)
	}
	t.remember(p)
	return p, nil
}

func (t *tx) Document(id string) (*profile.Document, error) {
	v := get(t.bucket(bucketProfiles), []byte(id))
	if v == nil {
		return nil, nil
	}
	t.db.profileReads.Add(1)
	d, err := codec.DecodeDocument(bytes.Clone(v)) // the page bytes are the transaction's only
	if err != nil {
		return nil, codec.Corrupt(id, err)
	}
	return d, nil
}

func (t *tx) remember(p *profile.Profile) {
	if !t.btx.Writable() {
		return // a view replaces nothing
	}
	if t.read == nil {
		t.read = map[string]linked{}
	}
	t.read[p.ID] = linked{num: p.Num, created: p.Created}
}

func (t *tx) IDByNum(num uint64) (string, error) {
	return string(get(t.bucket(bucketNums), numKey(num))), nil
}

func (t *tx) NextNum() (uint64, error) {
	return t.btx.Bucket(bucketMeta).Bucket(bucketSeq).NextSequence()
}

func (t *tx) PutProfile(p *profile.Profile) error {
	if old, ok := t.read[p.ID]; ok {
		if err := t.unlinkProfile(p.ID, old, old.num != p.Num, !old.created.Equal(p.Created)); err != nil {
			return err
		}
	} else if get(t.bucket(bucketProfiles), []byte(p.ID)) != nil {
		return errs.Conflict(profile.CodeProfileExists, "customer_id %q is already used", p.ID)
	} else if err := t.addToCount(1); err != nil {
		return err
	}
	t.remember(p)
	v, err := codec.EncodeProfile(p)
	if err != nil {
		return err
	}
	profiles, err := t.writeBucket(bucketProfiles)
	if err != nil {
		return err
	}
	if err := profiles.Put([]byte(p.ID), v); err != nil {
		return err
	}
	if p.Num != 0 { // 0 is "no numeric id": sequences start at 1
		nums, err := t.writeBucket(bucketNums)
		if err != nil {
			return err
		}
		if err := nums.Put(numKey(p.Num), []byte(p.ID)); err != nil {
			return err
		}
	}
	created, err := t.writeBucket(bucketCreated)
	if err != nil {
		return err
	}
	return created.Put(createdKey(p.Created, p.ID), []byte{})
}

// unlinkProfile removes the nums and created entries of stored profile id.
func (t *tx) unlinkProfile(id string, old linked, num, created bool) error {
	if b := t.bucket(bucketNums); num && b != nil && string(b.Get(numKey(old.num))) == id {
		if err := b.Delete(numKey(old.num)); err != nil {
			return err
		}
	}
	if b := t.bucket(bucketCreated); created && b != nil {
		return b.Delete(createdKey(old.created, id))
	}
	return nil
}

// DeleteProfile removes the profile, its nums and created entries and its
// records in every extension; index entries stay the caller's job, as only
// it knows the keys' index texts.
func (t *tx) DeleteProfile(p *profile.Profile) error {
	old, ok := t.read[p.ID]
	if !ok {
		stored, err := t.Profile(p.ID)
		if err != nil {
			return err
		}
		old, ok = t.read[p.ID], stored != nil
	}
	if ok {
		delete(t.read, p.ID)
		if err := t.unlinkProfile(p.ID, old, true, true); err != nil {
			return err
		}
		if err := t.bucket(bucketProfiles).Delete([]byte(p.ID)); err != nil {
			return err
		}
		if err := t.addToCount(-1); err != nil {
			return err
		}
	}
	return t.deleteAllRecords(p.ID)
}

// PurgeProfile removes what DeleteProfile removes and the customer's index
// entries, reading none of its values: the numeric-id, creation and index
// buckets are not keyed by customer id, so each is scanned for the id: a
// damaged customer is rare, and other writes wait while the scan runs.
func (t *tx) PurgeProfile(id string) error {
	delete(t.read, id)
	if b := t.bucket(bucketProfiles); b != nil && b.Get([]byte(id)) != nil {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		if err := t.addToCount(-1); err != nil {
			return err
		}
	}
	type scan struct {
		bucket *bolt.Bucket
		holds  func(k, v []byte) bool
	}
	scans := []scan{
		{t.bucket(bucketNums), func(_, v []byte) bool { return string(v) == id }},
		{t.bucket(bucketCreated), func(k, _ []byte) bool { return len(k) >= 8 && string(k[8:]) == id }},
	}
	entryOfID := func(k, _ []byte) bool { return codec.EntryID(k) == id }
	if idx := t.bucket(bucketIdx); idx != nil {
		err := idx.ForEachBucket(func(key []byte) error {
			scans = append(scans, scan{idx.Bucket(key), entryOfID})
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, s := range scans {
		if s.bucket == nil {
			continue
		}
		err := deleteWalked(s.bucket, func(fn func(k, v []byte) error) error {
			return s.bucket.ForEach(func(k, v []byte) error {
				if s.holds(k, v) {
					return fn(k, v)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	return t.deleteAllRecords(id)
}

// deleteWalked deletes the entries of b that walk calls its function
// with. Keys are collected first: deleting under a moving cursor skips
// entries in bbolt.
func deleteWalked(b *bolt.Bucket, walk func(fn func(k, v []byte) error) error) error {
	var doomed [][]byte
	if err := walk(func(k, _ []byte) error {
		doomed = append(doomed, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) SchemaVersion() (uint64, error) {
	return schemaVersion(t.btx.Bucket(bucketMeta)), nil
}

// AddIndexEntry refuses an entry of a unique key whose values another
// customer has, as profile.Tx promises. The service checks first, and
// bbolt writes are serialised, so this is the store's own guarantee
// rather than the one that usually answers.
func (t *tx) AddIndexEntry(key string, values []string, id string, unique bool) error {
	if unique {
		if t.otherHolder(key, values, id) {
			return &errs.Error{Kind: errs.KindConflict, Code: profile.CodeUniqueKeyViolation,
				Message: "identification key \"" + key + "\" is unique and another customer already has these values",
				Err:     &profile.TakenValues{Key: key, Values: values}}
		}
	}
	b, err := t.writeBucket(bucketIdx, lower(key))
	if err != nil {
		return err
	}
	return b.Put(codec.IndexEntry(values, id), []byte{})
}

// otherHolder reports whether a customer other than id has an entry of key
// with exactly these values (not merely starting with them).
func (t *tx) otherHolder(key string, values []string, id string) bool {
	b := t.bucket(bucketIdx, lower(key))
	if b == nil {
		return false
	}
	p := codec.IndexPrefix(values)
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		// The rest is the id alone when it holds no terminator (00 01).
		if !bytes.Contains(k[len(p):], []byte{0, 1}) && codec.EntryID(k) != id {
			return true
		}
	}
	return false
}

// LockIndexValues has nothing to do: bbolt write transactions are
// serialised, so no other writer runs until this one ends.
func (t *tx) LockIndexValues(string, []string) error { return nil }

func (t *tx) RemoveIndexEntry(key string, values []string, id string) error {
	if b := t.bucket(bucketIdx, lower(key)); b != nil {
		return b.Delete(codec.IndexEntry(values, id))
	}
	return nil
}

func (t *tx) ScanIndex(key string, prefix []string, fn func(id string) bool) error {
	return t.scanIndex(key, codec.IndexPrefix(prefix), nil, nil, fn)
}

func (t *tx) ScanIndexRange(key string, prefix []string, from, to string, fn func(id string) bool) error {
	p := codec.IndexPrefix(prefix)
	start := codec.AppendEscaped(bytes.Clone(p), from)
	var end []byte
	if to != "" {
		end = codec.IndexPrefix(append(slices.Clone(prefix), to))
	}
	return t.scanIndex(key, p, start, end, fn)
}

// scanIndex visits the entries with prefix p from seek on; with end set it
// stops after the entries whose next component is end's (end is p, that
// component, and its terminator). Entries sort as their components do, so
// an entry belongs to the range while its first len(end) bytes are <= end.
func (t *tx) scanIndex(key string, p, seek, end []byte, fn func(id string) bool) error {
	b := t.bucket(bucketIdx, lower(key))
	if b == nil {
		return nil
	}
	if seek == nil {
		seek = p
	}
	visited := uint64(0)
	defer func() { t.db.indexVisited.Add(visited) }()
	c := b.Cursor()
	for k, _ := c.Seek(seek); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if end != nil && bytes.Compare(k[:min(len(k), len(end))], end) > 0 {
			return nil
		}
		visited++
		if !fn(codec.EntryID(k)) {
			return nil
		}
	}
	return nil
}

func (t *tx) ScanCreated(from, to time.Time, fn func(id string) bool) error {
	b := t.bucket(bucketCreated)
	if b == nil {
		return nil
	}
	var seek, end []byte
	if !from.IsZero() {
		seek = createdKey(from, "")
	}
	if !to.IsZero() {
		end = createdKey(to, "")
	}
	c := b.Cursor()
	k, _ := c.First()
	if seek != nil {
		k, _ = c.Seek(seek)
	}
	for ; k != nil; k, _ = c.Next() {
		if end != nil && bytes.Compare(k[:8], end) > 0 {
			return nil
		}
		if !fn(string(k[8:])) {
			return nil
		}
	}
	return nil
}

// ForEachProfile re-seeks after each fn, so fn may put or delete profiles
// without upsetting the iteration (a bbolt cursor is not stable under
// writes to its bucket).
func (t *tx) ForEachProfile(fn func(p *profile.Profile) error) error {
	b := t.bucket(bucketProfiles)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; {
		p, err := codec.DecodeProfile(v)
		if err != nil {
			return codec.Corrupt(string(k), err)
		}
		t.db.profileReads.Add(1)
		t.remember(p)
		key := bytes.Clone(k)
		if err := fn(p); err != nil {
			return err
		}
		if k, v = c.Seek(key); bytes.Equal(k, key) {
			k, v = c.Next()
		}
	}
	return nil
}

func (t *tx) DropExtension(ext string) error {
	for k := range t.sets {
		if k.ext == strings.ToLower(ext) {
			delete(t.sets, k)
		}
	}
	if err := t.dropNested(bucketRecords, ext); err != nil {
		return err
	}
	return t.dropNested(bucketExt, ext)
}

func (t *tx) DropIndex(key string) error { return t.dropNested(bucketIdx, key) }

func (t *tx) dropNested(group []byte, name string) error {
	b := t.bucket(group)
	if b == nil {
		return nil
	}
	if err := b.DeleteBucket(lower(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// ProfilesAfter returns up to limit profiles whose ids sort after after, in
// id order, so long scans can run as many short read transactions.
func (t *tx) ProfilesAfter(after string, limit int) ([]*profile.Profile, error) {
	b := t.bucket(bucketProfiles)
	if b == nil {
		return nil, nil
	}
	var out []*profile.Profile
	c := b.Cursor()
	k, v := c.Seek([]byte(after))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil && len(out) < limit; k, v = c.Next() {
		p, err := codec.DecodeProfile(v)
		if err != nil {
			return nil, codec.Corrupt(string(k), err)
		}
		t.db.profileReads.Add(1)
		out = append(out, p)
	}
	return out, nil
}

// createdKey orders by creation time: unix nanoseconds, big-endian, with
// the sign bit flipped so that times before 1970 sort first too.
func createdKey(t time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(codec.UnixNanos(t))^1<<63)
	return append(k, id...)
}

func numKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func (t *tx) PutSetting(name, value string) error {
	return t.btx.Bucket(bucketMeta).Put([]byte(settingsPrefix+name), []byte(value))
}

func (t *tx) Setting(name string) (string, error) {
	return string(t.btx.Bucket(bucketMeta).Get([]byte(settingsPrefix + name))), nil
}

func (t *tx) Tenant() string { return string(bytes.TrimPrefix(t.tenant, tenantPrefix)) }
