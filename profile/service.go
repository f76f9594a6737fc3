package profile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/extensions"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of profile operations.
const (
	CodeProfileNotFound    = "PROFILE_NOT_FOUND"
	CodeProfileExists      = "PROFILE_EXISTS"
	CodeIDMismatch         = "CUSTOMER_ID_MISMATCH"
	CodeRevisionMismatch   = "REVISION_MISMATCH"
	CodeSingleValued       = "EXTENSION_IS_SINGLE_VALUED"
	CodeMergeSelf          = "MERGE_WITH_SELF"
	CodeUnknownExtension   = schema.CodeUnknownExtension
	CodeNoExtensionsInBody = "NO_EXTENSIONS"
)

// Service is the profile domain: every API goes through it.
type Service struct {
	store  Store
	schema *schema.Registry
	Now    func() time.Time // the clock; tests may fix it
	// RecordLimit is how many records of one extension one customer may
	// hold (0: DefaultRecordLimit). Without it, repeated inserts grow one
	// profile without bound, and every later write of it, which rewrites
	// its record set, grows slower with it.
	RecordLimit int
	// IdentifyBytes bounds the stored data one identify answer carries when
	// it includes profiles or records (0: DefaultIdentifyBytes): a
	// read-only client asking for a common surname with every customer's
	// records had one request hold 600 MB. Identification.Truncated tells
	// when customers were left out for it (the first is always in).
	IdentifyBytes int
	// IdentifyCandidates bounds the customers one identify reads to check
	// filters outside its key's prefix (0: DefaultIdentifyCandidates): a
	// common surname with a filter no customer met read every namesake,
	// 50,000 reads of 35 s and more on PostgreSQL. Identification.Truncated
	// tells when candidates were left unchecked.
	IdentifyCandidates int
	// LookupExtraEntries bounds the index entries a Reader lookup reads
	// beyond its limit of customers (0: DefaultLookupExtraEntries).
	LookupExtraEntries int
	// Reads says how reads are audited; OnRead counts them when it is
	// ReadsCount (config audit.reads).
	Reads  ReadAudit
	OnRead func(actor string)
	// OnFollow is told of each schema another process stored that this one
	// caught up with (by its watch, a write or a refused request).
	OnFollow func(c *schema.Compiled)
	// OnChange is told of each schema this process stored and swapped in
	// (a metadata change, a reload, the sync at start).
	OnChange func(c *schema.Compiled)
	// BeforeMerge, when set, may replace records of src (the source's record
	// sets, by extension name) before a merge joins them with dest's, for
	// records whose unique values are numbers per customer (the eGain
	// facade's contact persons and points), which would otherwise be taken
	// for the destination's and dropped. It must not change the records it
	// is given, only put others in their place.
	BeforeMerge func(c *schema.Compiled, dest, src map[string][]schema.Record)
	// unfollowable is the stored schema version this process's config
	// could not follow: requests refused under the live schema do not try
	// again for it (each try recompiles, under the schema lock).
	unfollowable atomic.Uint64
	// staleKeys names (lower-cased) the live schema's identification keys
	// whose index the store does not hold as this process's config defines
	// them: another process changed the schema and this one could not
	// follow. Reads through them answer CodeSchemaOutOfSync, not what an
	// index built for another definition (or dropped) happens to hold.
	staleKeys atomic.Pointer[map[string]bool]
	// withoutAudit skips the trail of profile writes: only the benchmark
	// that measures what the trail costs sets it (export_test.go).
	withoutAudit bool

	// schemaMu is held shared by every write from the moment it reads the
	// schema until its commit, and exclusively by schema changes: no write
	// commits under a schema other than the one it was validated and indexed
	// with, and an index build never misses a write.
	schemaMu sync.RWMutex
}

// DefaultRecordLimit is RecordLimit's default (config
// limits.max_records_per_extension).
const DefaultRecordLimit = 1000

// CodeTooManyRecords refuses a write that would leave a customer with more
// records of one extension than RecordLimit, or that brings more than
// schema.MaxRecordsPerWrite: one code for both, as clients see one limit.
const CodeTooManyRecords = schema.CodeTooManyRecords

func (s *Service) identifyBytes() int {
	if s.IdentifyBytes > 0 {
		return s.IdentifyBytes
	}
	return DefaultIdentifyBytes
}

func (s *Service) identifyCandidates() int {
	if s.IdentifyCandidates > 0 {
		return s.IdentifyCandidates
	}
	return DefaultIdentifyCandidates
}

func (s *Service) recordLimit() int {
	if s.RecordLimit > 0 {
		return s.RecordLimit
	}
	return DefaultRecordLimit
}

// checkRecordLimit refuses new record sets beyond the limit (a create's, a
// merge's grown sets; a change's writes go through limitedTx).
func (s *Service) checkRecordLimit(sets map[string][]schema.Record) error {
	limit := s.recordLimit()
	for _, ext := range slices.Sorted(maps.Keys(sets)) {
		if recs := sets[ext]; len(recs) > limit {
			return errs.Invalid(CodeTooManyRecords, ext, "extension %q would hold %d records for this customer; at most %d are allowed (limits.max_records_per_extension)", ext, len(recs), limit)
		}
	}
	return nil
}

