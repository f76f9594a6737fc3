package profile_test

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// TestReload_NameRecasedThenIndexed: after a reload changes only the case
// of an attribute's name, an index built later (a key made through the
// API, a config key rebuilt in another order) finds the customers stored
// under the old spelling, as the indexes built before do.
func TestReload_NameRecasedThenIndexed(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	old, err := s.Create(ctx, "", map[string]any{"FirstName": "Ann", "LastName": "Lee"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recased := edited(t, base, "    - {name: FirstName,", "    - {name: firstName,")
	reloadWith(t, s, path, edited(t, recased, "attributes: [LastName, FirstName]", "attributes: [FirstName, LastName]"))
	if _, err := s.CreateKey(ctx, schema.KeyDoc{Name: "fn", Attributes: []string{"firstName"}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []profile.IdentifyQuery{
		{Key: "fn", Filters: []profile.Filter{{Attribute: "firstName", Value: "Ann"}}},
		{Filters: []profile.Filter{{Attribute: "LastName", Value: "Lee"}, {Attribute: "FirstName", Value: "Ann"}}},
	} {
		res, err := s.Identify(ctx, "", q)
		if err != nil || len(res.Profiles) != 1 || res.Profiles[0].ID != old.ID {
			t.Errorf("identify %+v = %+v, %v; want the customer stored before the rename", q, res, err)
		}
	}
}

// TestReload_TypeChangedThenIdentified: a reload that changes a core
// attribute from string to date (UCS lets an administrator retype a
// Contact Attribute so, spec §2.1) must leave customers stored before it
// identifiable by the date they hold, as a write under the new type would
// have stored and indexed it.
func TestReload_TypeChangedThenIdentified(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	withKey := edited(t, base, "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n")
	reloadWith(t, s, path, withKey)
	old, err := s.Create(ctx, "", map[string]any{"Title": "2020-05-10T00:00:00.000Z"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reloadWith(t, s, path, edited(t, withKey, "{name: Title,        type: string, length: 64}", "{name: Title,        type: date}"))
	res, err := s.Identify(ctx, "", profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "Title", Value: "2020-05-10"}}})
	if err != nil || len(res.Profiles) != 1 || res.Profiles[0].ID != old.ID {
		t.Errorf("identify Title=2020-05-10 after string->date = %+v, %v; want the customer stored before the change", res, err)
	}
}
