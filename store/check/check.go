// Package check verifies a profile store offline (profiled check): every
// stored profile and record set against its checksum, and every
// identification index entry against the profile data that should yield
// it, in both directions, on any engine (it reads through transfer.Source).
// The bbolt file's own structure is checked by store.CheckFile first.
package check

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/transfer"
)

// maxProblems bounds the problems a report lists; the counts stay exact.
const maxProblems = 100

// Report is what a check found.
type Report struct {
	Profiles, Records, IndexEntries, AuditEntries int
	// Unchecksummed counts values written before checksums existed (read
	// without one; they gain one when next written).
	Unchecksummed int
	Damaged       int // values failing their checksum or decoding
	Orphans       int // record sets or index entries of a profile that does not exist
	Missing       int // index entries a profile's data yields that are not stored
	Stale         int // stored index entries no profile's data yields
	Problems      []string
}

// OK reports whether the check found nothing wrong.
func (r *Report) OK() bool { return r.Damaged+r.Orphans+r.Missing+r.Stale == 0 }

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// checker walks a store, reporting each index entry the data yields
// (expected) and each one stored, by a 64-bit hash of tenant, key and
// entry bytes: memory grows with the number of entries, not their size.
//
// One export is one consistent view (bbolt: one read transaction;
// PostgreSQL: one repeatable-read transaction, so a check may run while
// replicas write), and in it a tenant's profiles come before its record
// sets and index entries: the profiles and the damaged values of a walk are
// known when the entries that depend on them arrive.
type checker struct {
	c      *schema.Compiled
	seed   maphash.Seed
	byKey  map[string][]*schema.IdentificationKey // by lower-cased source ("" = core)
	source map[string]string                      // lower-cased key name → lower-cased source
	// owners are the profiles seen, damaged the owners of a value that
	// failed (by source: "" for the profile, else the extension): what
	// that data yields is unknown, so the entries built on it are not
	// judged.
	owners  map[string]bool
	damaged map[string]map[string]bool
	skip    map[string]bool // keys (lower-cased) whose indexes are not checked
}

func (k *checker) hash(tenant, key string, value []byte) uint64 {
	return maphash.String(k.seed, tenant+"\x00"+strings.ToLower(key)+"\x00"+string(value))
}

// entry is one index entry met in a walk: +1 when data yields it, -1 when
// it is stored.
type entry struct {
	hash         uint64
	sign         int32
	tenant, id   string
	key          string
	fromExpected bool
}

func (k *checker) markDamaged(owner, source string) {
	if k.damaged[owner] == nil {
		k.damaged[owner] = map[string]bool{}
	}
	k.damaged[owner][source] = true
}

