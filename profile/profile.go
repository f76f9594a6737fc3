// Package profile is the customer-profile domain of profiled: profiles with
// schema-validated core attributes and extension records, identification
// by keys through secondary indexes, merge, and schema administration. It
// declares the Store it needs; package store implements it on bbolt. The
// HTTP APIs (profile/api for Genesys, egain for eGain) are thin adapters
// over Service.
package profile

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/schema"
)

// Profile is one customer profile.
type Profile struct {
	ID         string                     // customer_id, at most 16 characters
	Num        uint64                     // stable numeric id (the eGain customer id)
	Created    time.Time                  // creation time, UTC
	Updated    time.Time                  // last change, UTC
	Rev        uint64                     // firstRevision(Num) when created, bumped on every change; the ETag
	Attributes map[string]any             // core attributes by schema name; multi-valued as []any
	Extensions map[string][]schema.Record // extension records, only those a read asked for
}

// revisionBits is how many low bits of a revision count a profile's writes.
const revisionBits = 24

// firstRevision is the revision of a profile created with numeric id num.
// Revisions must not repeat across a delete and a create again under the
// same customer_id, or an If-Match tag read before the delete would match
// the new customer and overwrite it: the high bits carry num, never given
// twice by a store, and the low 24 count writes from 1. 24 bits keep every
// revision of the first 2^29 numbers within JSON's exact integers (2^53);
// a profile written 2^24 times spills into the next number's range, which
// only a customer_id deleted and created again as that very number could
// meet.
func firstRevision(num uint64) uint64 { return num<<revisionBits | 1 }

// Document is a profile as a read that only shows it needs it: the core
// fields decoded, attributes and records left as the stored JSON members.
// Building maps of them only to write them out again was most of the cost
// of a get (BenchmarkGetProfile: 135 -> 78 allocations).
type Document struct {
	ID         string
	Num        uint64
	Created    time.Time
	Updated    time.Time
	Rev        uint64
	Attributes []Member              // in stored order; a name's last member counts
	Extensions map[string][][]Member // records, only those a read asked for
}

// size is about how many bytes d's values take.
func (d *Document) size() int {
	n := 0
	for _, m := range d.Attributes {
		n += len(m.Name) + len(m.Value)
	}
	for _, recs := range d.Extensions {
		for _, r := range recs {
			for _, m := range r {
				n += len(m.Name) + len(m.Value)
			}
		}
	}
	return n
}

// Member is one member of a stored JSON object: a name and its value as
// JSON text.
type Member = jsonw.Member

// Store persists profiles, their extension records and index entries.
// Tenants are isolated: a Tx sees only its tenant's data. A store may be
// shared by several processes (replicas); everything below holds across them.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, tenant string, fn func(Tx) error) error
	// Update runs fn in a write transaction. Concurrent updates may share one
	// commit, and fn may run more than once (a store retries conflicts), so it
	// must only read from tx and assign its results, never act outside it.
	// If fn fails nothing it did is kept.
	Update(ctx context.Context, tenant string, fn func(Tx) error) error
	// SchemaState returns the stored schema overlay, index manifest and
	// schema version.
	SchemaState(ctx context.Context) (SchemaState, error)
	// UpdateSchema stores the schema overlay, the index manifest and the
	// hash of the schema they make (SchemaState.Hash), moves
	// the schema version from base to base+1 and runs fn for every tenant
	// (the default tenant "" always, first), all in one transaction that excludes every write of every process. It
	// fails with ErrSchemaMoved when the stored version is not base.
	UpdateSchema(ctx context.Context, base uint64, overlay, manifest []byte, hash string, fn func(tenant string, tx Tx) error) error
	// Tenants lists the tenants that have data ("" is the default tenant).
	Tenants() ([]string, error)
}

// SchemaState is what a store keeps of the schema: the overlay written by
// the metadata API, the manifest of the identification indexes, and a
// version bumped by every schema change.
type SchemaState struct {
	Overlay  []byte
	Manifest []byte
	Version  uint64
	// Hash is the schema hash (schema.Compiled.Hash) of the process that
	// stored this version: a replica that followed it with a config file
	// of its own that differs catches up once its file matches. "" when
	// a release before stored it.
	Hash string
}

// StoredHash is how a store keeps SchemaState.Hash: with the version it
// was stored for, so that a hash left by an earlier change (a release
// before did not write it) is not taken for the current version's.
func StoredHash(version uint64, hash string) string {
	if hash == "" {
		return ""
	}
	return strconv.FormatUint(version, 10) + ":" + hash
}

// HashOf is the hash a store kept with StoredHash, when it was stored for
// version; "" otherwise.
func HashOf(version uint64, stored string) string {
	v, hash, ok := strings.Cut(stored, ":")
	if !ok || v != strconv.FormatUint(version, 10) {
		return ""
	}
	return hash
}

// ErrDeferredWrite is in the chain of a write's refusal that a store
// reported at a later call than the write's (Tx): it may be an earlier
// write's, so it blames no particular one.
var ErrDeferredWrite = errors.New("a deferred write was refused")

// ErrSchemaMoved is UpdateSchema's answer when another process changed the
// stored schema since the caller read it.
var ErrSchemaMoved = errors.New("the stored schema changed concurrently")

