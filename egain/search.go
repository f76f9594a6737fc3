package egain

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// A search runs every criterion on its identification index, never a scan.
// Each lookup stops at f.lookupLimit ids; one that returned fewer is
// complete. The complete id lists are intersected (criteria are ANDed) and
// the criteria whose lookup was cut off are then tested on those candidates
// only, against the profile data their index is built from, so the answer
// is exact. When every lookup was cut off, the candidates are the first
// criterion's ids and the answer is bounded: every customer returned
// matches, but matching customers beyond those ids are not reachable (see
// checkWindow and docs/egain.md).

// criterion is one search criterion: its index lookup, and the same test on
// a loaded profile for when the lookup was cut off.
type criterion struct {
	name string // the query parameter, for messages
	// order is the order of the ids lookup returns, when it is one a
	// bounded answer can be served in: "id" (an exact key: its entries
	// run in customer_id order, which is id order for the ids the service
	// makes), "created" (the creation index), "" (neither: a range or a
	// union of lookups).
	order string
	// lookup returns at most limit ids; complete is false when it stopped
	// at the limit.
	lookup func(r profile.Reader, limit int) (ids []string, complete bool, err error)
	// test prepares the profile test for schema c; exts are the extensions
	// it reads, to be loaded with the candidates.
	test func(c *schema.Compiled) (match func(*profile.Profile) bool, exts []string, err error)
}

// candidates is what match found: the customers to load, the criteria
// still to test on them, and whether the answer is bounded (every lookup
// was cut off, so matching customers may lie beyond ids).
type candidates struct {
	ids     []string
	check   []criterion
	bounded bool
	limit   int    // the lookup limit
	by      string // bounded: the criterion whose ids are the candidates
	order   string // bounded: the order of those ids (criterion.order)
	// few, when bounded by a lookup that stopped at its index entry bound
	// (profile.Service.LookupExtraEntries) with fewer than limit customers, is
	// how many it found: not "at least limit customers match".
	few int
}

// tooMany says why a bounded answer's criterion matches too many: limit
// customers, or more index entries than a lookup reads.
func (c candidates) tooMany() string {
	if c.few > 0 {
		return fmt.Sprintf("%s has more index entries than a search reads (%d customers among those read)", c.by, c.few)
	}
	return fmt.Sprintf("at least %d customers match %s", c.limit, c.by)
}

// first is how many customers a bounded answer's candidates are.
func (c candidates) first() int {
	if c.few > 0 {
		return c.few
	}
	return c.limit
}

// match runs the lookups of q's criteria and intersects the complete ones.
func (f *Facade) match(r profile.Reader, q *SearchQuery) (candidates, error) {
	limit := f.lookupLimit
	if limit <= 0 {
		limit = profile.MaxIdentifyResults
	}
	var (
		ids    []string
		have   bool // some lookup was complete: ids is exact for it
		cut    []criterion
		cutIDs [][]string // the ids of each cut-off lookup
	)
	for _, c := range f.criteria(q) {
		list, complete, err := c.lookup(r, limit)
		if err != nil {
			return candidates{}, err
		}
		switch {
		case !complete:
			cut, cutIDs = append(cut, c), append(cutIDs, list)
		case !have:
			ids, have = list, true
		default:
			in := make(map[string]bool, len(list))
			for _, id := range list {
				in[id] = true
			}
			ids = slices.DeleteFunc(ids, func(id string) bool { return !in[id] })
		}
		if have && len(ids) == 0 {
			return candidates{}, nil
		}
	}
	if have {
		return candidates{ids: ids, check: cut}, nil
	}
	// Every lookup was cut off: the ids of one hold only matches of its
	// criterion, and the others are tested on them. The first whose ids
	// come in an order an answer can be served in is taken (checkOrder).
	i := max(0, slices.IndexFunc(cut, func(c criterion) bool { return c.order != "" }))
	few := 0
	if len(cutIDs[i]) < limit {
		few = len(cutIDs[i])
	}
	return candidates{ids: cutIDs[i], check: slices.Delete(slices.Clone(cut), i, i+1), bounded: true, limit: limit, by: cut[i].name, order: cut[i].order, few: few}, nil
}

