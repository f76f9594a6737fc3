package egain

import (
	"net/mail"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Customer types (spec §3.1).
const (
	TypeIndividual = "individual"
	TypeGroup      = "group"
	TypeCorporate  = "corporate"
)

// CustomAttributeNames lists the configured custom attributes per level.
type CustomAttributeNames struct {
	Customer, ContactPerson, ContactPoint []string
}

// Options carries the configuration validation depends on.
type Options struct {
	// Departmentalization is the "Customer departmentalization" setting:
	// when on, department.name is required on create.
	Departmentalization bool
	// CustomAttributes are the names a body may use; any other is refused.
	CustomAttributes CustomAttributeNames
	// StoredType is type.value of the stored customer, for edits: an edit
	// body need not repeat the type, yet the rules differ per type.
	StoredType string
	// StoredName is customerName as the stored customer shows it, for
	// edits of an individual: sent back unchanged (a client that reads,
	// changes and writes the whole customer) it is no edit of the name.
	StoredName string
	// StoredEmails holds, for an edit once the stored customer is read,
	// its e-mail addresses (schema.Fold: the address the e-mail index
	// sees, so one the index takes for a stored address, in whatever case,
	// is that address here too). One sent back as it is passes
	// though it would not as a new address: a Genesys client may have
	// written it (any string), and a client that reads, changes and writes
	// the whole customer must not be refused for it. Before the read
	// (Unread), addresses are not checked at all.
	StoredEmails map[string]bool
	Unread       bool
	// UserIDs are the ids of the configured users who have one:
	// preferredAgent.id must be one of them (spec §3.1: an existing user
	// id), or the stored customer's own (StoredAgent: a user since removed,
	// or an id written through the Genesys API), sent back as read. While
	// no user has an id, any number is taken; before the read (Unread),
	// only the form is checked.
	UserIDs     map[string]bool
	StoredAgent string
	// Now is the clock for "date of birth in the past"; nil means time.Now.
	Now func() time.Time
}

// Lengths for fields whose limit the spec does not capture: a generous cap
// keeps storage bounded without rejecting realistic data.
const (
	maxUncaptured   = 255
	maxCustomValue  = 1024
	maxEmailAddress = 254 // RFC 5321 path limit
)

var (
	customerTypes    = []string{TypeIndividual, TypeGroup, TypeCorporate}
	roles            = []string{"Partner", "Reseller", "Customer"}
	howReferred      = []string{"Website", "Customer", "Partner", "Employee", "Reseller"}
	salutations      = []string{"Mr.", "Mrs.", "Ms.", "Miss"}
	genders          = []string{"male", "female"}
	suffixes         = []string{"jr.", "sr.", "i", "ii", "iii"}
	employment       = []string{"part-time", "full-time", "temporary", "contract", "intern", "unemployed"}
	maritalStatuses  = []string{"married", "single", "separated", "divorced", "widowed"}
	educationLevels  = []string{"high school", "graduate", "post graduate", "doctorate"}
	booleans         = []string{"true", "false"}
	contactKinds     = []string{"phone", "email", "postal", "social", "web"}
	phoneTypes       = []string{"home", "office", "mobile", "fax", "pager"}
	availabilityDays = []string{"weekdays", "weekends", "any_day"}
	availabilityTime = []string{"mornings", "afternoons", "evenings", "day", "anytime"}
	priorities       = []string{"low", "medium", "high"}
)

// validator walks one customer. edit switches to partial-update rules:
// optional fields may be sent empty (to clear them), and nested items with
// an id are edits whose fields are all optional.
type validator struct {
	opts Options
	edit bool
}

// ValidateForCreate checks a create body against spec §3 and §5.1–5.2.
// Output-only fields (id, link, cases, created, createdBy, lastModified,
// displayValue) are ignored, so a body read back from GET is acceptable.
func ValidateForCreate(c *Customer, opts Options) error {
	v := validator{opts: opts}
	if err := xmlSafe(reflect.ValueOf(c).Elem(), ""); err != nil {
		return err
	}
	typ := val(c.Type, func(t *CustomerType) *string { return t.Value })
	if typ == "" {
		return missing("type.value")
	}
	if opts.Departmentalization && (c.Department == nil || str(c.Department.Name) == "") {
		return missing("department.name")
	}
	if c.PreferredAgent != nil {
		return errs.Invalid(CodeInvalidValue, "preferredAgent", "preferredAgent can only be set on edit")
	}
	if err := v.customer(c, typ); err != nil {
		return err
	}
	if typ == TypeIndividual && len(c.ContactPersons) != 1 {
		if len(c.ContactPersons) == 0 {
			return missing("contactPersons.contactPerson")
		}
		return errs.Invalid(CodeInvalidValue, "contactPersons.contactPerson", "an individual customer must have exactly one contact person")
	}
	for i := range c.ContactPersons {
		if err := v.person(&c.ContactPersons[i], personPath(i)); err != nil {
			return err
		}
	}
	return nil
}

// ValidateForEdit checks an edit body (spec §5.4). opts.StoredType should be
// the stored customer's type; when empty, type.value of the body is used.
func ValidateForEdit(c *Customer, opts Options) error {
	v := validator{opts: opts, edit: true}
	if str(c.ID) == "" {
		return missing("id")
	}
	if _, ok, inRange := customerNum(*c.ID); !ok {
		return errs.Invalid(CodeInvalidValue, "id", "id must be a number")
	} else if !inRange {
		return errs.Invalid(CodeInvalidValue, "id", "id is out of range")
	}
	if err := xmlSafe(reflect.ValueOf(c).Elem(), ""); err != nil {
		return err
	}
	typ := opts.StoredType
	if typ == "" {
		typ = val(c.Type, func(t *CustomerType) *string { return t.Value })
	}
	if a := c.PreferredAgent; a != nil && (!isDigits(str(a.ID), 19) ||
		!opts.Unread && opts.UserIDs != nil && !opts.UserIDs[str(a.ID)] && str(a.ID) != opts.StoredAgent) {
		return errs.Invalid(CodeInvalidValue, "preferredAgent.id", "preferredAgent.id must be the id of a user (egain.users[].id)")
	}
	if typ == TypeIndividual {
		if err := individualEdit(c, opts); err != nil {
			return err
		}
	}
	if err := v.customer(c, typ); err != nil {
		return err
	}
	for i := range c.ContactPersons {
		if err := v.person(&c.ContactPersons[i], personPath(i)); err != nil {
			return err
		}
	}
	return nil
}

// individualEdit enforces the individual's edit list: no name or group data
// (the name follows the person), and the one person can only be edited.
// Without the stored customer (opts.StoredType empty) the name is left to
// the check that has it.
func individualEdit(c *Customer, opts Options) error {
	if c.CustomerName != nil && opts.StoredType != "" && *c.CustomerName != opts.StoredName {
		return errs.Invalid(CodeInvalidValue, "customerName", "customerName cannot be edited on an individual customer")
	}
	if len(c.ContactPersons) > 1 {
		return errs.Invalid(CodeInvalidValue, "contactPersons.contactPerson", "an individual customer has exactly one contact person")
	}
	for i, p := range c.ContactPersons {
		if p.ID == nil {
			return errs.Invalid(CodeInvalidValue, personPath(i), "an individual customer cannot get a second contact person")
		}
	}
	return nil
}

func personPath(i int) string { return indexPath("contactPersons.contactPerson", i) }

// customer checks the customer-level fields for a customer of type typ
// (which may be "" on an edit of unknown type).
func (v validator) customer(c *Customer, typ string) error {
	if c.Type != nil {
		if err := v.typeFields(c.Type, typ); err != nil {
			return err
		}
	}
	if err := v.customerName(c, typ); err != nil {
		return err
	}
	checks := []error{
		v.text(c.Department.nameOrNil(), "department.name", maxUncaptured),
		v.configured(c.Level, "level"),
		v.oneOf(valueOf(c.Role), "role.value", roles),
		v.text(c.Pin, "pin", 255),
		v.oneOf(valueOf(c.HowReferred), "howReferred.value", howReferred),
		v.configured(c.Industry, "industry"),
		v.text(c.MarketSegment, "marketSegment", 50),
		v.text(c.Entitlements, "entitlements", 1024),
		v.customAttributes(c.CustomAttributes, "customAttributes", v.opts.CustomAttributes.Customer),
	}
	return firstError(checks)
}

func (d *Department) nameOrNil() *string {
	if d == nil {
		return nil
	}
	return d.Name
}

func (v validator) typeFields(t *CustomerType, typ string) error {
	if err := v.oneOf(t.Value, "type.value", customerTypes); err != nil {
		return err
	}
	if v.edit && str(t.Value) != "" && v.opts.StoredType != "" && *t.Value != v.opts.StoredType {
		return errs.Invalid(CodeInvalidValue, "type.value", "the type of a customer cannot be changed")
	}
	if typ == "" {
		return nil // an edit of a customer whose type the caller did not tell us
	}
	if t.Group != nil && typ != TypeGroup {
		return errs.Invalid(CodeInvalidValue, "type.group", "type.group is only allowed for group customers")
	}
	if t.Corporate != nil && typ != TypeCorporate {
		return errs.Invalid(CodeInvalidValue, "type.corporate", "type.corporate is only allowed for corporate customers")
	}
	if t.Corporate != nil {
		if err := v.text(t.Corporate.Region, "type.corporate.region", maxUncaptured); err != nil {
			return err
		}
	}
	if typ != TypeGroup {
		return nil
	}
	if t.Group == nil {
		if v.edit {
			return nil
		}
		return missing("type.group.type.value")
	}
	return v.group(t.Group)
}

func (v validator) group(g *Group) error {
	gt := valueOf(g.Type)
	if (!v.edit && str(gt) == "") || (gt != nil && *gt == "") {
		return missing("type.group.type.value")
	}
	return firstError([]error{
		v.text(gt, "type.group.type.value", maxUncaptured),
		v.text(g.Region, "type.group.region", maxUncaptured),
		v.count(g.NumberOfMembers, "type.group.numberOfMembers"),
		v.text(g.Income, "type.group.income", 20),
		v.text(g.Currency, "type.group.currency", maxUncaptured),
		v.text(g.RegistrationNumber, "type.group.registrationNumber", maxUncaptured),
		v.text(g.Affiliation, "type.group.affiliation", maxUncaptured),
	})
}

// customerName is required for group and corporate customers; an edit may
// omit it but not clear it.
func (v validator) customerName(c *Customer, typ string) error {
	if typ == TypeGroup || typ == TypeCorporate {
		if blank(c.CustomerName) && (!v.edit || c.CustomerName != nil) {
			return missing("customerName")
		}
	}
	return v.text(c.CustomerName, "customerName", 124)
}

func (v validator) person(p *ContactPerson, path string) error {
	editing := v.edit && p.ID != nil
	if editing && !isDigits(*p.ID, 19) {
		return errs.Invalid(CodeInvalidValue, path+".id", "contact person id must be a number")
	}
	if blank(p.FirstName) && (!editing || p.FirstName != nil) {
		return missing(path + ".firstName")
	}
	at := func(name string) string { return path + "." + name }
	checks := []error{
		v.text(p.FirstName, at("firstName"), 124),
		v.oneOf(p.Salutation, at("salutation"), salutations),
		v.text(p.MiddleName, at("middleName"), 124),
		v.text(p.LastName, at("lastName"), 124),
		v.text(p.LoginID, at("loginId"), 255),
		v.oneOf(valueOf(p.Gender), at("gender.value"), genders),
		v.identification(p.Identification, at("identification")),
		v.oneOf(valueOf(p.Suffix), at("suffix.value"), suffixes),
		v.text(p.Initials, at("initials"), 16),
		v.text(p.SecretQuestion, at("secretQuestion"), 255),
		v.text(p.SecretAnswer, at("secretAnswer"), 255),
		v.oneOf(p.HasDirectMailingConsent, at("hasDirectMailingConsent"), booleans),
		v.oneOf(p.HasDirectCallingConsent, at("hasDirectCallingConsent"), booleans),
		v.oneOf(p.HasHoldingDataConsent, at("hasHoldingDataConsent"), booleans),
		v.text(p.JobTitle, at("jobTitle"), 255),
		v.oneOf(valueOf(p.EmploymentStatus), at("employmentStatus.value"), employment),
		v.text(p.Priority, at("priority"), 255),
		v.dateOfBirth(p.DateOfBirth, at("dateOfBirth")),
		v.oneOf(valueOf(p.MaritalStatus), at("maritalStatus.value"), maritalStatuses),
		v.configured(p.Type, at("type")),
		v.text(p.FirstNameFurigana, at("firstNameFurigana"), 124),
		v.text(p.MiddleNameFurigana, at("middleNameFurigana"), 124),
		v.text(p.LastNameFurigana, at("lastNameFurigana"), 124),
		v.text(p.StartGreeting, at("startGreeting"), 255),
		v.text(p.EndGreeting, at("endGreeting"), 255),
		v.text(p.SpouseName, at("spouseName"), 512),
		v.text(p.EmergencyContact, at("emergencyContact"), 50),
		v.text(p.Occupation, at("occupation"), 255),
		v.text(p.IncomeLevel, at("incomeLevel"), 255),
		v.oneOf(valueOf(p.EducationLevel), at("educationLevel.value"), educationLevels),
		v.text(p.Race, at("race"), maxUncaptured),
		v.text(p.Dependents, at("dependents"), maxUncaptured),
		v.oneOf(p.IsSmoker, at("isSmoker"), booleans),
		v.text(p.Hobbies, at("hobbies"), maxUncaptured),
		v.text(p.Interests, at("interests"), maxUncaptured),
		v.text(p.ContactOrder, at("contactOrder"), maxUncaptured),
		v.customAttributes(p.CustomAttributes, at("customAttributes"), v.opts.CustomAttributes.ContactPerson),
	}
	if err := firstError(checks); err != nil {
		return err
	}
	for i := range p.ContactPoints {
		if err := v.point(&p.ContactPoints[i], indexPath(at("contactPoints.contactPoint"), i)); err != nil {
			return err
		}
	}
	return nil
}

func (v validator) identification(id *Identification, path string) error {
	if id == nil {
		return nil
	}
	return firstError([]error{
		v.text(id.Type, path+".type", maxUncaptured),
		v.text(id.Value, path+".value", 255),
	})
}

// easternmostOffset is the largest UTC offset in use (Kiribati's Line
// Islands, UTC+14).
const easternmostOffset = 14 * time.Hour

// dateOfBirth accepts an ISO date or an ISO date-time of a day that has
// begun somewhere on Earth.
func (v validator) dateOfBirth(s *string, path string) error {
	if s == nil || *s == "" {
		return nil
	}
	t, ok := parseBirthDate(*s)
	if !ok {
		return errs.Invalid(CodeInvalidValue, path, "%s must be an ISO-8601 date or date-time", path)
	}
	now := time.Now
	if v.opts.Now != nil {
		now = v.opts.Now
	}
	// Only the day as written is kept (mapping.go, schema parseDate), so
	// that day is what must have begun, whatever the offset or clock:
	// begun somewhere, since the client may be as far east as UTC+14,
	// where today's date is a day ahead of UTC's for ten hours.
	if day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC); !day.Add(-easternmostOffset).Before(now()) {
		return errs.Invalid(CodeInvalidValue, path, "%s must not be in the future", path)
	}
	return nil
}

