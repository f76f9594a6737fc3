package egain

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/contactcenter/profiled/schema"
)

// recordField is one attribute of a mapped extension record and the model
// field holding it: a chain of struct fields, each a pointer, ending in a
// *string (a {value} wrapper's value, a payload's text, ...).
type recordField struct {
	attr  string
	index []int // field index at each step of the chain
}

// recordFields maps one model struct onto the flat records of an extension.
type recordFields struct {
	fields []recordField
	// byAttr maps each attribute name, as spelled here and in lower case,
	// to its position in fields: records carry the spelling of the
	// schema, nearly always this one, and lower-casing every name read
	// (an allocation each) was a quarter of fill.
	byAttr map[string]int
}

// recordFieldsOf builds the mapping of model struct T from attribute / Go path
// pairs ("phoneNo", "Type.Phone.PhoneNo"). A path that does not lead to a
// *string is a programming error and panics at start.
func recordFieldsOf[T any](pairs ...string) recordFields {
	t := reflect.TypeFor[T]()
	fs := recordFields{byAttr: map[string]int{}}
	for i := 0; i < len(pairs); i += 2 {
		f := recordField{attr: pairs[i]}
		at := t
		for _, step := range strings.Split(pairs[i+1], ".") {
			sf, ok := at.FieldByName(step)
			if !ok || sf.Type.Kind() != reflect.Pointer {
				panic(fmt.Sprintf("egain: %s has no pointer field %s (mapping %q)", at, step, pairs[i]))
			}
			f.index = append(f.index, sf.Index[0])
			at = sf.Type.Elem()
		}
		if at.Kind() != reflect.String {
			panic(fmt.Sprintf("egain: mapping %q does not end in a *string", pairs[i]))
		}
		fs.byAttr[f.attr] = len(fs.fields)
		fs.byAttr[strings.ToLower(f.attr)] = len(fs.fields)
		fs.fields = append(fs.fields, f)
	}
	return fs
}

// names lists the attributes, in declaration order.
func (fs recordFields) names() []string {
	out := make([]string, len(fs.fields))
	for i, f := range fs.fields {
		out[i] = f.attr
	}
	return out
}

// record holds the non-empty fields of struct v as attributes.
func (fs recordFields) record(v reflect.Value) map[string]any {
	rec := make(map[string]any, len(fs.fields))
	for _, f := range fs.fields {
		if s := get(v, f.index); s != "" {
			rec[f.attr] = s
		}
	}
	return rec
}

// fill sets the fields of addressable struct v from the string attributes
// of rec (names matched case-insensitively: the schema may spell them in
// another case); other attributes are left alone.
func (fs recordFields) fill(rec schema.Record, v reflect.Value) {
	for k, val := range rec {
		s, ok := val.(string)
		if !ok {
			continue
		}
		if i, ok := fs.lookup(k); ok {
			set(v, fs.fields[i].index, s)
		}
	}
}