// limitedTx holds a change's record writes to the record limit: a set
// written over the limit must not have grown, so a customer over a lowered
// limit can still shrink. The stored set is read, before it is replaced,
// only on that rare over-limit path.
type limitedTx struct {
	Tx
	id    string
	limit int
}

func (t limitedTx) PutRecords(ext, id string, records []schema.Record) error {
	if len(records) > t.limit {
		old, err := t.Tx.Records(ext, id)
		if err != nil {
			return err
		}
		if len(records) > len(old) {
			return errs.Invalid(CodeTooManyRecords, ext, "extension %q would hold %d records for this customer; at most %d are allowed (limits.max_records_per_extension)", ext, len(records), t.limit)
		}
	}
	return t.Tx.PutRecords(ext, id, records)
}

// changedRecords is the Tx an edit writes through: a record set equal to
// the one read (as the schema reads it) is not written again when it is
// also stored so (none of its records in an older spelling or form), and
// which sets were written is noted. Every set is compared, also after one
// was written: what is written, and so what the audit entry names, must
// not depend on the order an edit writes its sets in (a map's).
type changedRecords struct {
	Tx
	read    *respelled      // the transaction's (Tx wrappers hide it)
	written map[string]bool // the extensions whose records were written
}

func (t *changedRecords) PutRecords(ext, id string, records []schema.Record) error {
	stored, err := t.Tx.Records(ext, id)
	if err != nil {
		return err
	}
	if t.read.setAsStored(ext, id) && len(stored) == len(records) && (len(records) == 0 || reflect.DeepEqual(stored, records)) {
		return nil
	}
	if t.written == nil {
		t.written = map[string]bool{}
	}
	t.written[ext] = true
	return t.Tx.PutRecords(ext, id, records)
}

// NewService returns a Service over store, validating with the registry's live schema.
func NewService(store Store, registry *schema.Registry) *Service {
	return &Service{store: store, schema: registry, Now: time.Now}
}

// Schema returns the live compiled schema.
func (s *Service) Schema() *schema.Compiled { return s.schema.Current() }

// CreateOptions tunes Create for the facades.
type CreateOptions struct {
	// UniqueKeys are identification keys that must not already match another
	// customer for this profile, though the schema does not mark them
	// unique (eGain: an e-mail address belongs to one contact point).
	UniqueKeys []string
	// AnyWords lifts the Genesys API's unauthorized-strings rule (spec §7)
	// for a facade whose clients know no such rule (eGain).
	AnyWords bool
}

// Create validates body (a whole profile) and stores it with its extension
// records and index entries in one transaction.
func (s *Service) Create(ctx context.Context, tenant string, body map[string]any, opts CreateOptions) (*Profile, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		doc, err := prepareCreate(c, body, opts.AnyWords)
		if err != nil {
			return nil, err
		}
		var created *Profile
		err = s.write(ctx, tenant, c, OpCreate, func(tx Tx) error {
			created, err = s.insert(tx, c, doc, opts)
			return err
		})
		return created, err
	})
}

// BodyError is a bulk-load problem: which body of the batch (its index in
// the slice given to CreateMany) and why.
type BodyError struct {
	Index int
	Err   error
}

func (e *BodyError) Error() string { return fmt.Sprintf("body %d of the batch: %v", e.Index, e.Err) }
func (e *BodyError) Unwrap() error { return e.Err }

// InvalidBodies are every body of a batch that failed validation, in
// order: a caller setting bad bodies aside drops them all and stores the
// rest in one more transaction, not one per bad body.
type InvalidBodies []*BodyError

func (e InvalidBodies) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	return fmt.Sprintf("%v (and %d more bodies)", e[0], len(e)-1)
}

func (e InvalidBodies) Unwrap() []error {
	out := make([]error, len(e))
	for i, be := range e {
		out[i] = be
	}
	return out
}

