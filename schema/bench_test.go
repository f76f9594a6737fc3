package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// genesysExample decodes the Genesys create example the way the API reads
// a body: numbers as json.Number.
func genesysExample(tb testing.TB) (raw []byte, body map[string]any) {
	tb.Helper()
	raw, err := os.ReadFile("../testdata/examples/genesys-create-profile.json")
	if err != nil {
		tb.Fatal(err)
	}
	return raw, decodeBody(tb, raw)
}

func decodeBody(tb testing.TB, raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		tb.Fatal(err)
	}
	return body
}

// BenchmarkPrepareProfile validates and normalises the Genesys example (two
// e-mail addresses, three Phone records) against the compiled default
// schema: the CPU every create spends before it reaches the store.
func BenchmarkPrepareProfile(b *testing.B) {
	c := defaultSchema(b)
	raw, body := genesysExample(b)
	b.Run("prepare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.PrepareProfile(body); err != nil {
				b.Fatal(err)
			}
		}
		// The body is reused across iterations: that is only fair while
		// PrepareProfile leaves its input alone.
		if !reflect.DeepEqual(body, decodeBody(b, raw)) {
			b.Fatal("PrepareProfile changed its input")
		}
	})
	b.Run("decode+prepare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.PrepareProfile(decodeBody(b, raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
