package egain

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"testing"

	"github.com/contactcenter/profiled/internal/jsonw"
)

// The encoder before the hand-written one, driven by the egain tags through
// reflection: the reference the wire encoder must match byte for byte.

func refEncodeXML(selfHref string, customers []Customer) []byte {
	var e refXML
	e.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)
	e.WriteString("<customers")
	for _, p := range xmlPrefixes {
		e.WriteString(" xmlns")
		if p.prefix != "" {
			e.WriteString(":" + p.prefix)
		}
		e.WriteString(`="` + p.uri + `"`)
	}
	e.WriteString(">")
	e.element(reflect.ValueOf(Link{Rel: Str("self"), Href: &selfHref}), NSCustomer, "link")
	for _, c := range customers {
		e.element(reflect.ValueOf(withLinks(c)), NSCustomer, "customer")
	}
	e.WriteString("</customers>")
	return e.Bytes()
}

type refXML struct{ bytes.Buffer }

func (e *refXML) text(s string) { _ = xml.EscapeText(e, []byte(s)) }

func (e *refXML) qname(ns, name string) {
	for _, p := range xmlPrefixes {
		if p.uri == ns && p.prefix != "" {
			e.WriteString(p.prefix + ":")
		}
	}
	e.WriteString(name)
}

func (e *refXML) element(v reflect.Value, ns, name string) {
	fs := fieldsOf(v.Type())
	e.WriteByte('<')
	e.qname(ns, name)
	for _, f := range fs {
		if p := v.Field(f.index); f.attr && !p.IsNil() {
			e.WriteString(" " + f.name + `="`)
			e.text(p.Elem().String())
			e.WriteByte('"')
		}
	}
	e.WriteByte('>')
	for _, f := range fs {
		fv := v.Field(f.index)
		if f.attr || fv.IsNil() {
			continue
		}
		switch f.kind {
		case kindString:
			e.WriteByte('<')
			e.qname(f.elemNS(ns), f.name)
			e.WriteByte('>')
			e.text(fv.Elem().String())
			e.WriteString("</")
			e.qname(f.elemNS(ns), f.name)
			e.WriteByte('>')
		case kindStruct:
			e.element(fv.Elem(), f.elemNS(ns), f.name)
		default:
			e.WriteByte('<')
			e.qname(ns, f.name)
			e.WriteByte('>')
			for i := range fv.Len() {
				e.element(fv.Index(i), f.itemNS(ns), f.item)
			}
			e.WriteString("</")
			e.qname(ns, f.name)
			e.WriteByte('>')
		}
	}
	e.WriteString("</")
	e.qname(ns, name)
	e.WriteByte('>')
}

func refEncodeJSON(selfHref string, customers []Customer) []byte {
	var e refJSON
	e.WriteString(`{"link":`)
	e.object(reflect.ValueOf(Link{Rel: Str("self"), Href: &selfHref}))
	e.WriteString(`,"customer":[`)
	for i, c := range customers {
		if i > 0 {
			e.WriteByte(',')
		}
		e.object(reflect.ValueOf(withLinks(c)))
	}
	e.WriteString("]}")
	return e.Bytes()
}

type refJSON struct{ bytes.Buffer }

func (e *refJSON) str(s string) { e.Write(jsonw.AppendString(nil, s)) }

func (e *refJSON) object(v reflect.Value) {
	e.WriteByte('{')
	first := true
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		if fv.IsNil() {
			continue
		}
		if !first {
			e.WriteByte(',')
		}
		first = false
		e.str(f.name)
		e.WriteByte(':')
		switch f.kind {
		case kindString:
			e.str(fv.Elem().String())
		case kindStruct:
			e.object(fv.Elem())
		default:
			e.WriteByte('{')
			e.str(f.item)
			e.WriteString(":[")
			for i := range fv.Len() {
				if i > 0 {
					e.WriteByte(',')
				}
				e.object(fv.Index(i))
			}
			e.WriteString("]}")
		}
	}
	e.WriteByte('}')
}

// fillAll sets every tagged field of struct v, recursively: each *string
// to text(path), each list to n items (n = 0 gives empty, non-nil lists).
func fillAll(v reflect.Value, path string, n int, text func(path string) string) {
	for _, f := range fieldsOf(v.Type()) {
		fv, p := v.Field(f.index), path+"."+f.name
		switch f.kind {
		case kindString:
			fv.Set(reflect.ValueOf(Str(text(p))))
		case kindStruct:
			fv.Set(reflect.New(fv.Type().Elem()))
			fillAll(fv.Elem(), p, n, text)
		default:
			fv.Set(reflect.MakeSlice(fv.Type(), n, n))
			for i := range n {
				fillAll(fv.Index(i), fmt.Sprint(p, i), n, text)
			}
		}
	}
}