// CreateMany validates every body first and then stores them all in one
// transaction: the bulk path of `profiled import`. Invalid bodies fail the
// batch with InvalidBodies naming each; a conflict while storing fails it
// with a *BodyError naming the body.
func (s *Service) CreateMany(ctx context.Context, tenant string, bodies []map[string]any, mark Mark) (int, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (int, error) {
		docs := make([]*schema.Doc, len(bodies))
		var invalid InvalidBodies
		for i, body := range bodies {
			doc, err := prepareCreate(c, body, false)
			if err != nil {
				invalid = append(invalid, &BodyError{Index: i, Err: err})
			}
			docs[i] = doc
		}
		if len(invalid) > 0 {
			return 0, invalid
		}
		err := s.write(ctx, tenant, c, OpImport, func(tx Tx) error {
			for i, doc := range docs {
				if _, err := s.insert(tx, c, doc, CreateOptions{}); err != nil {
					if errors.Is(err, ErrDeferredWrite) {
						return err // maybe an earlier body's: the caller finds whose
					}
					return &BodyError{Index: i, Err: err}
				}
			}
			if mark.Name != "" {
				return tx.PutSetting(mark.Name, mark.Value)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		return len(docs), nil
	})
}

// Mark is a setting CreateMany stores in the batch's own transaction (an
// import's progress), so it never says more or less than what committed.
type Mark struct{ Name, Value string }

func prepareCreate(c *schema.Compiled, body map[string]any, anyWords bool) (*schema.Doc, error) {
	doc, err := prepareProfile(c, body, anyWords)
	if err != nil {
		return nil, err
	}
	if err := checkRecordOwners(c, body, doc, doc.CustomerID); err != nil {
		return nil, err
	}
	return doc, checkRecordSets(c, doc.Extensions)
}

// insert stores a new profile from a prepared document inside tx.
func (s *Service) insert(tx Tx, c *schema.Compiled, doc *schema.Doc, opts CreateOptions) (*Profile, error) {
	num, err := tx.NextNum()
	if err != nil {
		return nil, err
	}
	id := doc.CustomerID
	if id == "" {
		if id, err = newID(tx, num); err != nil {
			return nil, err
		}
	} else if old, err := tx.Profile(id); err != nil {
		return nil, err
	} else if old != nil {
		return nil, errs.Conflict(CodeProfileExists, "customer_id %q is already used", id)
	} else if t, err := tombstone(tx, id); err != nil {
		return nil, err
	} else if t != nil {
		return nil, errs.Conflict(CodeProfileErased, "customer_id %q belonged to a customer erased on %s; it is not used again", id, t.At.Format(time.RFC3339))
	}
	if err := s.checkRecordLimit(doc.Extensions); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p := &Profile{ID: id, Num: num, Created: now, Updated: now, Rev: firstRevision(num), Attributes: doc.Attributes}
	if err := tx.PutProfile(p); err != nil {
		return nil, err
	}
	after := indexed{attributes: p.Attributes, records: map[string][]schema.Record{}}
	for _, ext := range slices.Sorted(maps.Keys(doc.Extensions)) {
		recs := doc.Extensions[ext]
		after.records[ext] = recs
		if len(recs) == 0 {
			continue // a new customer has none: the set writes nothing, and the audit entry must not name it
		}
		if err := tx.PutRecords(ext, id, recs); err != nil {
			return nil, err
		}
	}
	if err := syncIndexes(tx, c, id, nil, &after); err != nil {
		return nil, err
	}
	if err := checkExtraUnique(tx, c, opts.UniqueKeys, nil, &after, id); err != nil {
		return nil, err
	}
	p.Extensions = doc.Extensions
	return p, nil
}

// checkExtraUnique enforces CreateOptions.UniqueKeys on the entries in
// yields that before (the profile as stored, nil for a create) did not:
// a value the customer already had stays theirs, even if a write that
// does not enforce the key (a Genesys write) gave it to another customer
// meanwhile, so that customer's other edits still go through.
func checkExtraUnique(tx Tx, c *schema.Compiled, keys []string, before, in *indexed, id string) error {
	for _, name := range keys {
		k, ok := c.Key(name)
		if !ok {
			continue
		}
		entries, err := keyEntries(k, *in)
		if err != nil {
			return err
		}
		had := map[string]bool{}
		if before != nil {
			old, err := keyEntries(k, *before)
			if err != nil {
				return err
			}
			for _, t := range old {
				had[entryID(t)] = true
			}
		}
		for _, t := range entries {
			if had[entryID(t)] {
				continue
			}
			if err := checkUniqueEntry(tx, k, t, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRecordSets enforces per-customer uniqueness within each record set.
func checkRecordSets(c *schema.Compiled, sets map[string][]schema.Record) error {
	for _, ext := range slices.Sorted(maps.Keys(sets)) {
		e, _ := c.Extension(ext)
		if err := extensions.CheckUnique(e, sets[ext]); err != nil {
			return err
		}
	}
	return nil
}

// idAlphabet gives ids like the vendor's samples (0004Va58A92T0017).
const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idSequenceWidth characters of a generated id carry the numeric id, so
// generated ids sort by creation and new profiles append to the store's
// B+trees instead of dirtying random pages; the rest are random, so an id
// cannot be guessed from the count.
const idSequenceWidth = 9

// newID makes a 16-character id for the profile with numeric id num.
func newID(tx Tx, num uint64) (string, error) {
	var b [schema.MaxCustomerIDLength]byte
	for i := idSequenceWidth - 1; i >= 0; i-- {
		b[i] = idAlphabet[num%uint64(len(idAlphabet))]
		num /= uint64(len(idAlphabet))
	}
	for {
		randomChars(b[idSequenceWidth:])
		id := string(b[:])
		p, err := tx.Profile(id) // a client may have chosen it
		if err != nil || p == nil {
			return id, err
		}
	}
}

// randomChars fills dst with characters of idAlphabet drawn uniformly
// from crypto/rand: bytes of 248 and above (4 x 62) are drawn again, so
// that no character is likelier than another. One read serves the whole
// id, as this runs in the store's single writer.
func randomChars(dst []byte) {
	var buf [32]byte
	for i := 0; i < len(dst); {
		rand.Read(buf[:]) // never fails since Go 1.24
		for _, c := range buf {
			if c >= 248 {
				continue
			}
			dst[i] = idAlphabet[int(c)%len(idAlphabet)]
			if i++; i == len(dst) {
				break
			}
		}
	}
}

// Get returns a profile with the records of the named extensions, to be
// shown. As for Identify, the read is checked against the stored schema
// version of its snapshot: an extension another replica deleted and made
// anew (single-valued now multi-valued) would otherwise be shown in the
// shape this replica still knows until it follows; a newer version is
// caught up with and the read made again.
func (s *Service) Get(ctx context.Context, tenant, id string, exts []string) (*Document, error) {
	used := s.schema.Current()
	d, newer, err := s.getUnder(ctx, used, tenant, id, exts)
	if err == nil && newer && s.CatchUp(ctx, used.Version) {
		d, _, err = s.getUnder(ctx, s.schema.Current(), tenant, id, exts)
	}
	if err != nil {
		return nil, err
	}
	return d, s.noteRead(ctx, tenant, d.ID)
}

// getUnder is Get under schema c; newer reports a read from a store whose
// schema version is not c's.
func (s *Service) getUnder(ctx context.Context, c *schema.Compiled, tenant, id string, exts []string) (*Document, bool, error) {
	names, err := extensionNames(c, exts)
	if err != nil {
		return nil, false, err
	}
	var d *Document
	var newer bool
	err = s.store.View(ctx, tenant, func(tx Tx) error {
		if d, err = loadDocument(canonical(tx, c), id, names); err != nil {
			return err
		}
		v, err := tx.SchemaVersion()
		newer = err == nil && v != c.Version && v != s.unfollowable.Load()
		return nil
	})
	return d, newer, err
}

// Revision is profile id's revision, read as a write's precondition needs
// it: no data leaves, so the read is not audited.
func (s *Service) Revision(ctx context.Context, tenant, id string) (uint64, error) {
	var rev uint64
	err := s.store.View(ctx, tenant, func(tx Tx) error {
		d, err := loadDocument(tx, id, nil)
		if err == nil {
			rev = d.Rev
		}
		return err
	})
	return rev, err
}

// extensionNames resolves requested extension names (case-insensitive).
func extensionNames(c *schema.Compiled, exts []string) ([]string, error) {
	out := make([]string, 0, len(exts))
	for _, name := range exts {
		e, ok := c.Extension(name)
		if !ok {
			return nil, errs.Invalid(CodeUnknownExtension, name, "extension %q is not defined", name)
		}
		if !slices.Contains(out, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out, nil
}

func loadProfile(tx Tx, id string, exts []string) (*Profile, error) {
	p, err := profileOrNotFound(tx, id)
	if err != nil {
		return nil, err
	}
	if err := loadExtensions(tx, p, exts); err != nil {
		return nil, err
	}
	return p, nil
}

// loadDocument is loadProfile for a read that only shows the profile.
func loadDocument(tx Tx, id string, exts []string) (*Document, error) {
	d, err := tx.Document(id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, absent(tx, id)
	}
	if len(exts) == 0 {
		return d, nil
	}
	sets, err := tx.RecordDocuments(id, exts)
	if err != nil {
		return nil, err
	}
	d.Extensions = make(map[string][][]Member, len(exts))
	for _, ext := range exts {
		d.Extensions[ext] = sets[ext]
	}
	return d, nil
}

func loadExtensions(tx Tx, p *Profile, exts []string) error {
	if len(exts) == 0 {
		return nil
	}
	sets, err := tx.RecordSets(p.ID, exts)
	if err != nil {
		return err
	}
	p.Extensions = make(map[string][]schema.Record, len(exts))
	for _, ext := range exts {
		p.Extensions[ext] = sets[ext]
	}
	return nil
}

// loadForChange reads a profile that is about to change, with what its
// index entries are computed from, so the change can move them.
func loadForChange(tx Tx, c *schema.Compiled, id string) (*Profile, indexed, error) {
	p, err := profileOrNotFound(tx, id)
	if err != nil {
		return nil, indexed{}, err
	}
	in, err := loadIndexed(tx, p, keySources(allKeys(c)))
	return p, in, err
}

// profileOrNotFound reads profile id, a PROFILE_NOT_FOUND error when absent.
func profileOrNotFound(tx Tx, id string) (*Profile, error) {
	p, err := tx.Profile(id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, absent(tx, id)
	}
	return p, nil
}

// absent is the error for profile id, which tx does not hold: erased or
// not found.
func absent(tx Tx, id string) error {
	if t, err := tombstone(tx, id); err != nil {
		return err
	} else if t != nil {
		return erasedError(id, t)
	}
	return errs.NotFound(CodeProfileNotFound, "customer %q not found", id)
}

// NeverMatches is an If-Match precondition no revision meets: the
// revision of a weak tag, which a strong comparison never matches.
const NeverMatches = math.MaxUint64

// checkRevision enforces an If-Match precondition; ifMatch 0 means none.
func checkRevision(p *Profile, ifMatch uint64) error {
	if ifMatch == NeverMatches {
		return errs.E(errs.KindPreconditionFailed, CodeRevisionMismatch,
			"a weak ETag never matches: If-Match compares strongly; send the ETag as read")
	}
	if ifMatch != 0 && p.Rev != ifMatch {
		return errs.E(errs.KindPreconditionFailed, CodeRevisionMismatch,
			"customer %q has changed: revision is %d, not %d", p.ID, p.Rev, ifMatch)
	}
	return nil
}

// ReplaceOptions tune Replace.
type ReplaceOptions struct {
	IfMatch    uint64   // the revision the caller read; 0: last writer wins
	UniqueKeys []string // as CreateOptions.UniqueKeys
	AnyWords   bool     // as CreateOptions.AnyWords
}

func prepareProfile(c *schema.Compiled, body map[string]any, anyWords bool) (*schema.Doc, error) {
	if anyWords {
		return c.PrepareProfileAnyWords(body)
	}
	return c.PrepareProfile(body)
}

// Replace implements PUT /profiles/{id} (spec §3.3): core attributes are
// replaced wholesale; each extension present in body has its whole record
// set replaced; absent extensions are untouched.
func (s *Service) Replace(ctx context.Context, tenant, id string, body map[string]any, opts ReplaceOptions) (*Profile, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		doc, err := prepareProfile(c, body, opts.AnyWords)
		if err != nil {
			return nil, err
		}
		if doc.CustomerID != "" && doc.CustomerID != id {
			return nil, errs.Invalid(CodeIDMismatch, "customer_id", "customer_id %q in the body does not match %q in the path", doc.CustomerID, id)
		}
		if err := checkRecordOwners(c, body, doc, id); err != nil {
			return nil, err
		}
		if err := checkRecordSets(c, doc.Extensions); err != nil {
			return nil, err
		}
		return s.change(ctx, tenant, c, OpReplace, id, opts, replaceWith(doc))
	})
}

// change runs edit on profile id inside a write transaction under schema
// c; see changeIn.
func (s *Service) change(ctx context.Context, tenant string, c *schema.Compiled, op, id string, opts ReplaceOptions, edit func(tx Tx, p *Profile, in *indexed) error) (*Profile, error) {
	var changed *Profile
	err := s.write(ctx, tenant, c, op, func(tx Tx) error {
		var err error
		changed, err = s.changeIn(tx, c, id, opts, edit)
		return err
	})
	return changed, err
}

// changeIn runs edit on profile id in tx, then bumps its revision and
// re-syncs its index entries. edit updates p and in (the indexed view) to
// the new state; it writes records itself, and replaces p.Attributes
// rather than changing the map in place.
//
// An edit that leaves the profile as stored (a client sending back what
// it read, a sync tool's periodic PUT) writes nothing: the revision, and
// so the ETag, and the modification time stay, and the audit trail gets
// no entry, since nothing changed.
func (s *Service) changeIn(tx Tx, c *schema.Compiled, id string, opts ReplaceOptions, edit func(tx Tx, p *Profile, in *indexed) error) (*Profile, error) {
	p, before, err := loadForChange(tx, c, id)
	if err != nil {
		return nil, err
	}
	if err := checkRevision(p, opts.IfMatch); err != nil {
		return nil, err
	}
	after := indexed{attributes: p.Attributes, records: make(map[string][]schema.Record, len(before.records))}
	for k, v := range before.records {
		after.records[k] = v
	}
	stored, read := p.Attributes, respelledIn(tx)
	writes := &changedRecords{Tx: limitedTx{Tx: tx, id: id, limit: s.recordLimit()}, read: read}
	if err := edit(writes, p, &after); err != nil {
		return nil, err
	}
	if len(writes.written) == 0 && reflect.DeepEqual(stored, p.Attributes) && read.asStored() {
		return p, nil
	}
	// The records the identification keys read that are stored in an
	// older spelling or form, which the edit left out, are written as read
	// too, or the same edit sent again would find them so again and change
	// the profile at every call. Only those: the audit entry names what
	// was written.
	for ext, recs := range before.records {
		if !writes.written[ext] && !read.setAsStored(ext, id) {
			if err := tx.PutRecords(ext, id, recs); err != nil {
				return nil, err
			}
		}
	}
	p.Rev++
	p.Updated = s.Now().UTC()
	if err := tx.PutProfile(p); err != nil {
		return nil, err
	}
	if err := syncIndexes(tx, c, id, &before, &after); err != nil {
		return nil, err
	}
	if err := checkExtraUnique(tx, c, opts.UniqueKeys, &before, &after, id); err != nil {
		return nil, err
	}
	return p, nil
}

// EditByNum reads the profile with numeric id num, with the records of
// the extensions exts names, lets edit turn it into a whole new profile
// body (as Replace takes) and stores that, all in one transaction:
// concurrent edits of one customer, in this process or another, queue
// instead of overwriting each other. exts and edit are given the schema
// the transaction runs under, whose names the profile is read and the
// body checked in (a reload may have renamed what the caller maps). edit
// may run more than once (see Store.Update) and must not act outside its
// result.
func (s *Service) EditByNum(ctx context.Context, tenant string, num uint64, exts func(*schema.Compiled) []string, edit func(c *schema.Compiled, p *Profile) (map[string]any, error), opts ReplaceOptions) (*Profile, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		names, err := extensionNames(c, exts(c))
		if err != nil {
			return nil, err
		}
		var changed *Profile
		err = s.write(ctx, tenant, c, OpEdit, func(tx Tx) error {
			id, err := tx.IDByNum(num)
			if err != nil {
				return err
			}
			if id == "" {
				return errs.NotFound(CodeProfileNotFound, "customer %d not found", num)
			}
			p, err := loadProfile(tx, id, names)
			if err != nil {
				return err
			}
			if err := sameNum(p.Num, num); err != nil {
				return err
			}
			body, err := edit(c, p)
			if err != nil {
				return err
			}
			doc, err := prepareProfile(c, body, opts.AnyWords)
			if err != nil {
				return err
			}
			if err := checkRecordSets(c, doc.Extensions); err != nil {
				return err
			}
			changed, err = s.changeIn(tx, c, id, opts, replaceWith(doc))
			return err
		})
		return changed, err
	})
}

// replaceWith is the edit of Replace: core attributes replaced wholesale,
// the record set of each extension in doc replaced.
func replaceWith(doc *schema.Doc) func(tx Tx, p *Profile, in *indexed) error {
	return func(tx Tx, p *Profile, in *indexed) error {
		p.Attributes = doc.Attributes
		in.attributes = doc.Attributes
		for _, ext := range slices.Sorted(maps.Keys(doc.Extensions)) {
			recs := doc.Extensions[ext]
			if err := tx.PutRecords(ext, p.ID, recs); err != nil {
				return err
			}
			in.records[ext] = recs
		}
		return nil
	}
}

// Delete removes a profile, all its records and its index entries.
// ifMatch is an If-Match precondition (0: none).
func (s *Service) Delete(ctx context.Context, tenant, id string, ifMatch uint64) error {
	_, err := withSchema(ctx, s, func(c *schema.Compiled) (struct{}, error) {
		return struct{}{}, s.write(ctx, tenant, c, OpDelete, func(tx Tx) error {
			_, err := remove(tx, c, id, ifMatch)
			return err
		})
	})
	return err
}

// remove deletes customer id with its records, index entries and numeric
// id, if its revision is ifMatch (0: whatever it is), and returns its
// numeric id (0 for a damaged profile, whose number cannot be read).
func remove(tx Tx, c *schema.Compiled, id string, ifMatch uint64) (num uint64, err error) {
	p, before, err := loadForChange(tx, c, id)
	if errs.Is(err, errs.KindCorrupt) {
		return 0, purgeDamaged(tx, id, ifMatch, err)
	}
	if err != nil {
		return 0, err
	}
	if err := checkRevision(p, ifMatch); err != nil {
		return 0, err
	}
	if err := syncIndexes(tx, c, id, &before, nil); err != nil {
		return 0, err
	}
	return p.Num, tx.DeleteProfile(p)
}

// purgeDamaged removes customer id, whose stored profile or records could
// not be read (damage, the error reading them): a delete or erasure is how
// a client or operator gets rid of it and can create the customer again.
// Its revision is unknown, so an If-Match precondition cannot hold.
func purgeDamaged(tx Tx, id string, ifMatch uint64, damage error) error {
	if ifMatch != 0 {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Code: CodeRevisionMismatch, Err: damage,
			Message: fmt.Sprintf("customer %q is damaged, so its revision cannot be compared; send the request without If-Match to remove it", id)}
	}
	return tx.PurgeProfile(id)
}

// InsertRecords implements POST /profiles/{id}/extensions (spec §4.1 and
// §10 Q6): single-valued records are replaced, multi-valued records
// replace the record with the same unique values or are appended. ifMatch
// is an If-Match precondition (0: none).
func (s *Service) InsertRecords(ctx context.Context, tenant, id string, body map[string]any, ifMatch uint64) (*Profile, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		doc, err := c.PrepareExtensions(body)
		if err != nil {
			return nil, err
		}
		if doc.CustomerID != "" && doc.CustomerID != id {
			return nil, errs.Invalid(CodeIDMismatch, "customer_id", "customer_id %q in the body does not match %q in the path", doc.CustomerID, id)
		}
		if err := checkRecordOwners(c, body, doc, id); err != nil {
			return nil, err
		}
		if len(doc.Extensions) == 0 {
			return nil, errs.Invalid(CodeNoExtensionsInBody, "", "the body names no extension")
		}
		return s.change(ctx, tenant, c, OpInsertRecords, id, ReplaceOptions{IfMatch: ifMatch}, func(tx Tx, p *Profile, in *indexed) error {
			for _, ext := range slices.Sorted(maps.Keys(doc.Extensions)) {
				e, _ := c.Extension(ext)
				incoming := doc.Extensions[ext]
				existing, err := currentRecords(tx, in, ext, id)
				if err != nil {
					return err
				}
				merged, err := extensions.Upsert(e, existing, incoming)
				if err != nil {
					return err
				}
				if err := tx.PutRecords(ext, id, merged); err != nil {
					return err
				}
				in.records[ext] = merged
			}
			return nil
		})
	})
}

// UpdateRecordByUnique implements PUT .../extensions/{ext}/by/unique.
func (s *Service) UpdateRecordByUnique(ctx context.Context, tenant, id, ext string, body map[string]any, ifMatch uint64) (*Profile, error) {
	return s.editRecords(ctx, tenant, OpUpdateRecord, id, ext, body, ifMatch, func(c *schema.Compiled, e *schema.Extension, recs []schema.Record, rec schema.Record) ([]schema.Record, error) {
		out, updated, err := extensions.UpdateByUnique(e, recs, rec)
		if err != nil {
			return nil, err
		}
		// Attributes a reload removed stay stored (docs/api.md), but must
		// not make the record invalid.
		return out, c.CheckRecord(e.Name, extensions.Declared(e, []schema.Record{updated})[0])
	})
}

// DeleteRecordByUnique implements PUT .../extensions/{ext}/delete/by/unique.
func (s *Service) DeleteRecordByUnique(ctx context.Context, tenant, id, ext string, body map[string]any, ifMatch uint64) (*Profile, error) {
	return s.editRecords(ctx, tenant, OpDeleteRecord, id, ext, body, ifMatch, func(_ *schema.Compiled, e *schema.Extension, recs []schema.Record, rec schema.Record) ([]schema.Record, error) {
		return extensions.DeleteByUnique(e, recs, rec)
	})
}

func (s *Service) editRecords(ctx context.Context, tenant, op, id, ext string, body map[string]any, ifMatch uint64,
	apply func(*schema.Compiled, *schema.Extension, []schema.Record, schema.Record) ([]schema.Record, error)) (*Profile, error) {
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		e, ok := c.Extension(ext)
		if !ok {
			return nil, errs.NotFound(CodeUnknownExtension, "extension %q is not defined", ext)
		}
		if e.Kind != schema.MultiValued {
			return nil, errs.Invalid(CodeSingleValued, e.Name, "extension %q is single-valued: replace its record with POST /profiles/{id}/extensions", e.Name)
		}
		if err := checkRecordOwner(e, body, id); err != nil {
			return nil, err
		}
		prepare := c.PrepareRecordPatch
		if op == OpDeleteRecord {
			prepare = c.PrepareRecordSelector
		}
		rec, err := prepare(e.Name, body)
		if err != nil {
			return nil, err
		}
		return s.change(ctx, tenant, c, op, id, ReplaceOptions{IfMatch: ifMatch}, func(tx Tx, p *Profile, in *indexed) error {
			recs, err := currentRecords(tx, in, e.Name, id)
			if err != nil {
				return err
			}
			out, err := apply(c, e, recs, rec)
			if err != nil {
				return err
			}
			in.records[e.Name] = out
			return tx.PutRecords(e.Name, id, out)
		})
	})
}

