// Package extensions implements the rules for profile extension records:
// per-customer uniqueness of a multi-valued extension's `unique` attributes,
// insert-or-replace of records, update and delete "by unique", and the
// record side of merging two profiles (spec §4 and §3.6).
package extensions

import (
	"slices"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of record rules.
const (
	CodeDuplicateUnique = "DUPLICATE_UNIQUE_VALUES"
	CodeNoUniqueKey     = "EXTENSION_HAS_NO_UNIQUE_KEY"
	CodeMissingUnique   = "MISSING_UNIQUE_ATTRIBUTE"
	CodeRecordNotFound  = "RECORD_NOT_FOUND"
)

// uniqueKey is the identity of a record within one customer: the index text
// of its unique attributes. ok is false when the extension has none.
func uniqueKey(e *schema.Extension, rec schema.Record) (key string, ok bool) {
	if len(e.Unique) == 0 {
		return "", false
	}
	return joinUnique(e, rec, schema.IndexText), true
}

// exactKey is uniqueKey without case folding: text as it is spelled.
func exactKey(e *schema.Extension, rec schema.Record) string {
	return joinUnique(e, rec, func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return schema.IndexText(v)
	})
}

// joinUnique joins text of rec's unique values, a null (unset) one empty.
func joinUnique(e *schema.Extension, rec schema.Record, text func(any) string) string {
	var b strings.Builder
	for _, name := range e.Unique {
		if v := rec[name]; v != nil {
			b.WriteString(text(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

// CheckUnique refuses a record set in which two records share their unique
// values (spec §10 Q6: 400 within one request).
func CheckUnique(e *schema.Extension, records []schema.Record) error {
	if len(e.Unique) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(records))
	for _, r := range records {
		k, _ := uniqueKey(e, r)
		if seen[k] {
			return errs.Invalid(CodeDuplicateUnique, e.Name, "two records of %q have the same %s", e.Name, strings.Join(e.Unique, "+"))
		}
		seen[k] = true
	}
	return nil
}

// Upsert inserts incoming records into existing ones: a single-valued
// extension's record is replaced; a multi-valued extension's records replace
// the existing record with the same unique values and are appended otherwise.
func Upsert(e *schema.Extension, existing, incoming []schema.Record) ([]schema.Record, error) {
	if err := CheckUnique(e, incoming); err != nil {
		return nil, err
	}
	if e.Kind == schema.SingleValued {
		return incoming, nil
	}
	out := append([]schema.Record(nil), existing...)
	for _, rec := range incoming {
		if i := find(e, out, rec); i >= 0 {
			out[i] = rec
		} else {
			out = append(out, rec)
		}
	}
	return out, nil
}

// find returns the index of the record with rec's unique values, or -1.
// A record spelled exactly as rec wins over one that only folds alike:
// records stored before case folding (STRASSE-X and straße-x) may hold
// unique values that fold alike, and a request naming one must not
// change or delete the other.
func find(e *schema.Extension, records []schema.Record, rec schema.Record) int {
	key, ok := uniqueKey(e, rec)
	if !ok {
		return -1
	}
	exact, found := exactKey(e, rec), -1
	for i, r := range records {
		if k, _ := uniqueKey(e, r); k == key {
			if exactKey(e, r) == exact {
				return i
			}
			if found < 0 {
				found = i
			}
		}
	}
	return found
}

// selectByUnique finds the record a by-unique request addresses. Every
// unique attribute must be given; null selects a record where it is unset,
// as a read shows it, so the record as read selects itself.
func selectByUnique(e *schema.Extension, records []schema.Record, selector schema.Record) (int, error) {
	if len(e.Unique) == 0 {
		return -1, errs.Invalid(CodeNoUniqueKey, e.Name, "extension %q declares no unique attributes, so its records cannot be addressed by unique", e.Name)
	}
	for _, name := range e.Unique {
		if _, set := selector[name]; !set {
			return -1, errs.Invalid(CodeMissingUnique, e.Name+"."+name, "unique attribute %q of %q is required to select the record", name, e.Name)
		}
	}
	i := find(e, records, selector)
	if i < 0 {
		return -1, errs.NotFound(CodeRecordNotFound, "no record of %q has those unique values", e.Name)
	}
	return i, nil
}

// UpdateByUnique applies patch to the record selected by its unique values
// (which are not changed) and returns the new record set and the new record.
func UpdateByUnique(e *schema.Extension, records []schema.Record, patch schema.Record) ([]schema.Record, schema.Record, error) {
	i, err := selectByUnique(e, records, patch)
	if err != nil {
		return nil, nil, err
	}
	updated := make(schema.Record, len(records[i])+len(patch))
	for k, v := range records[i] {
		updated[k] = v
	}
	for k, v := range patch {
		switch {
		case slices.Contains(e.Unique, k): // unique values select the record; they are not changed
		case v == nil: // null clears
			delete(updated, k)
		default:
			updated[k] = v
		}
	}
	out := append([]schema.Record(nil), records...)
	out[i] = updated
	return out, updated, nil
}

// DeleteByUnique removes the record selected by its unique values; other
// attributes in selector are tolerated (the vendor sample sends the whole record).
func DeleteByUnique(e *schema.Extension, records []schema.Record, selector schema.Record) ([]schema.Record, error) {
	i, err := selectByUnique(e, records, selector)
	if err != nil {
		return nil, err
	}
	out := append([]schema.Record(nil), records[:i]...)
	return append(out, records[i+1:]...), nil
}

// Merge combines the records of a merge source into the destination's
// (spec §3.6): single-valued extensions and records with equal unique values
// keep the destination's unless preferSource; other records are copied over.
func Merge(e *schema.Extension, dest, src []schema.Record, preferSource bool) []schema.Record {
	if e.Kind == schema.SingleValued {
		if len(dest) == 0 || (preferSource && len(src) > 0) {
			return src
		}
		return dest
	}
	out := append([]schema.Record(nil), dest...)
	for _, rec := range src {
		// Only the destination's records: two of the source's own that
		// fold alike (stored before case folding) are both copied.
		i := find(e, out[:len(dest)], rec)
		switch {
		case i >= 0 && preferSource:
			out[i] = rec
		case i >= 0:
		default:
			out = append(out, rec)
		}
	}
	return out
}

// Declared returns records with only the attributes e declares: stored
// records may hold attributes a schema reload removed, and those must not
// make an update of the record invalid.
//
// A record with nothing to drop is returned as it is (not copied): a store
// recognises records handed back unchanged and does not write them again.
func Declared(e *schema.Extension, records []schema.Record) []schema.Record {
	out := make([]schema.Record, len(records))
	for i, r := range records {
		if allDeclared(e, r) {
			out[i] = r
			continue
		}
		kept := make(schema.Record, len(r))
		for name, v := range r {
			if _, ok := e.Attribute(name); ok {
				kept[name] = v
			}
		}
		out[i] = kept
	}
	return out
}

func allDeclared(e *schema.Extension, r schema.Record) bool {
	for name := range r {
		if _, ok := e.Attribute(name); !ok {
			return false
		}
	}
	return true
}
