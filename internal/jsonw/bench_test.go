package jsonw

import (
	"os"
	"testing"
)

// BenchmarkParse decodes the Genesys example profile in its stored
// (compact) form, as a stored profile read decodes its JSON.
func BenchmarkParse(b *testing.B) {
	data := AppendValue(nil, mustParseFile(b, "../../testdata/examples/genesys-create-profile.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func mustParseFile(tb testing.TB, path string) any {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
