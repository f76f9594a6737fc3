package schema_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// unauthorized is the built-in list applied to values too
// (genesys.unauthorized_strings.check_values), so the tests see every refusal.
var unauthorized = func() schema.Unauthorized {
	u := schema.NewUnauthorized(schema.DefaultUnauthorizedStrings)
	u.Values = true
	return u
}()

// mustCompile builds and compiles a schema document written in YAML.
func mustCompile(t *testing.T, doc string) *schema.Compiled {
	t.Helper()
	return compileWith(t, doc, unauthorized)
}

// compileWith is mustCompile with the unauthorized strings u.
func compileWith(t *testing.T, doc string, u schema.Unauthorized) *schema.Compiled {
	t.Helper()
	d, problems := decode(t, doc)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	def, problems := schema.Build(d, schema.Document{}, u)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	c, err := schema.Compile(def, u, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func decode(t testing.TB, doc string) (schema.Document, schema.Problems) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	return schema.DecodeYAML(root.Content[0], "test.yaml")
}

func body(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuild_Problems(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string // substrings of the problems, in order
	}{
		{"UnknownType", "profile:\n  - {name: A, type: text}\n", []string{`test.yaml:2: "A": unknown type "text"`}},
		{"BadName", "profile:\n  - {name: 1A, type: string}\n", []string{`"1A": attribute name must start with a letter`}},
		{"LongName", "profile:\n  - {name: " + strings.Repeat("a", 27) + ", type: string}\n", []string{"at most 26 characters"}},
		{"ReservedName", "profile:\n  - {name: Select, type: string}\n", []string{`"Select": attribute name is a reserved keyword`}},
		{"DuplicateIgnoringCase", "profile:\n  - {name: A, type: string}\n  - {name: a, type: string}\n", []string{`test.yaml:3: "a": attribute defined twice`}},
		{"AliasClashesWithName", "profile:\n  - {name: A, type: string}\n  - {name: B, type: string, aliases: [a]}\n", []string{`test.yaml:3: "B": attribute defined twice in the profile: "a"`}},
		{"BadDefault", "profile:\n  - {name: N, type: integer, default: many}\n", []string{`"N": default`}},
		{"UnknownField", "profile:\n  - {name: A, type: string, colour: red}\n", []string{`unknown field "colour"`}},
		{"ExtensionType", "extensions:\n  - {name: E, type: many}\n", []string{`"E": extension type "many"`}},
		{"UniqueNotAttribute", "extensions:\n  - {name: E, type: multi-valued, unique: [x], attributes: [{name: a, type: string}]}\n", []string{`unique names "x"`}},
		{"MultiValuedInExtension", "extensions:\n  - {name: E, type: multi-valued, attributes: [{name: a, type: string, multi_valued: true}]}\n", []string{"only core profile attributes"}},
		{"ExtensionClashesWithAttribute", "profile:\n  - {name: Phone, type: string}\nextensions:\n  - {name: phone, type: multi-valued}\n", []string{`"phone": extension name is already used`}},
		{"KeyUnknownSource", "profile:\n  - {name: A, type: string}\nidentification_keys:\n  - {name: k, source: Nope, attributes: [a]}\n", []string{`source "Nope" is not an extension`}},
		{"KeyUnknownAttribute", "profile:\n  - {name: A, type: string}\nidentification_keys:\n  - {name: k, attributes: [B]}\n", []string{`attribute "B" is not defined in the profile`}},
		{"KeyMixedSources", "profile:\n  - {name: A, type: string}\nextensions:\n  - {name: E, type: multi-valued, attributes: [{name: b, type: string}]}\nidentification_keys:\n  - {name: k, attributes: [A, E.b]}\n", []string{"never both"}},
		{"KeyProfileSourceWithExtensionAttribute", "profile:\n  - {name: A, type: string}\nextensions:\n  - {name: E, type: multi-valued, attributes: [{name: b, type: string}]}\nidentification_keys:\n  - {name: k, source: profile, attributes: [E.b]}\n", []string{`is not from the key's source`}},
		{"KeyDuplicate", "profile:\n  - {name: A, type: string}\nidentification_keys:\n  - {name: k, attributes: [A]}\n  - {name: K, attributes: [A]}\n", []string{`"K": identification key is already defined`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, problems := decode(t, tc.doc)
			if len(problems) == 0 {
				var def *schema.Definition
				def, problems = schema.Build(d, schema.Document{}, unauthorized)
				_ = def
				for i := range problems {
					if problems[i].Line > 0 {
						problems[i].File = d.File
					}
				}
			}
			got := problems.Error()
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("problems %q lack %q", got, want)
				}
			}
		})
	}
}