// walk exports src once, decoding what it holds; r counts and reports
// what the values show, visit sees every index entry that can be judged.
func (k *checker) walk(ctx context.Context, src transfer.Source, r *Report, visit func(entry)) error {
	k.owners, k.damaged = map[string]bool{}, map[string]map[string]bool{}
	expect := func(tenant, id string, keys []*schema.IdentificationKey, attrs map[string]any, records map[string][]schema.Record) {
		profile.Canonical(k.c, attrs, records) // stored under names a reload may have renamed, as writes read them
		for _, key := range keys {
			tuples, err := profile.IndexEntries(key, attrs, records)
			if err != nil {
				r.problem("customer %q (tenant %q): key %s: %v", id, tenant, key.Name, err)
				continue
			}
			// Equal values (an e-mail given twice, two activities alike)
			// yield one entry, stored once.
			entries := make([]string, len(tuples))
			for i, t := range tuples {
				entries[i] = string(codec.IndexEntry(t, id))
			}
			slices.Sort(entries)
			for _, e := range slices.Compact(entries) {
				visit(entry{k.hash(tenant, key.Name, []byte(e)), 1, tenant, id, key.Name, true})
			}
		}
	}
	orphan := func(it transfer.Item, what string) bool {
		if k.owners[it.Tenant+"\x00"+it.ID] {
			return false
		}
		r.Orphans++
		r.problem("%s for customer %q (tenant %q), which does not exist", what, it.ID, it.Tenant)
		return true
	}
	return src.Export(ctx, func(it transfer.Item) error {
		owner := it.Tenant + "\x00" + it.ID
		switch it.Kind {
		case transfer.KindProfile:
			r.Profiles++
			k.owners[owner] = true
			if !codec.Checksummed(it.Value) {
				r.Unchecksummed++
			}
			p, err := codec.DecodeProfile(it.Value)
			if err != nil {
				r.Damaged++
				k.markDamaged(owner, "")
				r.problem("profile of customer %q (tenant %q) is damaged: %v", it.ID, it.Tenant, err)
				return nil
			}
			expect(it.Tenant, it.ID, k.byKey[""], p.Attributes, nil)
		case transfer.KindRecords:
			r.Records++
			orphaned := orphan(it, it.Name+" records")
			if !codec.Checksummed(it.Value) {
				r.Unchecksummed++
			}
			recs, err := codec.DecodeRecords(it.Value)
			if err != nil {
				r.Damaged++
				k.markDamaged(owner, it.Name)
				r.problem("%s records of customer %q (tenant %q) are damaged: %v", it.Name, it.ID, it.Tenant, err)
				return nil
			}
			if keys := k.byKey[it.Name]; len(keys) > 0 && !orphaned && !k.damaged[owner][""] {
				e, _ := k.c.Extension(it.Name)
				expect(it.Tenant, it.ID, keys, nil, map[string][]schema.Record{e.Name: recs})
			}
		case transfer.KindIndex:
			r.IndexEntries++
			if k.skip[it.Name] {
				return nil
			}
			if orphan(it, "an index entry of key "+it.Name) || k.damaged[owner][""] || k.damaged[owner][k.source[it.Name]] {
				return nil // counted as an orphan, or built on data that cannot be read
			}
			visit(entry{k.hash(it.Tenant, it.Name, it.Value), -1, it.Tenant, it.ID, it.Name, false})
		case transfer.KindAudit:
			r.AuditEntries++
			if _, err := codec.DecodeAuditEntry(it.Value); err != nil {
				r.Damaged++
				r.problem("audit entry of %s (tenant %q) is damaged: %v", it.Created.Format(time.RFC3339Nano), it.Tenant, err)
			}
		}
		return nil
	})
}

// Run checks src against schema c in one pass over one consistent view; a
// second runs only when index entries do not match, to name them (over a
// later view: on a store being written it may name fewer). The indexes of
// keys named in skip (lower-cased) are not checked: the store built them
// for another definition than c's (a config edited for the next reload).
func Run(ctx context.Context, src transfer.Source, c *schema.Compiled, skip ...string) (*Report, error) {
	k := &checker{c: c, seed: maphash.MakeSeed(), byKey: map[string][]*schema.IdentificationKey{}, source: map[string]string{}, skip: map[string]bool{}}
	for _, name := range skip {
		k.skip[name] = true
	}
	for i := range c.Keys() {
		key := &c.Keys()[i]
		if k.skip[strings.ToLower(key.Name)] {
			continue
		}
		k.byKey[strings.ToLower(key.Source)] = append(k.byKey[strings.ToLower(key.Source)], key)
		k.source[strings.ToLower(key.Name)] = strings.ToLower(key.Source)
	}
	r := &Report{}
	tally := map[uint64]int32{}
	if err := k.walk(ctx, src, r, func(e entry) { tally[e.hash] += e.sign }); err != nil {
		return r, err
	}
	for _, n := range tally {
		if n > 0 {
			r.Missing += int(n)
		} else if n < 0 {
			r.Stale += int(-n)
		}
	}
	if r.Missing+r.Stale == 0 {
		return r, nil
	}
	named := &Report{} // counts of the second pass are not kept
	err := k.walk(ctx, src, named, func(e entry) {
		switch n := tally[e.hash]; {
		case n > 0 && e.fromExpected:
			r.problem("customer %q (tenant %q): an index entry of key %s that its data yields is not stored: identify cannot find it by those values", e.id, e.tenant, e.key)
		case n < 0 && !e.fromExpected:
			r.problem("an index entry of key %s for customer %q (tenant %q) matches none of the customer's data", e.key, e.id, e.tenant)
		}
	})
	return r, err
}