// point checks a contact point. A new point (create, or edit without id)
// needs its kind and that kind's required fields; an edited point needs
// its id plus at least one field to change.
func (v validator) point(p *ContactPoint, path string) error {
	editing := v.edit && p.ID != nil
	if editing {
		if !isDigits(*p.ID, 19) {
			return errs.Invalid(CodeInvalidValue, path+".id", "contact point id must be a number")
		}
		if p.Type == nil && p.Priority == nil && p.CustomAttributes == nil {
			return errs.Invalid(CodeMissingElement, path, "%s: an edited contact point needs at least one field besides id", path)
		}
	}
	checks := []error{
		v.pointType(p.Type, path+".type", editing),
		v.oneOf(valueOf(p.Priority), path+".priority.value", priorities),
		v.customAttributes(p.CustomAttributes, path+".customAttributes", v.opts.CustomAttributes.ContactPoint),
	}
	return firstError(checks)
}

func (v validator) pointType(t *ContactPointType, path string, editing bool) error {
	kind := val(t, func(t *ContactPointType) *string { return t.Value })
	if kind == "" && editing && t != nil && t.Value == nil {
		kind = givenKind(t) // the edited point's kind is the stored one; its payload names it
		if kind == "several" {
			return errs.Invalid(CodeInvalidValue, path, "%s carries payloads of several kinds", path)
		}
	}
	if kind == "" {
		if editing && t == nil {
			return nil
		}
		return missing(path + ".value")
	}
	if !slices.Contains(contactKinds, kind) {
		return invalidEnum(path+".value", kind, contactKinds)
	}
	if err := onlyPayload(t, kind, path); err != nil {
		return err
	}
	// A new point must carry its data; an edit may change just the priority.
	need := !editing
	switch kind {
	case "phone":
		return v.phone(t.Phone, path+".phone", need)
	case "email":
		return v.email(t.Email, path+".email", need)
	case "postal":
		return v.postal(t.Postal, path+".postal", need)
	case "social":
		return v.social(t.Social, path+".social", need)
	default:
		return v.web(t.Web, path+".web", need)
	}
}

