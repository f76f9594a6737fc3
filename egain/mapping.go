package egain

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Contact-point kinds the mapping cares about.
const (
	kindEmail = "email"
	kindPhone = "phone"
)

// idSpan separates customers in the contact person and point id space: the
// document stores per-customer sequence numbers (1, 2, ...) and clients see
// Num*idSpan + seq, so an id of another customer never resolves here.
const idSpan = 1_000_000

// timeLayout is how the facade writes instants (spec §1).
const timeLayout = "2006-01-02T15:04:05.000Z"

// mapper converts between profiles and eGain customers (see docs/egain.md).
type mapper struct {
	config.EGainMapping
	defaultDepartment string
	departments       departments
}

// Record attributes the mapper reads beside the model fields.
const (
	attrPersonID = "personId"
	attrPointID  = "pointId"
	attrOwner    = "owner"
	attrName     = "name"
	attrValue    = "value"
)

// attrCreatedBy is the customer extension's optional attribute for the id
// of the user who created the customer (createdBy). It is kept where the
// schema declares it (the shipped config does), so that a config written
// before it still starts.
const attrCreatedBy = "createdBy"

// keepsCreator reports whether schema c declares attrCreatedBy.
func (m mapper) keepsCreator(c *schema.Compiled) bool {
	e, ok := c.Extension(m.Customer)
	if !ok {
		return false
	}
	a, ok := e.Attribute(attrCreatedBy)
	return ok && a.Type == schema.TypeString
}

// resolved returns m with the attributes and extensions it names by an
// alias, or in another case, named as schema c declares them: stored values
// are read and written under those names only, so a mapping written before
// an attribute was renamed (its old name kept as an alias, as
// docs/config.md describes) keeps finding the values. Names c lacks stay as
// they are (CheckMapping refuses them).
func (m mapper) resolved(c *schema.Compiled) mapper {
	core := func(name *string) {
		if a, ok := c.Attribute(*name); ok {
			*name = a.Name
		}
	}
	ext := func(name *string, attrs ...*string) {
		e, ok := c.Extension(*name)
		if !ok {
			return
		}
		*name = e.Name
		for _, a := range attrs {
			if at, ok := e.Attribute(*a); ok {
				*a = at.Name
			}
		}
	}
	r := &m.EGainMapping
	core(&r.FirstName)
	core(&r.LastName)
	core(&r.DateOfBirth)
	core(&r.Email)
	ext(&r.Phone.Extension, &r.Phone.Number)
	ext(&r.CustomAttributes.Extension, &r.CustomAttributes.Name, &r.CustomAttributes.Value)
	ext(&r.Customer, &r.LegacyDocument)
	ext(&r.ContactPersons)
	ext(&r.ContactPoints)
	ext(&r.ContactAttributes)
	return m
}

