package profile

import (
	"reflect"
	"testing"

	"github.com/contactcenter/profiled/schema"
)

// TestRename: a value under a declared name in another case moves to the
// declared spelling, a value already under it wins, and names the schema
// does not declare stay as they are; for document members too.
func TestRename(t *testing.T) {
	declared := func(name string) (*schema.Attribute, bool) {
		for _, d := range []string{"firstName", "Title"} {
			if schema.SameName(d, name) {
				return &schema.Attribute{Name: d}, true
			}
		}
		return nil, false
	}
	m := map[string]any{"FirstName": "old", "TITLE": "t", "title": "shadowed", "Title": "kept", "Other": 1}
	canonicalize(m, declared)
	if want := map[string]any{"firstName": "old", "Title": "kept", "Other": 1}; !reflect.DeepEqual(m, want) {
		t.Errorf("canonicalize: %v, want %v", m, want)
	}
	members := []Member{{Name: "FirstName"}, {Name: "TITLE"}, {Name: "Title"}, {Name: "Other"}}
	renameMembers(members, declared)
	var names []string
	for _, mb := range members {
		names = append(names, mb.Name)
	}
	if want := []string{"firstName", "TITLE", "Title", "Other"}; !reflect.DeepEqual(names, want) {
		t.Errorf("renameMembers: %v, want %v", names, want)
	}
}