func TestBuild_OverlayConflictIsReported(t *testing.T) {
	base, _ := decode(t, "extensions:\n  - {name: Address, type: single-valued}\n")
	overlay := schema.Document{Extensions: []schema.ExtensionDoc{{Name: "address", Type: "single-valued"}}}
	_, problems := schema.Build(base, overlay, unauthorized)
	if len(problems) != 1 || !strings.Contains(problems.Error(), "defined in config, and the metadata API has one too (a reload added it to config): remove one of them") {
		t.Fatalf("problems = %v", problems)
	}
}

func TestDocument_LooseScalars(t *testing.T) {
	// The vendor samples write mandatory and length as strings (spec §10 Q7).
	var ext schema.ExtensionDoc
	err := schema.DecodeDocumentJSON([]byte(`{"name":"Phone","type":"multi-valued","attributes":[{"name":"PhoneType","type":"integer","default":0,"mandatory":"true"},{"name":"PhoneNumber","type":"integer","length":"15"}]}`), &ext)
	if err != nil {
		t.Fatal(err)
	}
	if !ext.Attributes[0].Mandatory.Value || ext.Attributes[1].Length.Value != 15 {
		t.Fatalf("got %+v", ext.Attributes)
	}
	if err := schema.DecodeDocumentJSON([]byte(`{"name":"X","type":"single-valued","attributes":[{"name":"a","type":"string","mandatory":"perhaps"}]}`), &ext); err == nil {
		t.Fatal("mandatory \"perhaps\" accepted")
	}
	// A value of the wrong JSON type is named in JSON's words, not Go's.
	var key schema.KeyDoc
	err = schema.DecodeDocumentJSON([]byte(`{"name":"k","attributes":"FirstName"}`), &key)
	if err == nil || err.Error() != `"attributes" must be a list, not a JSON string` {
		t.Errorf("attributes as a string: %v", err)
	}
}

func TestPrepareProfile_Normalises(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: FirstName, type: string}
  - {name: DOB, type: date}
  - {name: Seen, type: datetime}
  - {name: Age, type: integer}
  - {name: Score, type: double}
  - {name: VIP, type: boolean}
  - {name: Balance, type: currency}
  - {name: Email, type: string, multi_valued: true}
extensions:
  - name: Phone
    type: multi-valued
    attributes:
      - {name: Num, type: string, mandatory: true}
      - {name: Kind, type: integer, default: 3}
