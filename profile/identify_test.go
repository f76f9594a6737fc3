package profile

import (
	"testing"
	"time"

	"github.com/contactcenter/profiled/schema"
)

// keysSchema compiles a schema whose keys exercise inference (spec §3.5).
func keysSchema(t *testing.T) *schema.Compiled {
	t.Helper()
	base := schema.Document{
		Profile: []schema.AttributeDoc{{Name: "A", Type: "string"}, {Name: "B", Type: "string"}, {Name: "C", Type: "string"}, {Name: "Multi", Type: "string", MultiValued: schema.LooseBool{Value: true, Set: true}}},
		Keys: []schema.KeyDoc{
			{Name: "abc", Attributes: []string{"A", "B", "C"}},
			{Name: "b", Attributes: []string{"B"}},
			{Name: "ab", Attributes: []string{"A", "B"}},
			{Name: "multi", Attributes: []string{"Multi", "A"}},
		},
	}
	c, err := schema.Load(base, schema.Document{}, schema.NewUnauthorized(nil), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChooseKey_Inference(t *testing.T) {
	c := keysSchema(t)
	for _, tc := range []struct {
		filters []Filter
		want    string
		prefix  int
	}{
		{[]Filter{{Attribute: "A", Value: "1"}, {Attribute: "B", Value: "2"}, {Attribute: "C", Value: "3"}}, "abc", 3}, // all of the first key
		{[]Filter{{Attribute: "B", Value: "2"}}, "b", 1},                                                               // complete key wins over earlier partial ones
		{[]Filter{{Attribute: "A", Value: "1"}, {Attribute: "B", Value: "2"}}, "b", 1},                                 // the first complete key in order wins
		{[]Filter{{Attribute: "A", Value: "1"}, {Attribute: "C", Value: "3"}}, "abc", 1},                               // tie at 1 (abc, ab): lower id
	} {
		rf, err := resolveFilters(c, tc.filters)
		if err != nil {
			t.Fatal(err)
		}
		k, prefix, err := chooseKey(c, "", rf)
		if err != nil || k.Name != tc.want || len(prefix) != tc.prefix {
			t.Errorf("%v: key %v prefix %v err %v, want %s with %d", tc.filters, k, prefix, err, tc.want, tc.prefix)
		}
	}
	if _, _, err := chooseKey(c, "", mustResolve(t, c, Filter{Attribute: "C", Value: "3"})); err == nil {
		t.Error("C alone starts no key, yet a key was chosen")
	}
}

func mustResolve(t *testing.T, c *schema.Compiled, fs ...Filter) []resolvedFilter {
	t.Helper()
	rf, err := resolveFilters(c, fs)
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

func TestKeyEntries_MultiValuedCombinations(t *testing.T) {
	c := keysSchema(t)
	k, _ := c.Key("multi")
	got, err := keyEntries(k, indexed{attributes: map[string]any{"Multi": []any{"X", "y"}, "A": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][0] != "x" || got[1][0] != "y" || got[0][1] != "a" {
		t.Fatalf("entries %v, want one per value of Multi, lower-cased", got)
	}
	if none, _ := keyEntries(k, indexed{attributes: map[string]any{}}); len(none) != 0 {
		t.Errorf("a profile without the key's attributes got entries %v", none)
	}
}

func TestParseFilter(t *testing.T) {
	for name, want := range map[string]*Filter{
		"EmailAddress":      {Attribute: "EmailAddress", Value: "v"},
		"Phone.PhoneNumber": {Source: "Phone", Attribute: "PhoneNumber", Value: "v"},
		"":                  nil,
		".EmailAddress":     nil,
		"Phone.":            nil,
		"Phone.a.b":         nil,
		".":                 nil,
	} {
		f, ok := ParseFilter(name, "v")
		if ok != (want != nil) || (ok && f != *want) {
			t.Errorf("ParseFilter(%q) = %+v, %v; want %+v", name, f, ok, want)
		}
	}
}