// CheckMapping refuses a mapping that does not fit schema c.
func CheckMapping(m config.EGainMapping, c *schema.Compiled) error {
	m = mapper{EGainMapping: m}.resolved(c).EGainMapping // keys name attributes as c declares them
	var problems []error
	fail := func(format string, args ...any) { problems = append(problems, fmt.Errorf("egain."+format, args...)) }
	core := func(what, name string, t schema.Type, multi bool) {
		a, ok := c.Attribute(name)
		switch {
		case !ok:
			fail("mapping.%s: %q is not a core attribute", what, name)
		case a.Type != t || a.MultiValued != multi:
			fail("mapping.%s: attribute %q must be a %s (multi_valued: %t)", what, name, t, multi)
		}
	}
	core("first_name", m.FirstName, schema.TypeString, false)
	core("last_name", m.LastName, schema.TypeString, false)
	core("date_of_birth", m.DateOfBirth, schema.TypeDate, false)
	core("email", m.Email, schema.TypeString, true)
	// ext checks that extension name has kind, the string attributes
	// attrs and, when unique is not nil, exactly that unique key.
	ext := func(what, name string, kind schema.ExtensionKind, unique []string, attrs ...string) {
		e, ok := c.Extension(name)
		if !ok || e.Kind != kind {
			fail("mapping.%s: %q must be a %s extension", what, name, kind)
			return
		}
		for _, a := range attrs {
			if at, ok := e.Attribute(a); !ok || at.Type != schema.TypeString {
				fail("mapping.%s: %q must be a string attribute of extension %q", what, a, e.Name)
			}
		}
		if unique != nil && !sameNames(e.Unique, unique) {
			fail("mapping.%s: extension %q must be unique on %v (it is on %v)", what, e.Name, unique, e.Unique)
		}
	}
	// attr checks an attribute the mapping names by a key of its own.
	attr := func(what, extension, name string) {
		if e, ok := c.Extension(extension); ok {
			if at, ok := e.Attribute(name); !ok || at.Type != schema.TypeString {
				fail("mapping.%s: %q must be a string attribute of extension %q", what, name, e.Name)
			}
		}
	}
	ext("phone.extension", m.Phone.Extension, schema.MultiValued, nil)
	attr("phone.number", m.Phone.Extension, m.Phone.Number)
	ext("custom_attributes.extension", m.CustomAttributes.Extension, schema.MultiValued,
		[]string{m.CustomAttributes.Name, m.CustomAttributes.Value})
	attr("custom_attributes.name", m.CustomAttributes.Extension, m.CustomAttributes.Name)
	attr("custom_attributes.value", m.CustomAttributes.Extension, m.CustomAttributes.Value)
	customerAttrs := customerFields.names()
	if m.LegacyDocument != "" {
		customerAttrs = append(customerAttrs, m.LegacyDocument)
	}
	ext("customer", m.Customer, schema.SingleValued, nil, customerAttrs...)
	ext("contact_persons", m.ContactPersons, schema.MultiValued, []string{attrPersonID}, append(personFields.names(), attrPersonID)...)
	ext("contact_points", m.ContactPoints, schema.MultiValued, []string{attrPointID}, append(pointFields.names(), attrPointID, attrPersonID)...)
	ext("contact_attributes", m.ContactAttributes, schema.MultiValued, []string{attrOwner, attrName, attrValue}, attrOwner, attrName, attrValue)
	// mandatory refuses attributes of attrs that are mandatory without a
	// default although the facade never writes them (written are those it
	// can): every eGain create (of a core attribute, or of the customer and
	// person records every create writes), or every write of such a record,
	// would be refused 400-103.
	mandatory := func(what string, attrs []schema.Attribute, written ...string) {
		for _, a := range attrs {
			if a.Mandatory && a.Default == nil && !slices.ContainsFunc(written, func(n string) bool { return strings.EqualFold(n, a.Name) }) {
				fail("%s: %q is mandatory without a default, and the eGain facade never writes it: eGain creates and edits would be refused (give it a default, make it optional, or set egain.disabled)", what, a.Name)
			}
		}
	}
	mandatory("mapping", c.Def.Profile, m.FirstName, m.LastName, m.DateOfBirth, m.Email)
	writtenBy := func(what, extension string, written ...string) {
		if e, ok := c.Extension(extension); ok {
			mandatory(what, e.Attributes, written...)
		}
	}
	writtenBy("mapping.phone.extension", m.Phone.Extension, m.Phone.Number)
	writtenBy("mapping.custom_attributes.extension", m.CustomAttributes.Extension, m.CustomAttributes.Name, m.CustomAttributes.Value)
	// Not the legacy document: it is read, never written (an eGain write
	// drops it).
	writtenBy("mapping.customer", m.Customer, append(customerFields.names(), attrCreatedBy)...)
	writtenBy("mapping.contact_persons", m.ContactPersons, append(personFields.names(), attrPersonID)...)
	writtenBy("mapping.contact_points", m.ContactPoints, append(pointFields.names(), attrPointID, attrPersonID)...)
	writtenBy("mapping.contact_attributes", m.ContactAttributes, attrOwner, attrName, attrValue)
	key := func(what, name, source string, attrs ...string) {
		k, ok := c.Key(name)
		if !ok || !strings.EqualFold(k.Source, source) || !equalFold(k.Attributes, attrs) {
			fail("mapping.keys.%s: %q must be an identification key on %s%v", what, name, source, attrs)
		}
	}
	key("email", m.Keys.Email, "", m.Email)
	if len(m.Keys.Phone) == 0 {
		fail("mapping.keys.phone: at least one key is required")
	}
	for _, name := range m.Keys.Phone {
		if k, ok := c.Key(name); !ok || len(k.Attributes) != 1 {
			fail("mapping.keys.phone: %q must be an identification key on one attribute", name)
		}
	}
	key("custom", m.Keys.Custom, m.CustomAttributes.Extension, m.CustomAttributes.Name, m.CustomAttributes.Value)
	if k, ok := c.Key(m.Keys.Activity); !ok || !equalFold(k.Attributes, activityKeyAttributes) {
		fail("mapping.keys.activity: %q must be an identification key on %v", m.Keys.Activity, activityKeyAttributes)
	}
	return errors.Join(problems...) // each names its key (egain.mapping.…), for config.Problems
}

// activityKeyAttributes is the attribute order the activity search relies on.
var activityKeyAttributes = []string{"type", "isRead", "isSecure", "mode", "sentDate"}

func equalFold(a, b []string) bool { return slices.EqualFunc(a, b, strings.EqualFold) }

// sameNames reports whether a and b hold the same names in any order.
func sameNames(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(b, func(n string) bool {
		return !slices.ContainsFunc(a, func(m string) bool { return strings.EqualFold(m, n) })
	})
}

// extensions are the extensions every read of a customer needs.
func (m mapper) extensions() []string {
	return []string{m.Phone.Extension, m.CustomAttributes.Extension, m.Customer, m.ContactPersons, m.ContactPoints, m.ContactAttributes}
}