// Tx is a transaction over one tenant's data. A store may defer its
// writes until the next read or the commit (PostgreSQL sends them in one
// round trip), so a write's refusal (a taken customer_id or unique value)
// may come from a later call or from Update itself (with ErrDeferredWrite
// in its chain); either way the transaction fails whole.
type Tx interface {
	// PutSetting stores a server setting in this transaction, so it is
	// kept exactly when the transaction's other writes are (an import's
	// progress mark, an erasure's tombstone).
	PutSetting(name, value string) error
	// Setting reads a server setting ("" when unset).
	Setting(name string) (string, error)
	// Tenant is the tenant this transaction works in.
	Tenant() string
	// SchemaVersion is the stored schema version this transaction runs
	// under; a write compares it with the version its schema was built from.
	SchemaVersion() (uint64, error)
	// Profile returns the profile (without extensions) or nil if absent.
	// In a write transaction it also keeps other writers off the profile
	// until the transaction ends.
	Profile(id string) (*Profile, error)
	// Document is Profile for a read that only shows the profile (nil if
	// absent); it keeps no other writer off the profile.
	Document(id string) (*Document, error)
	// RecordDocuments is RecordSets for such a read: each record as its
	// stored members.
	RecordDocuments(id string, exts []string) (map[string][][]Member, error)
	// IDByNum returns the customer_id of a numeric id, "" if absent.
	IDByNum(num uint64) (string, error)
	// NextNum allocates a numeric id, unique across tenants.
	NextNum() (uint64, error)
	// PutProfile replaces the profile's core data if this transaction read
	// it with Profile, and otherwise creates it: a create never overwrites a
	// profile another writer stored meanwhile (CodeProfileExists).
	PutProfile(p *Profile) error
	// DeleteProfile removes the profile's core data and all its extension
	// records (index entries are removed by the caller).
	DeleteProfile(p *Profile) error
	// PurgeProfile removes everything stored under customer id — profile,
	// records, index entries, numeric id and creation entry — without
	// reading any of it: the way out for a customer whose stored data is
	// damaged, where DeleteProfile's caller cannot know the index entries.
	// It may scan the store's indexes.
	PurgeProfile(id string) error
	// Records returns the records of one extension of a profile. They
	// must not be changed in place: a store recognises records handed back
	// to PutRecords unchanged and does not write them again.
	Records(ext, id string) ([]schema.Record, error)
	// RecordSets returns the records of several extensions of a profile
	// at once (one round trip on a networked store), keyed by the names
	// as given; an extension without records is absent.
	RecordSets(id string, exts []string) (map[string][]schema.Record, error)
	// StoredExtensions names (lower-cased, sorted) the extensions customer
	// id has records of, declared or not: a reload that removes an
	// extension from the schema leaves its records stored, hidden.
	StoredExtensions(id string) ([]string, error)
	// PutRecords replaces them; an empty set deletes them. A store writes
	// only the records that differ from those stored (one key or row per
	// record), so a write costs what it changes, not the set.
	PutRecords(ext, id string, records []schema.Record) error

	// AddIndexEntry and RemoveIndexEntry maintain identification key
	// indexes: values are index texts, in key attribute order. An entry of
	// a unique key is refused by the store (CodeUniqueKeyViolation) when
	// another customer has the same values.
	AddIndexEntry(key string, values []string, id string, unique bool) error
	RemoveIndexEntry(key string, values []string, id string) error
	// LockIndexValues keeps every other writer, in every process, from
	// checking or claiming values of key until this transaction ends: a
	// uniqueness check that reads the index holds it first.
	LockIndexValues(key string, values []string) error
	// ScanIndex calls fn for every customer whose entry of key starts with
	// prefix, in index order, until fn returns false.
	ScanIndex(key string, prefix []string, fn func(id string) bool) error
	// ScanIndexRange is ScanIndex where the component after prefix lies in
	// [from, to] (either bound may be "" for open).
	ScanIndexRange(key string, prefix []string, from, to string, fn func(id string) bool) error
	// ScanCreated calls fn for customers created in [from, to] (zero bound: open), oldest first.
	ScanCreated(from, to time.Time, fn func(id string) bool) error

	// ProfilesAfter returns up to limit profiles with ids after after, in id
	// order: long scans page through it in short transactions.
	ProfilesAfter(after string, limit int) ([]*Profile, error)
	// ForEachProfile visits every profile of the tenant (schema changes only).
	ForEachProfile(fn func(p *Profile) error) error
	// DropExtension deletes every record of an extension.
	DropExtension(ext string) error
	// DropIndex deletes every entry of an identification key.
	DropIndex(key string) error

	// AppendAudit appends e to the tenant's audit trail and sets e.Seq.
	AppendAudit(e *AuditEntry) error
	// Audit calls fn with the tenant's audit entries f selects, newest
	// first, until fn returns false.
	Audit(f StoreFilter, fn func(e *AuditEntry) bool) error
	// DeleteAuditBefore deletes up to max of the tenant's oldest audit
	// entries older than t and says how many it deleted.
	DeleteAuditBefore(t time.Time, max int) (int, error)
}

// CodeStoreUnavailable is the error code of store operations that cannot
// run now (a failed commit, a closed store, an unreachable database); the
// APIs answer it with 503 and show no internal detail.
const CodeStoreUnavailable = "STORE_UNAVAILABLE"