// onlyPayload refuses a payload for a kind other than type.value.
func onlyPayload(t *ContactPointType, kind, path string) error {
	payloads := []struct {
		name    string
		present bool
	}{
		{"phone", t.Phone != nil}, {"email", t.Email != nil}, {"postal", t.Postal != nil},
		{"social", t.Social != nil}, {"web", t.Web != nil},
	}
	for _, p := range payloads {
		if p.present && p.name != kind {
			return errs.Invalid(CodeInvalidValue, path+"."+p.name, "%s.%s does not match %s.value %q", path, p.name, path, kind)
		}
	}
	return nil
}

func (v validator) phone(p *Phone, path string, need bool) error {
	if p == nil {
		return v.required(need, path+".phoneNo")
	}
	if err := firstError([]error{
		v.requiredText(valueOf(p.Type), path+".type.value", need),
		v.requiredText(p.PhoneNo, path+".phoneNo", need),
	}); err != nil {
		return err
	}
	checks := []error{
		v.oneOf(valueOf(p.Type), path+".type.value", phoneTypes),
		v.text(p.PhoneNo, path+".phoneNo", 40),
		v.digits(p.CountryCode, path+".countryCode", 9),
		v.text(p.AreaCode, path+".areaCode", 10),
		v.text(p.Extension, path+".extension", 10),
	}
	if a := p.Availability; a != nil {
		checks = append(checks,
			v.oneOf(valueOf(a.Days), path+".availability.days.value", availabilityDays),
			v.oneOf(valueOf(a.Times), path+".availability.times.value", availabilityTime))
	}
	return firstError(checks)
}

