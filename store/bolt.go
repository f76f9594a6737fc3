// Package store persists profiles in an embedded bbolt file and implements
// profile.Store. Writes go through a group committer that runs concurrent
// updates in one transaction with one fsync; reads are bbolt read
// transactions that never wait for writers. The package also offers the
// hot backup, consistency check, readiness and metrics hooks the ops
// package uses, and the eGain session table (session.Store).
//
// Layout of the file (nested buckets indented, keys → values):
//
//	meta
//	  schema_overlay → the schema overlay document
//	  seq            (bucket; its NextSequence allocates numeric ids, unique across tenants)
//	tenants
//	  "t:"+tenant    (bucket per tenant, created on its first write; the default tenant is "")
//	    profiles     customer_id → v1 profile core (id, num, created, updated, rev, attributes)
//	    nums         8-byte big-endian num → customer_id
//	    created      8-byte big-endian unix nanos (sign bit flipped) + customer_id → empty
//	    ext
//	      <ext>      (bucket per lower-cased extension name) customer_id → v1 []schema.Record
//	    idx
//	      <key>      (bucket per lower-cased key name) index entry (see IndexEntry) → empty
//	sessions         session id → JSON {"user","created","last_seen"} (session.go)
//
// v1 values are a version byte (1) and JSON decoded with UseNumber, so the
// stored value types are exactly the schema layer's: string, bool,
// json.Number, []any.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

var (
	bucketMeta     = []byte("meta")
	bucketSeq      = []byte("seq")
	bucketTenants  = []byte("tenants")
	bucketSessions = []byte("sessions")
	keyOverlay     = []byte("schema_overlay")
	keyManifest    = []byte("index_manifest")
	keyVersion     = []byte("schema_version")
	keySchemaHash  = []byte("schema_hash") // profile.StoredHash

	bucketProfiles = []byte("profiles")
	bucketNums     = []byte("nums")
	bucketCreated  = []byte("created")
	bucketExt      = []byte("ext")
	bucketIdx      = []byte("idx")
)

// CodeUnavailable is the error code of writes the store cannot make now (a
// failed commit, a closed store); the APIs answer them with 503.
const CodeUnavailable = profile.CodeStoreUnavailable

// defaultOpenTimeout applies when Options leave OpenTimeout zero: bbolt
// would otherwise wait forever for a file another process holds.
const defaultOpenTimeout = 2 * time.Second

// initialMmapSize is the address space mapped for a writable data file
// from the start (etcd maps 10 GiB): it costs no memory and, on Linux, no
// disk (the file grows with its data, in steps of 16 MiB), and until the
// file outgrows it no write waits for a reader. 32-bit builds, and a
// process whose address space is limited, map as the file grows.
const initialMmapSize = (8 << 30) * (strconv.IntSize / 64) // 0 on 32-bit

// ErrInUse marks a data file another process holds (a running server).
var ErrInUse = errors.New("in use by another profiled process")

// Options configure Open.
type Options struct {
	// OpenTimeout bounds the wait for the file lock, so a second process
	// on the same file fails fast instead of hanging.
	OpenTimeout time.Duration
	// ReadOnly opens an existing file for reading only (profiled check):
	// nothing is written, not even the initial buckets; writes fail.
	ReadOnly bool
}

// DB is the bbolt-backed profile store. It is safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
	readOnly bool // Options.ReadOnly: no committer

	// mu guards closed and the sends on queue, so Close never closes the
	// queue under a sender.
	mu      sync.RWMutex
	closed  bool
	queue   chan *call
	stopped chan struct{} // closed when the committer has exited

	commits, batchedCalls, indexVisited, profileReads, recordsWritten atomic.Uint64

	sessions sessionCache      // see store/session.go
	readers  readerGenerations // see store/scrub.go

	// failCommit, when set, is called before each commit and makes it fail
	// with its error: the test hook for disk faults. Set it only while no
	// Update is in flight.
	failCommit func() error

	// lostPages, set and read by the committer alone, is the error of a
	// commit that panicked after allocating pages (commit): it fails every
	// later write, for the freelist in memory has lost those pages.
	lostPages error
}

var _ profile.Store = (*DB)(nil)

