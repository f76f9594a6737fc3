package extensions_test

import (
	"reflect"
	"testing"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/extensions"
	"github.com/contactcenter/profiled/schema"
)

var phone = &schema.Extension{Name: "Phone", Kind: schema.MultiValued, Unique: []string{"Number"},
	Attributes: []schema.Attribute{{Name: "Number", Type: schema.TypeString}, {Name: "Note", Type: schema.TypeString}}}

func rec(number, note string) schema.Record { return schema.Record{"Number": number, "Note": note} }

func TestUpsert(t *testing.T) {
	got, err := extensions.Upsert(phone, []schema.Record{rec("1", "a"), rec("2", "b")}, []schema.Record{rec("2", "B"), rec("3", "c")})
	want := []schema.Record{rec("1", "a"), rec("2", "B"), rec("3", "c")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if _, err := extensions.Upsert(phone, nil, []schema.Record{rec("1", "x"), rec("1", "y")}); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("duplicates within one request: %v", err)
	}
	single := &schema.Extension{Name: "Address", Kind: schema.SingleValued}
	if got, _ := extensions.Upsert(single, []schema.Record{{"City": "A"}}, []schema.Record{{"City": "B"}}); got[0]["City"] != "B" {
		t.Fatalf("single-valued record not replaced: %v", got)
	}
}

func TestUniqueMatchingIgnoresCase(t *testing.T) {
	got, _ := extensions.Upsert(phone, []schema.Record{{"Number": "ABC"}}, []schema.Record{{"Number": "abc", "Note": "n"}})
	if len(got) != 1 {
		t.Fatalf("got %v, want the record replaced", got)
	}
}

// TestUniqueMatchingFoldsCase: a record's unique values compare as the
// identification index compares them (Unicode case folding), so a record
// the index takes for a held one is that record here too: STRASSE replaces
// straße, a Greek value in capitals its lower-case spelling, and two such
// records in one request are the same record twice.
func TestUniqueMatchingFoldsCase(t *testing.T) {
	for _, tc := range [][2]string{{"straße", "STRASSE"}, {"Παπαδόπουλος", "ΠΑΠΑΔΌΠΟΥΛΟΣ"}} {
		got, err := extensions.Upsert(phone, []schema.Record{rec(tc[0], "old")}, []schema.Record{rec(tc[1], "new")})
		if err != nil || len(got) != 1 || got[0]["Note"] != "new" {
			t.Errorf("upsert %q over %q: %v, %v; want the record replaced", tc[1], tc[0], got, err)
		}
		if err := extensions.CheckUnique(phone, []schema.Record{rec(tc[0], "a"), rec(tc[1], "b")}); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("%q and %q in one request: %v, want refused as duplicates", tc[0], tc[1], err)
		}
	}
}

