package jsonw

import (
	"encoding/json"
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