// Open opens or creates the data file at path, creating its directory,
// and starts the committer.
func Open(path string, opts Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	timeout := opts.OpenTimeout
	if timeout <= 0 {
		timeout = defaultOpenTimeout
	}
	if err := checkDataFile(path); err != nil {
		return nil, err
	}
	// A file this call creates is removed again when the open fails (a
	// full disk while bbolt writes the first pages): left behind empty, it
	// would be refused at every later start as a truncated data file. It is
	// created here, exclusively, so a file another process made meanwhile
	// (or a dangling symlink) is never taken for ours; bbolt initialises an
	// empty file as a new one.
	created := false
	if !opts.ReadOnly {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			created = true
			if err := f.Close(); err != nil {
				return nil, fmt.Errorf("store: creating %s: %w", path, err)
			}
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("store: creating %s: %w", path, err)
		}
	}
	removeCreated := func() {
		if created {
			os.Remove(path)
		}
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store: no data file %s: %w", path, err)
		}
	}
	boltOpts := &bolt.Options{
		ReadOnly:     opts.ReadOnly,
		Timeout:      timeout,
		FreelistType: bolt.FreelistMapType, // O(1) page allocation in a large file
		// NoSync stays false: an acknowledged write is on disk.
	}
	if !opts.ReadOnly {
		// A commit that grows the file past the mapping remaps it, and a
		// remap waits for every open read transaction: without room to
		// grow, a hot backup would hold up every write until it ends.
		boltOpts.InitialMmapSize = initialMmapSize
	}
	bdb, err := openBolt(path, boltOpts)
	if errors.Is(err, syscall.ENOMEM) && boltOpts.InitialMmapSize > 0 {
		// Address space is limited (ulimit -v): map as the file grows.
		boltOpts.InitialMmapSize = 0
		bdb, err = openBolt(path, boltOpts)
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store: data file %s is %w (bbolt lock not acquired within %s)", path, ErrInUse, timeout)
	}
	if errors.Is(err, ErrDamagedPage) { // the freelist page, which a writable open reads
		return nil, damagedFile(path, err)
	}
	if err != nil {
		removeCreated()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	if opts.ReadOnly {
		// No committer; closed from the start, so writes fail at once.
		return &DB{bolt: bdb, readOnly: true, closed: true}, nil
	}
	err = initBuckets(bdb)
	if err != nil {
		bdb.Close()
		removeCreated()
		if errors.Is(err, ErrDamagedPage) { // a page every request needs: nothing can be served
			return nil, damagedFile(path, err)
		}
		return nil, fmt.Errorf("store: initialising %s: %w", path, err)
	}
	db := &DB{bolt: bdb, queue: make(chan *call, maxBatch), stopped: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// openBolt is bolt.Open with a page bbolt cannot read reported as
// corrupt: a writable open reads the freelist page. (The file stays
// locked by this process then: bbolt does not close it.)
func openBolt(path string, opts *bolt.Options) (bdb *bolt.DB, err error) {
	defer recoverDamage(&err)
	return bolt.Open(path, 0o600, opts)
}

// damagedFile is Open's error for a page it cannot read, which every
// request needs: nothing can be served, as for a file checkDataFile refuses.
func damagedFile(path string, err error) error {
	return fmt.Errorf("store: data file %s: %w: %w; %s", path, ErrDamagedFile, errs.As(err).Err, restoreAdvice)
}

// initBuckets makes the top-level buckets a new file lacks.
func initBuckets(bdb *bolt.DB) (err error) {
	defer recoverDamage(&err)
	return bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketTenants, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		_, err := tx.Bucket(bucketMeta).CreateBucketIfNotExists(bucketSeq)
		return err
	})
}

// Close stops accepting writes (later ones fail as unavailable), commits
// those already queued, and closes the file once open reads are done.
func (db *DB) Close() error {
	if db.readOnly {
		return db.bolt.Close()
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.queue)
	db.mu.Unlock()
	<-db.stopped
	return db.bolt.Close()
}

func unavailable(msg string, err error) error {
	return &errs.Error{Kind: errs.KindUnavailable, Code: CodeUnavailable, Message: msg, Err: err}
}

var errClosed = unavailable("the profile store is closed", nil)

// view runs a bbolt read transaction, reporting a closed store as
// unavailable and a page bbolt cannot read as corrupt (damage.go).
func (db *DB) view(fn func(*bolt.Tx) error) (err error) {
	gen := db.readers.begin()
	defer db.readers.end(gen) // a panic in fn, recovered above, must not leave it counted
	defer recoverDamage(&err)
	err = db.bolt.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return errClosed
	}
	return err
}

// View runs fn in a read-only transaction over tenant's data.
func (db *DB) View(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.view(func(btx *bolt.Tx) error { return fn(db.newTx(btx, tenant)) })
}

// Update runs fn in a write transaction over tenant's data, possibly
// sharing the transaction and its commit with concurrent updates.
func (db *DB) Update(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return db.update(ctx, func(btx *bolt.Tx) error { return fn(db.newTx(btx, tenant)) })
}

