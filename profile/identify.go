package profile

import (
	"context"
	"slices"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of identification.
const (
	CodeNoIdentificationKey = "NO_IDENTIFICATION_KEY"
	CodeUnknownKey          = "UNKNOWN_IDENTIFICATION_KEY"
	CodeUnknownAttribute    = schema.CodeUnknownAttribute
	CodeBadFilter           = "BAD_PARAMETER"
)

// MaxIdentifyResults bounds one identify answer; Identification.Truncated
// tells when more customers matched.
const MaxIdentifyResults = 1000

// DefaultIdentifyBytes is Service.IdentifyBytes's default.
const DefaultIdentifyBytes = 16 << 20

// DefaultIdentifyCandidates is Service.IdentifyCandidates's default.
const DefaultIdentifyCandidates = 10 * MaxIdentifyResults

// Filter is one attribute=value condition of an identify request: Source ""
// for a core attribute, else the extension ("Phone.PhoneNumber=...").
type Filter struct {
	Source, Attribute, Value string
}

// ParseFilter reads a query name such as "EmailAddress" or
// "Phone.PhoneNumber"; false for a name of neither form (an empty part,
// a second dot).
func ParseFilter(name, value string) (Filter, bool) {
	f := Filter{Attribute: name, Value: value}
	if src, attr, dotted := strings.Cut(name, "."); dotted {
		f = Filter{Source: src, Attribute: attr, Value: value}
		if src == "" {
			return f, false // ".EmailAddress" is no core attribute
		}
	}
	return f, f.Attribute != "" && !strings.Contains(f.Attribute, ".")
}

// IdentifyQuery is an identify request (spec §3.5).
type IdentifyQuery struct {
	Filters        []Filter
	Key            string   // id_key; "" infers the key
	IncludeProfile bool     // include_profile=yes
	Extensions     []string // extensions to return per customer
	OnlyIfUnique   bool     // include_extensions=unique
}

// Identification is the answer to an identify request.
type Identification struct {
	Profiles  []*Document // only ID set unless IncludeProfile
	Truncated bool        // more than MaxIdentifyResults matched, or candidates or bytes ran past their bounds
}

// resolvedFilter is a Filter bound to the schema, its value in index text.
type resolvedFilter struct {
	source, attribute string // canonical names
	text              string
}

// Identify finds customers through the index of one identification key:
// the prefix of key attributes supplied selects index entries, and only
// the matching customers are read to check any remaining filters.
//
// Another replica may have just changed the identification keys: deleted
// the one read, so its index is empty, and a client told "no such
// customer" creates a duplicate; or deleted it and made one of the same
// name over other attributes, so its index holds other values, and the
// answer names customers who do not match. So every answer is checked
// against the stored schema (its version, read in the identify's own
// snapshot) and, when that is newer,
// the live schema catches up and the identify runs again. (A refusal for
// naming what this schema lacks is checked so by the HTTP server, as for
// every read.) When that check finds instead that this process cannot
// follow the stored schema because the store's index of a key is built
// otherwise (another replica's config, or another release's index text),
// the identify runs again too, and a key so marked answers 503
// SCHEMA_OUT_OF_SYNC rather than the [] its index gave.
func (s *Service) Identify(ctx context.Context, tenant string, q IdentifyQuery) (*Identification, error) {
	used, stale := s.schema.Current(), s.staleKeys.Load()
	res, newer, err := s.identifyUnder(ctx, used, tenant, q)
	if err == nil && newer && (s.CatchUp(ctx, used.Version) || s.staleKeys.Load() != stale) {
		res, _, err = s.identifyUnder(ctx, s.schema.Current(), tenant, q)
	}
	if err != nil {
		return nil, err
	}
	// Noted once, for the answer given: a first answer run again was
	// never shown.
	ids := make([]string, len(res.Profiles))
	for i, d := range res.Profiles {
		ids[i] = d.ID
	}
	return res, s.noteRead(ctx, tenant, ids...)
}

// identifyUnder is Identify under schema c; newer reports an answer read
// from a store whose schema version is not c's.
func (s *Service) identifyUnder(ctx context.Context, c *schema.Compiled, tenant string, q IdentifyQuery) (*Identification, bool, error) {
	filters, err := resolveFilters(c, q.Filters)
	if err != nil {
		return nil, false, err
	}
	key, prefix, err := chooseKey(c, q.Key, filters)
	if err != nil {
		return nil, false, err
	}
	if err := checkIndexed(s.staleKeys.Load(), key.Name); err != nil {
		return nil, false, err
	}
	exts, err := extensionNames(c, q.Extensions)
	if err != nil {
		return nil, false, err
	}
	rest := remainingFilters(key, len(prefix), filters)
	result, newer := &Identification{}, false
	err = s.store.View(ctx, tenant, func(tx Tx) error {
		tx = canonical(tx, c)
		var ids []string
		seen := map[string]bool{}
		var scanErr error
		// Entries, not only customers, are bounded: a key over a
		// multi-valued extension has an entry per record, so one customer
		// may own a thousand entries under the prefix.
		entries, maxEntries := 0, s.identifyCandidates()+MaxIdentifyResults
		err := tx.ScanIndex(key.Name, prefix, func(id string) bool {
			if entries++; entries > maxEntries {
				result.Truncated = true
				return false
			}
			if seen[id] {
				return true
			}
			seen[id] = true
			if len(rest) > 0 {
				// Each candidate is a read: stop for a client that has gone
				// (the store's own reads may outlive it), and after a bound.
				if scanErr = ctx.Err(); scanErr != nil {
					return false
				}
				if len(seen) > s.identifyCandidates() {
					result.Truncated = true
					return false
				}
			}
			ok, err := matchesAll(tx, id, rest)
			if err != nil {
				scanErr = err
				return false
			}
			if ok {
				if len(ids) == MaxIdentifyResults {
					result.Truncated = true
					return false
				}
				ids = append(ids, id)
			}
			return true
		})
		if err != nil {
			return err
		}
		if scanErr != nil {
			return scanErr
		}
		// A version this process's config cannot follow was tried already
		// (CatchUp): its keys indexed otherwise answer 503 above, and the
		// others are read as indexed, so it costs no look at the store.
		v, err := tx.SchemaVersion()
		newer = err == nil && v != c.Version && v != s.unfollowable.Load()
		withExts := exts
		// Unique only when every candidate was checked: one match among
		// candidates cut by the bound may have namesakes past it.
		if q.OnlyIfUnique && (len(ids) != 1 || result.Truncated) {
			withExts = nil
		}
		size := 0
		for _, id := range ids {
			d := &Document{ID: id}
			if q.IncludeProfile || len(withExts) > 0 {
				if d, err = loadDocument(tx, id, withExts); errs.Is(err, errs.KindNotFound) {
					continue // an index entry without its profile must not fail the whole answer
				} else if err != nil {
					return err
				}
				if size += d.size(); size > s.identifyBytes() && len(result.Profiles) > 0 {
					result.Truncated = true
					break
				}
			}
			result.Profiles = append(result.Profiles, d)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return result, newer, nil
}

func resolveFilters(c *schema.Compiled, filters []Filter) ([]resolvedFilter, error) {
	if len(filters) == 0 {
		return nil, errs.Invalid(CodeNoIdentificationKey, "", "identify needs at least one attribute=value parameter")
	}
	out := make([]resolvedFilter, 0, len(filters))
	seen := map[[2]string]bool{}
	for _, f := range filters {
		var rf resolvedFilter
		if f.Source == "" {
			a, ok := c.Attribute(f.Attribute)
			if !ok {
				return nil, errs.Invalid(CodeUnknownAttribute, f.Attribute, "%q is not an attribute of the profile schema", f.Attribute)
			}
			rf.attribute = a.Name
		} else {
			e, ok := c.Extension(f.Source)
			if !ok {
				return nil, errs.Invalid(CodeUnknownExtension, f.Source, "extension %q is not defined", f.Source)
			}
			a, ok := e.Attribute(f.Attribute)
			if !ok {
				return nil, errs.Invalid(CodeUnknownAttribute, f.Source+"."+f.Attribute, "%q is not an attribute of extension %q", f.Attribute, e.Name)
			}
			rf.source, rf.attribute = e.Name, a.Name
		}
		if seen[[2]string{rf.source, rf.attribute}] {
			return nil, errs.Invalid(CodeBadFilter, qualifiedName(rf), "%s is given more than once (names are case-insensitive)", qualifiedName(rf))
		}
		seen[[2]string{rf.source, rf.attribute}] = true
		text, err := c.QueryValue(rf.source, rf.attribute, f.Value)
		if err != nil {
			return nil, err
		}
		rf.text = text
		out = append(out, rf)
	}
	return out, nil
}

// chooseKey picks the identification key and the index prefix (spec §3.5):
// the named key, or the first key whose attributes are all supplied, or the
// key with the longest run of supplied attributes from its left (ties: the
// earlier key).
func chooseKey(c *schema.Compiled, name string, filters []resolvedFilter) (*schema.IdentificationKey, []string, error) {
	if name != "" {
		k, ok := c.Key(name)
		if !ok {
			return nil, nil, errs.Invalid(CodeUnknownKey, "id_key", "identification key %q is not defined", name)
		}
		prefix := supplied(k, filters)
		if len(prefix) == 0 {
			return nil, nil, errs.Invalid(CodeNoIdentificationKey, "id_key", "identification key %q needs a value for %s", k.Name, qualified(k, k.Attributes[0]))
		}
		return k, prefix, nil
	}
	var best *schema.IdentificationKey
	var bestPrefix []string
	for i := range c.Keys() {
		k := &c.Keys()[i]
		prefix := supplied(k, filters)
		if len(prefix) == len(k.Attributes) {
			return k, prefix, nil
		}
		if len(prefix) > len(bestPrefix) {
			best, bestPrefix = k, prefix
		}
	}
	if best == nil {
		return nil, nil, errs.Invalid(CodeNoIdentificationKey, "", "no identification key covers the given attributes")
	}
	return best, bestPrefix, nil
}

// supplied returns the index texts of k's attributes given consecutively
// from the left.
func supplied(k *schema.IdentificationKey, filters []resolvedFilter) []string {
	var prefix []string
	for _, attr := range k.Attributes {
		f, ok := findFilter(filters, k.Source, attr)
		if !ok {
			break
		}
		prefix = append(prefix, f.text)
	}
	return prefix
}

func findFilter(filters []resolvedFilter, source, attr string) (resolvedFilter, bool) {
	for _, f := range filters {
		if f.source == source && f.attribute == attr {
			return f, true
		}
	}
	return resolvedFilter{}, false
}

func qualifiedName(f resolvedFilter) string {
	if f.source == "" {
		return f.attribute
	}
	return f.source + "." + f.attribute
}

func qualified(k *schema.IdentificationKey, attr string) string {
	if k.Source == "" {
		return attr
	}
	return k.Source + "." + attr
}

// remainingFilters are the filters the index prefix does not already check.
// Filters on one multi-valued extension must hold in the same record, so
// when any filter on the key's extension is left, the prefix's filters are
// checked again with it, record by record.
func remainingFilters(k *schema.IdentificationKey, used int, filters []resolvedFilter) []resolvedFilter {
	covered := func(f resolvedFilter) bool {
		return f.source == k.Source && slices.Contains(k.Attributes[:used], f.attribute)
	}
	var rest []resolvedFilter
	sameSourceLeft := false
	for _, f := range filters {
		if !covered(f) {
			rest = append(rest, f)
			sameSourceLeft = sameSourceLeft || (k.Source != "" && f.source == k.Source)
		}
	}
	if sameSourceLeft {
		for _, f := range filters {
			if covered(f) {
				rest = append(rest, f)
			}
		}
	}
	return rest
}

// matchesAll checks the remaining filters against one candidate customer.
// Filters on the same extension must hold in one record.
func matchesAll(tx Tx, id string, rest []resolvedFilter) (bool, error) {
	if len(rest) == 0 {
		return true, nil
	}
	var p *Profile
	bySource := map[string][]resolvedFilter{}
	for _, f := range rest {
		bySource[f.source] = append(bySource[f.source], f)
	}
	for source, fs := range bySource {
		if source == "" {
			if p == nil {
				var err error
				if p, err = tx.Profile(id); err != nil || p == nil {
					return false, err
				}
			}
			if !rowMatches(p.Attributes, fs) {
				return false, nil
			}
			continue
		}
		recs, err := tx.Records(source, id)
		if err != nil {
			return false, err
		}
		found := false
		for _, r := range recs {
			if rowMatches(r, fs) {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

func rowMatches(row map[string]any, fs []resolvedFilter) bool {
	for _, f := range fs {
		hit := false
		for _, v := range schema.IndexTexts(row[f.attribute]) {
			if v == f.text {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}
