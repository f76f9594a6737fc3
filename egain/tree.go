package egain

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/internal/textenc"
)

// Limits bound what a request body may cost to decode. Zero fields take the
// DefaultLimits value.
type Limits struct {
	MaxBytes    int64 // body size; over it the error is errs.KindTooLarge
	MaxDepth    int   // element (XML) or object/array (JSON) nesting
	MaxElements int   // elements (XML) or values (JSON) in the whole body
}

// DefaultLimits are generous for a customer (the full vendor example has
// depth 9 and about 130 elements) yet cheap to reject.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32, MaxElements: 10000}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	return l
}

// shape records how a node looked on the wire; binding rules differ per shape.
type shape uint8

const (
	shapeElement shape = iota // an XML element
	shapeObject               // a JSON object
	shapeArray                // a JSON array; kids are its elements, named like it
	shapeScalar               // a JSON string, number or boolean
	shapeNull                 // JSON null
)

// node is the format-neutral parse tree both decoders produce and one binder
// consumes, so XML and JSON share every structural rule.
type node struct {
	space, name string
	shape       shape
	attrs       []xml.Attr // XML only, namespace declarations removed
	kids        []*node
	text        []byte // XML character data, or a JSON scalar's text
}

func malformed(format string, args ...any) *errs.Error {
	return errs.E(errs.KindInvalid, CodeMalformedBody, format, args...)
}

func limitExceeded(field, format string, args ...any) *errs.Error {
	return errs.Invalid(CodeLimitExceeded, field, format, args...)
}

// utf8BOM is the byte order mark some clients (.NET's default UTF-8
// encoder, Windows tools) put before UTF-8 bodies; XML and Java JSON
// parsers skip it, encoding/xml and encoding/json do not.
var utf8BOM = []byte("\ufeff")

// readBody reads the whole body under lim.MaxBytes. Bodies are small, and
// holding them lets the encoding checks run before any parser sees the
// bytes (encoding/json would otherwise silently replace bad bytes with
// U+FFFD).
func readBody(r io.Reader, lim Limits) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errs.E(errs.KindTooLarge, CodeBodyTooLarge, "request body is too large")
		}
		return nil, &errs.Error{Kind: errs.KindInvalid, Code: CodeMalformedBody, Message: "request body could not be read", Err: err}
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, errs.E(errs.KindTooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", lim.MaxBytes)
	}
	return data, nil
}

// utf8Body is data, a body that must be UTF-8, without a leading BOM.
func utf8Body(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, malformed("request body is empty")
	}
	if !utf8.Valid(data) {
		return nil, malformed("request body is not valid UTF-8")
	}
	return data, nil
}

// xmlInUTF8 is an XML body turned into UTF-8 from the encoding that, first
// to say, its byte order mark, charset (the Content-Type's, "" if none) or
// its XML declaration names, UTF-8 when none does: RFC 7303 and the WHATWG
// Encoding standard put them in that order. The parser then checks no
// declaration against it, as the document is UTF-8 by then. A byte that
// means nothing in that encoding is 400, as one that is not UTF-8 is.
func xmlInUTF8(data []byte, charset string) ([]byte, error) {
	label, by := charset, "its Content-Type names"
	bomEnc, bomLabel, rest := textenc.UTF16BOM(data)
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		return utf8Body(data)
	case bomEnc != nil:
		label, by, data = bomLabel, "its byte order mark says", rest
	case charset != "":
		if textenc.Lookup(charset) == nil { // RequestFormat refused it already
			return nil, errs.Invalid(CodeUnsupportedMediaType, "Content-Type", "charset %q is not supported", charset)
		}
	default:
		label, by = declaredEncoding(data), "its XML declaration names"
		if label == "" {
			return utf8Body(data)
		}
		enc := textenc.Lookup(label)
		if enc == nil {
			return nil, malformed("the XML declaration names encoding %q, which is not read here: send UTF-8, or another charset of the WHATWG Encoding standard", label)
		}
		// .NET's XmlSerializer writing to a string declares utf-16, and
		// the client sends the string as UTF-8: encoding/xml read the
		// declaration as bytes of ASCII, which real UTF-16 is not.
		if textenc.IsUTF16(enc) {
			return utf8Body(data)
		}
	}
	enc := textenc.Lookup(label)
	if textenc.IsUTF8(enc) {
		return utf8Body(data)
	}
	text, ok := textenc.Decode(enc, data)
	if !ok {
		return nil, malformed("request body is not valid %s, the encoding %s", label, by)
	}
	return utf8Body(text)
}

// declaredEncoding is the encoding an XML declaration at the start of data
// names, "" if there is none or it names UTF-8: encoding/xml reads the
// declaration and hands the label to CharsetReader.
func declaredEncoding(data []byte) string {
	data = bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	var label string
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(declared string, _ io.Reader) (io.Reader, error) {
		label = declared
		return nil, errors.New("read no further")
	}
	_, _ = d.RawToken()
	return label
}

