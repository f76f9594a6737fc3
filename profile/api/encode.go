package api

import (
	"slices"
	"strings"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Profiles are encoded by hand: customer_id first, then attributes and
// extensions in schema order (clients read them top to bottom), with no
// reflection on the hot read path.

// appendProfile appends d as the flat JSON object of spec §2.1. Stored
// values are copied as they are (profile.Document).
func appendProfile(b []byte, c *schema.Compiled, d *profile.Document, withAttributes bool) []byte {
	b = append(b, `{"customer_id":`...)
	b = jsonw.AppendString(b, d.ID)
	if withAttributes {
		attrs := storedOf(d.Attributes)
		for i := range c.Def.Profile { // every one, null when unset (spec §3.2)
			name := c.Def.Profile[i].Name
			b = append(b, ',')
			b = jsonw.AppendString(b, name)
			b = append(b, ':')
			b = attrs.append(b, name)
		}
	}
	for i := range c.Def.Extensions {
		e := &c.Def.Extensions[i]
		recs, asked := d.Extensions[e.Name]
		if !asked {
			continue
		}
		b = append(b, ',')
		b = jsonw.AppendString(b, e.Name)
		b = append(b, ':')
		if e.Kind == schema.SingleValued {
			if len(recs) == 0 {
				b = append(b, "null"...)
			} else {
				b = appendRecord(b, e, recs[0])
			}
			continue
		}
		b = append(b, '[')
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

// stored are the members of a stored object, looked up by name. The
// service writes members sorted by name (jsonw.AppendObject), so a large
// object is searched by halves: a linear search per schema attribute cost
// attributes × members.
type stored struct {
	members []profile.Member
	sorted  bool
}

func storedOf(members []profile.Member) stored {
	return stored{members, len(members) > 16 && slices.IsSortedFunc(members, byName)}
}

func byName(a, b profile.Member) int { return strings.Compare(a.Name, b.Name) }

// append appends the value of member name, null when there is none. A name
// stored twice counts once, the last, as when decoding into a map.
func (s stored) append(b []byte, name string) []byte {
	if s.sorted {
		i, found := slices.BinarySearchFunc(s.members, name, func(m profile.Member, name string) int { return strings.Compare(m.Name, name) })
		if !found {
			return append(b, "null"...)
		}
		for i+1 < len(s.members) && s.members[i+1].Name == name {
			i++
		}
		return append(b, s.members[i].Value...)
	}
	for i := len(s.members) - 1; i >= 0; i-- {
		if s.members[i].Name == name {
			return append(b, s.members[i].Value...)
		}
	}
	return append(b, "null"...)
}

// appendRecord writes a record's attributes in schema order. Attributes
// the schema no longer declares are not shown, as for core attributes: a
// client that reads, modifies and writes back must not send them.
func appendRecord(b []byte, e *schema.Extension, r []profile.Member) []byte {
	rec := storedOf(r)
	b = append(b, '{')
	for i := range e.Attributes { // every one, null when unset (spec §3.2)
		if i > 0 {
			b = append(b, ',')
		}
		name := e.Attributes[i].Name
		b = jsonw.AppendString(b, name)
		b = append(b, ':')
		b = rec.append(b, name)
	}
	return append(b, '}')
}
