package egain

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEveryFieldHasARecordHome: each text field of the customer model that
// a client writes has an attribute in one of the record mappings, so no
// part of a customer is lost in storage. Ids, output-only fields, custom
// attributes and the nested lists are stored by the mapper itself.
func TestEveryFieldHasARecordHome(t *testing.T) {
	storedElsewhere := []string{
		"ID", "Link.", "Cases.", "Created", "CreatedBy.", "LastModified.",
		"Type.DisplayValue", ".DisplayValue",
	}
	for _, tc := range []struct {
		model  reflect.Type
		fields recordFields
	}{
		{reflect.TypeFor[Customer](), customerFields},
		{reflect.TypeFor[ContactPerson](), personFields},
		{reflect.TypeFor[ContactPoint](), pointFields},
	} {
		mapped := map[string]bool{}
		for _, f := range tc.fields.fields {
			mapped[pathOf(tc.model, f.index)] = true
		}
		for _, leaf := range textLeaves(tc.model, "") {
			skip := slices.ContainsFunc(storedElsewhere, func(p string) bool {
				return leaf == p || strings.HasPrefix(leaf, p) && strings.HasSuffix(p, ".") || strings.HasSuffix(leaf, p) && strings.HasPrefix(p, ".")
			})
			if !skip && !mapped[leaf] {
				t.Errorf("%s.%s has no record attribute", tc.model.Name(), leaf)
			}
		}
	}
}

// textLeaves lists the paths of every *string reachable from struct t
// through pointers to structs (slices are stored separately).
func textLeaves(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		switch elem := f.Type.Elem(); elem.Kind() {
		case reflect.String:
			out = append(out, prefix+f.Name)
		case reflect.Struct:
			out = append(out, textLeaves(elem, prefix+f.Name+".")...)
		}
	}
	return out
}

func pathOf(t reflect.Type, index []int) string {
	var names []string
	for _, i := range index {
		f := t.Field(i)
		names = append(names, f.Name)
		t = f.Type.Elem()
	}
	return strings.Join(names, ".")
}

// TestMappingTableDocumented: docs/egain.md lists every record attribute.
func TestMappingTableDocumented(t *testing.T) {
	doc := string(mustRead(t, "../docs/egain.md"))
	for ext, fs := range map[string]recordFields{"EgainCustomer": customerFields, "ContactPerson": personFields, "ContactPoint": pointFields} {
		for _, name := range fs.names() {
			if row := "| `" + ext + "` | `" + name + "` |"; !strings.Contains(doc, row) {
				t.Errorf("docs/egain.md has no row %s", row)
			}
		}
	}
}

// TestRecordFieldLookupIgnoresCase: fill finds an attribute in any case,
// as strings.ToLower matches it, whether the name is found as spelled,
// lower-cased on the stack, or lower-cased by ToLower (non-ASCII, long).
func TestRecordFieldLookupIgnoresCase(t *testing.T) {
	for _, tt := range []struct {
		name, want string // want: the field's attribute, "" for none
	}{
		{"isSmoker", "isSmoker"},
		{"issmoker", "isSmoker"},
		{"ISSMOKER", "isSmoker"},
		{"isSmo\u212Aer", "isSmoker"}, // K, the Kelvin sign, lower-cases to k
		{"isSmöker", ""},
		{"personId", ""},
		{strings.Repeat("x", 65), ""},
		{"", ""},
	} {
		got := ""
		if i, ok := personFields.lookup(tt.name); ok {
			got = personFields.fields[i].attr
		}
		if got != tt.want {
			t.Errorf("lookup(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