// criteria lists q's criteria in a fixed order: email, phone, custom.<name>
// by name, activity, created.
func (f *Facade) criteria(q *SearchQuery) []criterion {
	var out []criterion
	keys := f.mapper.Keys
	if q.Email != "" {
		out = append(out, f.keyCriterion("email", keys.Email, []string{q.Email}, nil))
	}
	if q.Phone != "" {
		var anyOf []criterion
		for _, key := range keys.Phone {
			anyOf = append(anyOf, f.keyCriterion("phone", key, []string{q.Phone}, nil))
		}
		out = append(out, union("phone", anyOf))
	}
	for _, name := range sortedKeys(q.Custom) {
		out = append(out, f.keyCriterion("custom."+name, keys.Custom, []string{name, q.Custom[name]}, nil))
	}
	if a := q.Activity; a != nil {
		fixed := []string{a.Type, strconv.FormatBool(a.IsRead), strconv.FormatBool(a.IsSecure), a.Mode}
		out = append(out, f.keyCriterion("activity", keys.Activity, fixed, &[2]string{bound(a.SentDate.From), bound(a.SentDate.To)}))
	}
	if r := q.Created; r != nil {
		out = append(out, criterion{
			name:  "created",
			order: "created",
			lookup: func(rd profile.Reader, limit int) ([]string, bool, error) {
				ids, err := rd.CreatedBetween(r.From, r.To, limit)
				return ids, len(ids) < limit, err
			},
			test: func(*schema.Compiled) (func(*profile.Profile) bool, []string, error) {
				// The creation index clamps bounds to the years 1678-2262,
				// where every stored creation time lies, so the unclamped
				// range selects the same customers.
				return func(p *profile.Profile) bool { return r.Contains(p.Created) }, nil, nil
			},
		})
	}
	return out
}

// keyCriterion looks up identification key `key`: entries starting with
// values (raw query values) and, with bounds, continuing with a value in
// [bounds[0], bounds[1]] ("" is open). Its profile test reads the same
// attributes or extension records the index is built from, normalised the
// same way, so it agrees with the lookup.
func (f *Facade) keyCriterion(name, key string, values []string, bounds *[2]string) criterion {
	order := "id"
	if bounds != nil {
		order = "" // a range: entries run in the order of the ranged value
	}
	return criterion{
		name:  name,
		order: order,
		lookup: func(r profile.Reader, limit int) ([]string, bool, error) {
			if bounds == nil {
				return r.Lookup(key, values, limit)
			}
			return r.LookupRange(key, values, bounds[0], bounds[1], limit)
		},
		test: func(c *schema.Compiled) (func(*profile.Profile) bool, []string, error) {
			return keyTest(c, key, values, bounds)
		},
	}
}

// keyTest is the profile side of Lookup / LookupRange (package profile,
// keyEntries): a profile matches when one row (the core attributes, or one
// record of the key's source extension) has, for each leading key
// attribute, a value whose index text is the query value's, and with bounds
// a value of the next attribute whose index text lies in the range.
func keyTest(c *schema.Compiled, key string, values []string, bounds *[2]string) (func(*profile.Profile) bool, []string, error) {
	k, ok := c.Key(key)
	width := len(values)
	if bounds != nil {
		width++
	}
	if !ok || width == 0 || width > len(k.Attributes) {
		return nil, nil, errs.E(errs.KindInternal, CodeInternal, "egain: identification key %q does not fit the search", key)
	}
	want := make([]string, len(values))
	for i, v := range values {
		text, err := c.QueryValue(k.Source, k.Attributes[i], v)
		if err != nil {
			return nil, nil, err
		}
		want[i] = text
	}
	var from, to string
	if bounds != nil {
		attr := k.Attributes[len(values)]
		var err error
		if bounds[0] != "" {
			if from, err = c.QueryValue(k.Source, attr, bounds[0]); err != nil {
				return nil, nil, err
			}
		}
		if bounds[1] != "" {
			if to, err = c.QueryValue(k.Source, attr, bounds[1]); err != nil {
				return nil, nil, err
			}
		}
	}
	var source string
	var exts []string
	if k.Source != "" {
		e, ok := c.Extension(k.Source)
		if !ok {
			return nil, nil, errs.E(errs.KindInternal, CodeInternal, "egain: identification key %q: extension %q is not defined", key, k.Source)
		}
		source, exts = e.Name, []string{e.Name}
	}
	row := func(r map[string]any) bool {
		for i, w := range want {
			if !slices.Contains(schema.AttributeTexts(r, k.Attributes[i]), w) {
				return false
			}
		}
		if bounds == nil {
			return true
		}
		return slices.ContainsFunc(schema.AttributeTexts(r, k.Attributes[len(want)]), func(v string) bool {
			return v >= from && (to == "" || v <= to)
		})
	}
	return func(p *profile.Profile) bool {
		if source == "" {
			return row(p.Attributes)
		}
		return slices.ContainsFunc(p.Extensions[source], func(r schema.Record) bool { return row(r) })
	}, exts, nil
}

// union is the criterion matched by any of several lookups (phone: one per
// phone key); it is complete when every lookup is.
func union(name string, anyOf []criterion) criterion {
	return criterion{
		name: name,
		lookup: func(r profile.Reader, limit int) ([]string, bool, error) {
			var out []string
			seen := map[string]bool{}
			complete := true
			for _, c := range anyOf {
				ids, ok, err := c.lookup(r, limit)
				if err != nil {
					return nil, false, err
				}
				complete = complete && ok
				for _, id := range ids {
					if !seen[id] {
						seen[id] = true
						out = append(out, id)
					}
				}
			}
			return out, complete, nil
		},
		test: func(s *schema.Compiled) (func(*profile.Profile) bool, []string, error) {
			var tests []func(*profile.Profile) bool
			var exts []string
			for _, c := range anyOf {
				t, e, err := c.test(s)
				if err != nil {
					return nil, nil, err
				}
				tests = append(tests, t)
				exts = append(exts, e...)
			}
			return func(p *profile.Profile) bool {
				return slices.ContainsFunc(tests, func(t func(*profile.Profile) bool) bool { return t(p) })
			}, exts, nil
		},
	}
}

