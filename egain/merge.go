package egain

import (
	"maps"
	"strconv"
	"strings"

	"github.com/contactcenter/profiled/schema"
)

// RenumberForMerge is profile.Service's BeforeMerge: it makes the
// source's contact persons and points, numbered per customer, continue
// the destination's numbering before a Genesys merge joins their record
// sets. Merged by their ids as they are, the source's person 1 and point 2
// would be taken for the destination's and dropped, with the addresses and
// phone details they hold. A point keeps its person (one without a known
// person, which belonged to the source's first person, is given it), and
// contact attributes follow their owners. Records whose ids are not the
// facade's numbers (a Genesys client wrote them) are left as they are.
func (f *Facade) RenumberForMerge(c *schema.Compiled, dest, src map[string][]schema.Record) {
	persons, points, attrs := extName(c, f.mapper.ContactPersons), extName(c, f.mapper.ContactPoints), extName(c, f.mapper.ContactAttributes)
	var last uint64
	for _, set := range []struct {
		recs []schema.Record
		attr string
	}{{dest[persons], attrPersonID}, {dest[points], attrPointID}} {
		for _, r := range set.recs {
			if id := localIDOf(r, set.attr); id != nil {
				n, _ := strconv.ParseUint(*id, 10, 64)
				last = max(last, n)
			}
		}
	}
	// A destination without contact person records (the Genesys API wrote
	// it) still shows a person 1, made from its core attributes, and the
	// reading takes the first stored person for it: it gets a record, so
	// the source's persons, numbered after it, stay persons of their own
	// rather than lending theirs (salutation, identification, points) to
	// the destination's name.
	if len(dest[persons]) == 0 && len(src[persons]) > 0 {
		id := last + 1
		if !pointNumbered(dest[points], "1") {
			id = 1
		}
		dest[persons] = []schema.Record{{attrPersonID: strconv.FormatUint(id, 10)}}
		last = max(last, id)
	}
	if last == 0 {
		return // nothing of the destination's to collide with
	}
	renumbered := map[string]string{} // old id → new, persons' and points' (one numbering)
	renumber := func(r schema.Record, attr string) schema.Record {
		id := localIDOf(r, attr)
		if id == nil || last+1 >= maxStoredID {
			return r
		}
		last++
		renumbered[*id] = strconv.FormatUint(last, 10)
		return withValue(r, attr, renumbered[*id])
	}
	src[persons] = replaceEach(src[persons], func(r schema.Record) schema.Record { return renumber(r, attrPersonID) })
	personOf := maps.Clone(renumbered)
	firstPerson := ""
	if len(src[persons]) > 0 {
		firstPerson = str(localIDOf(src[persons][0], attrPersonID))
	}
	src[points] = replaceEach(src[points], func(r schema.Record) schema.Record {
		owner, known := personOf[str(localIDOf(r, attrPersonID))]
		r = renumber(r, attrPointID)
		switch {
		case known:
			return withValue(r, attrPersonID, owner)
		case firstPerson != "": // the reading shows it under the source's first person
			return withValue(r, attrPersonID, firstPerson)
		}
		return r
	})
	src[attrs] = replaceEach(src[attrs], func(r schema.Record) schema.Record {
		if to, ok := renumbered[str(recordString(r, attrOwner))]; ok {
			return withValue(r, attrOwner, to)
		}
		return r
	})
}

// pointNumbered reports whether a point record of recs holds local id.
func pointNumbered(recs []schema.Record, id string) bool {
	for _, r := range recs {
		if str(localIDOf(r, attrPointID)) == id {
			return true
		}
	}
	return false
}

// extName is the schema's spelling of the mapped extension name.
func extName(c *schema.Compiled, name string) string {
	if e, ok := c.Extension(name); ok {
		return e.Name
	}
	return name
}

// replaceEach returns recs with each record replaced by fn's (nil stays nil).
func replaceEach(recs []schema.Record, fn func(schema.Record) schema.Record) []schema.Record {
	if recs == nil {
		return nil
	}
	out := make([]schema.Record, len(recs))
	for i, r := range recs {
		out[i] = fn(r)
	}
	return out
}

// withValue is a copy of r with attribute name (in any case) set to v.
func withValue(r schema.Record, name, v string) schema.Record {
	out := maps.Clone(r)
	for k := range out {
		if strings.EqualFold(k, name) {
			delete(out, k)
		}
	}
	out[name] = v
	return out
}
