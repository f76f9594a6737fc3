package api

import (
	"encoding/json"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Profiles are encoded by hand: customer_id first, then attributes and
// extensions in schema order (clients read them top to bottom), with no
// reflection on the hot read path.

// appendProfile appends p as the flat JSON object of spec §2.1.
func appendProfile(b []byte, c *schema.Compiled, p *profile.Profile, withAttributes bool) []byte {
	b = append(b, `{"customer_id":`...)
	b = appendString(b, p.ID)
	if withAttributes {
		for i := range c.Def.Profile {
			name := c.Def.Profile[i].Name
			if v, ok := p.Attributes[name]; ok {
				b = appendMember(b, name, v)
			}
		}
	}
	for i := range c.Def.Extensions {
		e := &c.Def.Extensions[i]
		recs, asked := p.Extensions[e.Name]
		if !asked {
			continue
		}
		if e.Kind == schema.SingleValued {
			if len(recs) > 0 {
				b = append(b, ',')
				b = appendString(b, e.Name)
				b = append(b, ':')
				b = appendRecord(b, e, recs[0])
			}
			continue
		}
		b = append(b, ',')
		b = appendString(b, e.Name)
		b = append(b, ":["...)
		for j, r := range recs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendRecord(b, e, r)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendMember(b []byte, name string, v any) []byte {
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	return appendValue(b, v)
}

// appendRecord writes a record's attributes in schema order, then any the
// schema no longer declares (data outlives schema changes), sorted.
func appendRecord(b []byte, e *schema.Extension, r schema.Record) []byte {
	b = append(b, '{')
	n := 0
	for i := range e.Attributes {
		name := e.Attributes[i].Name
		if v, ok := r[name]; ok {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
			b = append(b, ':')
			b = appendValue(b, v)
			n++
		}
	}
	if n < len(r) {
		var extra []string
		for name := range r {
			if _, ok := e.Attribute(name); !ok {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		for _, name := range extra {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
			b = append(b, ':')
			b = appendValue(b, r[name])
			n++
		}
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case json.Number:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case []any:
		b = append(b, '[')
		for i, item := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, item)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	default:
		data, err := json.Marshal(x)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, data...)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// for control characters, quotes and backslashes; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
