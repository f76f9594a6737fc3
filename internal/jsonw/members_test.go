package jsonw

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMembers holds Members, Elements and String to Parse: the same verdict on
// every input, and values that Parse reads as the members and elements
// Parse reads from the whole (the last of a name given twice, as Parse
// keeps it), each valid UTF-8.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","num":3,"attrs":{"EmailAddress":["x@y.z"],"DOB":"1962-05-10"}}`,
		`[{"PhoneNumber":"6543210","PhoneType":2,"prefix":"+33","ok":true,"no":null}]`,
		`{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \ud800","n":-0.5e-3}`,
		"{\"bad\":\"\xff\",\"k\xfe\":[\"\xff\"]}", `{"a":1,"a":2}`, ` { } `, `[ ]`, `{"a":1,}`, `[1 2]`, `{"a":{"b":[{"c":"\udc00"}]}}`,
		`{"a":1} x`, `[1] 2`, `"s"`, `{"a" 1}`, `{"a":tru}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, perr := Parse(data)
		members, merr := Members(data)
		obj, isObj := whole.(map[string]any)
		if (merr == nil) != (perr == nil && isObj) {
			t.Fatalf("Members(%q) error %v; Parse gives %T, error %v", data, merr, whole, perr)
		}
		if merr == nil {
			got := map[string]any{}
			for _, m := range members {
				got[m.Name] = mustParseValue(t, m.Value)
			}
			if !reflect.DeepEqual(got, obj) {
				t.Fatalf("Members(%q) read %#v, Parse %#v", data, got, obj)
			}
		}
		str, serr := String(data)
		if want, isStr := whole.(string); (serr == nil) != (perr == nil && isStr) || str != want {
			t.Fatalf("String(%q) = %q, %v; Parse gives %#v, %v", data, str, serr, whole, perr)
		}
		elements, eerr := Elements(data)
		list, isList := whole.([]any)
		if (eerr == nil) != (perr == nil && isList) {
			t.Fatalf("Elements(%q) error %v; Parse gives %T, error %v", data, eerr, whole, perr)
		}
		if eerr == nil {
			got := make([]any, len(elements))
			for i, e := range elements {
				got[i] = mustParseValue(t, e)
			}
			if !reflect.DeepEqual(got, list) {
				t.Fatalf("Elements(%q) read %#v, Parse %#v", data, got, list)
			}
		}
	})
}

func mustParseValue(t *testing.T, v []byte) any {
	t.Helper()
	if !utf8.Valid(v) {
		t.Fatalf("value %q is not UTF-8", v)
	}
	x, err := Parse(v)
	if err != nil {
		t.Fatalf("value %q: %v", v, err)
	}
	return x
}

// TestMembers_ValuesAsWritten: values Parse would read unchanged are the
// input's own bytes, so showing stored data copies it; the others are
// written again.
func TestMembers_ValuesAsWritten(t *testing.T) {
	data := []byte("{\"a\": [1, \"x\"],\"b\":\"\\u00e9\",\"c\":\"\xff\",\"d\":\"\\ud800\"}")
	members, err := Members(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{"a", []byte(`[1, "x"]`)}, {"b", []byte(`"\u00e9"`)}, {"c", []byte("\"\uFFFD\"")}, {"d", []byte("\"\uFFFD\"")}}
	if !reflect.DeepEqual(members, want) {
		t.Fatalf("Members = %q, want %q", members, want)
	}
	if &members[0].Value[0] != &data[6] {
		t.Error("an exact value was copied")
	}
}

// BenchmarkMembers splits the Genesys example profile, as showing a stored
// profile does (compare BenchmarkParse).
func BenchmarkMembers(b *testing.B) {
	data := AppendValue(nil, mustParseFile(b, "../../testdata/examples/genesys-create-profile.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Members(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMembers_DepthAsParse: a value nested one level past Parse's bound
// is refused by Members and Elements too, and one level less is taken by
// all three.
func TestMembers_DepthAsParse(t *testing.T) {
	for _, arrays := range []int{maxDepth, maxDepth + 1} { // the innermost is at depth arrays
		inner := strings.Repeat("[", arrays) + strings.Repeat("]", arrays)
		_, perr := Parse([]byte(`{"a":` + inner + `}`))
		_, merr := Members([]byte(`{"a":` + inner + `}`))
		_, eerr := Elements([]byte(`[` + inner + `]`))
		if (perr == nil) != (arrays <= maxDepth) || (merr == nil) != (perr == nil) || (eerr == nil) != (perr == nil) {
			t.Errorf("%d nested arrays: Parse %v, Members %v, Elements %v", arrays, perr, merr, eerr)
		}
	}
}