// lookup is the position in fields of attribute name k, in any case. A
// short ASCII name is lower-cased on the stack: the attributes of a
// record that are no field here (personId, pointId, createdBy) are met on
// every read.
func (fs recordFields) lookup(k string) (int, bool) {
	if i, ok := fs.byAttr[k]; ok {
		return i, true
	}
	var buf [64]byte
	if len(k) > len(buf) {
		i, ok := fs.byAttr[strings.ToLower(k)]
		return i, ok
	}
	for j := 0; j < len(k); j++ {
		c := k[j]
		if c >= utf8.RuneSelf {
			i, ok := fs.byAttr[strings.ToLower(k)] // Unicode case mapping (K, the Kelvin sign, is k)
			return i, ok
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[j] = c
	}
	i, ok := fs.byAttr[string(buf[:len(k)])]
	return i, ok
}

func get(v reflect.Value, index []int) string {
	for _, i := range index {
		v = v.Field(i)
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	return v.String()
}

func set(v reflect.Value, index []int, s string) {
	for _, i := range index {
		f := v.Field(i)
		if f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		v = f.Elem()
	}
	v.SetString(s)
}

// customerFields are the customer-level fields of the customer extension.
var customerFields = recordFieldsOf[Customer](
	"type", "Type.Value",
	"customerName", "CustomerName",
	"departmentId", "Department.ID",
	"department", "Department.Name",
	"level", "Level.Value",
	"role", "Role.Value",
	"pin", "Pin",
	"howReferred", "HowReferred.Value",
	"industry", "Industry.Value",
	"marketSegment", "MarketSegment",
	"entitlements", "Entitlements",
	"preferredAgent", "PreferredAgent.ID",
	"groupType", "Type.Group.Type.Value",
	"groupRegion", "Type.Group.Region",
	"numberOfMembers", "Type.Group.NumberOfMembers",
	"income", "Type.Group.Income",
	"groupCurrency", "Type.Group.Currency",
	"registrationNumber", "Type.Group.RegistrationNumber",
	"affiliation", "Type.Group.Affiliation",
	"corporateRegion", "Type.Corporate.Region",
)

// personFields are the fields of a contact person record.
var personFields = recordFieldsOf[ContactPerson](
	"salutation", "Salutation",
	"firstName", "FirstName",
	"middleName", "MiddleName",
	"lastName", "LastName",
	"loginId", "LoginID",
	"gender", "Gender.Value",
	"identificationType", "Identification.Type",
	"identificationValue", "Identification.Value",
	"suffix", "Suffix.Value",
	"initials", "Initials",
	"secretQuestion", "SecretQuestion",
	"secretAnswer", "SecretAnswer",
	"hasDirectMailingConsent", "HasDirectMailingConsent",
	"hasDirectCallingConsent", "HasDirectCallingConsent",
	"hasHoldingDataConsent", "HasHoldingDataConsent",
	"jobTitle", "JobTitle",
	"employmentStatus", "EmploymentStatus.Value",
	"priority", "Priority",
	"dateOfBirth", "DateOfBirth",
	"maritalStatus", "MaritalStatus.Value",
	"type", "Type.Value",
	"firstNameFurigana", "FirstNameFurigana",
	"middleNameFurigana", "MiddleNameFurigana",
	"lastNameFurigana", "LastNameFurigana",
	"startGreeting", "StartGreeting",
	"endGreeting", "EndGreeting",
	"spouseName", "SpouseName",
	"emergencyContact", "EmergencyContact",
	"occupation", "Occupation",
	"incomeLevel", "IncomeLevel",
	"educationLevel", "EducationLevel.Value",
	"race", "Race",
	"dependents", "Dependents",
	"isSmoker", "IsSmoker",
	"hobbies", "Hobbies",
	"interests", "Interests",
	"contactOrder", "ContactOrder",
)

// pointFields are the fields of a contact point record; type says which
// payload the point has.
var pointFields = recordFieldsOf[ContactPoint](
	"type", "Type.Value",
	"priority", "Priority.Value",
	"emailAddress", "Type.Email.EmailAddress",
	"phoneType", "Type.Phone.Type.Value",
	"phoneNo", "Type.Phone.PhoneNo",
	"countryCode", "Type.Phone.CountryCode",
	"areaCode", "Type.Phone.AreaCode",
	"phoneExtension", "Type.Phone.Extension",
	"availabilityDays", "Type.Phone.Availability.Days.Value",
	"availabilityTimes", "Type.Phone.Availability.Times.Value",
	"postalType", "Type.Postal.Type.Value",
	"address_1", "Type.Postal.Address1",
	"address_2", "Type.Postal.Address2",
	"city", "Type.Postal.City",
	"postalState", "Type.Postal.State",
	"zip", "Type.Postal.Zip",
	"country", "Type.Postal.Country",
	"region", "Type.Postal.Region",
	"socialType", "Type.Social.Type.Value",
	"socialId", "Type.Social.SocialID",
	"url", "Type.Web.URL",
)
