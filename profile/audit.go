package profile

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// AuditEntry is one entry of the audit trail: who did what to which
// customers, and which attributes and extensions that touched. It never
// holds a value.
type AuditEntry struct {
	At         time.Time `json:"at"`  // microseconds, as both stores keep it
	Seq        uint64    `json:"seq"` // given by the store; orders entries of one instant
	Tenant     string    `json:"tenant"`
	Actor      string    `json:"actor"`
	Client     string    `json:"client,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Op         string    `json:"op"`
	Customers  []string  `json:"customer_ids,omitempty"`
	Attributes []string  `json:"attributes,omitempty"`
	Extensions []string  `json:"extensions,omitempty"`
	Keys       []string  `json:"keys,omitempty"` // identification keys a schema change touched
}

// Operations the audit trail names.
const (
	OpCreate                = "create"
	OpImport                = "import"
	OpReplace               = "replace"
	OpEdit                  = "edit" // an eGain edit
	OpDelete                = "delete"
	OpInsertRecords         = "records.insert"
	OpUpdateRecord          = "records.update"
	OpDeleteRecord          = "records.delete"
	OpMerge                 = "merge"
	OpErase                 = "erase"
	OpExport                = "export"
	OpRead                  = "read"
	OpSchemaCreateExtension = "schema.extension.create"
	OpSchemaDeleteExtension = "schema.extension.delete"
	OpSchemaCreateKey       = "schema.key.create"
	OpSchemaDeleteKey       = "schema.key.delete"
	OpSchemaReload          = "schema.reload"
	OpSchemaSync            = "schema.sync" // indexes brought in line with a config changed while stopped
	OpServerMode            = "server.mode"
	OpBackup                = "backup" // a hot backup: every tenant's customers, recorded in the default tenant
)

// Ops lists every operation above, for checking a query names one.
var Ops = []string{OpCreate, OpImport, OpReplace, OpEdit, OpDelete, OpInsertRecords, OpUpdateRecord, OpDeleteRecord,
	OpMerge, OpErase, OpExport, OpRead, OpSchemaCreateExtension, OpSchemaDeleteExtension, OpSchemaCreateKey,
	OpSchemaDeleteKey, OpSchemaReload, OpSchemaSync, OpServerMode, OpBackup}

// Actor is who a request acts for, as the audit trail records it. The HTTP
// layer puts one in every request's context; authentication fills in Name.
type Actor struct {
	Name      string // API key, basic user, eGain user, admin; "" is anonymous
	Client    string // the client's address
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a. Authentication sets a.Name later, on
// the same value.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the actor ctx carries, nil when none.
func ActorOf(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// NameActor names the actor ctx carries, if any: authentication calls it.
func NameActor(ctx context.Context, name string) {
	if a := ActorOf(ctx); a != nil {
		a.Name = name
	}
}

// Anonymous is the actor of a request no credential names.
const Anonymous = "anonymous"

// newEntry starts an entry for op by ctx's actor. Its text is made
// storable (valid UTF-8, no NUL) here: an actor or request id must never
// make a write fail.
func newEntry(ctx context.Context, op string) AuditEntry {
	e := AuditEntry{Op: op, Actor: Anonymous}
	if a := ActorOf(ctx); a != nil {
		if a.Name != "" {
			e.Actor = storable(a.Name)
		}
		e.Client, e.RequestID = storable(a.Client), storable(a.RequestID)
	}
	return e
}

func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// appendEntry stamps e with the transaction's tenant and the time and
// appends it. The time is taken inside the transaction so that, on a store
// whose writes commit one after another, time order is commit order.
func (s *Service) appendEntry(tx Tx, e AuditEntry) error {
	e.Tenant = tx.Tenant()
	e.At = s.Now().UTC().Truncate(time.Microsecond)
	return tx.AppendAudit(&e)
}

// auditedTx watches what a write does, so that its entry names the
// customers, attributes and extensions it touched without every operation
// listing them: Profile remembers what was read, PutProfile compares.
type auditedTx struct {
	Tx
	read       map[string]map[string]any // attributes as read, by customer id
	empty      map[[2]string]bool        // (extension, id) read as empty
	extensions []string                  // every extension of the schema
	entry      *AuditEntry
}

func (t *auditedTx) Profile(id string) (*Profile, error) {
	p, err := t.Tx.Profile(id)
	if p != nil {
		if t.read == nil {
			t.read = map[string]map[string]any{}
		}
		t.read[id] = maps.Clone(p.Attributes) // as read, whatever the caller does to p
	}
	return p, err
}

func (t *auditedTx) Records(ext, id string) ([]schema.Record, error) {
	recs, err := t.Tx.Records(ext, id)
	if err == nil && len(recs) == 0 {
		t.readEmpty(ext, id)
	}
	return recs, err
}

func (t *auditedTx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	sets, err := t.Tx.RecordSets(id, exts)
	if err == nil {
		for _, ext := range exts {
			if len(sets[ext]) == 0 {
				t.readEmpty(ext, id)
			}
		}
	}
	return sets, err
}

// readEmpty notes that customer id had no records of ext: writing none
// back changes nothing.
func (t *auditedTx) readEmpty(ext, id string) {
	if t.empty == nil {
		t.empty = map[[2]string]bool{}
	}
	t.empty[[2]string{strings.ToLower(ext), id}] = true
}

func (t *auditedTx) PutProfile(p *Profile) error {
	t.customer(p.ID)
	old := t.read[p.ID]
	for name, v := range p.Attributes {
		if was, ok := old[name]; !ok || !reflect.DeepEqual(was, v) {
			t.attribute(name)
		}
	}
	for name := range old {
		if _, ok := p.Attributes[name]; !ok {
			t.attribute(name)
		}
	}
	if t.read != nil {
		t.read[p.ID] = p.Attributes
	}
	return t.Tx.PutProfile(p)
}

func (t *auditedTx) DeleteProfile(p *Profile) error {
	t.customer(p.ID)
	for name := range p.Attributes {
		t.attribute(name)
	}
	// Every record goes with the profile: name the extensions that had any,
	// those a reload removed from the schema (kept, hidden) too.
	exts := slices.Clone(t.extensions)
	stored, err := t.Tx.StoredExtensions(p.ID)
	if err != nil {
		return err
	}
	for _, name := range stored {
		if !slices.ContainsFunc(exts, func(e string) bool { return strings.EqualFold(e, name) }) {
			exts = append(exts, name)
		}
	}
	sets, err := t.Tx.RecordSets(p.ID, exts)
	if err != nil {
		return err
	}
	for ext, recs := range sets {
		if len(recs) > 0 {
			t.extension(ext)
		}
	}
	return t.Tx.DeleteProfile(p)
}

// PurgeProfile names the customer only: what it held cannot be read.
func (t *auditedTx) PurgeProfile(id string) error {
	t.customer(id)
	return t.Tx.PurgeProfile(id)
}

func (t *auditedTx) PutRecords(ext, id string, records []schema.Record) error {
	t.customer(id)
	if len(records) > 0 || !t.empty[[2]string{strings.ToLower(ext), id}] {
		t.extension(ext)
	}
	return t.Tx.PutRecords(ext, id, records)
}

func (t *auditedTx) respelledReads() *respelled { return respelledIn(t.Tx) }

func (t *auditedTx) extension(name string) {
	if !slices.ContainsFunc(t.entry.Extensions, func(e string) bool { return strings.EqualFold(e, name) }) {
		t.entry.Extensions = append(t.entry.Extensions, name)
	}
}

func (t *auditedTx) customer(id string) {
	if !slices.Contains(t.entry.Customers, id) {
		t.entry.Customers = append(t.entry.Customers, id)
	}
}

func (t *auditedTx) attribute(name string) {
	if !slices.Contains(t.entry.Attributes, name) {
		t.entry.Attributes = append(t.entry.Attributes, name)
	}
}

// audited runs fn over tx and then appends its entry for op: in the same
// transaction, so no change is kept without its entry or the other way
// round.
func (s *Service) audited(ctx context.Context, tx Tx, c *schema.Compiled, op string, fn func(Tx) error) error {
	if s.withoutAudit {
		return fn(tx)
	}
	e := newEntry(ctx, op)
	at := &auditedTx{Tx: tx, entry: &e, extensions: c.ExtensionNames()}
	if err := fn(at); err != nil {
		return err
	}
	if len(e.Customers) == 0 && (op == OpImport || changesOne(op)) {
		// An import's last progress mark created no customer, an edit
		// left its customer as stored: nothing to account for.
		return nil
	}
	slices.Sort(e.Attributes)
	slices.Sort(e.Extensions)
	return s.appendEntry(tx, e)
}

// changesOne reports whether op changes one customer in place (Service.changeIn),
// writing nothing when the change leaves it as stored.
func changesOne(op string) bool {
	switch op {
	case OpReplace, OpEdit, OpInsertRecords, OpUpdateRecord, OpDeleteRecord:
		return true
	}
	return false
}

// Record appends an entry for an operation on no customer (a server mode
// change, a reload) in tenant's trail, with fn's writes, if any, in the
// same transaction.
func (s *Service) Record(ctx context.Context, tenant, op string, fn func(Tx) error) error {
	return s.store.Update(ctx, tenant, func(tx Tx) error {
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return s.appendEntry(tx, newEntry(ctx, op))
	})
}

// AuditQuery selects audit entries of one tenant, newest first.
type AuditQuery struct {
	CustomerID string    // only entries naming this customer
	Actor      string    // only entries by this actor
	Op         string    // only entries of this operation
	From, To   time.Time // only entries in [From, To]; zero is open
	// Before continues a listing: only entries older than this cursor
	// (AuditPage.Next of the previous page).
	Before string
	Limit  int // at most this many (default 100, at most 1000)
}

// AuditPage is one page of entries, newest first. Next, when not empty,
// continues the listing; entries appended meanwhile never shift a page.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// AuditPosition is where a listing stands: entries strictly older than it
// come next.
type AuditPosition struct {
	At  time.Time
	Seq uint64
}

// StoreFilter is the part of a query a store answers from its keys: the
// customer (an index) and the time range (key order).
type StoreFilter struct {
	CustomerID string
	From, To   time.Time
	Before     *AuditPosition
}

// CodeInvalidCursor refuses a cursor this service did not give.
const CodeInvalidCursor = "INVALID_CURSOR"

const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

// Audit pages through tenant's audit trail.
func (s *Service) Audit(ctx context.Context, tenant string, q AuditQuery) (*AuditPage, error) {
	return AuditTrail(ctx, s.store, tenant, q)
}

// AuditTrail is Service.Audit on a store without a schema (profiled audit).
func AuditTrail(ctx context.Context, store Store, tenant string, q AuditQuery) (*AuditPage, error) {
	var page *AuditPage
	err := store.View(ctx, tenant, func(tx Tx) error {
		var err error
		page, err = auditPage(tx, q)
		return err
	})
	return page, err
}

func auditPage(tx Tx, q AuditQuery) (*AuditPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	limit = min(limit, maxAuditPage)
	// Entries are kept to the microsecond: a bound between two is the
	// next one up (From) or down (To), the same on every store.
	f := StoreFilter{CustomerID: q.CustomerID, To: q.To.Truncate(time.Microsecond)}
	if !q.From.IsZero() {
		f.From = q.From.Truncate(time.Microsecond)
		if f.From.Before(q.From) {
			f.From = f.From.Add(time.Microsecond)
		}
	}
	if q.Before != "" {
		pos, err := parseCursor(q.Before)
		if err != nil {
			return nil, err
		}
		f.Before = &pos
	}
	page := &AuditPage{Entries: []AuditEntry{}}
	var last *AuditEntry
	err := tx.Audit(f, func(e *AuditEntry) bool {
		// An operation names its variants too: server.mode finds
		// server.mode.maintenance and server.mode.production.
		if (q.Actor != "" && e.Actor != q.Actor) || (q.Op != "" && e.Op != q.Op && !strings.HasPrefix(e.Op, q.Op+".")) {
			return true
		}
		if len(page.Entries) == limit {
			page.Next = cursor(last)
			return false
		}
		page.Entries = append(page.Entries, *e)
		last = &page.Entries[len(page.Entries)-1]
		return true
	})
	return page, err
}

// A cursor is the position of the last entry of a page: microseconds and
// sequence number. Clients treat it as opaque.
func cursor(e *AuditEntry) string {
	return strconv.FormatInt(e.At.UnixMicro(), 36) + "." + strconv.FormatUint(e.Seq, 36)
}

func parseCursor(s string) (AuditPosition, error) {
	at, seq, ok := strings.Cut(s, ".")
	us, err1 := strconv.ParseInt(at, 36, 64)
	n, err2 := strconv.ParseUint(seq, 36, 64)
	if !ok || err1 != nil || err2 != nil || us < 0 {
		return AuditPosition{}, errs.Invalid(CodeInvalidCursor, "before", "the cursor %q was not given by this service", s)
	}
	return AuditPosition{At: time.UnixMicro(us).UTC(), Seq: n}, nil
}

// auditBatch is how many entries one sweep transaction deletes: small, so
// a sweep never holds the writer for long.
const auditBatch = 500

// SweepAudit deletes every tenant's entries older than before, in small
// transactions, and returns how many it deleted.
func (s *Service) SweepAudit(ctx context.Context, before time.Time) (int, error) {
	tenants, err := s.store.Tenants()
	if err != nil {
		return 0, err
	}
	if !slices.Contains(tenants, "") { // server-wide entries live there, with or without profiles
		tenants = append(tenants, "")
	}
	total := 0
	for _, tenant := range tenants {
		// A look first, in a read transaction: most sweeps find nothing to
		// delete, and a write transaction costs an fsync on bbolt.
		var old bool
		err := s.store.View(ctx, tenant, func(tx Tx) error {
			to := before.Add(-time.Nanosecond).Truncate(time.Microsecond) // entries are kept to the microsecond
			return tx.Audit(StoreFilter{To: to}, func(*AuditEntry) bool { old = true; return false })
		})
		if err != nil {
			return total, fmt.Errorf("audit sweep of tenant %q: %w", tenant, err)
		}
		for old {
			var n int
			err := s.store.Update(ctx, tenant, func(tx Tx) error {
				var err error
				n, err = tx.DeleteAuditBefore(before, auditBatch)
				return err
			})
			total += n
			if err != nil {
				return total, fmt.Errorf("audit sweep of tenant %q: %w", tenant, err)
			}
			if n < auditBatch {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// ReadAudit says how reads are audited (config audit.reads).
type ReadAudit int

const (
	ReadsOff   ReadAudit = iota // not at all (the default: routing reads on every call)
	ReadsCount                  // a counter per actor (Service.OnRead)
	ReadsEvery                  // an entry per read
)

// noteRead audits a read of ids as s.Reads says. A read entry that cannot
// be written fails the read: with audit.reads: every, no read goes
// unrecorded.
func (s *Service) noteRead(ctx context.Context, tenant string, read ...string) error {
	switch s.Reads {
	case ReadsCount:
		if s.OnRead != nil {
			s.OnRead(newEntry(ctx, OpRead).Actor)
		}
	case ReadsEvery:
		if len(read) == 0 {
			return nil
		}
		e := newEntry(ctx, OpRead)
		e.Customers = read
		return s.store.Update(ctx, tenant, func(tx Tx) error {
			return s.appendEntry(tx, e)
		})
	}
	return nil
}
