package egain

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/url"
	"reflect"

	"github.com/contactcenter/profiled/internal/jsonw"
)

// BasePath is the context root every emitted href starts with (spec §1).
const BasePath = "/system/ws/v12"

// xmlPrefixes copies the prefix layout of the vendor's create example, so
// emitted bodies look like the ones eGain clients already parse.
var xmlPrefixes = []struct{ prefix, uri string }{
	{"", NSCustomer},
	{"ns1", NSContactPerson},
	{"ns2", NSPlatform},
	{"ns3", NSCommon},
	{"ns4", NSContactPoint},
	{"ns5", NSCase},
}

func prefixOf(uri string) string {
	for _, p := range xmlPrefixes {
		if p.uri == uri {
			return p.prefix
		}
	}
	panic("egain: no prefix for namespace " + uri) // tags only use the namespaces above
}

// withLinks returns c with its self and cases links derived from its id
// when the caller did not set them.
func withLinks(c Customer) Customer {
	if c.ID == nil {
		return c
	}
	id := url.PathEscape(*c.ID)
	if c.Link == nil {
		c.Link = &Link{Rel: Str("self"), Href: Str(BasePath + "/interaction/customer/" + id)}
	}
	if c.Cases == nil {
		c.Cases = &Cases{Link: &Link{Rel: Str("case"), Href: Str(BasePath + "/interaction/case?customer=" + url.QueryEscape(*c.ID))}}
	}
	return c
}

// EncodeCustomersXML writes the customers collection of spec §4.1. selfHref
// is the request URL (with /system) echoed in the root link.
func EncodeCustomersXML(w io.Writer, selfHref string, customers []Customer) error {
	var e xmlEncoder
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
	_, err := w.Write(e.Bytes())
	return err
}

type xmlEncoder struct {
	bytes.Buffer
}

func (e *xmlEncoder) text(s string) {
	_ = xml.EscapeText(e, []byte(s)) // writes to a bytes.Buffer cannot fail
}

func (e *xmlEncoder) qname(ns, name string) {
	if p := prefixOf(ns); p != "" {
		e.WriteString(p + ":")
	}
	e.WriteString(name)
}

// element writes struct v as element name in namespace ns.
func (e *xmlEncoder) element(v reflect.Value, ns, name string) {
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
		if !f.attr {
			e.child(f, v.Field(f.index), ns)
		}
	}
	e.WriteString("</")
	e.qname(ns, name)
	e.WriteByte('>')
}

func (e *xmlEncoder) child(f field, fv reflect.Value, ns string) {
	if fv.IsNil() {
		return
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

// EncodeCustomersJSON writes the JSON form of the collection:
// {"link": {...}, "customer": [...]}, every scalar a string.
func EncodeCustomersJSON(w io.Writer, selfHref string, customers []Customer) error {
	var e jsonEncoder
	e.Grow(256 + 2048*len(customers)) // a customer of the vendor's full example is about 1.5 KB
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
	_, err := w.Write(e.Bytes())
	return err
}

type jsonEncoder struct {
	bytes.Buffer
}

// object writes struct v; attributes are plain properties in JSON.
func (e *jsonEncoder) object(v reflect.Value) {
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
		e.WriteString(f.jsonName)
		switch f.kind {
		case kindString:
			e.str(fv.Elem().String())
		case kindStruct:
			e.object(fv.Elem())
		default:
			e.WriteByte('{')
			e.WriteString(f.jsonItem)
			e.WriteByte('[')
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

// str writes s as a JSON string (jsonw: <, > and & stay as they are, for
// hrefs carry '&'; invalid UTF-8 becomes U+FFFD).
func (e *jsonEncoder) str(s string) {
	e.Write(jsonw.AppendString(e.AvailableBuffer(), s))
}

// WriteError writes a WSError body (spec §8) in format f.
func WriteError(w io.Writer, f Format, ws WSError) error {
	if f == FormatJSON {
		var e jsonEncoder
		e.WriteString(`{"code":`)
		e.str(ws.Code)
		e.WriteString(`,"developerMessage":`)
		e.str(ws.DeveloperMessage)
		e.WriteByte('}')
		_, err := w.Write(e.Bytes())
		return err
	}
	var e xmlEncoder
	e.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error xmlns="` + NSCommon + `"><code>`)
	e.text(ws.Code)
	e.WriteString("</code><developerMessage>")
	e.text(ws.DeveloperMessage)
	e.WriteString("</developerMessage></error>")
	_, err := w.Write(e.Bytes())
	return err
}