// UpdateSchema stores overlay and manifest (an empty one removes it),
// moves the schema version from base to base+1 and runs fn for every tenant
// that has data, in one transaction.
func (db *DB) UpdateSchema(ctx context.Context, base uint64, overlay, manifest []byte, hash string, fn func(tenant string, tx profile.Tx) error) error {
	return db.update(ctx, func(btx *bolt.Tx) error {
		meta := btx.Bucket(bucketMeta)
		if schemaVersion(meta) != base {
			return profile.ErrSchemaMoved
		}
		if err := meta.Put(keyVersion, binary.BigEndian.AppendUint64(nil, base+1)); err != nil {
			return err
		}
		for key, value := range map[string][]byte{string(keyOverlay): overlay, string(keyManifest): manifest, string(keySchemaHash): []byte(profile.StoredHash(base+1, hash))} {
			var err error
			if len(value) == 0 {
				err = meta.Delete([]byte(key))
			} else {
				err = meta.Put([]byte(key), value)
			}
			if err != nil {
				return err
			}
		}
		return db.eachTenant(btx, fn)
	})
}

// eachTenant runs fn for every tenant of btx, the default tenant first
// (it keeps a schema change's audit entry).
func (db *DB) eachTenant(btx *bolt.Tx, fn func(tenant string, tx profile.Tx) error) error {
	// Names first: fn changes the tenant buckets being iterated.
	var tenants []string
	err := btx.Bucket(bucketTenants).ForEachBucket(func(k []byte) error {
		tenants = append(tenants, string(bytes.TrimPrefix(k, tenantPrefix)))
		return nil
	})
	if err != nil {
		return err
	}
	if !slices.Contains(tenants, "") {
		tenants = slices.Insert(tenants, 0, "")
	}
	for _, t := range tenants {
		if err := fn(t, db.newTx(btx, t)); err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion reads the stored schema version; files written before
// versions existed are at 0.
func schemaVersion(meta *bolt.Bucket) uint64 {
	if v := meta.Get(keyVersion); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Tenants lists the tenants that have data ("" is the default tenant).
func (db *DB) Tenants() ([]string, error) {
	var tenants []string
	err := db.view(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketTenants).ForEachBucket(func(k []byte) error {
			tenants = append(tenants, string(bytes.TrimPrefix(k, tenantPrefix)))
			return nil
		})
	})
	return tenants, err
}

// SchemaState returns the stored schema overlay, index manifest and version.
func (db *DB) SchemaState(ctx context.Context) (profile.SchemaState, error) {
	var st profile.SchemaState
	err := db.view(func(btx *bolt.Tx) error {
		meta := btx.Bucket(bucketMeta)
		st = profile.SchemaState{
			Overlay:  bytes.Clone(meta.Get(keyOverlay)),
			Manifest: bytes.Clone(meta.Get(keyManifest)),
			Version:  schemaVersion(meta),
		}
		st.Hash = profile.HashOf(st.Version, string(meta.Get(keySchemaHash)))
		return nil
	})
	return st, err
}

// Snapshot calls fn with the size of a consistent copy of the whole file
// and a function writing exactly that copy, both from one read
// transaction, so it is a hot backup while writes carry on (see
// ops.Snapshotter). Commits that must grow the file wait until fn returns.
func (db *DB) Snapshot(fn func(size int64, writeTo func(io.Writer) (int64, error)) error) error {
	return db.view(func(btx *bolt.Tx) error { return fn(btx.Size(), btx.WriteTo) })
}

// CheckFile opens the data file at path read-only and verifies bbolt's
// consistency and that it holds a profile store: for backups and offline
// checks. A file a running server holds fails with a lock timeout.
func CheckFile(path string) error {
	if err := checkDataFile(path); err != nil {
		return err
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: defaultOpenTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("store: data file %s is %w: stop the server first (or check a backup of it)", path, ErrInUse)
	}
	if err != nil {
		return fmt.Errorf("store: checking %s: %w", path, err)
	}
	defer bdb.Close()
	err = viewFile(bdb, func(btx *bolt.Tx) error {
		var problems []error
		for err := range btx.Check() {
			problems = append(problems, err)
		}
		// Apart, so that a damaged root page keeps what Check found.
		buckets := func() (err error) {
			defer recoverDamage(&err)
			var missing []error
			for _, name := range [][]byte{bucketMeta, bucketTenants, bucketSessions} {
				if btx.Bucket(name) == nil {
					missing = append(missing, fmt.Errorf("bucket %q missing: not a profiled data file", name))
				}
			}
			return errors.Join(missing...)
		}
		return errors.Join(append(problems, buckets())...)
	})
	if err != nil {
		return fmt.Errorf("store: checking %s: %w: %w", path, ErrStructure, err)
	}
	return nil
}

// viewFile is bdb.View for a file opened apart from a DB, with a page
// bbolt cannot read reported as corrupt.
func viewFile(bdb *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(&err)
	return bdb.View(fn)
}

// ErrStructure marks a data file whose pages or buckets CheckFile found
// damaged, as against one it could not check (in use, not a file).
var ErrStructure = errors.New("the file's structure is damaged")

// ReadOverlay reads the stored schema overlay from the data file at path,
// opened read-only, for offline checks (check-config). No file or no
// overlay is an empty document; a file a running server holds fails after
// timeout.
func ReadOverlay(path string, timeout time.Duration) (schema.Document, error) {
	var doc schema.Document
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return doc, nil
	}
	if timeout <= 0 {
		timeout = defaultOpenTimeout
	}
	if err := checkDataFile(path); err != nil {
		return doc, err
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return doc, fmt.Errorf("store: data file %s is %w", path, ErrInUse)
	}
	if err != nil {
		return doc, fmt.Errorf("store: reading the schema overlay from %s: %w", path, err)
	}
	defer bdb.Close()
	err = viewFile(bdb, func(btx *bolt.Tx) error {
		if meta := btx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keyOverlay); v != nil {
				return json.Unmarshal(v, &doc)
			}
		}
		return nil
	})
	if err != nil {
		return schema.Document{}, fmt.Errorf("store: reading the schema overlay from %s: %w", path, err)
	}
	return doc, nil
}

