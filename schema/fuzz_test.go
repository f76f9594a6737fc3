package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// defaultSchema compiles the schema of the repository's config.yaml.
func defaultSchema(tb testing.TB) *schema.Compiled {
	tb.Helper()
	cfg, err := config.Load("../config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cfg.LoadSchema(schema.Document{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// examples returns the bodies of ../testdata/examples/*.json.
func examples(tb testing.TB) [][]byte {
	tb.Helper()
	names, err := filepath.Glob("../testdata/examples/*.json")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no example bodies: %v", err)
	}
	var out [][]byte
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// decodeObject decodes body as the Genesys API does (json.Number); ok is
// false when it is not one JSON object.
func decodeObject(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// checkClientError fails unless err is nil or an *errs.Error of one of kinds.
func checkClientError(t *testing.T, what string, err error, kinds ...errs.Kind) {
	t.Helper()
	if err == nil {
		return
	}
	e := errs.As(err)
	if e == nil {
		t.Fatalf("%s: %T %v, want *errs.Error", what, err, err)
	}
	for _, k := range kinds {
		if e.Kind == k {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("%s: error without code or message: %#v", what, e)
			}
			return
		}
	}
	t.Fatalf("%s: kind %s (%v), want one of %v", what, e.Kind, err, kinds)
}

// FuzzPrepareProfile feeds arbitrary JSON objects to the validation of
// profile bodies (create, replace) and extension bodies (insert records):
// no panic, and every refusal is a client error (400).
func FuzzPrepareProfile(f *testing.F) {
	for _, ex := range examples(f) {
		f.Add(ex)
	}
	for _, s := range []string{
		`{}`,
		`{"customer_id":"0004Va58A92T0017","FirstName":"A","DOB":"1962-05-10"}`,
		`{"firstname":"a","FIRSTNAME":"b"}`,
		`{"DOB":"1962-13-45","EmailAddress":[1,{"a":null}]}`,
		`{"Phone":[{"PhoneNumber":"1"},{"PhoneNumber":"1"}],"Activity":[{"ActivityId":"a","type":"email","isRead":"yes"}]}`,
		`{"Phone":{"PhoneNumber":"1"},"Title":"Select"}`,
		`{"Phone":[{"PhoneType":1e400,"PhoneNumber":"x","start_availabilty":"2009-12-18T18:30:00.000Z"}]}`,
		`{"EmailAddress":null,"Phone":[null],"LastName":""}`,
	} {
		f.Add([]byte(s))
	}
	c := defaultSchema(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, ok := decodeObject(body)
		if !ok {
			return
		}
		doc, err := c.PrepareProfile(obj)
		checkClientError(t, "PrepareProfile", err, errs.KindInvalid)
		if err == nil && doc == nil {
			t.Fatal("PrepareProfile: nil doc and nil error")
		}
		obj, _ = decodeObject(body) // PrepareProfile may have kept references
		_, err = c.PrepareExtensions(obj)
		checkClientError(t, "PrepareExtensions", err, errs.KindInvalid)
	})
}

// FuzzPrepareRecordPatch feeds arbitrary extension names and record bodies
// to the validation of update-by-unique bodies: no panic; a refusal is a
// client error (400), or 404 for an extension that does not exist.
func FuzzPrepareRecordPatch(f *testing.F) {
	for _, ex := range examples(f) {
		f.Add("Phone", ex)
		if obj, ok := decodeObject(ex); ok {
			if phones, ok := obj["Phone"].([]any); ok {
				for _, p := range phones {
					rec, _ := json.Marshal(p)
					f.Add("Phone", rec)
				}
			}
		}
	}
	for _, s := range []struct{ ext, body string }{
		{"phone", `{"PhoneNumber":"6543210","description":"updated"}`},
		{"Activity", `{"ActivityId":"a1","isRead":true,"sentDate":"2015-12-01T10:00:00Z"}`},
		{"Activity", `{"ActivityId":"a1","isRead":"maybe"}`},
		{"Nope", `{"a":"1"}`},
		{"", `{}`},
		{"Phone", `{"PhoneType":"x","Color":"red"}`},
		{"Phone", `{"PhoneNumber":["1"],"prefix":{"a":1}}`},
	} {
		f.Add(s.ext, []byte(s.body))
	}
	c := defaultSchema(f)
	f.Fuzz(func(t *testing.T, ext string, body []byte) {
		obj, ok := decodeObject(body)
		if !ok {
			return
		}
		rec, err := c.PrepareRecordPatch(ext, obj)
		checkClientError(t, "PrepareRecordPatch", err, errs.KindInvalid, errs.KindNotFound)
		if e := errs.As(err); e != nil && e.Kind == errs.KindNotFound && e.Code != schema.CodeUnknownExtension {
			t.Fatalf("not found error %s for a patch", e.Code)
		}
		if err == nil && rec == nil {
			t.Fatal("PrepareRecordPatch: nil record and nil error")
		}
	})
}