// filter prepares the tests of criteria: match reports whether a loaded
// profile passes them all, exts are the extensions they read.
func filter(c *schema.Compiled, criteria []criterion) (match func(*profile.Profile) bool, exts []string, err error) {
	var tests []func(*profile.Profile) bool
	for _, cr := range criteria {
		t, e, err := cr.test(c)
		if err != nil {
			return nil, nil, err
		}
		tests = append(tests, t)
		exts = append(exts, e...)
	}
	return func(p *profile.Profile) bool {
		for _, t := range tests {
			if !t(p) {
				return false
			}
		}
		return true
	}, exts, nil
}

// checkOrder refuses a bounded answer asked for in an order its candidates
// are not in: they are the first matches of one lookup, so only that
// lookup's own order (ascending id for an exact key; ascending id or
// creation for created) puts first what is first among all matches. Any
// other would put customers first that are not, with nothing in a 200 to
// say so; a range (activity) or a union (phone) has no such order.
func (c candidates) checkOrder(sort string, desc bool) error {
	if !c.bounded {
		return nil
	}
	switch {
	case c.order == "":
		return errs.Invalid(CodeLimitExceeded, "", "this search matches too many customers to be answered: %s; add or narrow criteria", c.tooMany())
	case !desc && (sort == "" || sort == "id" || sort == c.order):
		return nil
	}
	orders := "ascending id order"
	if c.order == "created" {
		orders = "ascending id or created order"
	}
	return errs.Invalid(CodeLimitExceeded, "$sort", "this search matches too many customers to be sorted: %s, "+
		"and results can only be returned in %s; add or narrow criteria, or leave out $sort and $order", c.tooMany(), orders)
}

// checkWindow refuses a page of a bounded answer that starts at or beyond
// its n results: matching customers may lie past them, so neither 204 nor
// an empty page would be true. A page that starts within them is served,
// cut at n.
func (c candidates) checkWindow(p Page, n int) error {
	if !c.bounded || p.Offset < n {
		return nil
	}
	if n == 0 {
		return errs.Invalid(CodeLimitExceeded, "", "this search matches too many customers to be answered: %s, "+
			"and none of the first %d of them is a result; add or narrow criteria", c.tooMany(), c.first())
	}
	return errs.Invalid(CodeLimitExceeded, "", "this search matches too many customers to be answered in full: %s, "+
		"so only results 1 to %d can be returned and the requested window starts at result %d; add or narrow criteria", c.tooMany(), n, p.Offset+1)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// bound renders a range bound for LookupRange; a zero time is open.
func bound(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sortItems orders items by a $sort attribute ("" and "id": the numeric
// id), ties broken by id ascending.
func sortItems(items []item, key string, desc bool) {
	by := sortKey(key)
	slices.SortStableFunc(items, func(a, b item) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.profile.Num, b.profile.Num)
		}
		return c
	})
}

func sortKey(key string) func(a, b item) int {
	switch key {
	case "type":
		return func(a, b item) int { return strings.Compare(typeOf(&a.customer), typeOf(&b.customer)) }
	case "customerName":
		return func(a, b item) int { return compareText(str(a.customer.CustomerName), str(b.customer.CustomerName)) }
	case "created":
		return func(a, b item) int { return a.profile.Created.Compare(b.profile.Created) }
	case "lastModified":
		return func(a, b item) int { return a.profile.Updated.Compare(b.profile.Updated) }
	}
	if name, ok := strings.CutPrefix(key, "custom."); ok {
		return func(a, b item) int {
			return compareText(customValue(&a.customer, name), customValue(&b.customer, name))
		}
	}
	return func(a, b item) int { return cmp.Compare(a.profile.Num, b.profile.Num) }
}

// compareText orders text sort keys (names, custom values) with case
// aside, so "alice" sorts beside "Amy", not after "Zed"; otherwise by code
// point (accents count: "Émile" sorts after "Zed"), as docs/egain.md says.
func compareText(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

// customValue is the first value of a customer-level custom attribute.
func customValue(c *Customer, name string) string {
	if i := indexOfAttribute(c.CustomAttributes, name); i >= 0 {
		return str(firstValue(c.CustomAttributes[i]))
	}
	return ""
}

// window cuts the requested page or range out of items.
func window(items []item, p Page) []item {
	if p.Offset >= len(items) {
		return nil
	}
	return items[p.Offset:min(len(items), p.Offset+p.Limit)]
}