// Ping reports whether the store is open and a read transaction works: the
// readiness check.
func (db *DB) Ping() error {
	return db.view(func(btx *bolt.Tx) error {
		if btx.Bucket(bucketTenants) == nil {
			return errors.New("store: tenants bucket missing")
		}
		return nil
	})
}

// RecordsWritten counts the extension records write transactions stored
// since Open, attempts that rolled back included (a write stores only the
// records it changes).
func (db *DB) RecordsWritten() uint64 { return db.recordsWritten.Load() }

// ProfileCount counts the profiles of all tenants from the counters kept by
// every create and delete: one key per tenant, cheap for a metrics scrape.
func (db *DB) ProfileCount() (int, error) {
	n := 0
	err := db.view(func(btx *bolt.Tx) error {
		tenants := btx.Bucket(bucketTenants)
		return tenants.ForEachBucket(func(k []byte) error {
			if v := tenants.Bucket(k).Get(keyCount); len(v) == 8 {
				n += int(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	return n, err
}

// Size is the data file's size in bytes, 0 if it cannot be read. The file
// grows ahead of its data, in steps of 16 MiB (sparse until written).
func (db *DB) Size() int64 {
	fi, err := os.Stat(db.bolt.Path())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Stats are cumulative counters since Open, for metrics and tests.
type Stats struct {
	Commits             uint64     // write transactions committed (one fsync each)
	BatchedCalls        uint64     // write calls committed; BatchedCalls/Commits is calls per fsync
	IndexEntriesVisited uint64     // index entries ScanIndex and ScanIndexRange visited
	ProfileReads        uint64     // profiles decoded by Profile and ForEachProfile
	RecordsWritten      uint64     // extension records stored (a write stores only those it changes)
	Bolt                bolt.Stats // bbolt's own transaction and freelist statistics
	Size                int64      // file size in bytes
}

// Stats returns the current counters.
func (db *DB) Stats() Stats {
	return Stats{
		Commits:             db.commits.Load(),
		BatchedCalls:        db.batchedCalls.Load(),
		IndexEntriesVisited: db.indexVisited.Load(),
		ProfileReads:        db.profileReads.Load(),
		RecordsWritten:      db.recordsWritten.Load(),
		Bolt:                db.bolt.Stats(),
		Size:                db.Size(),
	}
}

// settingsPrefix keys server settings in the meta bucket.
const settingsPrefix = "setting:"

// Setting returns the server setting name ("" when unset): the server mode.
func (db *DB) Setting(_ context.Context, name string) (string, error) {
	var v string
	err := db.view(func(btx *bolt.Tx) error {
		v = string(btx.Bucket(bucketMeta).Get([]byte(settingsPrefix + name)))
		return nil
	})
	return v, err
}

// SetSetting stores a server setting, durably like any write.
func (db *DB) SetSetting(ctx context.Context, name, value string) error {
	return db.update(ctx, func(btx *bolt.Tx) error {
		return btx.Bucket(bucketMeta).Put([]byte(settingsPrefix+name), []byte(value))
	})
}
