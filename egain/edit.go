package egain

import (
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// applyEdit merges a validated edit body onto cur, the stored customer of
// number num with local contact ids (spec §5.4): only elements present
// change, an element sent empty clears, a contact person or point with an
// id edits that one, one without an id is added; new ones are numbered
// above floor (allocateIDs).
func applyEdit(cur *Customer, edit Customer, num, floor uint64) error {
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
	allocateIDs(cur, floor)
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

// indexOfAttribute finds the attribute called name, its case aside
// (schema.Fold), as the custom key, which eGain search reads, and the
// records' unique key compare names: one a Genesys client wrote as
// LOYALTYID is the customer's loyaltyId.
func indexOfAttribute(attrs []CustomAttribute, name string) int {
	for i, a := range attrs {
		if schema.Fold(str(a.AttribName)) == schema.Fold(name) {
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

// withoutUnchanged returns a copy of an edit body of customer num without
// what it sends back as the stored customer cur holds it (or as XML shows
// it): an edit is validated and applied on what it changes. A client that
// reads a customer, changes one field and writes the whole customer back
// is then not refused for values it did not touch, which a Genesys client
// may have written (a contact point type or custom attribute eGain does
// not know, text eGain's rules refuse), and a control character XML showed
// as U+FFFD is kept. Contact persons and points keep their ids, and are
// left out when nothing but the id remains; a department that changes is
// kept whole, as applyEdit replaces it whole.
func withoutUnchanged(edit, cur *Customer, num uint64) (Customer, sentPaths) {
	var out Customer
	p := pruner{num: num, moved: sentPaths{}}
	p.keepChanged(reflect.ValueOf(&out).Elem(), reflect.ValueOf(edit).Elem(), reflect.ValueOf(cur).Elem(), "", "")
	out.ID = edit.ID
	return out, p.moved
}

// pruner reduces an edit of customer num to its changes, noting where each
// list item it keeps stood in the body as sent.
type pruner struct {
	num   uint64
	moved sentPaths
}

// sentPaths maps the path of a list item in an edit's changes to its path
// in the body as sent, where the two differ.
type sentPaths map[string]string

// inBody words a refusal of the changes with the paths of the body as
// sent, so that it names the element the client sent.
func (m sentPaths) inBody(err error) error {
	e := errs.As(err)
	if e == nil {
		return err
	}
	from := ""
	for k := range m {
		if len(k) > len(from) && (e.Field == k || strings.HasPrefix(e.Field, k+".")) {
			from = k
		}
	}
	if from == "" {
		return err
	}
	moved := *e
	moved.Field = m[from] + strings.TrimPrefix(e.Field, from)
	moved.Message = strings.Replace(e.Message, from, m[from], 1)
	return &moved
}

// keepChanged sets on out (a zero struct of sent's type) the fields of sent
// that stored does not hold as they are, and reports whether there were
// any. path is out's path in the changes, sentPath sent's in the body.
func (p pruner) keepChanged(out, sent, stored reflect.Value, path, sentPath string) bool {
	changed := false
	for _, f := range fieldsOf(sent.Type()) {
		sv, tv := sent.Field(f.index), stored.Field(f.index)
		if sv.IsNil() {
			continue
		}
		var kept reflect.Value
		switch {
		case f.kind == kindList:
			kept = p.changedItems(sv, tv, joinPath(joinPath(path, f.name), f.item), joinPath(joinPath(sentPath, f.name), f.item))
		case tv.IsNil():
			kept = sv
		case f.kind == kindString:
			if !sameText(sv.Elem().String(), tv.Elem().String()) {
				kept = sv
			}
		case sv.Type() == reflect.TypeFor[*Department]():
			if !same(sv.Elem(), tv.Elem()) {
				kept = sv
			}
		case !hasFields(sv.Elem()):
			kept = sv // an element sent empty is validation's to judge
		default:
			if nv := reflect.New(sv.Type().Elem()); p.keepChanged(nv.Elem(), sv.Elem(), tv.Elem(), joinPath(path, f.name), joinPath(sentPath, f.name)) {
				kept = nv
			}
		}
		if kept.IsValid() {
			out.Field(f.index).Set(kept)
			changed = true
		}
	}
	return changed
}

// changedItems is keepChanged for a list at path (sentPath in the body):
// custom attributes are kept unless stored with the same values; persons
// and points with an id of this customer keep what changes in them; new
// ones (no id) and unknown ids (which the edit refuses) are kept whole. It
// returns the invalid Value when nothing is kept.
func (p pruner) changedItems(sent, stored reflect.Value, path, sentPath string) reflect.Value {
	out := reflect.MakeSlice(sent.Type(), 0, sent.Len())
	for i := range sent.Len() {
		item := sent.Index(i)
		at, sentAt := indexPath(path, out.Len()), indexPath(sentPath, i)
		switch a := item.Addr().Interface().(type) {
		case *CustomAttribute:
			attrs := stored.Interface().([]CustomAttribute)
			if j := indexOfAttribute(attrs, str(a.AttribName)); j >= 0 && same(item, reflect.ValueOf(attrs[j])) {
				continue
			}
		default:
			id := item.FieldByName("ID")
			local, ok := "", !id.IsNil()
			if ok {
				local, ok = localID(p.num, id.Elem().String())
			}
			j := -1
			for k := 0; ok && k < stored.Len(); k++ {
				if sid := stored.Index(k).FieldByName("ID"); !sid.IsNil() && sid.Elem().String() == local {
					j = k
				}
			}
			if j >= 0 {
				// Compared without ids: the body's are external, the
				// stored ones local.
				sentItem, storedItem := reflect.New(item.Type()).Elem(), reflect.New(item.Type()).Elem()
				sentItem.Set(item)
				storedItem.Set(stored.Index(j))
				sentItem.FieldByName("ID").SetZero()
				storedItem.FieldByName("ID").SetZero()
				kept := reflect.New(item.Type()).Elem()
				if !p.keepChanged(kept, sentItem, storedItem, at, sentAt) && hasFields(sentItem) {
					continue
				}
				kept.FieldByName("ID").Set(id)
				item = kept
			}
		}
		if at != sentAt {
			p.moved[at] = sentAt
		}
		out = reflect.Append(out, item)
	}
	if out.Len() == 0 {
		return reflect.Value{}
	}
	return out
}

// hasFields reports whether v, a struct of the model, sends any field (a
// list sent empty counts). A person or point that sends only its id is
// kept, for validation to refuse as an edit of nothing.
func hasFields(v reflect.Value) bool {
	for _, f := range fieldsOf(v.Type()) {
		if !v.Field(f.index).IsNil() {
			return true
		}
	}
	return false
}

// same reports whether sent, a struct of the model, holds what stored
// holds, text compared by sameText.
func same(sent, stored reflect.Value) bool {
	for _, f := range fieldsOf(sent.Type()) {
		sv, tv := sent.Field(f.index), stored.Field(f.index)
		switch {
		case f.kind == kindList:
			if sv.Len() != tv.Len() {
				return false
			}
			for i := range sv.Len() {
				if !same(sv.Index(i), tv.Index(i)) {
					return false
				}
			}
		case sv.IsNil() || tv.IsNil():
			if sv.IsNil() != tv.IsNil() {
				return false
			}
		case f.kind == kindString:
			if !sameText(sv.Elem().String(), tv.Elem().String()) {
				return false
			}
		default:
			if !same(sv.Elem(), tv.Elem()) {
				return false
			}
		}
	}
	return true
}

// sameText reports whether a sent text is the stored one, or the stored one
// as an XML answer showed it.
func sameText(sent, stored string) bool { return sent == stored || sent == shownInXML(stored) }

// shownInXML is s as an XML answer shows it: a character XML cannot carry
// becomes U+FFFD (xml.EscapeText).
func shownInXML(s string) string {
	if !strings.ContainsFunc(s, notXMLChar) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if notXMLChar(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}