// customerOf reads profile p as an eGain customer with local (per-customer)
// contact ids: the stored records, with contact person 1's names and date
// of birth taken from the core attributes and the e-mail and phone points
// made to match the e-mail attribute and phone records, so Genesys writes
// are seen. A date of birth a Genesys client wrote on person 1's record
// shows while the core attribute has none (the next eGain write moves it
// there).
func (m mapper) customerOf(p *profile.Profile) Customer {
	c := m.stored(p)
	first, last, dob := attrString(p.Attributes, m.FirstName), attrString(p.Attributes, m.LastName), attrString(p.Attributes, m.DateOfBirth)
	emails := attrStrings(p.Attributes[m.Email])
	var phones []string
	for _, r := range p.Extensions[m.Phone.Extension] {
		if n := str(recordString(r, m.Phone.Number)); n != "" {
			phones = append(phones, n)
		}
	}
	personData := first != nil || last != nil || dob != nil || len(emails) > 0 || len(phones) > 0
	if len(c.ContactPersons) == 0 && (typeOf(&c) == TypeIndividual || personData) {
		c.ContactPersons = []ContactPerson{{}}
	}
	if len(c.ContactPersons) > 0 {
		p0 := &c.ContactPersons[0]
		p0.FirstName, p0.LastName = first, last
		if dob != nil {
			p0.DateOfBirth = Str(*dob + "T00:00:00.000Z")
		} else if m.DateOfBirth != "" {
			p0.DateOfBirth = recordBirthDate(p0.DateOfBirth)
		}
	}
	// The other persons' dates of birth show in the form person 1's does
	// (spec §1: ISO-8601 UTC with milliseconds), whatever form the client
	// sent; text that is no date shows as it is stored.
	for i := 1; i < len(c.ContactPersons); i++ {
		if d := recordBirthDate(c.ContactPersons[i].DateOfBirth); d != nil {
			c.ContactPersons[i].DateOfBirth = d
		}
	}
	overlayPoints(&c, kindEmail, emails, schema.Fold, func(v string) ContactPoint {
		return ContactPoint{Type: &ContactPointType{Value: Str(kindEmail), Email: &Email{EmailAddress: Str(v)}}}
	})
	overlayPoints(&c, kindPhone, phones, schema.Fold, func(v string) ContactPoint {
		return ContactPoint{Type: &ContactPointType{Value: Str(kindPhone), Phone: &Phone{Type: &Value{Value: Str("home")}, PhoneNo: Str(v)}}}
	})
	if d := c.Department; d != nil && str(d.Name) == "" && str(d.ID) != "" {
		_ = m.departments.resolve(d) // a configured id gives its name; another leaves it without
	}
	// The default only where no department is stored: an id that is not
	// configured (a Genesys client wrote it, or the config dropped it) is
	// shown as it is, not as the default one, which the next edit would
	// then store.
	if c.Department == nil || (str(c.Department.Name) == "" && str(c.Department.ID) == "") {
		c.Department = &Department{Name: Str(m.defaultDepartment)}
	}
	m.departments.withID(c.Department) // also for customers stored before departments had ids
	allocateIDs(&c, m.storedIDFloor(p))
	return c
}

// recordBirthDate is the date of birth a Genesys client wrote on person
// 1's record, as the core attribute shows one; nil for text that is no
// date (it could not move to the date-typed core attribute on the next
// eGain write, which would then be refused).
func recordBirthDate(s *string) *string {
	if s == nil {
		return nil
	}
	t, ok := parseBirthDate(*s)
	if !ok {
		return nil
	}
	return Str(t.Format(time.DateOnly) + "T00:00:00.000Z")
}

// undatedBirth is the dateOfBirth of person personID's stored record when
// it is text that is no date (recordBirthDate does not show it); nil
// otherwise.
func undatedBirth(persons []schema.Record, personID string) *string {
	for _, r := range persons {
		if str(recordString(r, attrPersonID)) != personID {
			continue
		}
		if text := recordString(r, "dateOfBirth"); text != nil && recordBirthDate(text) == nil {
			return text
		}
	}
	return nil
}

// stored builds the customer from its records, or from the JSON document
// of a customer not written since before 2026-12. A profile written only
// through the Genesys API is an individual customer. A document that is
// not a customer was written by a Genesys client (the facade wrote only
// customers, and a damaged record fails its checksum before this): it is
// not the facade's, and the customer is built from the records.
func (m mapper) stored(p *profile.Profile) Customer {
	var rec schema.Record
	if recs := p.Extensions[m.Customer]; len(recs) > 0 {
		rec = recs[0]
	}
	custom := m.customerAttributes(p.Extensions[m.CustomAttributes.Extension])
	if doc := recordString(rec, m.LegacyDocument); m.LegacyDocument != "" && doc != nil {
		if c, err := decodeStoredCustomer(*doc); err == nil {
			c.CustomAttributes = legacyCustom(c.CustomAttributes, custom)
			return *c
		}
	}
	var c Customer
	customerFields.fill(rec, reflect.ValueOf(&c).Elem())
	if id := recordString(rec, attrCreatedBy); str(id) != "" {
		c.CreatedBy = &UserRef{ID: id}
	}
	if c.Type == nil {
		c.Type = &CustomerType{Value: Str(TypeIndividual)}
	}
	c.CustomAttributes = custom
	owners := map[string]*[]CustomAttribute{}
	// Persons and points share one numbering: a number met twice (a
	// Genesys client wrote it) is renumbered, or owners would mix.
	taken := map[string]bool{}
	unique := func(id *string) *string {
		if id == nil || taken[*id] {
			return nil
		}
		taken[*id] = true
		return id
	}
	for _, r := range p.Extensions[m.ContactPersons] {
		var person ContactPerson
		personFields.fill(r, reflect.ValueOf(&person).Elem())
		person.ID = unique(localIDOf(r, attrPersonID))
		c.ContactPersons = append(c.ContactPersons, person)
	}
	for _, r := range p.Extensions[m.ContactPoints] {
		var pt ContactPoint
		pointFields.fill(r, reflect.ValueOf(&pt).Elem())
		pt.ID = unique(localIDOf(r, attrPointID))
		owner := personOf(&c, str(localIDOf(r, attrPersonID)))
		owner.ContactPoints = append(owner.ContactPoints, pt)
	}
	// Contact attributes attach by owner id once every person and point
	// sits at its final address.
	for i := range c.ContactPersons {
		person := &c.ContactPersons[i]
		if person.ID != nil {
			owners[*person.ID] = &person.CustomAttributes
		}
		for j := range person.ContactPoints {
			if pt := &person.ContactPoints[j]; pt.ID != nil {
				owners[*pt.ID] = &pt.CustomAttributes
			}
		}
	}
	for _, r := range p.Extensions[m.ContactAttributes] {
		if dst := owners[str(recordString(r, attrOwner))]; dst != nil {
			*dst = appendValue(*dst, recordString(r, attrName), recordString(r, attrValue))
		}
	}
	return c
}

