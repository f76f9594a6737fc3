package jsonw

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse decodes one JSON value as encoding/json with UseNumber would into
// an any: objects as map[string]any, arrays as []any, numbers as
// json.Number. It exists for the store's read path, where reflection-based
// decoding dominated the cost of a profile read. Trailing data is an error.
func Parse(data []byte) (any, error) { return parse(parser{data: data}) }

// ErrTrailing marks a value followed by more than white space.
var ErrTrailing = errors.New("data after the value")

// ErrDuplicate marks an object that names a member twice.
var ErrDuplicate = errors.New("a member name appears twice in one object")

// ParseUnique is Parse for client input: an object naming a member twice
// (exactly: {"a":1,"a":2}) is ErrDuplicate, where encoding/json lets the
// last one win silently.
func ParseUnique(data []byte) (any, error) { return parse(parser{data: data, unique: true}) }

func parse(p parser) (any, error) {
	v, err := p.value(0)
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// end refuses anything but white space after the value.
func (p *parser) end() error {
	p.space()
	if p.pos != len(p.data) {
		return fmt.Errorf("%w: %w at offset %d", ErrSyntax, ErrTrailing, p.pos)
	}
	return nil
}

// maxDepth bounds nesting like encoding/json does.
const maxDepth = 10000

type parser struct {
	data    []byte
	pos     int
	unique  bool // ParseUnique
	changed bool // skip met a string Parse would change
}

// ErrSyntax marks text that is not JSON; the message says what and where.
var ErrSyntax = errors.New("invalid JSON")

func (p *parser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, p.pos)
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.fail("nesting too deep")
	}
	p.space()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.fail("unexpected character")
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.fail("invalid literal")
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object(depth int) (map[string]any, error) {
	m := map[string]any{}
	err := p.members(p.key, func(key string) error {
		v, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		if _, dup := m[key]; dup && p.unique {
			return fmt.Errorf("%w: %q", ErrDuplicate, key)
		}
		m[key] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (p *parser) array(depth int) ([]any, error) {
	list := []any{}
	err := p.elements(func() error {
		v, err := p.value(depth + 1)
		list = append(list, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// members walks the object at p.pos: for each member it reads the name
// with name and calls value, which reads the value. Parse, the raw member
// split and the syntax check share it.
func (p *parser) members(name func() (string, error), value func(name string) error) error {
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail("expected a member name")
		}
		key, err := name()
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.fail("expected ':'")
		}
		p.pos++
		if err := value(key); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

// elements walks the array at p.pos, calling value for each element.
func (p *parser) elements(value func() error) error {
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		if err := value(); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.fail("expected ',' or ']'")
		}
	}
}

func (p *parser) number() (json.Number, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 || (p.data[intStart] == '0' && p.pos-intStart > 1) {
		return "", p.fail("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return "", p.fail("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return "", p.fail("invalid number")
		}
	}
	return json.Number(p.data[start:p.pos]), nil
}

// string reads a JSON string; invalid UTF-8 becomes U+FFFD as in encoding/json.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes, valid ASCII or UTF-8.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			if utf8.Valid(s) {
				return string(s), nil
			}
			p.pos = start
			return p.slowString()
		}
		if c == '\\' || c < 0x20 {
			p.pos = start
			return p.slowString()
		}
		p.pos++
	}
	return "", p.fail("unterminated string")
}

// key reads a member name. Names repeat from object to object (schema
// attribute and field names), so plain ones come from names, a small
// table of names met before, instead of a new string each: parsing the
// example profile went from 73 allocations to 52 and 4.1 to 3.8 µs
// (BenchmarkParse).
func (p *parser) key() (string, error) {
	start := p.pos + 1
	end := start
	for end < len(p.data) && end-start <= maxInterned {
		switch c := p.data[end]; {
		case c == '"':
			p.pos = end + 1
			return names.intern(p.data[start:end]), nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return p.string()
		}
		end++
	}
	return p.string()
}

func (p *parser) slowString() (string, error) {
	var b []byte
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", p.fail("unterminated escape")
			}
			e := p.data[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.fail("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						save := p.pos
						p.pos += 2
						if lo, ok := p.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
							r2 = utf16.DecodeRune(r, lo)
						} else {
							p.pos = save
						}
					}
					r = r2
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.fail("invalid escape")
			}
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			b = utf8.AppendRune(b, r) // RuneError for invalid bytes, as encoding/json
			p.pos += size
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}
