package profile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of identification.
const (
	CodeUniqueKeyViolation = "UNIQUE_KEY_VIOLATION"
	CodeTooManyIndexValues = "TOO_MANY_INDEX_VALUES"
	CodeIndexValueTooLong  = "INDEX_VALUE_TOO_LONG"
)

// MaxIndexedBytes bounds one index entry of an identification key: the
// bytes of its values' index text, a NUL counted twice (stores escape it).
// PostgreSQL's B-tree holds at most 2704 bytes per index row and bbolt 32
// KiB per key; a longer entry failed the write with a 500 on PostgreSQL
// (a CustomAttribute value of 1024 four-byte characters) and past 32 KiB on
// bbolt. A value that long identifies nothing a lookup would send, so it is
// refused, on both stores alike.
const MaxIndexedBytes = 2000

// checkEntrySize refuses entry t of key k when it is over MaxIndexedBytes;
// owner, when not "", names whose data it is (an index built over stored
// profiles), for the message.
func checkEntrySize(k *schema.IdentificationKey, t []string, owner string) error {
	n := 0
	for _, v := range t {
		n += len(v) + strings.Count(v, "\x00")
	}
	if n <= MaxIndexedBytes {
		return nil
	}
	field := strings.Join(k.Attributes, ",")
	if k.Source != "" {
		field = k.Source + "." + field
	}
	whose := "the value"
	if owner != "" {
		whose = fmt.Sprintf("customer %s's value", owner)
	}
	return errs.Invalid(CodeIndexValueTooLong, field, "%s of %s is too long for identification key %q: its index text takes %d bytes in UTF-8, at most %d can be indexed",
		whose, field, k.Name, n, MaxIndexedBytes)
}

// maxEntriesPerKey bounds the index entries one profile may create for one
// key (multi-valued attributes multiply).
const maxEntriesPerKey = 1000

// indexed is what identification indexes are computed from: core
// attributes and the records of extensions that are key sources.
type indexed struct {
	attributes map[string]any
	records    map[string][]schema.Record // by canonical extension name
}

// keySources lists the extensions keys are built on, each once.
func keySources(keys []*schema.IdentificationKey) []string {
	var out []string
	for _, k := range keys {
		if k.Source != "" && !slices.Contains(out, k.Source) {
			out = append(out, k.Source)
		}
	}
	return out
}

// allKeys is every identification key of c.
func allKeys(c *schema.Compiled) []*schema.IdentificationKey {
	keys := c.Keys()
	out := make([]*schema.IdentificationKey, len(keys))
	for i := range keys {
		out[i] = &keys[i]
	}
	return out
}

// loadIndexed reads what the index entries of profile p are computed
// from: its attributes and its records of sources (keySources).
func loadIndexed(tx Tx, p *Profile, sources []string) (indexed, error) {
	in := indexed{attributes: p.Attributes, records: map[string][]schema.Record{}}
	if len(sources) == 0 {
		return in, nil
	}
	sets, err := tx.RecordSets(p.ID, sources)
	if err != nil {
		return in, err
	}
	for _, ext := range sources {
		in.records[ext] = sets[ext]
	}
	return in, nil
}