// legacyCustom merges a legacy document's customer-level custom attributes
// into those of the records, which held only an attribute's first value
// then: an attribute whose one value is still the document's first keeps
// the document's further values.
func legacyCustom(doc, records []CustomAttribute) []CustomAttribute {
	for i, r := range records {
		for _, d := range doc {
			if len(r.AttribValues) == 1 && len(d.AttribValues) > 1 && str(d.AttribName) == str(r.AttribName) &&
				str(d.AttribValues[0].Value) == str(r.AttribValues[0].Value) {
				records[i].AttribValues = d.AttribValues
			}
		}
	}
	return records
}

// personOf is the contact person with local id, or the first person (made
// when there is none) for a point written without a known person.
func personOf(c *Customer, id string) *ContactPerson {
	for i := range c.ContactPersons {
		if id != "" && str(c.ContactPersons[i].ID) == id {
			return &c.ContactPersons[i]
		}
	}
	if len(c.ContactPersons) == 0 {
		c.ContactPersons = []ContactPerson{{}}
	}
	return &c.ContactPersons[0]
}

// maxStoredID bounds the person and point numbers taken from records: a
// Genesys client may write any, and new ones are numbered after the
// largest, which must stay below idSpan (another customer's ids).
const maxStoredID = idSpan / 2

// localIDOf reads a record's person or point number; one that is not a
// number the id scheme can carry in canonical form (a Genesys client chose
// it: "abc", "0007", 999999) is treated as absent and renumbered by
// allocateIDs.
func localIDOf(r schema.Record, attr string) *string {
	s := recordString(r, attr)
	if n, err := strconv.ParseUint(str(s), 10, 64); err != nil || n == 0 || n >= maxStoredID || strconv.FormatUint(n, 10) != *s {
		return nil
	}
	return s
}

// customerAttributes groups the customer-level custom attribute records,
// one per value, into attributes in the order first seen.
func (m mapper) customerAttributes(recs []schema.Record) []CustomAttribute {
	var out []CustomAttribute
	for _, r := range recs {
		out = appendValue(out, recordString(r, m.CustomAttributes.Name), recordString(r, m.CustomAttributes.Value))
	}
	return out
}

// appendValue adds value to the attribute called name (added when new;
// names in another case are one name, as indexOfAttribute finds them, shown
// as first seen).
func appendValue(attrs []CustomAttribute, name, value *string) []CustomAttribute {
	if name == nil {
		return attrs
	}
	i := indexOfAttribute(attrs, *name)
	if i < 0 {
		attrs = append(attrs, CustomAttribute{AttribName: name})
		i = len(attrs) - 1
	}
	if value != nil {
		attrs[i].AttribValues = append(attrs[i].AttribValues, AttribValue{Value: value})
	}
	return attrs
}

func typeOf(c *Customer) string {
	return val(c.Type, func(t *CustomerType) *string { return t.Value })
}

func pointKind(p *ContactPoint) string {
	return val(p.Type, func(t *ContactPointType) *string { return t.Value })
}

// pointValue is the mapped value of a point: e-mail address or phone number.
func pointValue(p *ContactPoint) string {
	if p.Type == nil {
		return ""
	}
	switch pointKind(p) {
	case kindEmail:
		return val(p.Type.Email, func(e *Email) *string { return e.EmailAddress })
	case kindPhone:
		return val(p.Type.Phone, func(ph *Phone) *string { return ph.PhoneNo })
	}
	return ""
}

// withPointValue is pt (an e-mail or phone point) holding value v instead;
// pt's own structures are not changed (they may be shared).
func withPointValue(pt ContactPoint, v string) ContactPoint {
	typ := *pt.Type
	switch pointKind(&pt) {
	case kindEmail:
		var e Email
		if typ.Email != nil {
			e = *typ.Email
		}
		e.EmailAddress = Str(v)
		typ.Email = &e
	case kindPhone:
		var ph Phone
		if typ.Phone != nil {
			ph = *typ.Phone
		}
		ph.PhoneNo = Str(v)
		typ.Phone = &ph
	}
	pt.Type = &typ
	return pt
}

