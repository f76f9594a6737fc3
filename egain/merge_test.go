package egain

import (
	"reflect"
	"testing"

	"github.com/contactcenter/profiled/schema"
)

// TestRenumberForMerge: the source's persons and points continue after the
// destination's highest number; a point keeps its person, one without a
// known person goes to the source's first, contact attributes follow their
// owners, ids the facade did not number stay, and the records given are
// not changed.
func TestRenumberForMerge(t *testing.T) {
	cfg, eg := testEGainConfig(t)
	c, err := cfg.LoadSchema(schema.Document{})
	if err != nil {
		t.Fatal(err)
	}
	f := &Facade{mapper: mapper{EGainMapping: eg.Mapping}}
	dest := map[string][]schema.Record{
		"ContactPerson": {{"personId": "1"}},
		"ContactPoint":  {{"pointId": "2", "personId": "1"}, {"pointId": "7", "personId": "1"}},
	}
	srcPersons := []schema.Record{{"personId": "1", "firstName": "Src"}, {"personId": "4"}}
	src := map[string][]schema.Record{
		"ContactPerson":    srcPersons,
		"ContactPoint":     {{"pointId": "2", "personId": "1"}, {"pointId": "3", "personId": "4"}, {"pointId": "5"}, {"pointId": "x9", "personId": "4"}},
		"ContactAttribute": {{"owner": "2", "name": "prioritysequence", "value": "1"}, {"owner": "", "name": "n"}},
	}
	f.RenumberForMerge(c, dest, src)
	want := map[string][]schema.Record{
		"ContactPerson":    {{"personId": "8", "firstName": "Src"}, {"personId": "9"}},
		"ContactPoint":     {{"pointId": "10", "personId": "8"}, {"pointId": "11", "personId": "9"}, {"pointId": "12", "personId": "8"}, {"pointId": "x9", "personId": "9"}},
		"ContactAttribute": {{"owner": "10", "name": "prioritysequence", "value": "1"}, {"owner": "", "name": "n"}},
	}
	if !reflect.DeepEqual(src, want) {
		t.Errorf("renumbered source = %v\nwant %v", src, want)
	}
	if srcPersons[0]["personId"] != "1" {
		t.Error("a record given was changed in place")
	}

	// A destination without contact person records (the Genesys API wrote
	// it) gets a record for the person 1 its reading shows, and the
	// source's persons follow it.
	empty := map[string][]schema.Record{}
	srcOnly := map[string][]schema.Record{"ContactPerson": {{"personId": "1"}}}
	f.RenumberForMerge(c, empty, srcOnly)
	if srcOnly["ContactPerson"][0]["personId"] != "2" || len(empty["ContactPerson"]) != 1 || empty["ContactPerson"][0]["personId"] != "1" {
		t.Errorf("against an empty destination: destination %v, source %v", empty, srcOnly)
	}
	// Nor does anything change without the source's persons.
	none := map[string][]schema.Record{}
	f.RenumberForMerge(c, none, map[string][]schema.Record{})
	if len(none) != 0 {
		t.Errorf("a merge without contact persons gave the destination %v", none)
	}
}
