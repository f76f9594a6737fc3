package schema

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestRetyped: a stored value already in its type's form is handed back
// unchanged (reads check every value); one written under an earlier type
// takes the form a write now stores; one the type cannot read stays.
func TestRetyped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a       Attribute
		v, want any
		changed bool
	}{
		{"StringAsIs", Attribute{Type: TypeString}, "007", "007", false},
		{"IntegerInForm", Attribute{Type: TypeInteger}, json.Number("7"), json.Number("7"), false},
		{"IntegerFromString", Attribute{Type: TypeInteger}, "007", json.Number("7"), true},
		{"IntegerOutOf32Bits", Attribute{Type: TypeInteger}, json.Number("4294967296"), json.Number("4294967296"), false},
		{"DateInForm", Attribute{Type: TypeDate}, "2020-05-10", "2020-05-10", false},
		{"DateFromDatetime", Attribute{Type: TypeDate}, "2020-05-10T00:00:00.000Z", "2020-05-10", true},
		{"DatetimeInForm", Attribute{Type: TypeDatetime}, "2009-12-18T18:30:00.000Z", "2009-12-18T18:30:00.000Z", false},
		{"DatetimeWithOffset", Attribute{Type: TypeDatetime}, "2009-12-18T19:30:00+01:00", "2009-12-18T18:30:00.000Z", true},
		{"UnreadableStays", Attribute{Type: TypeDate}, "Miss", "Miss", false},
		{"BooleanFromString", Attribute{Type: TypeBoolean}, "TRUE", true, true},
		{"MultiValuedInForm", Attribute{Type: TypeString, MultiValued: true}, []any{"a", "b"}, []any{"a", "b"}, false},
		{"MultiValuedFromInts", Attribute{Type: TypeInteger, MultiValued: true}, []any{"01", json.Number("2")}, []any{json.Number("1"), json.Number("2")}, true},
		{"Nil", Attribute{Type: TypeDate}, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := tc.a.Retyped(tc.v)
			if changed != tc.changed || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Retyped(%#v) = %#v, %t; want %#v, %t", tc.v, got, changed, tc.want, tc.changed)
			}
		})
	}
}

// FuzzInForm: inForm, the cheap check reads make of every stored value,
// says yes exactly when normalize would hand the value back unchanged or
// refuse it, and says yes for every value normalize hands back unchanged.
func FuzzInForm(f *testing.F) {
	for _, s := range []string{"2020-05-10", "2020-02-30", "2020-13-01", "0000-00-00", "2020-05-10T00:00:00.000Z",
		"2009-12-18T24:00:00.000Z", "2009-12-18T18:30:60.000Z", "2009-12-18T18:30:00.000+", "2009-12-18 18:30:00.000Z",
		"7", "-7", "0", "-0", "007", "+7", "2147483647", "2147483648", "-2147483648", "9223372036854775808", "1e3", "1.0", "", "-", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tc := range []struct {
			t Type
			v any
		}{{TypeDate, s}, {TypeDatetime, s}, {TypeInteger, json.Number(s)}, {TypeLong, json.Number(s)}} {
			nv, err := normalize(tc.t, tc.v)
			unchanged := err == nil && nv == tc.v
			if got := inForm(tc.t, tc.v); got && err == nil && !unchanged || !got && unchanged {
				t.Errorf("inForm(%s, %#v) = %t, but normalize gives %#v, %v", tc.t, tc.v, got, nv, err)
			}
		}
	})
}

// TestCompileFresh_Draft2019: the generated schemas compile at draft
// 2019-09. At 2020-12 the compiler's dynamic anchor pass made compiling
// quadratic in attributes (BenchmarkHostile_CompileWideExtension: 10,000
// attributes took 11 s and held writes); a benchmark cannot fail, this can.
func TestCompileFresh_Draft2019(t *testing.T) {
	s, err := compileFresh("draft", []byte(`{"type":"object","properties":{"a":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Draft != jsonschema.Draft2019 {
		t.Errorf("compiled at %v, want draft 2019-09", s.Draft)
	}
}