// edgeTexts are strings the two encoders must escape alike: markup,
// quotes, white space, control characters, invalid UTF-8, non-ASCII,
// the separators JavaScript minds, the noncharacters XML refuses.
var edgeTexts = []string{
	"", "plain", `<a href="x">&amp;</a>`, `it's "quoted"`, "tab\tnl\ncr\r",
	"nul\x00 bell\x07 esc\x1b del\x7f", "bad\xffutf8\xc3", "José Müller", "日本語テキスト", "emoji 😀",
	"sep\u2028\u2029", "nonchar\ufffe\uffff", "repl\ufffd", "back\\slash/", "]]>", "&#x41;",
}

func TestWireMatchesReflectionEncoder(t *testing.T) {
	type tc struct {
		name      string
		self      string
		customers []Customer
	}
	var cases []tc
	for _, name := range exampleNames {
		for _, ext := range []string{".xml", ".json"} {
			f := FormatXML
			if ext == ".json" {
				f = FormatJSON
			}
			c, err := DecodeCustomer(f, "", bytes.NewReader(readExample(t, name+ext)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, tc{name + ext, "/system/ws/v12/interaction/customer?email=a%40b.com", []Customer{*c}})
			withID := *c
			withID.ID = Str("1012")
			cases = append(cases, tc{name + ext + "/published", "/system/ws/v12/interaction/customer/1012", []Customer{withID, *c}})
		}
	}
	var full, empty Customer
	fillAll(reflect.ValueOf(&full).Elem(), "c", 2, func(p string) string { return p })
	fillAll(reflect.ValueOf(&empty).Elem(), "c", 0, func(string) string { return "" })
	cases = append(cases,
		tc{"no customers", "/", nil},
		tc{"zero customer", "/", []Customer{{}}},
		tc{"every field", "/x?a=1&b=2", []Customer{full}},
		tc{"empty lists and texts", "/", []Customer{empty}},
		tc{"empty lists in items", "/", []Customer{{ID: Str("7"), CustomAttributes: []CustomAttribute{{AttribValues: []AttribValue{}}},
			ContactPersons: []ContactPerson{{CustomAttributes: []CustomAttribute{}, ContactPoints: []ContactPoint{{CustomAttributes: []CustomAttribute{}}}}}}}},
	)
	for i, s := range edgeTexts {
		var c Customer
		fillAll(reflect.ValueOf(&c).Elem(), "c", 1, func(p string) string { return s })
		cases = append(cases, tc{fmt.Sprintf("edge text %d %q", i, s), "/" + s, []Customer{c}})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var x, j bytes.Buffer
			if err := EncodeCustomersXML(&x, tt.self, tt.customers); err != nil {
				t.Fatal(err)
			}
			if want := refEncodeXML(tt.self, tt.customers); !bytes.Equal(x.Bytes(), want) {
				t.Errorf("XML differs from the reflection encoder's\ngot  %s\nwant %s", x.Bytes(), want)
			}
			if err := EncodeCustomersJSON(&j, tt.self, tt.customers); err != nil {
				t.Fatal(err)
			}
			if want := refEncodeJSON(tt.self, tt.customers); !bytes.Equal(j.Bytes(), want) {
				t.Errorf("JSON differs from the reflection encoder's\ngot  %s\nwant %s", j.Bytes(), want)
			}
			for _, c := range tt.customers {
				var want refJSON
				want.object(reflect.ValueOf(withLinks(c)))
				if got := encodeCustomerJSON(c); !bytes.Equal(got, want.Bytes()) {
					t.Errorf("bare JSON object differs\ngot  %s\nwant %s", got, want.Bytes())
				}
			}
		})
	}
}

func TestWriteErrorEscapesAsXMLAndJSON(t *testing.T) {
	for i, s := range edgeTexts {
		var x, j bytes.Buffer
		if err := WriteError(&x, FormatXML, WSError{Code: s, DeveloperMessage: s}); err != nil {
			t.Fatal(err)
		}
		var want refXML
		want.text(s)
		if wantBody := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error xmlns="` + NSCommon + `"><code>` + want.String() +
			"</code><developerMessage>" + want.String() + "</developerMessage></error>"; x.String() != wantBody {
			t.Errorf("%d: XML %q, want %q", i, x.String(), wantBody)
		}
		if err := WriteError(&j, FormatJSON, WSError{Code: s, DeveloperMessage: s}); err != nil {
			t.Fatal(err)
		}
		quoted := string(jsonw.AppendString(nil, s))
		if wantBody := `{"code":` + quoted + `,"developerMessage":` + quoted + `}`; j.String() != wantBody {
			t.Errorf("%d: JSON %q, want %q", i, j.String(), wantBody)
		}
	}
}