// keyEntries returns the index entries of key k for in: one tuple of index
// texts per combination of values (multi-valued attributes and multi-valued
// extension records yield several). A tuple whose components are all empty
// is not indexed.
func keyEntries(k *schema.IdentificationKey, in indexed) ([][]string, error) {
	rows := in.records[k.Source]
	if k.Source == "" {
		rows = []schema.Record{in.attributes}
	}
	var out [][]string
	for _, row := range rows {
		tuples := [][]string{{}}
		for _, name := range k.Attributes {
			values := schema.AttributeTexts(row, name)
			next := make([][]string, 0, len(tuples)*len(values))
			for _, t := range tuples {
				for _, v := range values {
					next = append(next, append(append([]string(nil), t...), v))
				}
			}
			if len(next) > maxEntriesPerKey {
				return nil, errs.Invalid(CodeTooManyIndexValues, k.Name, "identification key %q would need more than %d index entries for this profile", k.Name, maxEntriesPerKey)
			}
			tuples = next
		}
		for _, t := range tuples {
			if strings.Join(t, "") != "" {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func entryID(t []string) string { return strings.Join(t, "\x00") }

// syncIndexes moves profile id's index entries from what before yields to
// what after yields, touching only entries that change, and enforces keys
// marked unique.
func syncIndexes(tx Tx, c *schema.Compiled, id string, before, after *indexed) error {
	for i := range c.Keys() {
		k := &c.Keys()[i]
		if k.Source != "" && before != nil && after != nil {
			if err := syncRecordKey(tx, k, id, before.records[k.Source], after.records[k.Source]); err != nil {
				return err
			}
			continue
		}
		var old, new [][]string
		var err error
		if before != nil {
			if old, err = keyEntries(k, *before); err != nil {
				return err
			}
		}
		if after != nil {
			if new, err = keyEntries(k, *after); err != nil {
				return err
			}
		}
		if err := moveEntries(tx, k, id, old, new); err != nil {
			return err
		}
	}
	return nil
}

// syncRecordKey is syncIndexes for a key built on extension records, when
// a change turned the records before into those after. Records it left
// alone (the same record, not a copy: the extension operations build new
// records for what they change) keep their entries, so only the records
// removed and added are looked at; the others only when an entry of a
// removed record might still be theirs. An insert into a large set thus
// computes the entries of what it inserts, not of the set.
func syncRecordKey(tx Tx, k *schema.IdentificationKey, id string, before, after []schema.Record) error {
	kept := make(map[unsafe.Pointer]bool, len(before))
	for _, r := range before {
		kept[recordIdentity(r)] = false
	}
	var added, common []schema.Record
	for _, r := range after {
		if _, ok := kept[recordIdentity(r)]; ok {
			kept[recordIdentity(r)] = true
			common = append(common, r)
		} else {
			added = append(added, r)
		}
	}
	var removed []schema.Record
	for _, r := range before {
		if !kept[recordIdentity(r)] {
			removed = append(removed, r)
		}
	}
	if len(added)+len(removed) == 0 {
		return nil
	}
	entriesOf := func(recs []schema.Record) ([][]string, error) {
		return keyEntries(k, indexed{records: map[string][]schema.Record{k.Source: recs}})
	}
	old, err := entriesOf(removed)
	if err != nil {
		return err
	}
	new, err := entriesOf(added)
	if err != nil {
		return err
	}
	if len(old) > 0 && len(common) > 0 {
		// An entry of a removed record that a record left alone yields
		// stays: count those as kept on both sides.
		still, err := entriesOf(common)
		if err != nil {
			return err
		}
		yielded := make(map[string]bool, len(still))
		for _, t := range still {
			yielded[entryID(t)] = true
		}
		old = slices.DeleteFunc(old, func(t []string) bool { return yielded[entryID(t)] })
		new = slices.DeleteFunc(new, func(t []string) bool { return yielded[entryID(t)] })
	}
	return moveEntries(tx, k, id, old, new)
}

// recordIdentity is the map a record is, not its contents.
func recordIdentity(r schema.Record) unsafe.Pointer { return reflect.ValueOf(r).UnsafePointer() }

// moveEntries removes the entries of old that new lacks and adds those of
// new that old lacks, enforcing k's uniqueness for what it adds.
func moveEntries(tx Tx, k *schema.IdentificationKey, id string, old, new [][]string) error {
	{
		keep := map[string]bool{}
		for _, t := range new {
			keep[entryID(t)] = true
		}
		had := map[string]bool{}
		for _, t := range old {
			had[entryID(t)] = true
			if !keep[entryID(t)] {
				if err := tx.RemoveIndexEntry(k.Name, t, id); err != nil {
					return err
				}
			}
		}
		for _, t := range new {
			if had[entryID(t)] {
				continue
			}
			if err := checkEntrySize(k, t, ""); err != nil {
				return err
			}
			if err := addEntry(tx, k, t, id); err != nil {
				return err
			}
			had[entryID(t)] = true
		}
	}
	return nil
}

// addEntry stores entry t of key k for customer id, refused when k holds
// t as unique and another customer has it.
func addEntry(tx Tx, k *schema.IdentificationKey, t []string, id string) error {
	unique := uniqueEntry(k, t)
	if unique {
		if err := checkUniqueEntry(tx, k, t, id); err != nil {
			return err
		}
	}
	return tx.AddIndexEntry(k.Name, t, id, unique)
}

// uniqueEntry reports whether unique key k holds entry t as unique: not
// when a component is empty (its attribute has no value), as a relational
// unique index never takes two rows with a NULL for equal. Such an entry is
// still indexed for identify.
func uniqueEntry(k *schema.IdentificationKey, t []string) bool {
	return k.Unique && !slices.Contains(t, "")
}

// checkUniqueEntry fails when another customer has entry t of key k. The
// values are locked first, so two writers (in any process) cannot both
// find them free.
func checkUniqueEntry(tx Tx, k *schema.IdentificationKey, t []string, id string) error {
	if err := tx.LockIndexValues(k.Name, t); err != nil {
		return err
	}
	var other string
	err := tx.ScanIndex(k.Name, t, func(found string) bool {
		if found != id {
			other = found
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if other != "" {
		return uniqueViolation(k, t, other)
	}
	return nil
}

// uniqueViolation refuses values t of unique key k, which customer other
// already has.
func uniqueViolation(k *schema.IdentificationKey, t []string, other string) error {
	e := errs.Conflict(CodeUniqueKeyViolation, "identification key %q is unique and customer %s already has these values", k.Name, other)
	e.Err = &TakenValues{Key: k.Name, Values: t}
	return e
}

// TakenValues is the cause of a CodeUniqueKeyViolation: the values of key
// another customer has, for adapters that name them in their own words.
type TakenValues struct {
	Key    string
	Values []string // as the index holds them (folded)
}

// Error leaves the values out: errors reach logs, values are personal data.
func (v *TakenValues) Error() string {
	return fmt.Sprintf("values of key %s are another customer's", v.Key)
}

// IndexEntries returns the index entries profile data yields for key k:
// attributes are the core attributes, records the record sets of the
// extensions that are key sources (by canonical name). It is what writes
// store, for checks of a store against its profiles (profiled check).
func IndexEntries(k *schema.IdentificationKey, attributes map[string]any, records map[string][]schema.Record) ([][]string, error) {
	return keyEntries(k, indexed{attributes: attributes, records: records})
}