// overlayPoints makes the points of kind match values, the profile's list
// (what identification reads, so what a search finds is what a read shows):
// a point holding one of the values keeps its place (and id, priority,
// custom attributes), even when another point holds the same value (two
// persons sharing an office phone); other points of the kind are dropped; a
// value no point holds becomes a new point of the first contact person. A
// point matching a value under norm (an e-mail address in another case:
// schema.Fold, as the e-mail index and emailAddresses compare them, so a
// point the index takes for a stored address is that address here too)
// shows the value as the profile spells it: a read written back must not
// undo a Genesys client's change of case.
func overlayPoints(c *Customer, kind string, values []string, norm func(string) string, newPoint func(string) ContactPoint) {
	want := map[string][]string{} // normalised value -> the profile's spellings, in order
	for _, v := range values {
		if n := norm(v); !slices.Contains(want[n], v) {
			want[n] = append(want[n], v)
		}
	}
	// A point keeps its own spelling when the profile holds it: two
	// addresses an earlier release told apart (ß and ss) stay two points,
	// not one address shown twice. Another point of the same normalised
	// value shows a spelling no point holds (one a Genesys client
	// re-cased), else the first.
	claimed := map[string]bool{}
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			if pointKind(&pt) == kind && slices.Contains(want[norm(pointValue(&pt))], pointValue(&pt)) {
				claimed[pointValue(&pt)] = true
			}
		}
	}
	have := map[string]bool{}
	for i := range c.ContactPersons {
		person := &c.ContactPersons[i]
		kept := person.ContactPoints[:0]
		for _, pt := range person.ContactPoints {
			if pointKind(&pt) == kind {
				v := norm(pointValue(&pt))
				spellings, ok := want[v]
				if !ok {
					continue
				}
				have[v] = true
				if !slices.Contains(spellings, pointValue(&pt)) {
					spelling := spellings[0]
					for _, s := range spellings {
						if !claimed[s] {
							spelling = s
							break
						}
					}
					claimed[spelling] = true
					pt = withPointValue(pt, spelling)
				}
			}
			kept = append(kept, pt)
		}
		person.ContactPoints = kept
	}
	for _, v := range values {
		if !have[norm(v)] {
			have[norm(v)] = true
			c.ContactPersons[0].ContactPoints = append(c.ContactPersons[0].ContactPoints, newPoint(v))
		}
	}
}

// allocateIDs gives every contact person and point without an id the next
// free sequence number above floor and every id c holds, in document
// order, so ids are deterministic. floor is the highest id the stored
// records hold (storedIDFloor), shown or not: a new point must not take
// the number of one the view hides.
func allocateIDs(c *Customer, floor uint64) {
	next := floor
	each := func(f func(id **string)) {
		for i := range c.ContactPersons {
			person := &c.ContactPersons[i]
			f(&person.ID)
			for j := range person.ContactPoints {
				f(&person.ContactPoints[j].ID)
			}
		}
	}
	each(func(id **string) {
		if *id != nil {
			n, _ := strconv.ParseUint(**id, 10, 64)
			next = max(next, n)
		}
	})
	each(func(id **string) {
		if *id == nil {
			next++
			*id = Str(strconv.FormatUint(next, 10))
		}
	})
}

// externalID turns a local sequence number into the id clients see.
func externalID(num uint64, local string) string {
	seq, _ := strconv.ParseUint(local, 10, 64)
	return strconv.FormatUint(num*idSpan+seq, 10)
}

// localID maps a client's contact id back to the sequence number stored in
// customer num's document; ok is false when it is not one of num's ids.
func localID(num uint64, external string) (string, bool) {
	n, err := strconv.ParseUint(external, 10, 64)
	if err != nil || n/idSpan != num || n%idSpan == 0 {
		return "", false
	}
	return strconv.FormatUint(n%idSpan, 10), true
}

// individualName is the name clients see for an individual customer (its
// person's), or "" for any other.
func individualName(c *Customer) string {
	if typeOf(c) != TypeIndividual || len(c.ContactPersons) == 0 {
		return ""
	}
	p0 := c.ContactPersons[0]
	return strings.TrimSpace(str(p0.FirstName) + " " + str(p0.LastName))
}

// publish turns a local customer into what clients see: numeric id, output
// fields, external contact ids.
func publish(c *Customer, p *profile.Profile) {
	c.ID = Str(strconv.FormatUint(p.Num, 10))
	c.Created = Str(formatTime(p.Created))
	c.LastModified = &LastModified{Date: Str(formatTime(p.Updated))}
	typ := typeOf(c)
	if typ != "" {
		c.Type.DisplayValue = Str(strings.ToUpper(typ[:1]) + typ[1:])
	}
	if name := individualName(c); name != "" {
		c.CustomerName = Str(name)
	}
	for i := range c.ContactPersons {
		person := &c.ContactPersons[i]
		person.ID = Str(externalID(p.Num, str(person.ID)))
		for j := range person.ContactPoints {
			pt := &person.ContactPoints[j]
			pt.ID = Str(externalID(p.Num, str(pt.ID)))
		}
	}
}

// editBase is what an edit's write keeps of the stored customer.
type editBase struct {
	profile *profile.Profile
	// renamedPhones maps a phone number the edit gave an existing point to
	// the number it replaced, so the stored record of the old number
	// (prefix, description and other attributes a Genesys client wrote)
	// moves with the point.
	renamedPhones map[string]string
	// emailsBefore maps the local id of each e-mail point the stored
	// customer's view showed to its address, so an address the edit gives
	// a point takes the stored place of the one it replaces.
	emailsBefore map[string]string
	// shownPoints holds the local ids of the contact points the stored
	// customer's view showed before the edit (pointIDs).
	shownPoints map[string]bool
}

// hiddenPoints are the stored contact point records the view did not show
// (an e-mail point whose address is not in the e-mail attribute, a phone
// point without its phone record: identification data wins on read),
// by local id. A write that could not see them keeps them as they are.
func (m mapper) hiddenPoints(e *editBase) map[string]schema.Record {
	hidden := map[string]schema.Record{}
	if e == nil {
		return hidden
	}
	// A point numbered as a person (a Genesys client numbered both from
	// 1) was renumbered by the view (stored), so its number says nothing
	// of whether it was shown: it is written under its new number or, if
	// hidden, dropped as before.
	persons := map[string]bool{}
	for _, r := range e.profile.Extensions[m.ContactPersons] {
		if id := localIDOf(r, attrPersonID); id != nil {
			persons[*id] = true
		}
	}
	for _, r := range e.profile.Extensions[m.ContactPoints] {
		if id := localIDOf(r, attrPointID); id != nil && !e.shownPoints[*id] && !persons[*id] {
			hidden[*id] = r
		}
	}
	return hidden
}

