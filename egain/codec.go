package egain

import (
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/internal/textenc"
)

// Format is a wire format of the facade.
type Format uint8

const (
	FormatXML Format = iota // the default when the client does not say (spec §10 Q14)
	FormatJSON
	// FormatTextXML is XML sent as text/xml, for a client that asked for
	// that media type (the spec: an answer carries the Content-Type asked
	// for). Everything but ContentType treats it as FormatXML.
	FormatTextXML
)

// ContentType is the media type sent with a body in f.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON:
		return "application/json"
	case FormatTextXML:
		return "text/xml; charset=utf-8" // text/* defaults to US-ASCII for older clients
	}
	return "application/xml"
}

// DecodeCustomer decodes one customer body in format f; charset is the one
// its Content-Type names, "" if none.
func DecodeCustomer(f Format, charset string, r io.Reader, lim Limits) (*Customer, error) {
	root, err := readTree(r, lim, f, charset)
	if err != nil {
		return nil, err
	}
	if f == FormatJSON {
		return customerOfJSON(root)
	}
	return customerOfXML(root)
}

// readTree reads a body within lim and parses it in format f. JSON is
// UTF-8 (RFC 8259), read in the charset Content-Type names ("" if none)
// only where it is not (textenc.JSON); XML is turned into UTF-8 from that
// charset or what the body says of itself.
func readTree(r io.Reader, lim Limits, f Format, charset string) (*node, error) {
	lim = lim.orDefault()
	data, err := readBody(r, lim)
	if err != nil {
		return nil, err
	}
	if f == FormatJSON {
		text, ok := textenc.JSON(data, charset)
		if !ok {
			if _, name, _ := textenc.UTF16BOM(data); name != "" {
				return nil, malformed("request body is not valid %s, the encoding its byte order mark says", name)
			}
			return nil, malformed("request body is not valid UTF-8, nor %s, the charset its Content-Type names", charset)
		}
		if data, err = utf8Body(text); err != nil {
			return nil, err
		}
		return parseJSONTree(data, lim, "")
	}
	if data, err = xmlInUTF8(data, charset); err != nil {
		return nil, err
	}
	return parseXMLTree(data, lim)
}

// customerOfXML binds a <customer> tree. Elements are matched by namespace
// URI, so any prefixes (or a default namespace) work; an element the schema
// does not know, or one in the wrong namespace, is refused.
func customerOfXML(root *node) (*Customer, error) {
	if root.name != "customer" || root.space != NSCustomer {
		return nil, unknownElement(root.name, "root element must be customer in namespace %q", NSCustomer)
	}
	var c Customer
	if err := (binder{xml: true}).bindStruct(root, reflect.ValueOf(&c).Elem(), NSCustomer, ""); err != nil {
		return nil, err
	}
	return &c, nil
}

// customerOfJSON binds a customer object. Unknown or duplicate properties
// are refused; numbers and booleans are taken as their text because sloppy
// clients send "dependents": 4 for eGain's "4".
func customerOfJSON(root *node) (*Customer, error) {
	var c Customer
	if err := (binder{}).bindStruct(root, reflect.ValueOf(&c).Elem(), "", ""); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeStoredCustomer decodes a customer document the facade stored itself
// (documentJSON). It is read on every search and get, so it skips the
// token-by-token parser that guards client bodies (no duplicates or limits
// to police in our own output) and binds a tree built from jsonw.Parse.
func decodeStoredCustomer(doc string) (*Customer, error) {
	v, err := jsonw.Parse([]byte(doc))
	if err != nil {
		return nil, err
	}
	var c Customer
	if err := (binder{}).bindStruct(nodeOf("", v), reflect.ValueOf(&c).Elem(), "", ""); err != nil {
		return nil, err
	}
	return &c, nil
}

// nodeOf builds the parse tree of a decoded JSON value (object members in
// name order; binding does not depend on order).
func nodeOf(name string, v any) *node {
	n := &node{name: name}
	switch x := v.(type) {
	case map[string]any:
		n.shape = shapeObject
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.kids = append(n.kids, nodeOf(k, x[k]))
		}
	case []any:
		n.shape = shapeArray
		for _, item := range x {
			n.kids = append(n.kids, nodeOf(name, item))
		}
	case string:
		n.shape, n.text = shapeScalar, []byte(x)
	case json.Number:
		n.shape, n.text = shapeScalar, []byte(x)
	case bool:
		n.shape, n.text = shapeScalar, []byte(strconv.FormatBool(x))
	default:
		n.shape = shapeNull
	}
	return n
}

// DecodeLogin decodes a login body in format f; charset is the one its
// Content-Type names, "" if none.
func DecodeLogin(f Format, charset string, r io.Reader, lim Limits) (*Login, error) {
	root, err := readTree(r, lim, f, charset)
	if err != nil {
		return nil, err
	}
	if f == FormatJSON {
		return bindLogin(root, binder{})
	}
	// The v12 namespace is inferred (spec §2.1), so an un-namespaced login
	// is accepted too; the children are in the root's namespace or in none.
	if root.name != "login" || (root.space != NSPlatform && root.space != "") {
		return nil, unknownElement(root.name, "root element must be login in namespace %q", NSPlatform)
	}
	return bindLogin(root, binder{xml: true})
}

// bindLogin matches names case-insensitively: the v12 table says
// "username", examples and clients say "userName" (spec §10 Q1).
func bindLogin(root *node, b binder) (*Login, error) {
	if err := b.checkContainer(root, ""); err != nil {
		return nil, err
	}
	if len(root.attrs) > 0 {
		return nil, unknownElement("@"+root.attrs[0].Name.Local, "unknown attribute %q on login", root.attrs[0].Name.Local)
	}
	var user, pass *string
	for _, k := range root.kids {
		var dst **string
		switch {
		case strings.EqualFold(k.name, "userName"):
			dst = &user
		case strings.EqualFold(k.name, "password"):
			dst = &pass
		}
		// Children in no namespace are what a JAXB client without
		// elementFormDefault="qualified" sends under a namespaced root.
		if dst == nil || (b.xml && k.space != root.space && k.space != "") {
			return nil, unknownElement(k.name, "unknown element %q", k.name)
		}
		if *dst != nil {
			return nil, errs.Invalid(CodeDuplicateElement, k.name, "element %q appears more than once", k.name)
		}
		s, err := b.scalar(k, k.name)
		if err != nil {
			return nil, err
		}
		if err := xmlSafeText(s, k.name); err != nil { // as XML refuses it
			return nil, err
		}
		*dst = &s
	}
	if user == nil || *user == "" {
		return nil, errs.Invalid(CodeMissingElement, "userName", "userName is required")
	}
	if pass == nil || *pass == "" {
		return nil, errs.Invalid(CodeMissingElement, "password", "password is required")
	}
	return &Login{UserName: *user, Password: *pass}, nil
}
