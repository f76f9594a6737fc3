package profile

import (
	"maps"
	"slices"
	"strings"

	"github.com/contactcenter/profiled/schema"
)

// Names ignore case, and a reload may change only the case of a declared
// name, rename an attribute keeping the old name as an alias, or change
// its type: data stored before keeps the old spelling and form. A read
// through canonicalTx sees attributes and record attributes under the
// names the schema declares now, in the form their types give them, so
// every layer above it (record matching by unique attributes, index
// entries, identify's filters) compares them exactly. The stored bytes keep
// the old spelling and form until the profile is next written, or the
// record next changes (an unchanged record is not written again). A
// Document (a Genesys read, which shows stored values as stored) is only
// renamed.
type canonicalTx struct {
	Tx
	c *schema.Compiled
	// read notes what the transaction read under another spelling or form
	// than it is stored in; nil notes nothing.
	read *respelled
}

// respelled is what a transaction read under another spelling or form
// than it is stored in: writing that back as read still changes the
// stored bytes.
type respelled struct {
	attributes bool               // a profile's attributes
	sets       map[recordSet]bool // record sets with such a record
}

// recordSet names one customer's records of one extension (lower-cased).
type recordSet struct{ ext, id string }

func setOf(ext, id string) recordSet { return recordSet{strings.ToLower(ext), id} }

// canonical is tx read under schema c's spellings.
func canonical(tx Tx, c *schema.Compiled) Tx { return canonicalTx{tx, c, &respelled{}} }

// readSpellings is implemented by the Txs of a write (Tx wrappers pass it
// on): what they read so far under another spelling or form.
type readSpellings interface{ respelledReads() *respelled }

func (t canonicalTx) respelledReads() *respelled { return t.read }

// respelledIn is what tx read under another spelling or form; nil for a
// Tx that does not say, whose reads then count as not stored so: the
// write happens, as it always may.
func respelledIn(tx Tx) *respelled {
	if r, ok := tx.(readSpellings); ok {
		return r.respelledReads()
	}
	return nil
}

// asStored reports whether everything read is stored in the spelling and
// form it was read in.
func (r *respelled) asStored() bool { return r != nil && !r.attributes && len(r.sets) == 0 }

// setAsStored reports whether customer id's records of ext are stored as
// they were read (or were not read).
func (r *respelled) setAsStored(ext, id string) bool { return r != nil && !r.sets[setOf(ext, id)] }

// noteSet notes that customer id's records of ext were read otherwise
// than stored.
func (r *respelled) noteSet(ext, id string) {
	if r == nil {
		return
	}
	if r.sets == nil {
		r.sets = map[recordSet]bool{}
	}
	r.sets[setOf(ext, id)] = true
}

func (t canonicalTx) Profile(id string) (*Profile, error) {
	p, err := t.Tx.Profile(id)
	if p != nil && canonicalize(p.Attributes, t.c.Attribute) && t.read != nil {
		t.read.attributes = true
	}
	return p, err
}

// ForEachProfile hands out every profile under the declared spellings: an
// index build after a reload that renamed a key's attribute (keeping the
// old name as an alias) computes the entries a write would.
func (t canonicalTx) ForEachProfile(fn func(p *Profile) error) error {
	return t.Tx.ForEachProfile(func(p *Profile) error {
		canonicalize(p.Attributes, t.c.Attribute)
		return fn(p)
	})
}

func (t canonicalTx) Document(id string) (*Document, error) {
	d, err := t.Tx.Document(id)
	if d != nil {
		renameMembers(d.Attributes, t.c.Attribute)
	}
	return d, err
}

func (t canonicalTx) Records(ext, id string) ([]schema.Record, error) {
	recs, err := t.Tx.Records(ext, id)
	t.renameRecords(ext, id, recs)
	return recs, err
}

func (t canonicalTx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	sets, err := t.Tx.RecordSets(id, exts)
	for ext, recs := range sets {
		t.renameRecords(ext, id, recs)
	}
	return sets, err
}

func (t canonicalTx) RecordDocuments(id string, exts []string) (map[string][][]Member, error) {
	sets, err := t.Tx.RecordDocuments(id, exts)
	for ext, recs := range sets {
		if e, ok := t.c.Extension(ext); ok {
			for _, r := range recs {
				renameMembers(r, e.Attribute)
			}
		}
	}
	return sets, err
}

// renameRecords canonicalizes recs, customer id's records of ext, in
// place. A record it changes is replaced by a changed copy: the store
// knows a record written back as the very map it handed out for unchanged
// (codec.DiffRecords), which a map renamed in place no longer is.
func (t canonicalTx) renameRecords(ext, id string, recs []schema.Record) {
	if e, ok := t.c.Extension(ext); ok {
		for i, r := range recs {
			if !isCanonical(r, e.Attribute) {
				recs[i] = maps.Clone(r)
				canonicalize(recs[i], e.Attribute)
				t.read.noteSet(ext, id)
			}
		}
	}
}

// Canonical moves attributes (and the records of sets, by extension name)
// read from a store without a canonicalTx to the names schema c declares,
// in place: for checks that compute index entries from exported data.
func Canonical(c *schema.Compiled, attributes map[string]any, sets map[string][]schema.Record) {
	if attributes != nil {
		canonicalize(attributes, c.Attribute)
	}
	for ext, recs := range sets {
		canonicalTx{c: c}.renameRecords(ext, "", recs)
	}
}

// isCanonical reports whether canonicalize would leave m as it is.
func isCanonical(m map[string]any, lookup declared) bool {
	for k, v := range m {
		if a, ok := lookup(k); ok {
			if _, retyped := a.Retyped(v); retyped || a.Name != k {
				return false
			}
		}
	}
	return true
}

// declared finds an attribute by a name in any case (schema lookups).
type declared func(name string) (*schema.Attribute, bool)

// canonicalize moves values stored under a declared name in another case to
// the declared spelling (a value already under it wins), in the form the
// attribute's type now gives them (schema.Attribute.Retyped: a value
// written before a reload changed the type). The map is the reader's own
// (reads are independent), so it is changed in place.
func canonicalize(m map[string]any, lookup declared) (changed bool) {
	for k, v := range m {
		a, ok := lookup(k)
		if !ok {
			continue
		}
		if nv, retyped := a.Retyped(v); retyped {
			v, m[k], changed = nv, nv, true
		}
		if a.Name != k {
			changed = true
			name := a.Name
			delete(m, k)
			if _, taken := m[name]; !taken {
				m[name] = v
			}
		}
	}
	return changed
}

// renameMembers is canonicalize's renaming for a document's members; a member already
// under the declared spelling keeps it, and the other is left as it is
// (a name no schema attribute has exactly, so never shown).
func renameMembers(members []Member, lookup declared) {
	for i := range members {
		a, ok := lookup(members[i].Name)
		if ok && a.Name != members[i].Name && !slices.ContainsFunc(members, func(m Member) bool { return m.Name == a.Name }) {
			members[i].Name = a.Name
		}
	}
}