func (v validator) email(e *Email, path string, need bool) error {
	if e == nil {
		return v.required(need, path+".emailAddress")
	}
	field := path + ".emailAddress"
	if err := v.requiredText(e.EmailAddress, field, need); err != nil {
		return err
	}
	if e.EmailAddress == nil || v.edit && (v.opts.Unread || v.opts.StoredEmails[schema.Fold(*e.EmailAddress)]) {
		return nil
	}
	if err := v.text(e.EmailAddress, field, maxEmailAddress); err != nil {
		return err
	}
	if !validEmail(*e.EmailAddress) {
		return errs.Invalid(CodeInvalidValue, field, "%s is not a valid e-mail address", field)
	}
	return nil
}

// validEmail accepts a bare RFC 5322 address with a domain part, no display name.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

func (v validator) postal(p *Postal, path string, need bool) error {
	if p == nil {
		return v.required(need, path+".address_1")
	}
	return firstError([]error{
		v.requiredText(valueOf(p.Type), path+".type.value", need),
		v.requiredText(p.Address1, path+".address_1", need),
		v.text(valueOf(p.Type), path+".type.value", maxUncaptured),
		v.text(p.Address1, path+".address_1", maxUncaptured),
		v.text(p.Address2, path+".address_2", maxUncaptured),
		v.text(p.City, path+".city", maxUncaptured),
		v.text(p.State, path+".state", maxUncaptured),
		v.text(p.Zip, path+".zip", maxUncaptured),
		v.text(p.Country, path+".country", maxUncaptured),
		v.text(p.Region, path+".region", maxUncaptured),
	})
}