// notWellFormed is the error of a parse that failed: where and why, as
// encoding/xml says it (the line and what it met there, the client's own
// text), so the client can find the fault in what it sent.
func notWellFormed(err error) *errs.Error {
	e := &errs.Error{Kind: errs.KindInvalid, Code: CodeMalformedBody, Message: "request body is not well-formed XML", Err: err}
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		e.Message += fmt.Sprintf(": line %d: %s", syntax.Line, syntax.Msg)
	}
	return e
}

// parseXMLTree parses one XML document in UTF-8 into a node tree, resolving
// namespaces and refusing DTDs (and with them every entity trick).
func parseXMLTree(data []byte, lim Limits) (*node, error) {
	if ref := surrogateReference(data); ref != "" {
		return nil, malformed("request body is not well-formed XML: %s refers to no character", ref)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true // unknown entities and mismatched tags are errors
	// xmlInUTF8 made the document UTF-8, whatever its declaration says.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var (
		root  *node
		stack []*node
		count int
		scope namespaces
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, notWellFormed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			scope.enter(t)
			if prefix := scope.undeclared(t); prefix != "" {
				return nil, malformed("request body is not well-formed XML: the namespace prefix %q is not declared", prefix)
			}
			if root != nil && len(stack) == 0 {
				return nil, malformed("XML body has more than one root element")
			}
			if count++; count > lim.MaxElements {
				return nil, limitExceeded(t.Name.Local, "XML body has more than %d elements", lim.MaxElements)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, limitExceeded(t.Name.Local, "XML body is nested deeper than %d levels", lim.MaxDepth)
			}
			attrs, isNil := plainAttrs(t.Attr)
			n := &node{space: t.Name.Space, name: t.Name.Local, attrs: attrs}
			if isNil {
				n.shape = shapeNull // as JSON null: absent
			}
			if len(stack) == 0 {
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			scope.leave()
			if n := stack[len(stack)-1]; n.shape == shapeNull && (len(n.kids) > 0 || len(bytes.TrimSpace(n.text)) > 0) {
				var path string
				for _, up := range stack[1:] {
					path = joinPath(path, up.name)
				}
				return nil, errs.Invalid(CodeInvalidValue, path, "%s has xsi:nil=\"true\" and content", elementPhrase(path))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, malformed("XML body has text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1]
			top.text = append(top.text, t...)
		case xml.Directive:
			return nil, malformed("DOCTYPE and ENTITY declarations are not allowed")
		}
	}
	if root == nil {
		return nil, malformed("XML body has no root element")
	}
	return root, nil
}

// surrogateReference returns the first character reference in data to a
// UTF-16 surrogate (&#xD800; to &#xDFFF;), "" if none. XML allows no such
// character, and encoding/xml reads one as U+FFFD, so a body that is not
// well-formed would be stored with that character in its place.
func surrogateReference(data []byte) string {
	for rest := data; ; {
		i := bytes.IndexAny(rest, "&<")
		if i < 0 {
			return ""
		}
		rest = rest[i:]
		// Character data of CDATA sections and comments holds no references.
		if skip := literalSpan(rest); skip > 0 {
			rest = rest[skip:]
			continue
		}
		if !bytes.HasPrefix(rest, []byte("&#")) {
			rest = rest[1:]
			continue
		}
		rest = rest[2:]
		end := bytes.IndexByte(rest, ';')
		if end < 0 {
			return ""
		}
		digits, base := rest[:end], 10
		if len(digits) > 0 && digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		if n, err := strconv.ParseUint(string(digits), base, 32); err == nil && n >= 0xD800 && n <= 0xDFFF {
			return "&#" + string(rest[:end]) + ";"
		}
	}
}

// literalSpan is the length of the CDATA section or comment b starts with
// (all of b when it is not closed), 0 when it starts with neither.
func literalSpan(b []byte) int {
	for _, span := range [][2]string{{"<![CDATA[", "]]>"}, {"<!--", "-->"}} {
		if bytes.HasPrefix(b, []byte(span[0])) {
			if end := bytes.Index(b[len(span[0]):], []byte(span[1])); end >= 0 {
				return len(span[0]) + end + len(span[1])
			}
			return len(b)
		}
	}
	return 0
}

// xsiNamespace is XML Schema instance's: JAXB and .NET clients put
// xsi:nil, xsi:type and schema locations on elements.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// namespaces are the namespace names declared where the decoder is, to
// tell a prefix nobody declared: encoding/xml leaves such a prefix where
// the namespace name goes, and the body is not well-formed.
type namespaces struct {
	declared map[string]int // namespace name → declarations of it in scope
	frames   [][]string     // per open element, the names it declared
}

func (n *namespaces) enter(e xml.StartElement) {
	if n.declared == nil {
		n.declared = map[string]int{xmlNamespace: 1} // bound without a declaration
	}
	var names []string
	for _, a := range e.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			names = append(names, a.Value)
			n.declared[a.Value]++
		}
	}
	n.frames = append(n.frames, names)
}

func (n *namespaces) leave() {
	for _, name := range n.frames[len(n.frames)-1] {
		n.declared[name]--
	}
	n.frames = n.frames[:len(n.frames)-1]
}

