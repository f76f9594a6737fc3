package egain

import (
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
}

// checkMapping refuses a mapping that does not fit schema c.
func CheckMapping(m config.EGainMapping, c *schema.Compiled) error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
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
	ext := func(what string, r config.EGainRecordMapping, kind schema.ExtensionKind, attrs ...string) {
		e, ok := c.Extension(r.Extension)
		if !ok || e.Kind != kind {
			fail("mapping.%s.extension: %q must be a %s extension", what, r.Extension, kind)
			return
		}
		for _, name := range attrs {
			if a, ok := e.Attribute(name); !ok || a.Type != schema.TypeString {
				fail("mapping.%s: %q must be a string attribute of extension %q", what, name, e.Name)
			}
		}
	}
	ext("phone", m.Phone, schema.MultiValued, m.Phone.Number)
	ext("custom_attributes", m.CustomAttributes, schema.MultiValued, m.CustomAttributes.Name, m.CustomAttributes.Value)
	ext("document", m.Document, schema.SingleValued, m.Document.Attribute)
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
	if len(problems) > 0 {
		return fmt.Errorf("egain: %s", strings.Join(problems, "; "))
	}
	return nil
}

// activityKeyAttributes is the attribute order the activity search relies on.
var activityKeyAttributes = []string{"type", "isRead", "isSecure", "mode", "sentDate"}

func equalFold(a, b []string) bool { return slices.EqualFunc(a, b, strings.EqualFold) }

// extensions are the extensions every read of a customer needs.
func (m mapper) extensions() []string {
	return []string{m.Phone.Extension, m.CustomAttributes.Extension, m.Document.Extension}
}

// customerOf reads profile p as an eGain customer with local (per-customer)
// contact ids: the stored document overlaid with the mapped profile data,
// which wins, so Genesys writes are seen.
func (m mapper) customerOf(p *profile.Profile) (Customer, error) {
	c, err := m.document(p)
	if err != nil {
		return c, err
	}
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
		p0.FirstName, p0.LastName, p0.DateOfBirth = first, last, nil
		if dob != nil {
			p0.DateOfBirth = Str(*dob + "T00:00:00.000Z")
		}
	}
	overlayPoints(&c, kindEmail, emails, strings.ToLower, func(v string) ContactPoint {
		return ContactPoint{Type: &ContactPointType{Value: Str(kindEmail), Email: &Email{EmailAddress: Str(v)}}}
	})
	overlayPoints(&c, kindPhone, phones, func(s string) string { return s }, func(v string) ContactPoint {
		return ContactPoint{Type: &ContactPointType{Value: Str(kindPhone), Phone: &Phone{Type: &Value{Value: Str("home")}, PhoneNo: Str(v)}}}
	})
	c.CustomAttributes = m.overlayCustom(c.CustomAttributes, p.Extensions[m.CustomAttributes.Extension])
	if c.Department == nil || str(c.Department.Name) == "" {
		c.Department = &Department{Name: Str(m.defaultDepartment)}
	}
	allocateIDs(&c)
	return c, nil
}

