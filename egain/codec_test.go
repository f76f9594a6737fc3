package egain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/contactcenter/profiled/errs"
)

const examplesDir = "../testdata/examples"

var exampleNames = []string{"egain-create-minimal", "egain-create-full"}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeXML(t *testing.T, body string) *Customer {
	t.Helper()
	c, err := DecodeCustomerXML(strings.NewReader(body), Limits{})
	if err != nil {
		t.Fatalf("DecodeCustomerXML: %v", err)
	}
	return c
}

// wantCode asserts err is a KindInvalid *errs.Error with the given code.
func wantCode(t *testing.T, err error, code string) *errs.Error {
	t.Helper()
	e := errs.As(err)
	if e == nil {
		t.Fatalf("got error %v, want *errs.Error with code %s", err, code)
	}
	if got, want := e.Code, code; got != want {
		t.Fatalf("got code %s (%v), want %s", got, err, want)
	}
	return e
}

func TestDecodeExamplesXMLEqualsJSON(t *testing.T) {
	for _, name := range exampleNames {
		t.Run(name, func(t *testing.T) {
			x, err := DecodeCustomerXML(bytes.NewReader(readExample(t, name+".xml")), Limits{})
			if err != nil {
				t.Fatalf("xml: %v", err)
			}
			j, err := DecodeCustomerJSON(bytes.NewReader(readExample(t, name+".json")), Limits{})
			if err != nil {
				t.Fatalf("json: %v", err)
			}
			if !reflect.DeepEqual(x, j) {
				t.Errorf("XML and JSON decode differently:\nxml:  %+v\njson: %+v", x, j)
			}
		})
	}
}