`)
	doc, err := c.PrepareProfile(body(t, `{"firstname":"Ann","DOB":"1965-12-09T00:00:00.000Z","Seen":"2020-01-02T03:04:05+01:00",
		"Age":" 42 ","Score":1.50,"VIP":" TRUE\t","Balance":"12.34","Email":"a@b.c","phone":{"num":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"FirstName": "Ann", "DOB": "1965-12-09", "Seen": "2020-01-02T02:04:05.000Z", "Age": json.Number("42"),
		"Score": json.Number("1.5"), "VIP": true, "Balance": json.Number("12.34"), "Email": []any{"a@b.c"},
	}
	for k, v := range want {
		if got := doc.Attributes[k]; !equal(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	recs := doc.Extensions["Phone"]
	if len(recs) != 1 || recs[0]["Num"] != "1" || recs[0]["Kind"] != json.Number("3") {
		t.Errorf("Phone = %v, want one record with the default Kind", recs)
	}
}

func equal(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestPrepareProfile_Errors(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: Name, type: string, length: 5, mandatory: true}
  - {name: Age, type: integer, length: 3}
  - {name: Count, type: integer}
  - {name: Big, type: long}
  - {name: Seen, type: datetime}
extensions:
  - {name: Tag, type: single-valued, attributes: [{name: v, type: boolean}]}
`)
	for _, tc := range []struct{ body, code, field string }{
		{`{"Age":1}`, schema.CodeMissingMandatory, "Name"},
		{`{"Name":"Toolong"}`, schema.CodeTooLong, "Name"},
		// A length counts an integer's digits: more is too long; beyond
		// its type's range, a value is of the wrong type.
		{`{"Name":"A","Age":1000}`, schema.CodeTooLong, "Age"},
		{`{"Name":"A","Age":-1000}`, schema.CodeTooLong, "Age"},
		{`{"Name":"A","Count":3000000000}`, schema.CodeInvalidType, "Count"},
		{`{"Name":"A","Age":"12a"}`, schema.CodeInvalidType, "Age"},
		// Numeric strings are decimal: Go's number syntaxes are not.
		{`{"Name":"A","Age":"0x10"}`, schema.CodeInvalidType, "Age"},
		{`{"Name":"A","Age":"0b101"}`, schema.CodeInvalidType, "Age"},
		{`{"Name":"A","Age":"1_0"}`, schema.CodeInvalidType, "Age"},
		{`{"Name":"A","Age":"4/2"}`, schema.CodeInvalidType, "Age"},
		{`{"Name":"A","Big":"0x10"}`, schema.CodeInvalidType, "Big"},
		{`{"Name":"A","Big":"99999999999999999999"}`, schema.CodeInvalidType, "Big"},
		{`{"Name":"A","Seen":"2020-02-30T00:00:00Z"}`, schema.CodeInvalidValue, "Seen"},
		// In UTC, the stored form, these leave years 0000-9999 and could
		// not be written back.
		{`{"Name":"A","Seen":"9999-12-31T23:59:59-01:00"}`, schema.CodeInvalidValue, "Seen"},
		{`{"Name":"A","Seen":"0000-01-01T00:00:00+01:00"}`, schema.CodeInvalidValue, "Seen"},
		{`{"Name":"A","Seen":"2023-01-01T00:00:00+24:00"}`, schema.CodeInvalidValue, "Seen"}, // offset hours are 00-23
		// and offset minutes 00-59 (Go's parser takes 60 to 99 in +hhmm and 60 in +hh:mm).
		{`{"Name":"A","Seen":"2023-01-01T00:00:00+02:60"}`, schema.CodeInvalidValue, "Seen"},
		{`{"Name":"A","Seen":"2023-01-01T00:00:00+0260"}`, schema.CodeInvalidValue, "Seen"},
		{`{"Name":"A","Seen":"2023-01-01T00:00:00-00:60"}`, schema.CodeInvalidValue, "Seen"},
		{`{"Name":"A","Tag":[{"v":true},{"v":false}]}`, schema.CodeInvalidType, "Tag"},
		{`{"Name":"A","Tag":{"v":"maybe"}}`, schema.CodeInvalidType, "Tag.v"},
		{`{"Name":"A","Tag":{"w":1}}`, schema.CodeUnknownAttribute, "Tag.w"},
		{`{"Name":"Where"}`, schema.CodeUnauthorized, "Name"},
		// Refusals inside a record, and below it, name the whole path.
		{`{"Name":"A","Tag":{"v":"Where"}}`, schema.CodeUnauthorized, "Tag.v"},
		{`{"Name":"A","Tag":{"v":{"w":[{"x":"Where"}]}}}`, schema.CodeUnauthorized, "Tag.v.w.x"},
		{`{"Name":"A","Tag":{"v":{"w":1e999999}}}`, schema.CodeInvalidType, "Tag.v.w"},
		{`{"Name":"A","customer_id":"a/b"}`, schema.CodeInvalidID, "customer_id"},
		// A record's envelope name (spec §2.3) must be its extension's.
		{`{"Name":"A","Tag":{"name":"Other","v":true}}`, schema.CodeInvalidValue, "Tag.name"},
		{`{"Name":"A","Tag":{"name":5}}`, schema.CodeInvalidValue, "Tag.name"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			_, err := c.PrepareProfile(body(t, tc.body))
			e := errs.As(err)
			if e == nil || e.Kind != errs.KindInvalid || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("err = %#v, want %s on %s", err, tc.code, tc.field)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	u := schema.NewUnauthorized([]string{"select", "varchar2"})
	for s, want := range map[string]bool{"select": true, "SeLeCt": true, "selection": false, "VARCHAR2": true, "": false} {
		if got := u.Contains(s); got != want {
			t.Errorf("Contains(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestQueryValue(t *testing.T) {
	c := mustCompile(t, "profile:\n  - {name: Email, type: string}\n  - {name: N, type: integer}\n  - {name: D, type: datetime}\n  - {name: X, type: double}\n")
	for _, tc := range []struct{ attr, raw, want string }{
		{"Email", "A@B.c", "a@b.c"},
		{"N", "007", "7"},
		{"X", "-0", "0"}, // -0 and 0 are one value, as stored
		{"X", "-0.0e5", "0"},
		{"X", "1.50", "1.5"},
		{"D", "2009-12-18T19:30:00+01:00", "2009-12-18t18:30:00.000z"},
	} {
		got, err := c.QueryValue("", tc.attr, tc.raw)
		if err != nil || got != tc.want {
			t.Errorf("QueryValue(%s, %q) = %q, %v; want %q", tc.attr, tc.raw, got, err, tc.want)
		}
	}
	if _, err := c.QueryValue("", "N", "seven"); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("a non-integer query value: %v", err)
	}
}

func TestNormalise_CanonicalValues(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: DOB, type: date}
  - {name: At, type: datetime}
  - {name: N, type: integer}
  - {name: Bal, type: currency}
  - {name: Emails, type: string, multi_valued: true}
extensions:
  - {name: Addr, type: single-valued, attributes: [{name: City, type: string}]}
`)
	for _, tc := range []struct {
		body, attr string
		want       any
	}{
		{`{"DOB":"1962-05-10T00:00:00+14:00"}`, "DOB", "1962-05-10"},
		{`{"DOB":"1962-05-10T23:30:00-05:00"}`, "DOB", "1962-05-10"},
		// What clients' date types write: .NET DateTime (no offset), Java's
		// SimpleDateFormat "Z" (+hhmm), minutes without seconds.
		{`{"DOB":"1962-05-10T00:00:00"}`, "DOB", "1962-05-10"},
		{`{"DOB":"1962-05-10T00:00:00.0000000"}`, "DOB", "1962-05-10"},
		{`{"DOB":"1962-05-10T00:00Z"}`, "DOB", "1962-05-10"},
		{`{"DOB":"1962-05-10T00:00:00+0000"}`, "DOB", "1962-05-10"},
		{`{"At":"2009-12-18T19:30:00.000+0100"}`, "At", "2009-12-18T18:30:00.000Z"},
		{`{"At":"2009-12-18T18:30Z"}`, "At", "2009-12-18T18:30:00.000Z"},
		{`{"At":"2009-12-18T20:30+02:00"}`, "At", "2009-12-18T18:30:00.000Z"},
		{`{"N":1.0}`, "N", json.Number("1")},
		{`{"N":1e3}`, "N", json.Number("1000")},
		{`{"N":"-2147483648"}`, "N", json.Number("-2147483648")},
		{`{"N":"017"}`, "N", json.Number("17")}, // decimal, as written
		{`{"N":" 42 "}`, "N", json.Number("42")},
		{`{"N":"+1"}`, "N", json.Number("1")},
		{`{"N":"5."}`, "N", json.Number("5")},
		{`{"Bal":".5"}`, "Bal", json.Number("0.5")},
		{`{"Bal":"-.25"}`, "Bal", json.Number("-0.25")},
		{`{"Bal":"12.50"}`, "Bal", json.Number("12.5")},
		{`{"Bal":1.50}`, "Bal", json.Number("1.5")},
		{`{"Bal":"-0"}`, "Bal", json.Number("0")},
		{`{"Bal":1e3}`, "Bal", json.Number("1000")},
		{`{"Bal":100}`, "Bal", json.Number("100")},
	} {
		doc, err := c.PrepareProfile(body(t, tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if got := doc.Attributes[tc.attr]; !equal(got, tc.want) {
			t.Errorf("%s: %s = %#v, want %#v", tc.body, tc.attr, got, tc.want)
		}
	}
	// 1e399 is a short literal but 400 digits stored, which could not be
	// written back (number literals are at most 64 characters).
	// A date-time without an offset names no instant.
	for _, bad := range []string{`{"At":"2009-12-18T18:30:00"}`, `{"At":"2009-12-18T18:30"}`, `{"At":"2009-12-18T18:30:00+2400"}`, `{"Bal":1.123456}`, `{"N":1.5}`, `{"N":2147483648}`, `{"Bal":1e399}`, `{"Bal":"1e70"}`, `{"Bal":"0x10"}`, `{"Bal":"1/4"}`} {
		if _, err := c.PrepareProfile(body(t, bad)); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
	doc, err := c.PrepareProfile(body(t, `{"Emails":[],"Addr":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, set := doc.Attributes["Emails"]; set {
		t.Errorf("an empty list is no value: %v", doc.Attributes)
	}
	if recs, set := doc.Extensions["Addr"]; !set || len(recs) != 0 {
		t.Errorf("[] for a single-valued extension removes its record: %v", doc.Extensions)
	}
}

// TestAliases: an alias is accepted on input and stored under the
// declared name (a collision is TestBuild_Problems/AliasClashesWithName).
func TestAliases(t *testing.T) {
	c := mustCompile(t, "profile:\n  - {name: Nick, type: string, aliases: [NickName]}\nextensions:\n  - name: Phone\n    type: multi-valued\n    unique: [num]\n    attributes:\n      - {name: num, type: string, aliases: [PhoneNumber]}\n      - {name: start_availabilty, type: datetime, aliases: [start_availability]}\n")
	doc, err := c.PrepareProfile(map[string]any{"nickname": "Bo", "Phone": []any{map[string]any{"PhoneNumber": "1", "start_availability": "2009-12-18T18:30:00.000Z"}}})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Attributes["Nick"] != "Bo" || doc.Extensions["Phone"][0]["num"] != "1" || doc.Extensions["Phone"][0]["start_availabilty"] == nil {
		t.Errorf("aliases not stored under the declared names: %+v %+v", doc.Attributes, doc.Extensions)
	}
	if _, err := c.PrepareProfile(map[string]any{"Nick": "a", "NickName": "b"}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("a name and its alias in one body: %v", err)
	}
}

// TestRecordAttributeNames: attribute and extension names ignore ASCII
// case, and no more: Unicode's wider folding ("ſ" for "s", the Kelvin sign
// for "k", İ for i) names nothing, in records and in core attributes alike.
func TestRecordAttributeNames(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: Kind, type: string}
extensions:
  - {name: Info, type: single-valued, attributes: [{name: desk, type: string}]}
`)
	for doc, ok := range map[string]bool{
		`{"KIND":"a","INFO":{"DESK":"a"}}`: true,
		`{"\u212aind":"a"}`:                false, // Kelvin sign
		`{"\u0130nfo":{"desk":"a"}}`:       false, // capital I with dot
		`{"Info":{"de\u017fk":"a"}}`:       false, // long s
		`{"Info":{"des\u212a":"a"}}`:       false,
		// The envelope fields (spec §2.3) too: these are unknown names, not
		// the customer_id or name a record may carry.
		`{"CUSTOMER_ID":"c1","Info":{"Customer_Id":"c1","NAME":"INFO","desk":"a"}}`: true,
		`{"cu\u017ftomer_id":"c1"}`:          false,
		`{"Info":{"cu\u017ftomer_id":"c1"}}`: false,
	} {
		_, err := c.PrepareProfile(body(t, doc))
		if (err == nil) != ok {
			t.Errorf("%s: %v, want accepted %v", doc, err, ok)
		}
		if e := errs.As(err); err != nil && (e == nil || (e.Code != schema.CodeUnknownAttribute && e.Code != schema.CodeUnknownExtension)) {
			t.Errorf("%s: %v, want an unknown name", doc, err)
		}
	}
}

// TestPrepareProfile_TooManyItems: a list over the schema's maxItems is
// refused with maxItems' own answer, at the bound and not below it, before
// any item is validated.
func TestPrepareProfile_TooManyItems(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: Email, type: string, multi_valued: true}
extensions:
  - name: Phone
    type: multi-valued
    unique: [Num]
    attributes:
      - {name: Num, type: string}
`)
	list := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	for _, tc := range []struct {
		field, item string
		max         int
		code, want  string
	}{
		{"Email", `"a@b.c"`, schema.MaxValuesPerAttribute, schema.CodeInvalidValue,
			fmt.Sprintf("attribute %q: maximum %d items required, but found %d items", "Email", schema.MaxValuesPerAttribute, schema.MaxValuesPerAttribute+1)},
		{"Phone", `{"Num":"1"}`, schema.MaxRecordsPerWrite, schema.CodeTooManyRecords, // the code of the per-customer limit too
			fmt.Sprintf("extension %q takes at most %d records in one write, not %d", "Phone", schema.MaxRecordsPerWrite, schema.MaxRecordsPerWrite+1)},
	} {
		_, err := c.PrepareProfile(body(t, `{"`+tc.field+`":`+list(tc.max, tc.item)+`}`))
		if e := errs.As(err); e != nil && e.Code == tc.code {
			t.Errorf("%d items of %s (the bound) refused for their count: %v", tc.max, tc.field, err)
		}
		// Items that are not even valid: the count is what is reported.
		_, err = c.PrepareProfile(body(t, `{"`+tc.field+`":`+list(tc.max+1, `{"x":[1]}`)+`}`))
		if e := errs.As(err); e == nil || e.Code != tc.code || e.Field != tc.field || e.Message != tc.want {
			t.Errorf("%d items of %s: %#v, want %s %q", tc.max+1, tc.field, err, tc.code, tc.want)
		}
	}
}

// TestPrepareProfile_NumericStringsAreBounded: a numeric string is held to
// the bounds of a number literal (length, exponent) before it is parsed:
// "1e999999" made big.Rat build a million-digit number (1 MB and 121 ms
// for one amount). Bytes allocated, not time, tell the two apart. Not
// parallel: it reads the process's allocation counter.
func TestPrepareProfile_NumericStringsAreBounded(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: N, type: integer}
  - {name: Big, type: long}
  - {name: D, type: double}
  - {name: Bal, type: currency}
`)
	for _, attr := range []string{"N", "Big", "D", "Bal"} {
		for _, value := range []string{"1e999999", "1E-999999", strings.Repeat("9", 100_000)} {
			b := body(t, `{"`+attr+`":"`+value+`"}`)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.PrepareProfile(b)
			runtime.ReadMemStats(&after)
			if e := errs.As(err); e == nil || e.Code != schema.CodeInvalidType || e.Field != attr {
				t.Errorf("%s %.20q: %v, want INVALID_TYPE", attr, value, err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
				t.Errorf("%s %.20q: refusing it allocated %d KiB", attr, value, n>>10)
			}
		}
	}
}

// TestPrepare_FaultsAnsweredInNameOrder: a body with several faults is
// answered by the first in name order, every time (the answer depended on
// map order, and so differed between requests and between the stores).
func TestPrepare_FaultsAnsweredInNameOrder(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: FirstName, type: string}
  - {name: Age, type: integer}
  - {name: Zed, type: integer}
extensions:
  - name: Phone
    type: multi-valued
    attributes:
      - {name: Num, type: string}
`)
	for range 20 {
		for body_, field := range map[string]string{
			`{"firstname":"x","FirstName":"y","Bogus":1}`: "Bogus",       // unknown before given twice
			`{"Age":"abc","Zed":"def"}`:                   "Age",         // two type faults: the validator's
			`{"Phone":[{"Num":"1","num":"2","Bogus":1}]}`: "Phone.Bogus", // unknown before given twice, in a record
			`{"Phone":[{"Num":"1","num":"2"}],"zz":1}`:    "Phone.num",   // Phone before zz
		} {
			_, err := c.PrepareProfile(body(t, body_))
			if e := errs.As(err); e == nil || e.Field != field {
				t.Fatalf("%s: %v, want the fault at %s", body_, err, field)
			}
		}
		_, err := c.PrepareProfile(body(t, `{"zz":1,"aa":2,"mm":3,"Bogus":4,"FirstName":"A"}`))
		if e := errs.As(err); e == nil || e.Field != "Bogus" {
			t.Fatalf("unknown attributes zz, aa, mm, Bogus: %v, want the first in name order, Bogus", err)
		}
		_, err = c.PrepareProfile(body(t, `{"Phone":[{"Num":"1","zz":1,"bb":2,"yy":3}]}`))
		if e := errs.As(err); e == nil || e.Field != "Phone.bb" {
			t.Fatalf("unknown record attributes zz, bb, yy: %v, want Phone.bb", err)
		}
	}
}

// TestPrepareRecordPatch: a patch's faults name the attribute with its
// extension and the type wanted, as a whole write's do; null clears an
// attribute, and one with a default takes it, as on create, so that a
// record read back always carries what a create would have given it.
func TestPrepareRecordPatch(t *testing.T) {
	c := mustCompile(t, `
extensions:
  - name: Phone
    type: multi-valued
    unique: [Num]
    attributes:
      - {name: Num, type: string}
      - {name: Kind, type: integer, default: 3}
      - {name: Since, type: datetime}
      - {name: Note, type: string}
  - name: Tag
    type: multi-valued
    unique: [Name, Kind]
    attributes:
      - {name: Name, type: string}
      - {name: Kind, type: integer, default: 3}
`)
	_, err := c.PrepareRecordPatch("Phone", body(t, `{"Num":"1","Since":"2020-13-01T00:00:00Z"}`))
	if e := errs.As(err); e == nil || e.Field != "Phone.Since" || !strings.Contains(e.Message, "must be a date-time") {
		t.Errorf("bad datetime in a patch: %v (field %q)", err, errs.As(err).Field)
	}
	rec, err := c.PrepareRecordPatch("Phone", body(t, `{"Num":"1","Kind":null,"Note":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if kind, set := rec["Kind"]; !set || !equal(kind, 3) {
		t.Errorf("Kind cleared: %#v, want its default 3", rec["Kind"])
	}
	if note, set := rec["Note"]; !set || note != nil {
		t.Errorf("Note cleared: %#v (set %v), want nil, for the update to remove", note, set)
	}
	// The same null given twice (in two spellings) is one null.
	if rec, err := c.PrepareRecordPatch("Phone", body(t, `{"Num":"1","Kind":null,"kind":null}`)); err != nil || !equal(rec["Kind"], 3) {
		t.Errorf("Kind cleared twice: %v, %v", rec, err)
	}
	// A unique attribute stays null, whatever its default: it selects the
	// record where it is unset.
	if rec, err := c.PrepareRecordPatch("Tag", body(t, `{"Name":"a","Kind":null}`)); err != nil || rec["Kind"] != nil {
		t.Errorf("unique Kind given null: %#v, %v; want nil", rec["Kind"], err)
	} else if _, set := rec["Kind"]; !set {
		t.Errorf("unique Kind given null is not in the patch: %v", rec)
	}
}

// TestLookupByName_TakesNoAllocation: finding an attribute, extension or
// key by a name in any case allocates nothing (they run several times per
// request), and still folds A-Z only.
func TestLookupByName_TakesNoAllocation(t *testing.T) {
	c := mustCompile(t, "profile:\n  - {name: FirstName, type: string}\n  - {name: Kind, type: string}\nextensions:\n  - name: ContactPoint\n    type: multi-valued\n    attributes:\n      - {name: value, type: string}\n")
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := c.Extension("ContactPoint"); !ok {
			t.Fatal("extension not found")
		}
		if _, ok := c.Attribute("FIRSTNAME"); !ok {
			t.Fatal("attribute not found")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup pair", allocs)
	}
	if _, ok := c.Extension("Contactpoint"); !ok {
		t.Error("lookup is case-sensitive")
	}
	if _, ok := c.Attribute("\u212aind"); ok { // the Kelvin sign is no K
		t.Error("a non-ASCII letter folded to an ASCII one")
	}
}

// TestPrepareProfile_IntegerLengthCountsDigits: an integer declared with
// more digits than 32 bits hold takes values of that many digits (the
// vendor's Phone schema: PhoneNumber integer, length 15, 10-digit numbers
// sent as strings); without a length, or with one of 9 digits or fewer,
// it stays 32-bit and bounded by the length.
func TestPrepareProfile_IntegerLengthCountsDigits(t *testing.T) {
	c := mustCompile(t, `
profile:
  - {name: Plain, type: integer}
  - {name: Phone, type: integer, length: 15}
  - {name: Short, type: integer, length: 3}
`)
	for value, fits := range map[string]map[string]bool{
		`"3145926535"`:       {"Plain": false, "Phone": true, "Short": false},
		`999999999999999`:    {"Plain": false, "Phone": true, "Short": false},
		`"-999999999999999"`: {"Plain": false, "Phone": true, "Short": false},
		`1000000000000000`:   {"Plain": false, "Phone": false, "Short": false},
		`2147483647`:         {"Plain": true, "Phone": true, "Short": false},
		`999`:                {"Plain": true, "Phone": true, "Short": true},
		`"12.5"`:             {"Plain": false, "Phone": false, "Short": false},
	} {
		for attr, want := range fits {
			p, err := c.PrepareProfile(body(t, `{"`+attr+`":`+value+`}`))
			if want && err != nil {
				t.Errorf("%s = %s: %v, want it stored", attr, value, err)
			}
			if !want && err == nil {
				t.Errorf("%s = %s: stored as %v, want a refusal", attr, value, p)
			}
		}
	}
}

// BenchmarkHostile_CompileWideExtension: compiling a schema costs in
// proportion to its attributes (compare ns/attribute of the two sizes).
// The JSON Schema compiler ran at draft 2020-12, whose dynamic anchor pass
// lists, for every subschema, every resource of the document: quadratic in
// the attributes, so one extension of 10,000 attributes posted to
// /metadata (about 500 KB) took 11 s to create and every later schema
// change (any metadata write, reload) 3-6 s, holding all writes meanwhile;
// at 8,000 attributes a compile took 77 times as long as at 500. Hostile:
// make bench runs it 20 times, not 2000.
func BenchmarkHostile_CompileWideExtension(b *testing.B) {
	for _, n := range []int{500, 8000} {
		b.Run(fmt.Sprint("attributes=", n), func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				var doc strings.Builder // a new document each time: compiled schemas are cached by their JSON
				fmt.Fprintf(&doc, "profile:\n  - {name: FirstName, type: string}\nextensions:\n  - name: Wide%d\n    type: multi-valued\n    attributes:\n", i)
				for a := range n {
					fmt.Fprintf(&doc, "      - {name: a%d, type: string, length: 64}\n", a)
				}
				d, problems := decode(b, doc.String())
				if len(problems) > 0 {
					b.Fatal(problems)
				}
				def, problems := schema.Build(d, schema.Document{}, unauthorized)
				if len(problems) > 0 {
					b.Fatal(problems)
				}
				b.StartTimer()
				if _, err := schema.Compile(def, unauthorized, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/attribute")
		})
	}
}

// TestDecodeYAML_MergeKey: a YAML merge key (<<) shares a mapping, and the
// config's own checks follow one (config.TestLoad_FractionalCountRefused):
// the schema section's unknown-key check must read the keys it merges in,
// not refuse "<<" as a key of its own, and still name a misspelt one.
func TestDecodeYAML_MergeKey(t *testing.T) {
	doc, problems := decode(t, "<<: {profile: [{name: FirstName, type: string}]}\n")
	if len(problems) > 0 || len(doc.Profile) != 1 {
		t.Errorf("a schema merged in: %+v, %v; want its attribute", doc.Profile, problems)
	}
	if _, problems := decode(t, "<<: {profil: []}\n"); len(problems) != 1 || problems[0].Name != "profil" {
		t.Errorf("a misspelt key merged in: %v, want it named", problems)
	}
}
