package jsonw

import (
	"slices"
	"unicode/utf8"
)

// A Member is one member of a JSON object as written: its name decoded,
// its value as JSON text.
type Member struct {
	Name  string
	Value []byte
}

// Members splits the JSON object data into its members, in order, checking
// the syntax of every value as Parse does but building none of them. A
// read that only shows stored data copies the values it shows: parsing
// them into maps and writing them again was most of the cost of a profile
// read (BenchmarkGetProfile).
//
// Every Value reads as Parse reads it: a value holding a string Parse
// would change (invalid UTF-8 or a lone UTF-16 surrogate escape, both
// U+FFFD after Parse) is written again by AppendValue from Parse's result.
// Values point into data otherwise.
func Members(data []byte) ([]Member, error) {
	// Members are gathered on the stack and copied once: growing the slice
	// from empty cost 3 more allocations for a profile (BenchmarkMembers 4 -> 1).
	var room [32]Member
	out, err := AppendMembers(room[:0], data)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return slices.Clone(out), nil
}

// AppendMembers is Members appending to dst, so that several objects (the
// records of a set) can share one array.
func AppendMembers(dst []Member, data []byte) ([]Member, error) {
	p := parser{data: data}
	if err := p.open('{', "an object"); err != nil {
		return nil, err
	}
	err := p.members(p.key, func(name string) error {
		v, err := p.rawValue()
		dst = append(dst, Member{Name: name, Value: v})
		return err
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// Elements splits the JSON array data into its elements as Members splits
// an object.
func Elements(data []byte) ([][]byte, error) {
	p := parser{data: data}
	if err := p.open('[', "an array"); err != nil {
		return nil, err
	}
	var out [][]byte
	err := p.elements(func() error {
		v, err := p.rawValue()
		out = append(out, v)
		return err
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// String decodes data, a JSON string, as Parse would.
func String(data []byte) (string, error) {
	p := parser{data: data}
	if err := p.open('"', "a string"); err != nil {
		return "", err
	}
	s, err := p.string()
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return "", err
	}
	return s, nil
}

// open checks that the value at the start of the data begins with c.
func (p *parser) open(c byte, what string) error {
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != c {
		return p.fail("expected " + what)
	}
	return nil
}

// rawValue checks the syntax of the value at p.pos and returns its text,
// or the text AppendValue writes for it where Parse would change a string.
func (p *parser) rawValue() ([]byte, error) {
	p.space()
	start := p.pos
	p.changed = false
	if err := p.skip(1); err != nil { // a member or element: one level down, as in Parse
		return nil, err
	}
	text := p.data[start:p.pos]
	if !p.changed {
		return text, nil
	}
	v, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return AppendValue(nil, v), nil
}

// skip moves past one value, checking it as value would; it sets
// p.changed when the value holds a string Parse would change.
func (p *parser) skip(depth int) error {
	if depth > maxDepth {
		return p.fail("nesting too deep")
	}
	p.space()
	if p.pos >= len(p.data) {
		return p.fail("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.members(p.skipName, func(string) error { return p.skip(depth + 1) })
	case c == '[':
		return p.elements(func() error { return p.skip(depth + 1) })
	case c == '"':
		return p.skipString()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := p.number()
		return err
	}
	return p.fail("unexpected character")
}

// skipName moves past a member name without decoding it.
func (p *parser) skipName() (string, error) { return "", p.skipString() }

// skipString moves past a string, setting p.changed when Parse would
// change it (invalid UTF-8, a lone surrogate escape).
func (p *parser) skipString() error {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			if !utf8.Valid(p.data[start : p.pos-1]) {
				p.changed = true
			}
			return nil
		case c < 0x20:
			return p.fail("control character in string")
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return p.fail("unterminated escape")
			}
			switch p.data[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				p.pos += 2
				r, ok := p.hex4()
				if !ok {
					return p.fail("invalid \\u escape")
				}
				if r >= 0xD800 && r < 0xE000 {
					p.changed = true // a pair is exact, but rare enough to write again
				}
			default:
				return p.fail("invalid escape")
			}
		default:
			p.pos++
		}
	}
	return p.fail("unterminated string")
}
