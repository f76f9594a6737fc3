package jsonw

import (
	"os"
	"testing"
)

// BenchmarkParse decodes the Genesys example profile, as a stored profile
// read decodes its JSON.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../../testdata/examples/genesys-create-profile.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