// pointValues is the set of valueKeys of c's contact points.
func pointValues(c *Customer) map[string]bool {
	out := map[string]bool{}
	for _, person := range c.ContactPersons {
		for i := range person.ContactPoints {
			if k := valueKey(&person.ContactPoints[i]); k != "" {
				out[k] = true
			}
		}
	}
	return out
}

// pointRecordValue is the valueKey of a stored point record.
func pointRecordValue(r schema.Record) string {
	var pt ContactPoint
	pointFields.fill(r, reflect.ValueOf(&pt).Elem())
	return valueKey(&pt)
}

// valueKey is an e-mail point's address (schema.Fold, as the view's
// overlay and emailAddresses compare them) or a phone point's
// number, prefixed by its kind; "" for a point of another kind.
func valueKey(pt *ContactPoint) string {
	switch kind := pointKind(pt); kind {
	case kindEmail:
		return kind + " " + schema.Fold(pointValue(pt))
	case kindPhone:
		return kind + " " + pointValue(pt)
	}
	return ""
}

// pointIDs is the set of the local ids of c's contact points.
func pointIDs(c *Customer) map[string]bool {
	ids := map[string]bool{}
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			if pt.ID != nil {
				ids[*pt.ID] = true
			}
		}
	}
	return ids
}

// storedIDFloor is the highest local id p's contact person and point
// records hold.
func (m mapper) storedIDFloor(p *profile.Profile) uint64 {
	var floor uint64
	raise := func(id *string) {
		if id != nil {
			n, _ := strconv.ParseUint(*id, 10, 64)
			floor = max(floor, n)
		}
	}
	for _, r := range p.Extensions[m.ContactPersons] {
		raise(localIDOf(r, attrPersonID))
	}
	for _, r := range p.Extensions[m.ContactPoints] {
		raise(localIDOf(r, attrPointID))
	}
	return floor
}

// profileBody is the profile write for customer c (local ids): the mapped
// core attributes and records of every mapped extension. edited, the stored
// profile on an edit (nil on create), supplies the core attributes and phone record fields
// eGain does not carry, so an eGain write never erases what the Genesys API
// wrote. The customer record is written whole, which drops a legacy
// document.
func (m mapper) profileBody(c *Customer, edited *editBase, keepCreator bool) (map[string]any, error) {
	body := map[string]any{}
	var base *profile.Profile
	var baseRecords map[string][]schema.Record
	var renamed map[string]string
	if edited != nil {
		base, renamed = edited.profile, edited.renamedPhones
		maps.Copy(body, base.Attributes)
		baseRecords = base.Extensions
	}
	var first ContactPerson
	if len(c.ContactPersons) > 0 {
		first = c.ContactPersons[0]
	}
	setAttr(body, m.FirstName, first.FirstName)
	setAttr(body, m.LastName, first.LastName)
	setAttr(body, m.DateOfBirth, first.DateOfBirth)
	stored, _ := body[m.Email].([]any) // the stored addresses, on an edit
	emails, err := emailAddresses(c, stored)
	if err != nil {
		return nil, err
	}
	if edited != nil {
		emails = inStoredOrder(emails, stored, edited.emailsBefore, c)
	}
	delete(body, m.Email)
	if len(emails) > 0 {
		body[m.Email] = emails
	}
	body[m.Phone.Extension] = m.phoneRecords(c, baseRecords[m.Phone.Extension], renamed)
	customer := *c
	customer.CustomAttributes, customer.ContactPersons = nil, nil
	rec := customerFields.record(reflect.ValueOf(customer))
	if keepCreator && c.CreatedBy != nil && str(c.CreatedBy.ID) != "" {
		rec[attrCreatedBy] = *c.CreatedBy.ID
	}
	body[m.Customer] = rec
	custom, persons, points, contactAttrs := []any{}, []any{}, []any{}, []any{}
	custom = appendValueRecords(custom, c.CustomAttributes, func(name, value string) map[string]any {
		rec := map[string]any{m.CustomAttributes.Name: name}
		if value != "" {
			rec[m.CustomAttributes.Value] = value
		}
		return rec
	})
	for i, person := range c.ContactPersons {
		personID := str(person.ID)
		if i == 0 && m.DateOfBirth != "" {
			// Its home is the core attribute, set above. Text a Genesys
			// client wrote on the record that is no date stays there: it is
			// not shown, and the core attribute could not take it.
			person.DateOfBirth = nil
			if first.DateOfBirth == nil {
				person.DateOfBirth = undatedBirth(baseRecords[m.ContactPersons], personID)
			}
		}
		rec := personFields.record(reflect.ValueOf(person))
		rec[attrPersonID] = personID
		persons = append(persons, rec)
		contactAttrs = appendValueRecords(contactAttrs, person.CustomAttributes, ownedBy(personID))
		for _, pt := range person.ContactPoints {
			rec := pointFields.record(reflect.ValueOf(pt))
			rec[attrPointID], rec[attrPersonID] = str(pt.ID), personID
			points = append(points, rec)
			contactAttrs = appendValueRecords(contactAttrs, pt.CustomAttributes, ownedBy(str(pt.ID)))
		}
	}
	hidden := m.hiddenPoints(edited)
	written := pointIDs(c)
	values := pointValues(c)
	kept := map[string]schema.Record{}
	for _, id := range slices.Sorted(maps.Keys(hidden)) {
		// A hidden point whose address or number the customer now holds
		// again would show beside the point that holds it (an e-mail
		// address twice is refused on every later edit, 400-107).
		if r := hidden[id]; !written[id] && !values[pointRecordValue(r)] {
			kept[id] = r
			points = append(points, map[string]any(r))
		}
	}
	contactAttrs = m.withUnownedAttributes(contactAttrs, base, kept)
	body[m.CustomAttributes.Extension] = custom
	body[m.ContactPersons] = persons
	body[m.ContactPoints] = points
	body[m.ContactAttributes] = contactAttrs
	phones := body[m.Phone.Extension].([]any)
	// The profile's own limits, checked here to answer in eGain's terms
	// (400-105, eGain names) rather than with the profile's attribute names.
	for _, n := range []struct {
		field, what string
		count, max  int
	}{
		{"emailAddress", "e-mail addresses", len(emails), schema.MaxValuesPerAttribute},
		{"phoneNo", "distinct phone numbers", len(phones), schema.MaxRecordsPerWrite},
		{"contactPersons.contactPerson", "contact persons", len(persons), schema.MaxRecordsPerWrite},
		{"contactPoints.contactPoint", "contact points", len(points), schema.MaxRecordsPerWrite},
		{"customAttributes.customAttribute", "custom attribute values", len(custom), schema.MaxRecordsPerWrite},
		{"contactPersons.contactPerson.customAttributes.customAttribute", "custom attribute values of contact persons and points", len(contactAttrs), schema.MaxRecordsPerWrite},
	} {
		if n.count > n.max {
			return nil, errs.Invalid(CodeLimitExceeded, n.field, "a customer has at most %d %s; this one would have %d", n.max, n.what, n.count)
		}
	}
	if base != nil {
		// Replace leaves the extensions a body does not name as they are:
		// those whose records the edit did not change are left out, so the
		// write, and its audit entry, covers what changed.
		for _, ext := range []string{m.Phone.Extension, m.CustomAttributes.Extension, m.Customer, m.ContactPersons, m.ContactPoints, m.ContactAttributes} {
			if sameRecords(body[ext], base.Extensions[ext]) {
				delete(body, ext)
			}
		}
	}
	return body, nil
}