// document decodes the stored eGain document, or starts an individual
// customer for a profile written only through the Genesys API.
func (m mapper) document(p *profile.Profile) (Customer, error) {
	recs := p.Extensions[m.Document.Extension]
	if len(recs) == 0 {
		return Customer{Type: &CustomerType{Value: Str(TypeIndividual)}}, nil
	}
	doc := recordString(recs[0], m.Document.Attribute)
	if doc == nil {
		return Customer{Type: &CustomerType{Value: Str(TypeIndividual)}}, nil
	}
	c, err := decodeStoredCustomer(*doc)
	if err != nil {
		return Customer{}, fmt.Errorf("egain: customer %s: stored document: %w", p.ID, err)
	}
	return *c, nil
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

// overlayPoints makes the points of kind match values, the profile's list:
// a point holding one of the values keeps its place (and id, priority,
// custom attributes), even when another point holds the same value (two
// persons sharing an office phone); other points of the kind are dropped; a
// value no point holds becomes a new point of the first contact person.
func overlayPoints(c *Customer, kind string, values []string, norm func(string) string, newPoint func(string) ContactPoint) {
	want := map[string]bool{}
	for _, v := range values {
		want[norm(v)] = true
	}
	have := map[string]bool{}
	for i := range c.ContactPersons {
		person := &c.ContactPersons[i]
		kept := person.ContactPoints[:0]
		for _, pt := range person.ContactPoints {
			if pointKind(&pt) == kind {
				v := norm(pointValue(&pt))
				if !want[v] {
					continue
				}
				have[v] = true
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

// overlayCustom rebuilds the customer-level custom attributes from their
// records, keeping the document's values of an attribute whose first value
// the record still holds (a record stores only the first value).
func (m mapper) overlayCustom(doc []CustomAttribute, recs []schema.Record) []CustomAttribute {
	var out []CustomAttribute
	for _, r := range recs {
		name, value := recordString(r, m.CustomAttributes.Name), recordString(r, m.CustomAttributes.Value)
		if name == nil {
			continue
		}
		attr := CustomAttribute{AttribName: name}
		if value != nil {
			attr.AttribValues = []AttribValue{{Value: value}}
		}
		for _, d := range doc {
			if str(d.AttribName) == *name && str(firstValue(d)) == str(value) {
				attr.AttribValues = d.AttribValues
			}
		}
		out = append(out, attr)
	}
	return out
}

func firstValue(a CustomAttribute) *string {
	if len(a.AttribValues) == 0 {
		return nil
	}
	return a.AttribValues[0].Value
}

// allocateIDs gives every contact person and point without an id the next
// free sequence number, in document order, so ids are deterministic.
func allocateIDs(c *Customer) {
	var next uint64
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
	if typ == TypeIndividual && len(c.ContactPersons) > 0 {
		p0 := c.ContactPersons[0]
		if name := strings.TrimSpace(str(p0.FirstName) + " " + str(p0.LastName)); name != "" {
			c.CustomerName = Str(name)
		}
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

// profileBody is the profile write for customer c (local ids): the mapped
// fields plus the document. base, the stored profile on an edit, supplies
// the core attributes and phone record fields eGain does not carry, so an
// eGain write never erases what the Genesys API wrote.
func (m mapper) profileBody(c *Customer, base *profile.Profile) (map[string]any, error) {
	body := map[string]any{}
	var baseRecords map[string][]schema.Record
	if base != nil {
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
	emails, err := emailAddresses(c)
	if err != nil {
		return nil, err
	}
	delete(body, m.Email)
	if len(emails) > 0 {
		body[m.Email] = emails
	}
	body[m.Phone.Extension] = m.phoneRecords(c, baseRecords[m.Phone.Extension])
	body[m.CustomAttributes.Extension] = m.customRecords(c)
	body[m.Document.Extension] = map[string]any{m.Document.Attribute: documentJSON(c)}
	return body, nil
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
func emailAddresses(c *Customer) ([]any, error) {
	var out []any
	seen := map[string]bool{}
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			if pointKind(&pt) != kindEmail {
				continue
			}
			addr := pointValue(&pt)
			if seen[strings.ToLower(addr)] {
				return nil, duplicateEmail(addr)
			}
			seen[strings.ToLower(addr)] = true
			out = append(out, addr)
		}
	}
	return out, nil
}

func duplicateEmail(addr string) *errs.Error {
	return errs.Invalid(CodeDuplicateEmail, "emailAddress", "e-mail address %q already belongs to a contact point", addr)
}

// phoneRecords builds one record per phone number (the extension allows a
// number once per customer, eGain on several points), starting from the
// stored record with the same number so its other attributes survive.
func (m mapper) phoneRecords(c *Customer, base []schema.Record) []any {
	out := []any{}
	seen := map[string]bool{}
	for _, person := range c.ContactPersons {
		for _, pt := range person.ContactPoints {
			number := pointValue(&pt)
			if pointKind(&pt) != kindPhone || seen[number] {
				continue
			}
			seen[number] = true
			rec := map[string]any{}
			for _, b := range base {
				if str(recordString(b, m.Phone.Number)) == number {
					maps.Copy(rec, b)
				}
			}
			rec[m.Phone.Number] = number
			out = append(out, rec)
		}
	}
	return out
}

// customRecords stores each customer-level custom attribute's first value.
func (m mapper) customRecords(c *Customer) []any {
	out := []any{}
	for _, a := range c.CustomAttributes {
		rec := map[string]any{m.CustomAttributes.Name: str(a.AttribName)}
		if v := firstValue(a); v != nil && *v != "" {
			rec[m.CustomAttributes.Value] = *v
		}
		out = append(out, rec)
	}
	return out
}

// documentJSON is the stored form of c: everything but the output fields,
// which are derived on every read.
func documentJSON(c *Customer) string {
	d := *c
	d.ID, d.Link, d.Cases, d.Created, d.CreatedBy, d.LastModified = nil, nil, nil, nil, nil, nil
	if d.Type != nil {
		t := *d.Type
		t.DisplayValue = nil
		d.Type = &t
	}
	var e jsonEncoder
	e.object(reflect.ValueOf(d))
	return e.String()
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
// spells them; records are stored canonical).
func recordString(r schema.Record, name string) *string {
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
