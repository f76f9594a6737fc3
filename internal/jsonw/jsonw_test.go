package jsonw

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

func TestAppendValue_RoundTrips(t *testing.T) {
	for _, v := range []any{
		"plain", "quote\" backslash\\ newline\n tab\t ctl\x01 <html>&", "unicode é 漢字 \u2028", "bad \xff utf8",
		json.Number("-12.5e3"), true, false, nil,
		[]any{"a", json.Number("1"), []any{}},
		map[string]any{"b": "2", "a": []any{true}, "": nil},
	} {
		data := AppendValue(nil, v)
		if !json.Valid(data) {
			t.Fatalf("%q is not valid JSON", data)
		}
		want, _ := json.Marshal(v)
		var got, wantV any
		json.Unmarshal(data, &got)
		json.Unmarshal(want, &wantV)
		if a, b := mustMarshal(t, got), mustMarshal(t, wantV); a != b {
			t.Errorf("AppendValue(%#v) = %s, encoding/json says %s", v, data, want)
		}
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func FuzzAppendString(f *testing.F) {
	f.Add("Bruce \"Hulk\" Banner\n")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		data := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		want, _ := json.Marshal(s)
		var wantS string
		json.Unmarshal(want, &wantS)
		if got != wantS {
			t.Fatalf("AppendString(%q) decodes to %q, encoding/json to %q", s, got, wantS)
		}
	})
}

// FuzzParse checks Parse against encoding/json with UseNumber: the same
// verdict on validity and the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","num":3,"attrs":{"EmailAddress":["x@y.z"],"DOB":"1962-05-10"}}`,
		`[{"PhoneNumber":"6543210","PhoneType":2,"prefix":"+33","ok":true,"no":null}]`,
		`"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \ud800"`, `-0.5e-3`, `01`, `1.`, `{"a":1,}`, `[1 2]`, "\"\xff\"", ` true `, `nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		werr := dec.Decode(&want)
		if werr == nil && dec.More() {
			werr = errors.New("trailing data")
		}
		if werr == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				werr = errors.New("trailing data")
			}
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("Parse(%q) error %v, encoding/json %v", data, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json %#v", data, got, want)
		}
	})
}