// sameRecords reports whether the records of a body (a list of records, or
// one record of a single-valued extension) are stored as they are, in order.
func sameRecords(written any, stored []schema.Record) bool {
	var list []any
	switch w := written.(type) {
	case []any:
		list = w
	case map[string]any:
		list = []any{w}
	default:
		return false
	}
	if len(list) != len(stored) {
		return false
	}
	for i, r := range list {
		if rec, ok := r.(map[string]any); !ok || !reflect.DeepEqual(rec, map[string]any(stored[i])) {
			return false
		}
	}
	return true
}

// withUnownedAttributes appends to recs (contact attribute records) those
// of base (the stored profile, nil on create) whose owner was no stored
// contact person or point, or a hidden point: a Genesys client wrote them
// for an owner the eGain view did not show, so a write that could not see
// them keeps them as they are (unless recs holds the same record).
func (m mapper) withUnownedAttributes(recs []any, base *profile.Profile, hidden map[string]schema.Record) []any {
	if base == nil {
		return recs
	}
	owners := map[string]bool{}
	for _, r := range base.Extensions[m.ContactPersons] {
		owners[str(localIDOf(r, attrPersonID))] = true
	}
	for _, r := range base.Extensions[m.ContactPoints] {
		if id := str(localIDOf(r, attrPointID)); hidden[id] == nil {
			owners[id] = true
		}
	}
	key := func(r schema.Record) [3]string {
		return [3]string{str(recordString(r, attrOwner)), str(recordString(r, attrName)), str(recordString(r, attrValue))}
	}
	have := map[[3]string]bool{}
	for _, r := range recs {
		have[key(r.(map[string]any))] = true
	}
	for _, r := range base.Extensions[m.ContactAttributes] {
		if owner := str(recordString(r, attrOwner)); (owner == "" || !owners[owner]) && !have[key(r)] {
			recs = append(recs, r)
		}
	}
	return recs
}

// appendValueRecords appends one record per value of each custom attribute
// (one without a value for an attribute that has none), dropping a value
// repeated within an attribute: the records are unique on name and value.
func appendValueRecords(out []any, attrs []CustomAttribute, record func(name, value string) map[string]any) []any {
	for _, a := range attrs {
		name := str(a.AttribName)
		if len(a.AttribValues) == 0 {
			out = append(out, record(name, ""))
		}
		seen := map[string]bool{}
		for _, v := range a.AttribValues {
			// Values the unique key takes for one (schema.Fold, as the
			// custom and contact attribute records compare them) are one
			// value, as an exact repeat is.
			if k := schema.Fold(str(v.Value)); !seen[k] {
				seen[k] = true
				out = append(out, record(name, str(v.Value)))
			}
		}
	}
	return out
}

// ownedBy makes contact attribute records of the person or point with local id.
func ownedBy(id string) func(name, value string) map[string]any {
	return func(name, value string) map[string]any {
		rec := map[string]any{attrOwner: id, attrName: name}
		if value != "" {
			rec[attrValue] = value
		}
		return rec
	}
}

func setAttr(body map[string]any, name string, v *string) {
	if v == nil || *v == "" {
		delete(body, name)
		return
	}
	body[name] = *v
}