// undeclared returns the prefix of e's name or of an attribute's that no
// declaration in scope binds, "" if none.
func (n *namespaces) undeclared(e xml.StartElement) string {
	if s := e.Name.Space; s != "" && n.declared[s] == 0 {
		return s
	}
	for _, a := range e.Attr {
		if s := a.Name.Space; s != "" && s != "xmlns" && n.declared[s] == 0 {
			return s
		}
	}
	return ""
}

// xmlNamespace is the one the xml: prefix is bound to (xml:lang,
// xml:space), which some JAXB and .NET clients write.
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// plainAttrs drops namespace declarations, which Token has already applied,
// the xml: attributes and the XML Schema instance attributes, reporting
// xsi:nil="true" (the element is null, as a JSON null is).
func plainAttrs(attrs []xml.Attr) (out []xml.Attr, isNil bool) {
	for _, a := range attrs {
		switch {
		case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"), a.Name.Space == xmlNamespace:
		case a.Name.Space == xsiNamespace:
			isNil = isNil || (a.Name.Local == "nil" && (a.Value == "true" || a.Value == "1"))
		default:
			out = append(out, a)
		}
	}
	return out, isNil
}

// jsonParser builds a node tree from json.Decoder tokens, which lets it see
// duplicate keys and enforce the limits that json.Unmarshal cannot.
type jsonParser struct {
	dec   *json.Decoder
	lim   Limits
	count int
}

func parseJSONTree(data []byte, lim Limits, rootName string) (*node, error) {
	if err := jsonw.CheckInput(data); err != nil {
		if errors.Is(err, jsonw.ErrNumber) {
			return nil, errs.Invalid(CodeInvalidValue, "", "JSON body holds a value that is refused: %v", err)
		}
		return nil, malformed("JSON body holds a value that is refused: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep numbers as written: "0121"-style values arrive as strings anyway
	p := &jsonParser{dec: dec, lim: lim}
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	root, err := p.value(tok, rootName, "", 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("JSON body has data after the top-level value")
	}
	return root, nil
}

// notXMLChar reports a control character XML 1.0 cannot carry (it allows
// tab, line feed and carriage return). A JSON value holding one is refused
// by validation (xmlSafe) as the XML decoder refuses it, so what one format
// stores the other can show and take back unchanged.
func notXMLChar(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF
}

func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		e := &errs.Error{Kind: errs.KindInvalid, Code: CodeMalformedBody, Message: "request body is not well-formed JSON", Err: err}
		// What and where, as for XML (notWellFormed).
		var syntax *json.SyntaxError
		switch {
		case errors.As(err, &syntax):
			// The decoder's Offset counts from the value it was in for a
			// bad literal; InputOffset is then where that value began.
			e.Message += fmt.Sprintf(": %s at offset %d", syntax, max(syntax.Offset, p.dec.InputOffset()))
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			e.Message += ": the body ends inside a value"
		}
		return nil, e
	}
	return tok, nil
}

func (p *jsonParser) value(tok json.Token, name, path string, depth int) (*node, error) {
	if p.count++; p.count > p.lim.MaxElements {
		return nil, limitExceeded(path, "JSON body has more than %d values", p.lim.MaxElements)
	}
	n := &node{name: name}
	switch t := tok.(type) {
	case json.Delim:
		if depth > p.lim.MaxDepth {
			return nil, limitExceeded(path, "JSON body is nested deeper than %d levels", p.lim.MaxDepth)
		}
		if t == '{' {
			return n, p.object(n, path, depth)
		}
		return n, p.array(n, path, depth) // Token never yields a closing delimiter here
	case string:
		n.shape, n.text = shapeScalar, []byte(t)
	case json.Number:
		n.shape, n.text = shapeScalar, []byte(t.String())
	case bool:
		n.shape, n.text = shapeScalar, []byte(strconv.FormatBool(t))
	default: // nil
		n.shape = shapeNull
	}
	return n, nil
}

func (p *jsonParser) object(n *node, path string, depth int) error {
	n.shape = shapeObject
	seen := map[string]bool{}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return err
		}
		key := tok.(string) // the decoder only yields string keys inside an object
		kidPath := joinPath(path, key)
		if seen[key] {
			return errs.Invalid(CodeDuplicateElement, kidPath, "property %q appears more than once", kidPath)
		}
		seen[key] = true
		if tok, err = p.token(); err != nil {
			return err
		}
		kid, err := p.value(tok, key, kidPath, depth+1)
		if err != nil {
			return err
		}
		n.kids = append(n.kids, kid)
	}
	_, err := p.token()
	return err
}

func (p *jsonParser) array(n *node, path string, depth int) error {
	n.shape = shapeArray
	for i := 0; p.dec.More(); i++ {
		tok, err := p.token()
		if err != nil {
			return err
		}
		kid, err := p.value(tok, n.name, indexPath(path, i), depth+1)
		if err != nil {
			return err
		}
		n.kids = append(n.kids, kid)
	}
	_, err := p.token()
	return err
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
