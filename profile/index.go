package profile

import (
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of identification.
const (
	CodeUniqueKeyViolation = "UNIQUE_KEY_VIOLATION"
	CodeTooManyIndexValues = "TOO_MANY_INDEX_VALUES"
)

// maxEntriesPerKey bounds the index entries one profile may create for one
// key (multi-valued attributes multiply).
const maxEntriesPerKey = 1000

// indexed is what identification indexes are computed from: core
// attributes and the records of extensions that are key sources.
type indexed struct {
	attributes map[string]any
	records    map[string][]schema.Record // by canonical extension name
}

// keySources lists the extensions some identification key is built on.
func keySources(c *schema.Compiled) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range c.Keys() {
		if k.Source != "" && !seen[k.Source] {
			seen[k.Source] = true
			out = append(out, k.Source)
		}
	}
	return out
}

// loadIndexed reads what the indexes of profile p are computed from.
func loadIndexed(tx Tx, c *schema.Compiled, p *Profile) (indexed, error) {
	in := indexed{attributes: p.Attributes, records: map[string][]schema.Record{}}
	sources := keySources(c)
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
			values := schema.IndexTexts(row[name])
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
			if k.Unique {
				if err := checkUniqueEntry(tx, k, t, id); err != nil {
					return err
				}
			}
			if err := tx.AddIndexEntry(k.Name, t, id, k.Unique); err != nil {
				return err
			}
			had[entryID(t)] = true
		}
	}
	return nil
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
		return errs.Conflict(CodeUniqueKeyViolation, "identification key %q is unique and customer %s already has these values", k.Name, other)
	}
	return nil
}

// IndexEntries returns the index entries profile data yields for key k:
// attributes are the core attributes, records the record sets of the
// extensions that are key sources (by canonical name). It is what writes
// store, for checks of a store against its profiles (profiled check).
func IndexEntries(k *schema.IdentificationKey, attributes map[string]any, records map[string][]schema.Record) ([][]string, error) {
	return keyEntries(k, indexed{attributes: attributes, records: records})
}