// emailAddresses lists every e-mail point's address in order, refusing an
// address given twice (spec §3.3: an address belongs to one point).
func emailAddresses(c *Customer, stored []any) ([]any, error) {
	var out []any
	seen := map[string][]string{} // folded address -> the spellings sent so far
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			if pointKind(&pt) != kindEmail {
				continue
			}
			addr := pointValue(&pt)
			folded := schema.Fold(addr)
			// As the e-mail index tells addresses apart; but spellings the
			// customer holds already (an earlier release lower-cased
			// instead of folding, and took ß and ss for two) stay, each
			// once, and only beside one another.
			if prev := seen[folded]; len(prev) > 0 && !heldApart(stored, prev, addr) {
				return nil, duplicateEmail(addr)
			}
			seen[folded] = append(seen[folded], addr)
			out = append(out, addr)
		}
	}
	return out, nil
}

// heldApart reports whether addr, sent after prev (addresses that fold as
// it does), is a spelling stored beside them: addr and every one of prev
// are stored, and addr is not one of prev.
func heldApart(stored []any, prev []string, addr string) bool {
	if slices.Contains(prev, addr) || !slices.Contains(stored, any(addr)) {
		return false
	}
	for _, p := range prev {
		if !slices.Contains(stored, any(p)) {
			return false
		}
	}
	return true
}

func duplicateEmail(addr string) *errs.Error {
	return errs.Invalid(CodeDuplicateEmail, "emailAddress", "e-mail address %q already belongs to a contact point", addr)
}

// phoneRecords builds one record per phone number (the extension allows a
// number once per customer, eGain on several points), starting from the
// stored record with the same number so its other attributes survive.
func (m mapper) phoneRecords(c *Customer, base []schema.Record, renamed map[string]string) []any {
	out := []any{}
	seen := map[string]bool{}
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			number := pointValue(&pt)
			// One record per number as the extension's unique key compares
			// numbers (schema.Fold): two points whose numbers differ in
			// case share it, as two points with one number do.
			if pointKind(&pt) != kindPhone || seen[schema.Fold(number)] {
				continue
			}
			seen[schema.Fold(number)] = true
			rec := map[string]any{}
			for _, b := range base {
				if str(recordString(b, m.Phone.Number)) == number {
					maps.Copy(rec, b)
				}
			}
			if old, ok := renamed[number]; ok && len(rec) == 0 {
				for _, b := range base {
					if str(recordString(b, m.Phone.Number)) == old {
						maps.Copy(rec, b)
					}
				}
			}
			rec[m.Phone.Number] = number
			out = append(out, rec)
		}
	}
	return out
}

// inStoredOrder puts emails (an edited customer's addresses, in contact
// point order) in the order the stored attribute holds them: its first is
// the primary address (Genesys spec §2.1), which a Genesys client may have
// chosen, and an edit must not choose another for it. An address an edit
// gave a point takes the place of the stored address it replaced (before:
// valuesByPoint of the stored customer); other new addresses follow the
// stored ones, in point order.
func inStoredOrder(emails, stored []any, before map[string]string, c *Customer) []any {
	place := map[string]int{}
	for i, a := range stored {
		if s, ok := a.(string); ok {
			if _, dup := place[s]; !dup {
				place[s] = i
			}
		}
	}
	kept := map[string]bool{}
	for _, a := range emails {
		kept[a.(string)] = true
	}
	for id, addr := range valuesByPoint(c, kindEmail) {
		old, ok := before[id]
		if _, stays := place[addr]; !ok || stays || kept[old] {
			continue
		}
		if i, held := place[old]; held {
			place[addr] = i
		}
	}
	key := func(a any) int {
		if i, ok := place[a.(string)]; ok {
			return i
		}
		return len(stored)
	}
	out := slices.Clone(emails)
	slices.SortStableFunc(out, func(a, b any) int { return key(a) - key(b) })
	return out
}

// valuesByPoint maps the id of each point of kind (kindEmail, kindPhone)
// of c to its value (address, number).
func valuesByPoint(c *Customer, kind string) map[string]string {
	out := map[string]string{}
	for _, person := range c.ContactPersons {
		for i := range person.ContactPoints {
			if pt := &person.ContactPoints[i]; pointKind(pt) == kind && str(pt.ID) != "" {
				out[str(pt.ID)] = pointValue(pt)
			}
		}
	}
	return out
}

// renamedPhones maps each number an edit gave a phone point of c to the
// number the point had before (before: valuesByPoint of the stored
// customer), where no point of c keeps the old number.
func renamedPhones(before map[string]string, c *Customer) map[string]string {
	after := valuesByPoint(c, kindPhone)
	kept := map[string]bool{}
	for _, n := range after {
		kept[n] = true
	}
	out := map[string]string{}
	for id, n := range after {
		if old, ok := before[id]; ok && old != n && !kept[old] {
			out[n] = old
		}
	}
	return out
}

func attrString(attrs map[string]any, name string) *string {
	if s, ok := attrs[name].(string); ok && s != "" {
		return &s
	}
	return nil
}

func attrStrings(v any) []string {
	var out []string
	for _, item := range asList(v) {
		if s, ok := item.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// recordString reads a string attribute of a record (names as the schema
// spells them; records are stored canonical). The name as given is looked
// up first: walking every attribute with EqualFold for each of the dozen
// reads of a customer's records was a sixth of customerOf.
func recordString(r schema.Record, name string) *string {
	if s, ok := r[name].(string); ok {
		return &s
	}
	for k, v := range r {
		if strings.EqualFold(k, name) {
			if s, ok := v.(string); ok {
				return &s
			}
		}
	}
	return nil
}

// formatTime renders t for the facade.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
