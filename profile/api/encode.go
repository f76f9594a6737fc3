package api

import (
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Profiles are encoded by hand: customer_id first, then attributes and
// extensions in schema order (clients read them top to bottom), with no
// reflection on the hot read path.

// appendProfile appends p as the flat JSON object of spec §2.1.
func appendProfile(b []byte, c *schema.Compiled, p *profile.Profile, withAttributes bool) []byte {
	b = append(b, `{"customer_id":`...)
	b = jsonw.AppendString(b, p.ID)
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
				b = jsonw.AppendString(b, e.Name)
				b = append(b, ':')
				b = appendRecord(b, e, recs[0])
			}
			continue
		}
		b = append(b, ',')
		b = jsonw.AppendString(b, e.Name)
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
	b = jsonw.AppendString(b, name)
	b = append(b, ':')
	return jsonw.AppendValue(b, v)
}

// appendRecord writes a record's attributes in schema order. Attributes
// the schema no longer declares are not shown, as for core attributes: a
// client that reads, modifies and writes back must not send them.
func appendRecord(b []byte, e *schema.Extension, r schema.Record) []byte {
	b = append(b, '{')
	n := 0
	for i := range e.Attributes {
		name := e.Attributes[i].Name
		if v, ok := r[name]; ok {
			if n > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, name)
			b = append(b, ':')
			b = jsonw.AppendValue(b, v)
			n++
		}
	}
	return append(b, '}')
}