func (v validator) social(s *Social, path string, need bool) error {
	if s == nil {
		return v.required(need, path+".socialId")
	}
	return firstError([]error{
		v.requiredText(valueOf(s.Type), path+".type.value", need),
		v.requiredText(s.SocialID, path+".socialId", need),
		v.text(valueOf(s.Type), path+".type.value", maxUncaptured),
		v.text(s.SocialID, path+".socialId", maxUncaptured),
	})
}

func (v validator) web(w *Web, path string, need bool) error {
	if w == nil {
		return v.required(need, path+".url")
	}
	return firstError([]error{
		v.requiredText(w.URL, path+".url", need),
		v.text(w.URL, path+".url", 2048),
	})
}

// customAttributes checks names against the configured set for the level.
func (v validator) customAttributes(attrs []CustomAttribute, path string, known []string) error {
	for i, a := range attrs {
		at := indexPath(path+".customAttribute", i)
		name := str(a.AttribName)
		if name == "" {
			return missing(at + ".attribName")
		}
		if !slices.Contains(known, name) {
			return errs.Invalid(CodeUnknownCustomAttribute, at+".attribName", "custom attribute %q is not configured", name)
		}
		for j, av := range a.AttribValues {
			if err := v.text(av.Value, indexPath(at+".attribValues.attribValue", j)+".value", maxCustomValue); err != nil {
				return err
			}
		}
	}
	return namedOnce(attrs, path)
}