func TestUpdateByUnique(t *testing.T) {
	recs := []schema.Record{rec("1", "a"), rec("2", "b")}
	out, updated, err := extensions.UpdateByUnique(phone, recs, schema.Record{"Number": "2", "Note": "new"})
	if err != nil || updated["Note"] != "new" || out[1]["Note"] != "new" || recs[1]["Note"] != "b" {
		t.Fatalf("out %v, updated %v, err %v (the input must not change)", out, updated, err)
	}
	for name, tc := range map[string]struct {
		ext   *schema.Extension
		patch schema.Record
		code  string
	}{
		"NoSuchRecord":  {phone, schema.Record{"Number": "9"}, extensions.CodeRecordNotFound},
		"MissingUnique": {phone, schema.Record{"Note": "x"}, extensions.CodeMissingUnique},
		"NoUniqueKey":   {&schema.Extension{Name: "Log", Kind: schema.MultiValued}, schema.Record{"a": "1"}, extensions.CodeNoUniqueKey},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := extensions.UpdateByUnique(tc.ext, recs, tc.patch)
			if e := errs.As(err); e == nil || e.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func TestDeleteByUnique(t *testing.T) {
	out, err := extensions.DeleteByUnique(phone, []schema.Record{rec("1", "a"), rec("2", "b")}, rec("1", "ignored"))
	if err != nil || len(out) != 1 || out[0]["Number"] != "2" {
		t.Fatalf("out %v, err %v", out, err)
	}
	if _, err := extensions.DeleteByUnique(phone, out, rec("1", "")); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("deleting a missing record: %v", err)
	}
}

func TestMerge(t *testing.T) {
	dest := []schema.Record{rec("1", "dest")}
	src := []schema.Record{rec("1", "src"), rec("2", "src")}
	if got := extensions.Merge(phone, dest, src, false); len(got) != 2 || got[0]["Note"] != "dest" {
		t.Errorf("keep destination: %v", got)
	}
	if got := extensions.Merge(phone, dest, src, true); len(got) != 2 || got[0]["Note"] != "src" {
		t.Errorf("prefer source: %v", got)
	}
	single := &schema.Extension{Name: "Address", Kind: schema.SingleValued}
	if got := extensions.Merge(single, nil, []schema.Record{{"City": "S"}}, false); got[0]["City"] != "S" {
		t.Errorf("empty destination takes the source: %v", got)
	}
}

func TestUpdateByUnique_KeepsUniqueValues(t *testing.T) {
	_, updated, err := extensions.UpdateByUnique(phone, []schema.Record{rec("ABC", "a")}, schema.Record{"Number": "abc", "Note": "b"})
	if err != nil || updated["Number"] != "ABC" || updated["Note"] != "b" {
		t.Fatalf("updated %v, %v; the unique value selects the record and is not changed", updated, err)
	}
}

func TestDeclared(t *testing.T) {
	got := extensions.Declared(phone, []schema.Record{{"Number": "1", "Gone": "x"}})
	if len(got[0]) != 1 || got[0]["Number"] != "1" {
		t.Fatalf("got %v, want only declared attributes", got)
	}
}

// TestByUnique_PrefersExactSpelling: a customer indexed before case folding
// may hold two records whose unique values fold alike (STRASSE-X and
// straße-x were two values then). Naming one changes or deletes that one,
// not the first that folds alike.
func TestByUnique_PrefersExactSpelling(t *testing.T) {
	stored := []schema.Record{rec("STRASSE-X", "a"), rec("straße-x", "b")}
	got, err := extensions.DeleteByUnique(phone, stored, schema.Record{"Number": "straße-x"})
	if want := []schema.Record{rec("STRASSE-X", "a")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("delete straße-x: got %v, %v; want %v", got, err, want)
	}
	got, _, err = extensions.UpdateByUnique(phone, stored, schema.Record{"Number": "straße-x", "Note": "B"})
	if want := []schema.Record{rec("STRASSE-X", "a"), rec("straße-x", "B")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("update straße-x: got %v, %v; want %v", got, err, want)
	}
	got, err = extensions.Upsert(phone, stored, []schema.Record{rec("straße-x", "c")})
	if want := []schema.Record{rec("STRASSE-X", "a"), rec("straße-x", "c")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("insert straße-x: got %v, %v; want %v", got, err, want)
	}
	// a spelling neither record has still selects one that folds alike
	if got, err = extensions.DeleteByUnique(phone, stored, schema.Record{"Number": "Strasse-X"}); err != nil || len(got) != 1 {
		t.Fatalf("delete Strasse-X: got %v, %v", got, err)
	}
}

// TestMerge_KeepsSourceRecordsToldApart: two records of the source whose
// unique values fold alike (stored before case folding) are both merged.
func TestMerge_KeepsSourceRecordsToldApart(t *testing.T) {
	src := []schema.Record{rec("STRASSE-X", "a"), rec("straße-x", "b")}
	if got := extensions.Merge(phone, []schema.Record{rec("other", "o")}, src, false); len(got) != 3 {
		t.Errorf("merge dropped a source record: %v", got)
	}
	if got := extensions.Merge(phone, nil, src, false); len(got) != 2 {
		t.Errorf("merge into none dropped a source record: %v", got)
	}
}
