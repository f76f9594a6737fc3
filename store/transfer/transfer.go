// Package transfer copies everything a profile store holds into another,
// between engines (bbolt file ↔ PostgreSQL): every tenant's profiles,
// extension records and index entries, the numeric id sequence, eGain
// sessions, the server settings (with erasure tombstones, so a copy cannot
// bring an erased customer back), the audit trail and the stored schema. Values travel in the shared codec's
// bytes (store/codec), so nothing is decoded or re-validated on the way and
// every id, and every audit entry's sequence number, is kept. `profiled
// copy-store` runs it.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/contactcenter/profiled/profile"
)

// Kind says what an Item carries.
type Kind uint8

const (
	KindProfile Kind = iota + 1 // Tenant, ID, Value: codec profile
	KindRecords                 // Tenant, Name (lower-cased extension), ID, Value: codec record set
	KindIndex                   // Tenant, Name (lower-cased key), ID, Value: codec index entry; Unique
	KindSession                 // ID, User, Created, LastSeen
	KindSetting                 // Name, Value: a server setting (server mode, import progress, erasure tombstones)
	KindAudit                   // Tenant, Created and Seq (the entry's time and sequence number), Value: codec audit entry
)

// Item is one stored thing.
type Item struct {
	Kind     Kind
	Tenant   string
	Name     string
	ID       string
	Value    []byte
	Unique   bool
	Seq      uint64
	User     string
	Created  time.Time
	LastSeen time.Time
}

// Header is what a store holds besides items.
type Header struct {
	Schema  profile.SchemaState
	NextNum uint64 // the next numeric id the store would hand out
}

// Source is a store read whole.
type Source interface {
	// SchemaState returns the stored schema (as profile.Store does).
	SchemaState(ctx context.Context) (profile.SchemaState, error)
	// NextNumber is the next numeric id the store would hand out.
	NextNumber(ctx context.Context) (uint64, error)
	// Export calls fn for every item, from one consistent view.
	Export(ctx context.Context, fn func(Item) error) error
}

// Target is a store filled whole.
type Target interface {
	// Empty reports whether the store holds no profile, session or schema.
	Empty(ctx context.Context) (bool, error)
	// Import stores a batch of items in one transaction. Audit entries
	// keep their sequence numbers (a customer's export tells it from an
	// earlier one of the same customer_id by them, and a listing's cursor
	// names one); entries the store appends after the copy are numbered
	// after them.
	Import(ctx context.Context, items []Item) error
	// ImportHeader stores the schema state and moves the numeric id
	// sequence to at least h.NextNum; it runs last.
	ImportHeader(ctx context.Context, h Header) error
}

// ReadHeader reads what src holds besides items.
func ReadHeader(ctx context.Context, src Source) (Header, error) {
	st, err := src.SchemaState(ctx)
	if err != nil {
		return Header{}, err
	}
	next, err := src.NextNumber(ctx)
	return Header{Schema: st, NextNum: next}, err
}

// Counts are what a copy moved, per tenant for profiles.
type Counts struct {
	Profiles     map[string]int // by tenant
	Records      int
	IndexEntries int
	Sessions     int
	Settings     int
	AuditEntries int
}

// Total is the number of items counted.
func (c Counts) Total() int {
	n := c.Records + c.IndexEntries + c.Sessions + c.Settings + c.AuditEntries
	for _, p := range c.Profiles {
		n += p
	}
	return n
}

func (c *Counts) add(it Item) {
	switch it.Kind {
	case KindProfile:
		c.Profiles[it.Tenant]++
	case KindRecords:
		c.Records++
	case KindIndex:
		c.IndexEntries++
	case KindSession:
		c.Sessions++
	case KindSetting:
		c.Settings++
	case KindAudit:
		c.AuditEntries++
	}
}

// ErrTargetNotEmpty refuses a copy that would mix two stores' data.
var ErrTargetNotEmpty = errors.New("the target store is not empty; copy into a new, empty store")

// batchSize items go into one target transaction.
const batchSize = 2000

// Copy copies src into dst, which must be empty. progress (may be nil) is
// called after every batch with the counts so far.
func Copy(ctx context.Context, src Source, dst Target, progress func(Counts)) (Counts, error) {
	counts := Counts{Profiles: map[string]int{}}
	empty, err := dst.Empty(ctx)
	if err != nil {
		return counts, err
	}
	if !empty {
		return counts, ErrTargetNotEmpty
	}
	header, err := ReadHeader(ctx, src)
	if err != nil {
		return counts, err
	}
	batch := make([]Item, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := dst.Import(ctx, batch); err != nil {
			return err
		}
		for _, it := range batch {
			counts.add(it)
		}
		batch = batch[:0]
		if progress != nil {
			progress(counts)
		}
		return nil
	}
	err = src.Export(ctx, func(it Item) error {
		batch = append(batch, it)
		if len(batch) == batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return counts, err
	}
	return counts, dst.ImportHeader(ctx, header)
}

// Verify counts what src and dst hold and reports every difference: the
// end of a copy.
func Verify(ctx context.Context, src Source, dst Source) (Counts, error) {
	a, err := count(ctx, src)
	if err != nil {
		return a, err
	}
	b, err := count(ctx, dst)
	if err != nil {
		return a, err
	}
	var problems []error
	for _, tenant := range slices.Sorted(maps.Keys(union(a.Profiles, b.Profiles))) {
		if a.Profiles[tenant] != b.Profiles[tenant] {
			problems = append(problems, fmt.Errorf("tenant %q: %d profiles in the source, %d in the target", tenant, a.Profiles[tenant], b.Profiles[tenant]))
		}
	}
	for _, c := range []struct {
		what string
		a, b int
	}{{"extension record sets", a.Records, b.Records}, {"index entries", a.IndexEntries, b.IndexEntries}, {"sessions", a.Sessions, b.Sessions}, {"server settings", a.Settings, b.Settings}, {"audit entries", a.AuditEntries, b.AuditEntries}} {
		if c.a != c.b {
			problems = append(problems, fmt.Errorf("%d %s in the source, %d in the target", c.a, c.what, c.b))
		}
	}
	return a, errors.Join(problems...)
}

func union(a, b map[string]int) map[string]int {
	out := maps.Clone(a)
	for k, v := range b {
		out[k] += v
	}
	return out
}

func count(ctx context.Context, s Source) (Counts, error) {
	c := Counts{Profiles: map[string]int{}}
	err := s.Export(ctx, func(it Item) error { c.add(it); return nil })
	return c, err
}
