package jsonw

import (
	"fmt"
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
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, p.fail("expected an object")
	}
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return dst, p.end()
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a member name")
		}
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':'")
		}
		p.pos++
		v, err := p.rawValue()
		if err != nil {
			return nil, err
		}
		dst = append(dst, Member{Name: name, Value: v})
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return dst, p.end()
		default:
			return nil, p.fail("expected ',' or '}'")
		}
	}
}

// Elements splits the JSON array data into its elements as Members splits
// an object.
func Elements(data []byte) ([][]byte, error) {
	p := parser{data: data}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '[' {
		return nil, p.fail("expected an array")
	}
	p.pos++
	var out [][]byte
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return out, p.end()
	}
	for {
		v, err := p.rawValue()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return out, p.end()
		default:
			return nil, p.fail("expected ',' or ']'")
		}
	}
}

// end refuses anything but white space after the value.
func (p *parser) end() error {
	p.space()
	if p.pos != len(p.data) {
		return fmt.Errorf("%w: %w at offset %d", ErrSyntax, ErrTrailing, p.pos)
	}
	return nil
}

// rawValue checks the syntax of the value at p.pos and returns its text,
// or the text AppendValue writes for it where Parse would change a string.
func (p *parser) rawValue() ([]byte, error) {
	p.space()
	start := p.pos
	exact, err := p.skip(0)
	if err != nil {
		return nil, err
	}
	text := p.data[start:p.pos]
	if exact {
		return text, nil
	}
	v, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return AppendValue(nil, v), nil
}

// skip moves past one value, checking it as value would; exact is false
// when it holds a string Parse would change.
func (p *parser) skip(depth int) (exact bool, err error) {
	if depth > maxDepth {
		return false, p.fail("nesting too deep")
	}
	p.space()
	if p.pos >= len(p.data) {
		return false, p.fail("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{', c == '[':
		return p.skipContainer(depth)
	case c == '"':
		return p.skipString()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return true, p.literal("false")
	case c == 'n':
		return true, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := p.number()
		return true, err
	}
	return false, p.fail("unexpected character")
}

// skipContainer moves past an object or an array.
func (p *parser) skipContainer(depth int) (bool, error) {
	object := p.data[p.pos] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == closing {
		p.pos++
		return true, nil
	}
	exact := true
	for {
		if object {
			p.space()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return false, p.fail("expected a member name")
			}
			ok, err := p.skipString()
			if err != nil {
				return false, err
			}
			exact = exact && ok
			p.space()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return false, p.fail("expected ':'")
			}
			p.pos++
		}
		ok, err := p.skip(depth + 1)
		if err != nil {
			return false, err
		}
		exact = exact && ok
		p.space()
		if p.pos >= len(p.data) {
			return false, p.fail("unexpected end")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case closing:
			p.pos++
			return exact, nil
		default:
			return false, p.fail("expected ',' or " + string(closing))
		}
	}
}

// skipString moves past a string; exact is false when Parse would change
// it (invalid UTF-8, a lone surrogate escape).
func (p *parser) skipString() (exact bool, err error) {
	p.pos++ // opening quote
	start := p.pos
	exact = true
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			return exact && utf8.Valid(p.data[start:p.pos-1]), nil
		case c < 0x20:
			return false, p.fail("control character in string")
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return false, p.fail("unterminated escape")
			}
			switch p.data[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				p.pos += 2
				r, ok := p.hex4()
				if !ok {
					return false, p.fail("invalid \\u escape")
				}
				if r >= 0xD800 && r < 0xE000 {
					exact = false // a pair is exact, but rare enough to write again
				}
			default:
				return false, p.fail("invalid escape")
			}
		default:
			p.pos++
		}
	}
	return false, p.fail("unterminated string")
}

// String decodes data, a JSON string, as Parse would.
func String(data []byte) (string, error) {
	p := parser{data: data}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", p.fail("expected a string")
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