// namedOnce refuses a custom attribute named twice in one list.
func namedOnce(attrs []CustomAttribute, path string) error {
	seen := map[string]bool{}
	for i, a := range attrs {
		name := str(a.AttribName)
		if name != "" && seen[name] {
			return errs.Invalid(CodeInvalidValue, indexPath(path+".customAttribute", i)+".attribName", "custom attribute %q appears more than once", name)
		}
		seen[name] = true
	}
	return nil
}

// listRules checks what the lists of an edit body say as a whole: a
// custom attribute, contact person or contact point named twice. It runs
// before the body is reduced to what it changes (withoutUnchanged), which
// could leave out one of two copies.
func listRules(c *Customer) error {
	if err := namedOnce(c.CustomAttributes, "customAttributes"); err != nil {
		return err
	}
	persons, points := map[string]bool{}, map[string]bool{}
	once := func(seen map[string]bool, id *string, path, what string) error {
		if id == nil {
			return nil
		}
		if seen[*id] {
			return errs.Invalid(CodeInvalidValue, path, "%s %s appears more than once", what, *id)
		}
		seen[*id] = true
		return nil
	}
	for i, p := range c.ContactPersons {
		at := personPath(i)
		if err := once(persons, p.ID, at+".id", "contact person"); err != nil {
			return err
		}
		if err := namedOnce(p.CustomAttributes, at+".customAttributes"); err != nil {
			return err
		}
		for j, pt := range p.ContactPoints {
			pat := indexPath(at+".contactPoints.contactPoint", j)
			if err := once(points, pt.ID, pat+".id", "contact point"); err != nil {
				return err
			}
			if err := namedOnce(pt.CustomAttributes, pat+".customAttributes"); err != nil {
				return err
			}
		}
	}
	return nil
}

// configured checks a {value} whose allowed values are server configuration
// (level, industry, person type): only its length can be checked here.
func (v validator) configured(w *Value, path string) error {
	return v.text(valueOf(w), path+".value", maxUncaptured)
}

