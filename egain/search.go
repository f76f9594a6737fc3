package egain

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// match runs each search criterion on its identification index (no
// scans) and intersects the customer id sets (criteria are ANDed), keeping
// the order of the first.
func (f *Facade) match(ctx context.Context, tenant string, q *SearchQuery) ([]string, error) {
	var lookups []func() ([]string, error)
	lookup := func(key string, values ...string) func() ([]string, error) {
		return func() ([]string, error) { return f.profiles.Lookup(ctx, tenant, key, values, 0) }
	}
	if q.Email != "" {
		lookups = append(lookups, lookup(f.mapper.Keys.Email, q.Email))
	}
	if q.Phone != "" {
		lookups = append(lookups, func() ([]string, error) { return f.phoneMatches(ctx, tenant, q.Phone) })
	}
	for _, name := range sortedKeys(q.Custom) {
		lookups = append(lookups, lookup(f.mapper.Keys.Custom, name, q.Custom[name]))
	}
	if a := q.Activity; a != nil {
		lookups = append(lookups, func() ([]string, error) {
			fixed := []string{a.Type, strconv.FormatBool(a.IsRead), strconv.FormatBool(a.IsSecure), a.Mode}
			return f.profiles.LookupRange(ctx, tenant, f.mapper.Keys.Activity, fixed, bound(a.SentDate.From), bound(a.SentDate.To), 0)
		})
	}
	if r := q.Created; r != nil {
		lookups = append(lookups, func() ([]string, error) {
			return f.profiles.CreatedBetween(ctx, tenant, r.From, r.To, 0)
		})
	}
	var result []string
	for i, run := range lookups {
		ids, err := run()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			result = ids
		} else {
			in := make(map[string]bool, len(ids))
			for _, id := range ids {
				in[id] = true
			}
			result = slices.DeleteFunc(result, func(id string) bool { return !in[id] })
		}
		if len(result) == 0 {
			return nil, nil
		}
	}
	return result, nil
}

// phoneMatches is the union of every phone key's matches.
func (f *Facade) phoneMatches(ctx context.Context, tenant, phone string) ([]string, error) {
	var out []string
	for _, key := range f.mapper.Keys.Phone {
		ids, err := f.profiles.Lookup(ctx, tenant, key, []string{phone}, 0)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out, nil
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
		return func(a, b item) int {
			return strings.Compare(strings.ToLower(str(a.customer.CustomerName)), strings.ToLower(str(b.customer.CustomerName)))
		}
	case "created":
		return func(a, b item) int { return a.profile.Created.Compare(b.profile.Created) }
	case "lastModified":
		return func(a, b item) int { return a.profile.Updated.Compare(b.profile.Updated) }
	}
	if name, ok := strings.CutPrefix(key, "custom."); ok {
		return func(a, b item) int {
			return strings.Compare(customValue(&a.customer, name), customValue(&b.customer, name))
		}
	}
	return func(a, b item) int { return cmp.Compare(a.profile.Num, b.profile.Num) }
}

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
