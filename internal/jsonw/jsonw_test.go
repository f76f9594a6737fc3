package jsonw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
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

// TestParse_NamesFromTheTable: member names met before come back equal,
// whatever their spelling (escaped, non-ASCII, long), and slots that
// collide keep working, from parsers running at once (go test -race).
func TestParse_NamesFromTheTable(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			parseManyNames(t)
		})
	}
}

func parseManyNames(t *testing.T) {
	long := strings.Repeat("n", maxInterned+1)
	for range 2 {
		for i := range 3000 { // more names than slots: collisions
			name := fmt.Sprint("attr", i)
			v, err := Parse([]byte(`{"` + name + `":1,"a\u0062":2,"é":3,"` + long + `":4}`))
			if err != nil {
				t.Fatal(err)
			}
			m := v.(map[string]any)
			if len(m) != 4 || m[name] == nil || m["ab"] == nil || m["é"] == nil || m[long] == nil {
				t.Fatalf("parsed %v", m)
			}
		}
	}
}

// TestParse_NamesTakeNoAllocation: a name met before costs no allocation,
// up to maxInterned bytes; ParseUnique still tells names apart by their
// value, whatever their spelling.
func TestParse_NamesTakeNoAllocation(t *testing.T) {
	allocs := func(body string) float64 {
		data := []byte(body)
		if _, err := Parse(data); err != nil { // meets the names
			t.Fatal(err)
		}
		return testing.AllocsPerRun(100, func() { _, _ = Parse(data) })
	}
	longest := strings.Repeat("n", maxInterned)
	maps := allocs(`{"a":{}}`) // the two maps' own allocations
	if n := allocs(`{"` + longest + `":{}}`); n != maps {
		t.Errorf("a known name of %d bytes: %.0f allocations, want %.0f (the maps')", maxInterned, n, maps)
	}
	if n := allocs(`{"` + longest + `n":{}}`); n != maps+1 {
		t.Errorf("a name over %d bytes: %.0f allocations, want %.0f (the maps', the name)", maxInterned, n, maps+1)
	}
	for _, body := range []string{`{"ab":1,"a\u0062":2}`, `{"a\u0062":1,"ab":2}`} {
		if _, err := ParseUnique([]byte(body)); !errors.Is(err, ErrDuplicate) {
			t.Errorf("ParseUnique(%s) = %v, want ErrDuplicate", body, err)
		}
	}
}