// checkRecordOwners applies checkRecordOwner to every record of body, a
// document prepared as doc.
func checkRecordOwners(c *schema.Compiled, body map[string]any, doc *schema.Doc, id string) error {
	for _, ext := range slices.Sorted(maps.Keys(doc.Extensions)) {
		e, _ := c.Extension(ext)
		for _, rec := range rawRecords(c, body, e) {
			if err := checkRecordOwner(e, rec, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRecordOwner refuses a record whose envelope customer_id (spec §2.3:
// the customer the record belongs to) names another customer than id;
// an attribute of that name is the record's own, and null names no one.
func checkRecordOwner(e *schema.Extension, rec map[string]any, id string) error {
	for name, v := range rec {
		if !schema.SameName(name, "customer_id") || v == nil {
			continue
		}
		if _, isAttribute := e.Attribute(name); isAttribute {
			return nil
		}
		if owner, ok := v.(string); !ok || owner != id {
			return errs.Invalid(CodeIDMismatch, e.Name+".customer_id", "customer_id %v in a record of %q does not match %q in the path", v, e.Name, id)
		}
	}
	return nil
}

// rawRecords returns the records body gives for extension e (under any
// name the schema resolves to it): one object or an array of them.
func rawRecords(c *schema.Compiled, body map[string]any, e *schema.Extension) []map[string]any {
	var out []map[string]any
	for name, v := range body {
		if found, ok := c.Extension(name); !ok || found != e {
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			out = append(out, v)
		case []any:
			for _, r := range v {
				if r, ok := r.(map[string]any); ok {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// currentRecords returns customer id's records of ext: those the change
// already read for its indexes when ext is a key source (a large set is
// decoded once per write, not twice), else from tx.
func currentRecords(tx Tx, in *indexed, ext, id string) ([]schema.Record, error) {
	if recs, ok := in.records[ext]; ok {
		return recs, nil
	}
	return tx.Records(ext, id)
}

// MergeOptions are the merge body fields of both vendor families (spec §3.6).
type MergeOptions struct {
	PreferSource bool   // force_merge (UCS) or keep_uniq_from_src (CS 8.5)
	IfMatch      uint64 // an If-Match precondition on the destination; 0: none
}

// Merge moves source's data into dest and deletes source (spec §3.6): core
// attributes missing in dest are taken from source, multi-valued ones are
// united without duplicates (case-sensitive); extension records merge by
// the rules of extensions.Merge.
func (s *Service) Merge(ctx context.Context, tenant, destID, srcID string, opts MergeOptions) (*Profile, error) {
	if destID == srcID {
		return nil, errs.Invalid(CodeMergeSelf, "", "cannot merge customer %q into itself", destID)
	}
	return withSchema(ctx, s, func(c *schema.Compiled) (*Profile, error) {
		return s.merge(ctx, tenant, c, destID, srcID, opts)
	})
}

func (s *Service) merge(ctx context.Context, tenant string, c *schema.Compiled, destID, srcID string, opts MergeOptions) (*Profile, error) {
	var merged *Profile
	err := s.write(ctx, tenant, c, OpMerge, func(tx Tx) error {
		dest, destBefore, err := loadForChange(tx, c, destID)
		if err != nil {
			return err
		}
		if err := checkRevision(dest, opts.IfMatch); err != nil {
			return err
		}
		src, srcBefore, err := loadForChange(tx, c, srcID)
		if err != nil {
			return err
		}
		// Drop the source's entries first so its values can move to dest
		// without tripping unique keys.
		if err := syncIndexes(tx, c, srcID, &srcBefore, nil); err != nil {
			return err
		}
		attributes, err := mergeAttributes(c, dest.Attributes, src.Attributes)
		if err != nil {
			return err
		}
		// Both may predate a mandatory attribute; what the merge writes must
		// be a profile a write could make.
		if err := c.CheckMandatory(attributes); err != nil {
			return err
		}
		after := indexed{attributes: attributes, records: map[string][]schema.Record{}}
		destSets, err := tx.RecordSets(destID, c.ExtensionNames())
		if err != nil {
			return err
		}
		srcSets, err := tx.RecordSets(srcID, c.ExtensionNames())
		if err != nil {
			return err
		}
		if s.BeforeMerge != nil {
			s.BeforeMerge(c, destSets, srcSets)
		}
		for i := range c.Def.Extensions {
			e := &c.Def.Extensions[i]
			d, sr := destSets[e.Name], srcSets[e.Name]
			if len(sr) == 0 {
				// Nothing to bring: dest's records stay as they are, and
				// the merge's audit entry does not name them as written.
				after.records[e.Name] = d
				continue
			}
			out := extensions.Merge(e, d, sr, opts.PreferSource)
			if len(out) > len(d) {
				if err := s.checkRecordLimit(map[string][]schema.Record{e.Name: out}); err != nil {
					return err
				}
			}
			if err := tx.PutRecords(e.Name, destID, out); err != nil {
				return err
			}
			after.records[e.Name] = out
		}
		if err := tx.DeleteProfile(src); err != nil {
			return err
		}
		dest.Attributes = after.attributes
		dest.Rev++
		dest.Updated = s.Now().UTC()
		if err := tx.PutProfile(dest); err != nil {
			return err
		}
		if err := syncIndexes(tx, c, destID, &destBefore, &after); err != nil {
			return err
		}
		merged = dest
		return nil
	})
	return merged, err
}

// mergeAttributes unions multi-valued attributes, dest's values first; a
// union over schema.MaxValuesPerAttribute is refused as a write of it
// would be, so what a merge leaves can be written back.
func mergeAttributes(c *schema.Compiled, dest, src map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(dest)+len(src))
	for k, v := range dest {
		out[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(src)) { // a refusal names the same attribute every time
		v := src[k]
		a, _ := c.Attribute(k)
		cur, set := out[k]
		switch {
		case !set:
			out[k] = v
		case a != nil && a.MultiValued:
			list := append([]any(nil), asList(cur)...)
			for _, item := range asList(v) {
				if !slices.Contains(list, item) {
					list = append(list, item)
				}
			}
			if len(list) > schema.MaxValuesPerAttribute {
				return nil, schema.TooManyItems(a.Name, len(list), schema.MaxValuesPerAttribute)
			}
			out[k] = list
		}
	}
	return out, nil
}

// asList reads a multi-valued attribute, tolerating a scalar stored before
// the schema made it multi-valued.
func asList(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}
