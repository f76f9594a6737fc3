package egain

import (
	"reflect"

	"github.com/contactcenter/profiled/errs"
)

// applyEdit merges a validated edit body onto cur, the stored customer of
// number num with local contact ids (spec §5.4): only elements present
// change, an element sent empty clears, a contact person or point with an
// id edits that one, one without an id is added.
func applyEdit(cur *Customer, edit Customer, num uint64) error {
	edit.ID = nil
	cur.CustomAttributes = mergeCustomAttributes(cur.CustomAttributes, edit.CustomAttributes)
	for _, ep := range edit.ContactPersons {
		if ep.ID == nil {
			ep.ContactPoints = withoutIDs(ep.ContactPoints)
			cur.ContactPersons = append(cur.ContactPersons, ep)
			continue
		}
		person, err := findPerson(cur.ContactPersons, num, *ep.ID)
		if err != nil {
			return err
		}
		if err := mergePerson(person, ep, num); err != nil {
			return err
		}
	}
	if edit.Department != nil { // replaced whole: a new name must not keep the old id
		cur.Department, edit.Department = edit.Department, nil
	}
	edit.CustomAttributes, edit.ContactPersons = nil, nil
	mergeFields(reflect.ValueOf(cur).Elem(), reflect.ValueOf(edit))
	prune(reflect.ValueOf(cur).Elem())
	allocateIDs(cur)
	return nil
}

func withoutIDs(points []ContactPoint) []ContactPoint {
	out := make([]ContactPoint, len(points))
	for i, p := range points {
		p.ID = nil
		out[i] = p
	}
	return out
}

func unknownContact(what, id string) *errs.Error {
	return errs.Invalid(CodeUnknownContactID, what+".id", "%s %s does not belong to this customer", what, id)
}

func findPerson(persons []ContactPerson, num uint64, id string) (*ContactPerson, error) {
	if local, ok := localID(num, id); ok {
		for i := range persons {
			if str(persons[i].ID) == local {
				return &persons[i], nil
			}
		}
	}
	return nil, unknownContact("contact person", id)
}

func mergePerson(cur *ContactPerson, edit ContactPerson, num uint64) error {
	edit.ID = nil
	cur.CustomAttributes = mergeCustomAttributes(cur.CustomAttributes, edit.CustomAttributes)
	for _, ept := range edit.ContactPoints {
		if ept.ID == nil {
			cur.ContactPoints = append(cur.ContactPoints, ept)
			continue
		}
		pt, err := findPoint(cur.ContactPoints, num, *ept.ID)
		if err != nil {
			return err
		}
		ept.ID = nil
		// The vendor's edit-contact-point call makes only id mandatory: a
		// point's kind is the stored one, named or not; another is refused.
		if k := givenKind(ept.Type); k != "" && k != pointKind(pt) {
			return errs.Invalid(CodeInvalidValue, "contactPoint.type", "contact point %s is of type %s; it cannot be edited as %s", externalID(num, str(pt.ID)), pointKind(pt), k)
		}
		pt.CustomAttributes = mergeCustomAttributes(pt.CustomAttributes, ept.CustomAttributes)
		ept.CustomAttributes = nil
		mergeFields(reflect.ValueOf(pt).Elem(), reflect.ValueOf(ept))
	}
	edit.CustomAttributes, edit.ContactPoints = nil, nil
	mergeFields(reflect.ValueOf(cur).Elem(), reflect.ValueOf(edit))
	return nil
}

func findPoint(points []ContactPoint, num uint64, id string) (*ContactPoint, error) {
	if local, ok := localID(num, id); ok {
		for i := range points {
			if str(points[i].ID) == local {
				return &points[i], nil
			}
		}
	}
	return nil, unknownContact("contact point", id)
}

// mergeCustomAttributes replaces the values of attributes edit names and
// appends new ones; an attribute sent without a value is removed.
func mergeCustomAttributes(cur, edit []CustomAttribute) []CustomAttribute {
	for _, e := range edit {
		i, set := indexOfAttribute(cur, str(e.AttribName)), str(firstValue(e)) != ""
		switch {
		case set && i >= 0:
			cur[i] = e
		case set:
			cur = append(cur, e)
		case i >= 0:
			cur = append(cur[:i:i], cur[i+1:]...)
		}
	}
	return cur
}

func indexOfAttribute(attrs []CustomAttribute, name string) int {
	for i, a := range attrs {
		if str(a.AttribName) == name {
			return i
		}
	}
	return -1
}

// mergeFields copies the scalars and structs src sets onto dst (structs of
// the same type): a non-empty string replaces, an empty one clears, a
// struct merges field by field. Lists are the callers' business.
func mergeFields(dst, src reflect.Value) {
	for _, f := range fieldsOf(dst.Type()) {
		sv, dv := src.Field(f.index), dst.Field(f.index)
		if sv.IsNil() {
			continue
		}
		switch f.kind {
		case kindString:
			if sv.Elem().String() == "" {
				dv.SetZero()
			} else {
				dv.Set(sv)
			}
		case kindStruct:
			if dv.IsNil() {
				dv.Set(reflect.New(dv.Type().Elem()))
			}
			mergeFields(dv.Elem(), sv.Elem())
		}
	}
}

// prune drops structs an edit left without any field and empty lists, and
// reports whether v (a struct) is empty itself.
func prune(v reflect.Value) bool {
	empty := true
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		switch {
		case fv.IsNil():
		case f.kind == kindStruct && prune(fv.Elem()):
			fv.SetZero()
		case f.kind == kindList && fv.Len() == 0:
			fv.SetZero()
		case f.kind == kindList:
			for i := range fv.Len() {
				prune(fv.Index(i))
			}
			empty = false
		default:
			empty = false
		}
	}
	return empty
}

func firstValue(a CustomAttribute) *string {
	if len(a.AttribValues) == 0 {
		return nil
	}
	return a.AttribValues[0].Value
}

// givenKind is the kind an edit names for a point: type.value, or else the
// one payload it carries (a client may send only type.email.emailAddress).
func givenKind(t *ContactPointType) string {
	if t == nil {
		return ""
	}
	if t.Value != nil {
		return *t.Value
	}
	kind := ""
	for _, p := range []struct {
		name    string
		present bool
	}{{"phone", t.Phone != nil}, {"email", t.Email != nil}, {"postal", t.Postal != nil}, {"social", t.Social != nil}, {"web", t.Web != nil}} {
		if p.present {
			if kind != "" {
				return "several" // refused by validation: two payloads
			}
			kind = p.name
		}
	}
	return kind
}