// xmlSafe refuses a string in v (a struct of the customer model, at path)
// holding a character XML cannot carry: a JSON body can, and what one
// format stores the other must show and take back. An edit runs it on
// what it changes, so a value a Genesys client wrote passes when sent
// back as read.
func xmlSafe(v reflect.Value, path string) error {
	for _, f := range fieldsOf(v.Type()) {
		fv, at := v.Field(f.index), joinPath(path, f.name)
		switch {
		case f.kind == kindList:
			for i := range fv.Len() {
				if err := xmlSafe(fv.Index(i), indexPath(joinPath(at, f.item), i)); err != nil {
					return err
				}
			}
		case fv.IsNil():
		case f.kind == kindStruct:
			if err := xmlSafe(fv.Elem(), at); err != nil {
				return err
			}
		default:
			if err := xmlSafeText(fv.Elem().String(), at); err != nil {
				return err
			}
		}
	}
	return nil
}

// xmlSafeText refuses s, the value at path, if it holds a character XML
// cannot carry.
func xmlSafeText(s, path string) error {
	if i := strings.IndexFunc(s, notXMLChar); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return errs.Invalid(CodeInvalidValue, path, "%s holds the control character %U, which XML cannot carry", path, r)
	}
	return nil
}

// text checks a length limit in characters; absent and empty always pass.
func (v validator) text(s *string, path string, max int) error {
	if s != nil && utf8.RuneCountInString(*s) > max {
		return errs.Invalid(CodeValueTooLong, path, "%s is longer than %d characters", path, max)
	}
	return nil
}

// oneOf checks an enumeration; empty passes (it clears on edit, and is
// "not given" on create).
func (v validator) oneOf(s *string, path string, allowed []string) error {
	if s == nil || *s == "" || slices.Contains(allowed, *s) {
		return nil
	}
	return invalidEnum(path, *s, allowed)
}

// count checks an optional count: digits a client's long holds (at most
// 2^63-1; a 19-digit value above it broke Jackson and JAXB clients reading
// it back).
func (v validator) count(s *string, path string) error {
	if s == nil || *s == "" {
		return nil
	}
	if _, err := strconv.ParseInt(*s, 10, 64); err != nil || !isDigits(*s, 19) {
		return errs.Invalid(CodeInvalidValue, path, "%s must be a number from 0 to 9223372036854775807", path)
	}
	return nil
}

// digits checks an optional all-digit value of at most max digits.
func (v validator) digits(s *string, path string, max int) error {
	if s == nil || *s == "" || isDigits(*s, max) {
		return nil
	}
	return errs.Invalid(CodeInvalidValue, path, "%s must be a number of at most %d digits", path, max)
}

// requiredText: when need, s must be given and non-empty; otherwise (an
// edit) it may be omitted but not cleared.
func (v validator) requiredText(s *string, path string, need bool) error {
	if (need && s == nil) || (s != nil && *s == "") {
		return missing(path)
	}
	return nil
}

func (v validator) required(need bool, path string) error {
	if need {
		return missing(path)
	}
	return nil
}

// blank reports whether a required text is absent or only white space
// (a name of spaces names nothing).
func blank(s *string) bool { return strings.TrimSpace(str(s)) == "" }

func missing(path string) *errs.Error {
	return errs.Invalid(CodeMissingElement, path, "%s is required", path)
}

func invalidEnum(path, got string, allowed []string) *errs.Error {
	return errs.Invalid(CodeInvalidValue, path, "%s must be one of %s, not %q", path, strings.Join(allowed, ", "), got)
}

func firstError(checks []error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func valueOf(w *Value) *string {
	if w == nil {
		return nil
	}
	return w.Value
}

// val reads an optional string through an optional parent.
func val[T any](parent *T, get func(*T) *string) string {
	if parent == nil {
		return ""
	}
	return str(get(parent))
}

// parseISO parses an ISO-8601 date-time (RFC 3339, fraction optional) or a
// plain date (midnight UTC).
func parseISO(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, schema.ValidOffset(t, s) // Go's parser takes +24:00 and minute 60
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// parseBirthDate reads a date of birth in every form the profile's date
// attribute (core DOB) takes: parseISO's, and those of other clients'
// date types (no offset as .NET writes it, +hhmm, minutes without
// seconds). Only its day as written counts.
func parseBirthDate(s string) (time.Time, bool) {
	if t, ok := parseISO(s); ok {
		return t, true
	}
	if t, ok := schema.ParseZonedDate(s); ok {
		return t, true
	}
	t, _, ok := schema.ParseISODatetime(s)
	return t, ok
}