func TestDecodeFullExampleValues(t *testing.T) {
	c, err := DecodeCustomerXML(bytes.NewReader(readExample(t, "egain-create-full.xml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p := c.ContactPersons[0]
	tests := []struct {
		name      string
		got, want string
	}{
		{"department", str(c.Department.Name), "Service"},
		{"type", str(c.Type.Value), "individual"},
		{"level", str(c.Level.Value), "Premium"},
		{"custom attribute", str(c.CustomAttributes[0].AttribValues[0].Value), "English"},
		{"identification", str(p.Identification.Value), "AE0000005"},
		{"contactOrder", str(p.ContactOrder), "1984"},
		{"phone", str(p.ContactPoints[0].Type.Phone.PhoneNo), "234 3456"},
		{"availability", str(p.ContactPoints[0].Type.Phone.Availability.Times.Value), "mornings"},
		{"postal", str(p.ContactPoints[1].Type.Postal.Address1), "345"},
		{"email", str(p.ContactPoints[2].Type.Email.EmailAddress), "john.russel@customer.com"},
		{"point custom attribute", str(p.ContactPoints[2].CustomAttributes[0].AttribValues[0].Value), "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// decodeCollection reads back what EncodeCustomers wrote, using the same
// tree and binder as the request decoders.
func decodeCollection(t *testing.T, f Format, body []byte) []Customer {
	t.Helper()
	var (
		root *node
		err  error
	)
	if f == FormatJSON {
		root, err = parseJSONTree(body, DefaultLimits, "")
	} else {
		root, err = parseXMLTree(body, DefaultLimits)
	}
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	b := binder{xml: f == FormatXML}
	var out []Customer
	for _, k := range root.kids {
		if k.name != "customer" {
			continue
		}
		elems := []*node{k}
		if k.shape == shapeArray {
			elems = k.kids
		}
		for _, e := range elems {
			var c Customer
			if err := b.bindStruct(e, reflect.ValueOf(&c).Elem(), NSCustomer, ""); err != nil {
				t.Fatalf("bind: %v", err)
			}
			out = append(out, c)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	formats := []struct {
		name   string
		format Format
		ext    string
	}{{"xml", FormatXML, ".xml"}, {"json", FormatJSON, ".json"}}
	for _, name := range exampleNames {
		for _, f := range formats {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				sent, err := DecodeCustomer(f.format, "", bytes.NewReader(readExample(t, name+f.ext)), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := EncodeCustomers(f.format, &buf, "/system/ws/v12/interaction/customer/7", []Customer{*sent}); err != nil {
					t.Fatal(err)
				}
				got := decodeCollection(t, f.format, buf.Bytes())
				if len(got) != 1 {
					t.Fatalf("got %d customers, want 1", len(got))
				}
				if want := *sent; !reflect.DeepEqual(got[0], want) {
					t.Errorf("round trip changed the customer:\ngot  %+v\nwant %+v", got[0], want)
				}
			})
		}
	}
}

func TestEncodeCollectionShape(t *testing.T) {
	c := Customer{ID: Str("1012"), CustomerName: Str("Acme & Co"), Type: &CustomerType{Value: Str("corporate"), DisplayValue: Str("Corporate")},
		LastModified: &LastModified{Date: Str("2016-04-01T02:06:42.000Z")}}
	tests := []struct {
		name   string
		format Format
		want   []string
	}{
		{"xml", FormatXML, []string{
			`<customers xmlns="` + NSCustomer + `" xmlns:ns1="` + NSContactPerson + `"`,
			`<link rel="self" href="/system/ws/v12/interaction/customer?phone=1&amp;$pagesize=2"></link>`,
			`<customer id="1012"><link rel="self" href="/system/ws/v12/interaction/customer/1012"></link>`,
			`<cases><ns5:link rel="case" href="/system/ws/v12/interaction/case?customer=1012"></ns5:link></cases>`,
			`<customerName>Acme &amp; Co</customerName>`,
			`<type><value>corporate</value><displayValue>Corporate</displayValue></type>`,
			`<lastModified date="2016-04-01T02:06:42.000Z"></lastModified>`,
		}},
		{"json", FormatJSON, []string{
			`{"link":{"rel":"self","href":"/system/ws/v12/interaction/customer?phone=1&$pagesize=2"},"customer":[{"id":"1012",`,
			`"cases":{"link":{"rel":"case","href":"/system/ws/v12/interaction/case?customer=1012"}}`,
			`"customerName":"Acme & Co"`,
			`"lastModified":{"date":"2016-04-01T02:06:42.000Z"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeCustomers(tt.format, &buf, "/system/ws/v12/interaction/customer?phone=1&$pagesize=2", []Customer{c}); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %s\ngot %s", want, got)
				}
			}
		})
	}
}

func TestEncodeJSONEscapes(t *testing.T) {
	var buf bytes.Buffer
	c := Customer{CustomerName: Str("a\"b\\c\n\x01\u2028<>")}
	if err := EncodeCustomersJSON(&buf, "/", []Customer{c}); err != nil {
		t.Fatal(err)
	}
	// encoding/json reads it: the facade's own parser refuses \x01 on input.
	var got struct {
		Customer []struct{ CustomerName string }
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil || len(got.Customer) != 1 {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if want := *c.CustomerName; got.Customer[0].CustomerName != want {
		t.Errorf("got %q, want %q", got.Customer[0].CustomerName, want)
	}
}

// The vendor example body rewritten with other prefix layouts must decode to
// the same customer: only namespace URIs matter.
func TestDecodeXMLPrefixVariants(t *testing.T) {
	want := decodeXML(t, string(readExample(t, "egain-create-full.xml")))
	full := string(readExample(t, "egain-create-full.xml"))
	// Every customer element gets an explicit "c:" prefix.
	allPrefixed := strings.Replace(prefixUnqualified(full, "c"), `xmlns="`+NSCustomer+`"`, `xmlns:c="`+NSCustomer+`"`, 1)
	// The contact-person namespace becomes the default one.
	swapped := strings.ReplaceAll(prefixUnqualified(full, "cu"), "ns1:", "")
	swapped = strings.NewReplacer(
		`xmlns="`+NSCustomer+`"`, `xmlns:cu="`+NSCustomer+`"`,
		`xmlns:ns1="`+NSContactPerson+`"`, `xmlns="`+NSContactPerson+`"`,
	).Replace(swapped)
	redeclared := strings.NewReplacer(
		"<ns1:contactPerson>", `<x:contactPerson xmlns:x="`+NSContactPerson+`">`,
		"</ns1:contactPerson>", "</x:contactPerson>",
	).Replace(full)
	tests := []struct{ name, body string }{
		{"all prefixed", allPrefixed},
		{"default namespace is contactperson", swapped},
		{"renamed prefixes", strings.NewReplacer("ns1", "p", "ns3", "common", "ns4", "pt").Replace(full)},
		{"redeclared on child", redeclared},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCustomerXML(strings.NewReader(tt.body), Limits{})
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, tt.body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// prefixUnqualified gives every unprefixed element tag the prefix p.
func prefixUnqualified(body, p string) string {
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		b.WriteByte(body[i])
		if body[i] != '<' || i+1 >= len(body) {
			continue
		}
		rest := body[i+1:]
		slash := ""
		if strings.HasPrefix(rest, "/") {
			slash, rest = "/", rest[1:]
		}
		end := strings.IndexAny(rest, " >/")
		if end < 0 || strings.HasPrefix(rest, "?") || strings.Contains(rest[:end], ":") {
			continue
		}
		b.WriteString(slash + p + ":")
		i += len(slash)
	}
	return b.String()
}

// TestDecodeXMLSchemaInstance: the XML Schema instance attributes JAXB and
// .NET clients write are understood: xsi:nil="true" is an absent element,
// xsi:type, schema locations and xml:lang / xml:space are ignored.
func TestDecodeXMLSchemaInstance(t *testing.T) {
	full := string(readExample(t, "egain-create-full.xml"))
	want := decodeXML(t, full)
	const xsi = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`
	body := strings.Replace(full, `xmlns="`+NSCustomer+`"`, `xmlns="`+NSCustomer+`" `+xsi+
		` xsi:type="customer" xsi:schemaLocation="`+NSCustomer+` customer.xsd"`, 1)
	body = strings.Replace(body, "</customer>", `<preferredAgent xsi:nil="true"/></customer>`, 1)
	body = strings.Replace(body, "<pin>", `<pin xml:lang="en" xml:space="preserve">`, 1)
	if body == full || !strings.Contains(body, "xsi:nil") {
		t.Fatal("the example did not change: the test proves nothing")
	}
	got, err := DecodeCustomerXML(strings.NewReader(body), Limits{})
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// A surrogate's reference written as text (in CDATA or a comment) is
	// no reference: the body is well-formed.
	for _, literal := range []string{`<!-- &#xD800; --></customer>`, `<marketSegment><![CDATA[&#xD800;]]></marketSegment></customer>`} {
		text := strings.Replace(strings.Replace(full, "<marketSegment>Medical Products</marketSegment>", "", 1), "</customer>", literal, 1)
		if _, err := DecodeCustomerXML(strings.NewReader(text), Limits{}); err != nil {
			t.Errorf("%s: %v", literal, err)
		}
	}
}

func TestDecodeXMLRejects(t *testing.T) {
	const head = `<customer xmlns="` + NSCustomer + `" xmlns:co="` + NSCommon + `" xmlns:cp="` + NSContactPerson + `">`
	tests := []struct {
		name, body, code, field string
	}{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE customer [<!ENTITY x "boom">]>` + head + `<pin>&x;</pin></customer>`, CodeMalformedBody, ""},
		{"external entity", `<!DOCTYPE customer SYSTEM "file:///etc/passwd">` + head + `</customer>`, CodeMalformedBody, ""},
		{"undeclared entity", head + `<pin>&x;</pin></customer>`, CodeMalformedBody, ""},
		{"unknown element", head + `<nickname>x</nickname></customer>`, CodeUnknownElement, "nickname"},
		{"unknown nested element", head + `<contactPersons><cp:contactPerson><cp:nick>x</cp:nick></cp:contactPerson></contactPersons></customer>`, CodeUnknownElement, "contactPersons.contactPerson[0].nick"},
		{"wrong namespace", head + `<level><value>Premium</value></level></customer>`, CodeUnknownElement, "level.value"},
		{"person in customer namespace", head + `<contactPersons><contactPerson/></contactPersons></customer>`, CodeUnknownElement, "contactPersons.contactPerson"},
		{"unknown attribute", `<customer xmlns="` + NSCustomer + `" foo="1"></customer>`, CodeUnknownElement, "@foo"},
		{"attribute on scalar", head + `<pin x="1">1</pin></customer>`, CodeUnknownElement, "pin.@x"},
		{"child in scalar", head + `<pin><co:value>1</co:value></pin></customer>`, CodeUnknownElement, "pin.value"},
		{"text in object", head + `<level>Premium</level></customer>`, CodeInvalidValue, "level"},
		{"duplicate attribute", `<customer xmlns="` + NSCustomer + `" id="1" id="2"></customer>`, CodeDuplicateElement, "@id"},
		{"duplicate scalar", head + `<pin>1</pin><pin>2</pin></customer>`, CodeDuplicateElement, "pin"},
		{"wrong root", `<client xmlns="` + NSCustomer + `"/>`, CodeUnknownElement, "client"},
		{"root without namespace", `<customer/>`, CodeUnknownElement, "customer"},
		{"not well-formed", head + `<pin>1</pn></customer>`, CodeMalformedBody, ""},
		{"surrogate reference", head + `<pin>&#xD800;</pin></customer>`, CodeMalformedBody, ""},
		{"undeclared prefix", head + `<ns9:pin>1</ns9:pin></customer>`, CodeMalformedBody, ""},
		{"undeclared attribute prefix", head + `<pin ns9:x="1">1</pin></customer>`, CodeMalformedBody, ""},
		{"surrogate reference in decimal", head + `<pin>&#57343;</pin></customer>`, CodeMalformedBody, ""},
		{"two roots", head + `</customer>` + head + `</customer>`, CodeMalformedBody, ""},
		{"empty", "  ", CodeMalformedBody, ""},
		{"invalid UTF-8", head + "<pin>\xff\xfe</pin></customer>", CodeMalformedBody, ""},
		{"declaration of an encoding WHATWG lacks", `<?xml version="1.0" encoding="EBCDIC-cp-us"?>` + head + `</customer>`, CodeMalformedBody, ""},
		{"ASCII declaration over a high byte", `<?xml version="1.0" encoding="us-ascii"?>` + head + "<customerName>Zo\xeb</customerName></customer>", CodeMalformedBody, ""},
		{"xsi:nil with content", `<customer xmlns="` + NSCustomer + `" xmlns:co="` + NSCommon + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><level xsi:nil="true"><co:value>1</co:value></level></customer>`, CodeInvalidValue, "level"},
		{"xsi:nil list item", `<customer xmlns="` + NSCustomer + `" xmlns:cp="` + NSContactPerson + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><contactPersons><cp:contactPerson xsi:nil="true"/></contactPersons></customer>`, CodeInvalidValue, "contactPersons.contactPerson[0]"},
		{"xsi:nil root", `<customer xmlns="` + NSCustomer + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>`, CodeInvalidValue, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCustomerXML(strings.NewReader(tt.body), Limits{})
			e := wantCode(t, err, tt.code)
			if got, want := e.Field, tt.field; got != want {
				t.Errorf("got field %q, want %q", got, want)
			}
		})
	}
}

// TestDecodeXML_NotWellFormedSaysWhere: a parse error names the line and
// what the parser met there, for the client to find the fault.
func TestDecodeXML_NotWellFormedSaysWhere(t *testing.T) {
	body := "<customer xmlns=\"" + NSCustomer + "\">\n<pin>1</pn>\n</customer>"
	_, err := DecodeCustomerXML(strings.NewReader(body), Limits{})
	e := wantCode(t, err, CodeMalformedBody)
	if !strings.Contains(e.Message, "line 2") || !strings.Contains(e.Message, "pn") {
		t.Errorf("message %q does not say where and what", e.Message)
	}
}

// TestDecodeJSON_NotWellFormedSaysWhere: as for XML, a JSON syntax error
// says what and at which offset, a body cut short says so.
func TestDecodeJSON_NotWellFormedSaysWhere(t *testing.T) {
	for body, want := range map[string]string{
		`{"customer": {"level": tru}}`: "offset 23",
		`{"customer": {"level" 1}}`:    "offset 22",
		`{"customer": {"level": `:      "ends inside a value",
	} {
		_, err := DecodeCustomerJSON(strings.NewReader(body), Limits{})
		if e := wantCode(t, err, CodeMalformedBody); !strings.Contains(e.Message, want) {
			t.Errorf("%s: message %q, want it to say %q", body, e.Message, want)
		}
	}
}

// TestDecodeXML_DeclaredEncodingNamed: a body declaring an encoding the
// WHATWG Encoding standard does not know is refused saying so, not as XML
// that is not well-formed.
func TestDecodeXML_DeclaredEncodingNamed(t *testing.T) {
	_, err := DecodeCustomerXML(strings.NewReader(`<?xml version="1.0" encoding="EBCDIC-cp-us"?><customer xmlns="`+NSCustomer+`"/>`), Limits{})
	e := wantCode(t, err, CodeMalformedBody)
	if !strings.Contains(e.Message, `"EBCDIC-cp-us"`) || !strings.Contains(e.Message, "UTF-8") {
		t.Errorf("message %q does not name the encoding and UTF-8", e.Message)
	}
}

// TestDecodeXML_Charsets: XML in another charset than UTF-8 is read in it:
// the one Content-Type names first (Apache HttpClient labels a body
// ISO-8859-1 unless told otherwise, whatever its declaration says), else a
// byte order mark's (.NET's UTF-16), else the XML declaration's (Python's
// tostring(encoding='us-ascii')). Labels are WHATWG's: ISO-8859-1 is read
// as windows-1252, as browsers do.
func TestDecodeXML_Charsets(t *testing.T) {
	const open = `<customer xmlns="` + NSCustomer + `"><customerName>`
	const closing = `</customerName></customer>`
	inUTF16 := func(order binary.AppendByteOrder, bom bool, s string) string {
		var b []byte
		if bom {
			b = order.AppendUint16(b, 0xFEFF)
		}
		for _, u := range utf16.Encode([]rune(s)) {
			b = order.AppendUint16(b, u)
		}
		return string(b)
	}
	tests := []struct {
		name, charset, body, want string
	}{
		{"Latin-1 by Content-Type", "ISO-8859-1", open + "Jos\xe9" + closing, "José"},
		{"Content-Type before the declaration", "ISO-8859-1", `<?xml version="1.0" encoding="UTF-8"?>` + open + "Jos\xe9" + closing, "José"},
		{"UTF-8 by Content-Type over a Latin-1 declaration", "utf-8", `<?xml version="1.0" encoding="ISO-8859-1"?>` + open + "José" + closing, "José"},
		{"Latin-1 read as windows-1252", "iso-8859-1", open + "\x80 5" + closing, "€ 5"},
		{"Latin-1 by declaration", "", `<?xml version="1.0" encoding="ISO-8859-1"?>` + open + "Jos\xe9" + closing, "José"},
		{"ASCII by declaration", "", `<?xml version='1.0' encoding='us-ascii'?>` + "\n" + open + "Jos&#233;" + closing, "José"},
		{"ASCII by Content-Type", "US-ASCII", open + "Jos&#233;" + closing, "José"},
		{"Shift_JIS by declaration", "", `<?xml version="1.0" encoding="Shift_JIS"?>` + open + "\x93\x8c\x8b\x9e" + closing, "東京"},
		{"UTF-16LE with BOM", "", inUTF16(binary.LittleEndian, true, `<?xml version="1.0" encoding="utf-16"?>`+open+"José 😀"+closing), "José 😀"},
		{"UTF-16BE with BOM", "", inUTF16(binary.BigEndian, true, open+"José"+closing), "José"},
		{"UTF-16 by Content-Type with BOM", "utf-16", inUTF16(binary.LittleEndian, true, open+"José"+closing), "José"},
		{"BOM before Content-Type", "ISO-8859-1", inUTF16(binary.BigEndian, true, open+"José"+closing), "José"},
		{"UTF-16LE by Content-Type without BOM", "utf-16le", inUTF16(binary.LittleEndian, false, open+"José"+closing), "José"},
		{"UTF-8 BOM before Content-Type", "ISO-8859-1", "\ufeff" + open + "José" + closing, "José"},
		{"U+FFFD that gb18030 writes", "gb18030", open + "a\x84\x31\xa4\x37" + closing, "a\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCustomer(FormatXML, tt.charset, strings.NewReader(tt.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := str(c.CustomerName); got != tt.want {
				t.Errorf("customerName = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecodeXML_CharsetRefusals: bytes that mean nothing in the charset
// the body is read in are refused (x/text would write U+FFFD for them);
// so is a charset not known, and JSON in anything but UTF-8.
func TestDecodeXML_CharsetRefusals(t *testing.T) {
	const open = `<customer xmlns="` + NSCustomer + `"><customerName>`
	const closing = `</customerName></customer>`
	le := func(units ...uint16) string {
		b := binary.LittleEndian.AppendUint16(nil, 0xFEFF)
		for _, r := range open {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
		for _, u := range units {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		format  Format
		charset string
		body    string
		code    string
	}{
		{"ASCII declaration over a high byte", FormatXML, "", `<?xml version='1.0' encoding='us-ascii'?>` + open + "Jos\xe9" + closing, CodeMalformedBody},
		{"ASCII Content-Type over a high byte", FormatXML, "us-ascii", open + "Jos\xe9" + closing, CodeMalformedBody},
		{"Shift_JIS lead byte without trail", FormatXML, "Shift_JIS", open + "\x93" + closing, CodeMalformedBody},
		{"windows-874 undefined byte", FormatXML, "windows-874", open + "\xdb" + closing, CodeMalformedBody},
		// The bytes of gb18030's U+FFFD are in the body, but not as one
		// character: 0x81 0x84 is 亜, and 0xA4 0x37 means nothing.
		{"gb18030 bad bytes over U+FFFD's bytes", FormatXML, "gb18030", open + "\x81\x84\x31\xa4\x37" + closing, CodeMalformedBody},
		{"UTF-16 unpaired surrogate", FormatXML, "", le(0xD800, 'a'), CodeMalformedBody},
		{"UTF-16 odd length", FormatXML, "", le('a') + "\x00", CodeMalformedBody},
		{"unknown declaration", FormatXML, "", `<?xml version="1.0" encoding="x-unknown-cs"?>` + open + "a" + closing, CodeMalformedBody},
		{"unknown Content-Type charset", FormatXML, "EBCDIC-cp-us", open + "a" + closing, CodeUnsupportedMediaType},
		{"JSON in UTF-16 cut in a character", FormatJSON, "", "\xff\xfe{\x00}", CodeMalformedBody},
		{"JSON with a high byte labelled US-ASCII", FormatJSON, "us-ascii", `{"customerName":"Jos` + "\xe9" + `"}`, CodeMalformedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCustomer(tt.format, tt.charset, strings.NewReader(tt.body), Limits{})
			wantCode(t, err, tt.code)
		})
	}
}

// TestDecodeXML_UTF8Labels: a declaration naming UTF-8 by another label
// ("utf8", which some clients write as they write it in Content-Type) is
// UTF-8.
func TestDecodeXML_UTF8Labels(t *testing.T) {
	for _, label := range []string{"utf8", "UTF8", "unicode-1-1-utf-8"} {
		c, err := DecodeCustomerXML(strings.NewReader(`<?xml version="1.0" encoding="`+label+`"?><customer xmlns="`+NSCustomer+`"><customerName>Zoë</customerName></customer>`), Limits{})
		if err != nil || c == nil {
			t.Errorf("encoding %q: %v", label, err)
		}
	}
}

// TestDecodeXML_DotNetUTF16Declaration: .NET's XmlSerializer writing to a
// string declares utf-16, and the client sends that string as UTF-8: read
// as the UTF-8 it is. (A body that is UTF-16 says so with a byte order
// mark or its Content-Type, TestDecodeXML_Charsets.)
func TestDecodeXML_DotNetUTF16Declaration(t *testing.T) {
	body := `<?xml version="1.0" encoding="utf-16"?><customer xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="` + NSCustomer + `"><customerName>Zoë</customerName></customer>`
	c, err := DecodeCustomerXML(strings.NewReader(body), Limits{})
	if err != nil || c == nil || str(c.CustomerName) != "Zoë" {
		t.Fatalf("a utf-16 declaration over UTF-8 bytes: %+v, %v", c, err)
	}
}

func TestDecodeLimits(t *testing.T) {
	deepXML := `<customer xmlns="` + NSCustomer + `">` + strings.Repeat("<type>", 40) + strings.Repeat("</type>", 40) + `</customer>`
	manyXML := `<customer xmlns="` + NSCustomer + `"><customAttributes>` + strings.Repeat(`<x/>`, 200) + `</customAttributes></customer>`
	deepJSON := strings.Repeat(`{"type":`, 40) + `{}` + strings.Repeat(`}`, 40)
	manyJSON := `{"customAttributes":{"customAttribute":[` + strings.Repeat(`{},`, 200) + `{}]}}`
	small := Limits{MaxDepth: 32, MaxElements: 100}
	tests := []struct {
		name   string
		format Format
		body   string
		lim    Limits
		kind   errs.Kind
		code   string
	}{
		{"xml depth", FormatXML, deepXML, Limits{}, errs.KindInvalid, CodeLimitExceeded},
		{"xml element count", FormatXML, manyXML, small, errs.KindInvalid, CodeLimitExceeded},
		{"json depth", FormatJSON, deepJSON, Limits{}, errs.KindInvalid, CodeLimitExceeded},
		{"json value count", FormatJSON, manyJSON, small, errs.KindInvalid, CodeLimitExceeded},
		{"xml bytes", FormatXML, deepXML, Limits{MaxBytes: 64}, errs.KindTooLarge, CodeBodyTooLarge},
		{"json bytes", FormatJSON, manyJSON, Limits{MaxBytes: 64}, errs.KindTooLarge, CodeBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCustomer(tt.format, "", strings.NewReader(tt.body), tt.lim)
			e := wantCode(t, err, tt.code)
			if got, want := e.Kind, tt.kind; got != want {
				t.Errorf("got kind %v, want %v", got, want)
			}
		})
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	tests := []struct {
		name, body, code, field string
	}{
		{"unknown property", `{"nickname":"x"}`, CodeUnknownElement, "nickname"},
		{"unknown nested property", `{"contactPersons":{"contactPerson":[{"firstName":"a","nick":"b"}]}}`, CodeUnknownElement, "contactPersons.contactPerson[0].nick"},
		{"unknown list item", `{"contactPersons":{"person":[]}}`, CodeUnknownElement, "contactPersons.person"},
		{"scalar for object", `{"type":"individual"}`, CodeInvalidValue, "type"},
		{"object for scalar", `{"pin":{"value":"1"}}`, CodeInvalidValue, "pin"},
		{"array for scalar", `{"pin":["1"]}`, CodeInvalidValue, "pin"},
		{"array for object", `{"department":[{"name":"x"}]}`, CodeInvalidValue, "department"},
		{"scalar list item", `{"contactPersons":{"contactPerson":["a"]}}`, CodeInvalidValue, "contactPersons.contactPerson[0]"},
		{"duplicate property", `{"pin":"1","pin":"2"}`, CodeDuplicateElement, "pin"},
		{"root not object", `["a"]`, CodeInvalidValue, ""},
		{"malformed", `{"pin":`, CodeMalformedBody, ""},
		{"trailing data", `{} {}`, CodeMalformedBody, ""},
		{"invalid UTF-8", "{\"pin\":\"\xff\"}", CodeMalformedBody, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCustomerJSON(strings.NewReader(tt.body), Limits{})
			e := wantCode(t, err, tt.code)
			if got, want := e.Field, tt.field; got != want {
				t.Errorf("got field %q, want %q", got, want)
			}
		})
	}
}

func TestDecodeJSONSloppyScalars(t *testing.T) {
	body := `{"id": 1000, "pin": 121, "contactPersons": {"contactPerson": {"firstName": "A", "isSmoker": true, "dependents": 4.0, "lastName": null}}}`
	c, err := DecodeCustomerJSON(strings.NewReader(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p := c.ContactPersons[0]
	tests := []struct {
		name string
		got  *string
		want string
	}{
		{"number id", c.ID, "1000"},
		{"number pin", c.Pin, "121"},
		{"boolean", p.IsSmoker, "true"},
		{"number as written", p.Dependents, "4.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == nil || *tt.got != tt.want {
				t.Errorf("got %v, want %q", tt.got, tt.want)
			}
		})
	}
	t.Run("null is absent", func(t *testing.T) {
		if p.LastName != nil {
			t.Errorf("got %q, want nil", *p.LastName)
		}
	})
}

func TestEmptyElementIsPresent(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		body   string
	}{
		{"xml", FormatXML, `<customer xmlns="` + NSCustomer + `" id="5"><entitlements></entitlements><level/></customer>`},
		{"json", FormatJSON, `{"id":"5","entitlements":"","level":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCustomer(tt.format, "", strings.NewReader(tt.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Entitlements == nil || *c.Entitlements != "" {
				t.Errorf("got entitlements %v, want present and empty", c.Entitlements)
			}
			if c.Level == nil || c.Level.Value != nil {
				t.Errorf("got level %+v, want present without value", c.Level)
			}
			if c.Pin != nil {
				t.Errorf("got pin %q, want absent", *c.Pin)
			}
		})
	}
}

func TestDecodeLogin(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		body   string
		want   Login
		code   string
	}{
		{"xml", FormatXML, `<login xmlns="` + NSPlatform + `"><userName>agent1</userName><password>secret</password></login>`, Login{"agent1", "secret"}, ""},
		{"xml lower-case username", FormatXML, `<p:login xmlns:p="` + NSPlatform + `"><p:username>agent1</p:username><p:password>s</p:password></p:login>`, Login{"agent1", "s"}, ""},
		{"xml of JAXB with unqualified children", FormatXML, `<ns2:login xmlns:ns2="` + NSPlatform + `"><userName>a</userName><password>s</password></ns2:login>`, Login{"a", "s"}, ""},
		{"xml without namespace", FormatXML, `<login><USERNAME>a</USERNAME><password>s</password></login>`, Login{"a", "s"}, ""},
		{"json", FormatJSON, `{"userName":"agent1","password":"secret"}`, Login{"agent1", "secret"}, ""},
		{"json username", FormatJSON, `{"username":"agent1","password":"secret"}`, Login{"agent1", "secret"}, ""},
		{"xml child in other namespace", FormatXML, `<login xmlns="` + NSPlatform + `"><userName xmlns="x">a</userName><password>s</password></login>`, Login{}, CodeUnknownElement},
		{"xml wrong root", FormatXML, `<logon xmlns="` + NSPlatform + `"/>`, Login{}, CodeUnknownElement},
		{"missing password", FormatJSON, `{"userName":"a"}`, Login{}, CodeMissingElement},
		{"empty user", FormatXML, `<login xmlns="` + NSPlatform + `"><userName/><password>s</password></login>`, Login{}, CodeMissingElement},
		{"duplicate in two cases", FormatJSON, `{"userName":"a","username":"b","password":"s"}`, Login{}, CodeDuplicateElement},
		{"unknown property", FormatJSON, `{"userName":"a","password":"s","domain":"x"}`, Login{}, CodeUnknownElement},
		{"object password", FormatJSON, `{"userName":"a","password":{}}`, Login{}, CodeInvalidValue},
		{"doctype", FormatXML, `<!DOCTYPE login><login/>`, Login{}, CodeMalformedBody},
		// As the XML parser refuses them.
		{"json control character", FormatJSON, `{"userName":"agent\u0001","password":"s"}`, Login{}, CodeInvalidValue},
		{"json control character in password", FormatJSON, `{"userName":"a","password":"\u001b"}`, Login{}, CodeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLogin(tt.format, "", strings.NewReader(tt.body), Limits{})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	ws := WSError{Status: 401, Code: "401-101", DeveloperMessage: "Invalid or expired 'X-egain-session' header provided. New login is required."}
	tests := []struct {
		name   string
		format Format
		want   string
	}{
		{"xml", FormatXML, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error xmlns="` + NSCommon + `"><code>401-101</code><developerMessage>Invalid or expired &#39;X-egain-session&#39; header provided. New login is required.</developerMessage></error>`},
		{"json", FormatJSON, `{"code":"401-101","developerMessage":"Invalid or expired 'X-egain-session' header provided. New login is required."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteError(&buf, tt.format, ws); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestDecodeBOM: .NET and Windows clients start UTF-8 bodies with a BOM.
func TestDecodeBOM(t *testing.T) {
	const bom = "\ufeff"
	tests := []struct {
		name   string
		format Format
		body   string
		login  bool
	}{
		{"XML with declaration", FormatXML, string(readExample(t, "egain-create-full.xml")), false},
		{"XML without declaration", FormatXML, string(readExample(t, "egain-create-minimal.xml")), false},
		{"JSON", FormatJSON, string(readExample(t, "egain-create-minimal.json")), false},
		{"login XML", FormatXML, `<login xmlns="` + NSPlatform + `"><userName>a</userName><password>b</password></login>`, true},
		{"login JSON", FormatJSON, `{"userName":"a","password":"b"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.login {
				_, err = DecodeLogin(tt.format, "", strings.NewReader(bom+tt.body), Limits{})
			} else {
				_, err = DecodeCustomer(tt.format, "", strings.NewReader(bom+tt.body), Limits{})
			}
			if err != nil {
				t.Errorf("with a BOM: %v", err)
			}
		})
	}
}
