package profile

import (
	"context"
	"slices"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Lookups for facades (the eGain search): they read identification indexes
// directly, so a facade never scans profiles either. A facade runs the
// lookups of one request and the loads of what they found in one read
// transaction (Service.Read): the answer is of one snapshot, and on
// PostgreSQL it costs one pooled connection and one COMMIT, not one per
// step.

// Reader reads one snapshot of a tenant's profiles, inside Service.Read.
type Reader interface {
	// Lookup returns the customers whose entry of identification key
	// `key` starts with values (raw query values, in key attribute order),
	// in index order, at most limit (0: MaxIdentifyResults); complete is
	// false when more may match: it stopped at limit customers, or at
	// limit + Service.LookupExtraEntries index entries (a key over a
	// multi-valued extension has an entry per record).
	Lookup(key string, values []string, limit int) (ids []string, complete bool, err error)
	// LookupRange is Lookup where the key attribute after values lies in
	// [from, to] (raw values; "" is an open bound).
	LookupRange(key string, values []string, from, to string, limit int) (ids []string, complete bool, err error)
	// CreatedBetween returns customers created in [from, to] (zero: open),
	// oldest first, at most limit (0: MaxIdentifyResults).
	CreatedBetween(from, to time.Time, limit int) ([]string, error)
	// GetMany reads profiles with the named extensions; missing ids are
	// skipped.
	GetMany(ids []string, exts []string) ([]*Profile, error)
	// IDsByNum maps numeric ids to customer ids; unknown numbers are
	// skipped.
	IDsByNum(nums []uint64) ([]string, error)
	// Answered names, of the profiles GetMany loaded, those the answer
	// holds: only they are noted as read. A facade that loads candidates
	// it then filters out (another department's, past the page) calls it;
	// without it every profile loaded counts as read.
	Answered(ids ...string)
	// Schema is the schema the read runs under: what it loads is in its
	// names, which a reload since may have changed.
	Schema() *schema.Compiled
}

// Read runs fn over one read transaction of tenant's data. Profiles fn
// loads with GetMany (or, when fn says, those of them its answer holds:
// Reader.Answered) are noted as read (the audit trail's read setting)
// once fn has succeeded. As for Get, the read is checked against the
// stored schema version of its snapshot, and run again (fn with it, which
// must leave nothing of its first run) once this process has caught up
// with a newer one: another replica may have redefined what fn reads.
func (s *Service) Read(ctx context.Context, tenant string, fn func(Reader) error) error {
	used := s.schema.Current()
	r, newer, err := s.readUnder(ctx, used, tenant, fn)
	if err == nil && newer && s.CatchUp(ctx, used.Version) {
		r, _, err = s.readUnder(ctx, s.schema.Current(), tenant, fn)
	}
	if err != nil || !r.loaded {
		return err
	}
	if r.answered != nil {
		return s.noteRead(ctx, tenant, *r.answered...)
	}
	return s.noteRead(ctx, tenant, r.read...)
}

// readUnder is Read's transaction under schema c; newer reports a store
// whose schema version is not c's.
func (s *Service) readUnder(ctx context.Context, c *schema.Compiled, tenant string, fn func(Reader) error) (*reader, bool, error) {
	extra := s.LookupExtraEntries
	if extra <= 0 {
		extra = DefaultLookupExtraEntries
	}
	r := &reader{schema: c, stale: s.staleKeys.Load(), extra: extra}
	var newer bool
	err := s.store.View(ctx, tenant, func(tx Tx) error {
		r.tx = canonical(tx, r.schema)
		if err := fn(r); err != nil {
			return err
		}
		v, err := tx.SchemaVersion()
		newer = err == nil && v != c.Version && v != s.unfollowable.Load()
		return nil
	})
	return r, newer, err
}

// reader is the Reader of one Service.Read.
type reader struct {
	schema *schema.Compiled
	stale  *map[string]bool // the Service's staleKeys when the read began
	tx     Tx
	loaded bool            // GetMany was called
	read   []string        // the ids of what it returned
	noted  map[string]bool // read, as a set: a profile loaded twice is one read
	extra  int             // index entries a lookup reads beyond its limit
	// answered, once fn has named it (Answered), is what of read the
	// answer holds: what is noted as read instead of everything loaded.
	answered *[]string
}

// DefaultLookupExtraEntries is Service.LookupExtraEntries's default: the
// index entries a lookup reads beyond its limit. Customers with many
// records under a key's prefix (every e-mail activity has type email)
// would otherwise have it read them all; 100 entries per customer of a
// 1000-customer limit keeps a search of customers with many activities in
// its range answered (about 150 ms on bbolt at the bound).
const DefaultLookupExtraEntries = 100_000

func (r *reader) Schema() *schema.Compiled { return r.schema }

func (r *reader) Lookup(key string, values []string, limit int) ([]string, bool, error) {
	return r.lookup(key, values, nil, limit)
}

func (r *reader) LookupRange(key string, values []string, from, to string, limit int) ([]string, bool, error) {
	return r.lookup(key, values, &[2]string{from, to}, limit)
}

func (r *reader) lookup(key string, values []string, bounds *[2]string, limit int) ([]string, bool, error) {
	c := r.schema
	k, ok := c.Key(key)
	if !ok {
		return nil, false, errs.E(errs.KindInternal, CodeUnknownKey, "identification key %q is not defined", key)
	}
	if err := checkIndexed(r.stale, k.Name); err != nil {
		return nil, false, err
	}
	width := len(values)
	if bounds != nil {
		width++
	}
	if width == 0 || width > len(k.Attributes) {
		return nil, false, errs.E(errs.KindInternal, CodeUnknownKey, "identification key %q has %d attributes, not %d", k.Name, len(k.Attributes), width)
	}
	prefix := make([]string, len(values))
	for i, v := range values {
		text, err := c.QueryValue(k.Source, k.Attributes[i], v)
		if err != nil {
			return nil, false, err
		}
		prefix[i] = text
	}
	var from, to string
	if bounds != nil {
		var err error
		attr := k.Attributes[len(values)]
		if bounds[0] != "" {
			if from, err = c.QueryValue(k.Source, attr, bounds[0]); err != nil {
				return nil, false, err
			}
		}
		if bounds[1] != "" {
			if to, err = c.QueryValue(k.Source, attr, bounds[1]); err != nil {
				return nil, false, err
			}
		}
	}
	if limit <= 0 {
		limit = MaxIdentifyResults
	}
	var ids []string
	seen := map[string]bool{}
	entries, cut := 0, false
	collect := func(id string) bool {
		if entries++; entries > limit+r.extra {
			cut = true
			return false
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return len(ids) < limit
	}
	var err error
	if bounds != nil {
		err = r.tx.ScanIndexRange(k.Name, prefix, from, to, collect)
	} else {
		err = r.tx.ScanIndex(k.Name, prefix, collect)
	}
	return ids, !cut && len(ids) < limit, err
}

func (r *reader) CreatedBetween(from, to time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = MaxIdentifyResults
	}
	var ids []string
	err := r.tx.ScanCreated(from, to, func(id string) bool {
		ids = append(ids, id)
		return len(ids) < limit
	})
	return ids, err
}

func (r *reader) GetMany(ids []string, exts []string) ([]*Profile, error) {
	names, err := extensionNames(r.schema, exts)
	if err != nil {
		return nil, err
	}
	out := make([]*Profile, 0, len(ids))
	for _, id := range ids {
		p, err := r.tx.Profile(id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		if err := loadExtensions(r.tx, p, names); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if r.loaded && r.noted == nil { // a second load (a search's page): a profile read twice is one read
		r.noted = make(map[string]bool, len(r.read))
		for _, id := range r.read {
			r.noted[id] = true
		}
	}
	r.loaded = true
	for _, p := range out { // only what was returned: a failed load is no read
		if r.noted == nil || !r.noted[p.ID] {
			if r.noted != nil {
				r.noted[p.ID] = true
			}
			r.read = append(r.read, p.ID)
		}
	}
	return out, nil
}

// Answered keeps of ids those GetMany loaded: a read is noted only of
// what this transaction read.
func (r *reader) Answered(ids ...string) {
	answered := []string{}
	for _, id := range ids {
		if slices.Contains(r.read, id) && !slices.Contains(answered, id) {
			answered = append(answered, id)
		}
	}
	r.answered = &answered
}

func (r *reader) IDsByNum(nums []uint64) ([]string, error) {
	var ids []string
	for _, n := range nums {
		id, err := r.tx.IDByNum(n)
		if err != nil {
			return nil, err
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// IDByNum is the customer id of numeric (eGain) id num, "" when none; a
// PROFILE_ERASED error when the customer that had it was erased.
func (s *Service) IDByNum(ctx context.Context, tenant string, num uint64) (string, error) {
	var id string
	err := s.store.View(ctx, tenant, func(tx Tx) (err error) {
		id, err = idOfNum(tx, num)
		return err
	})
	return id, err
}

func idOfNum(tx Tx, num uint64) (string, error) {
	if id, err := tx.IDByNum(num); err != nil || id != "" {
		return id, err
	}
	erased, err := tx.Setting(numTombstoneName(tx.Tenant(), num))
	if err != nil || erased == "" {
		return "", err
	}
	t, err := tombstone(tx, erased)
	if err != nil || t == nil {
		return "", err
	}
	return "", erasedError(erased, t)
}

// checkNum makes sure customer id still has numeric id num (when num is
// not 0): a request by number resolves it to a customer_id in an earlier
// transaction, and the customer may since have been deleted and its
// customer_id created again, under a new number, for someone else.
func checkNum(tx Tx, id string, num uint64) error {
	if num == 0 {
		return nil
	}
	got, err := idOfNum(tx, num)
	if err != nil {
		return err
	}
	if got != id {
		return errs.NotFound(CodeProfileNotFound, "customer %d not found", num)
	}
	return nil
}

// sameNum makes sure the profile a request by number num read (has, when
// not 0, numeric id got) is still that customer: checkNum and the read are
// two statements on PostgreSQL, which at READ COMMITTED each see what
// committed before them, so the customer_id may have been deleted and
// created again, under a new number, in between.
func sameNum(got, num uint64) error {
	if num != 0 && got != 0 && got != num {
		return errs.NotFound(CodeProfileNotFound, "customer %d not found", num)
	}
	return nil
}
