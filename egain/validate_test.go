package egain

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var testOpts = Options{
	CustomAttributes: CustomAttributeNames{
		Customer:      []string{"preferredlang", "loyaltyId"},
		ContactPerson: []string{"isprimary"},
		ContactPoint:  []string{"prioritysequence"},
	},
	Now: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) },
}

func fullExample(t *testing.T) *Customer {
	t.Helper()
	c, err := DecodeCustomerXML(bytes.NewReader(readExample(t, "egain-create-full.xml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidateExamples(t *testing.T) {
	deptOpts := testOpts
	deptOpts.Departmentalization = true
	tests := []struct {
		name string
		opts Options
	}{
		{"egain-create-minimal", testOpts},
		{"egain-create-full", deptOpts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCustomerJSON(bytes.NewReader(readExample(t, tt.name+".json")), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateForCreate(c, tt.opts); err != nil {
				t.Errorf("got %v, want valid", err)
			}
		})
	}
}

func long(n int) *string { return Str(strings.Repeat("x", n)) }

func TestValidateForCreateRules(t *testing.T) {
	person := func(c *Customer) *ContactPerson { return &c.ContactPersons[0] }
	point := func(c *Customer, i int) *ContactPoint { return &c.ContactPersons[0].ContactPoints[i] }
	phone := func(c *Customer) *Phone { return point(c, 0).Type.Phone }
	tests := []struct {
		name   string
		mutate func(c *Customer)
		opts   Options
		code   string
		field  string
	}{
		{"valid", func(c *Customer) {}, testOpts, "", ""},
		{"type missing", func(c *Customer) { c.Type = nil }, testOpts, CodeMissingElement, "type.value"},
		{"type enum", func(c *Customer) { c.Type.Value = Str("person") }, testOpts, CodeInvalidValue, "type.value"},
		{"department required", func(c *Customer) { c.Department = nil }, Options{Departmentalization: true, CustomAttributes: testOpts.CustomAttributes}, CodeMissingElement, "department.name"},
		{"preferredAgent on create", func(c *Customer) { c.PreferredAgent = &UserRef{ID: Str("1")} }, testOpts, CodeInvalidValue, "preferredAgent"},
		{"individual without person", func(c *Customer) { c.ContactPersons = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson"},
		{"individual with two persons", func(c *Customer) { c.ContactPersons = append(c.ContactPersons, ContactPerson{FirstName: Str("B")}) }, testOpts, CodeInvalidValue, "contactPersons.contactPerson"},
		{"individual with group data", func(c *Customer) { c.Type.Group = &Group{} }, testOpts, CodeInvalidValue, "type.group"},
		{"firstName of spaces", func(c *Customer) { person(c).FirstName = Str(" \t ") }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].firstName"},
		{"group name of spaces", func(c *Customer) {
			c.Type = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("Association")}}}
			c.CustomerName = Str("   ")
		}, testOpts, CodeMissingElement, "customerName"},
		{"group needs name", func(c *Customer) {
			c.Type = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("Association")}}}
		}, testOpts, CodeMissingElement, "customerName"},
		{"group needs group type", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group")}, Str("Club")
		}, testOpts, CodeMissingElement, "type.group.type.value"},
		{"group valid with two persons", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("Association")}}}, Str("Club")
			c.ContactPersons = append(c.ContactPersons, ContactPerson{FirstName: Str("B")})
		}, testOpts, "", ""},
		{"group without persons", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("Association")}}}, Str("Club")
			c.ContactPersons = nil
		}, testOpts, "", ""},
		{"numberOfMembers digits", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("A")}, NumberOfMembers: Str("12a")}}, Str("Club")
		}, testOpts, CodeInvalidValue, "type.group.numberOfMembers"},
		{"numberOfMembers length", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("A")}, NumberOfMembers: Str(strings.Repeat("9", 20))}}, Str("Club")
		}, testOpts, CodeInvalidValue, "type.group.numberOfMembers"},
		{"numberOfMembers past a long", func(c *Customer) { // 19 digits, above 2^63-1: a client's long cannot read it back
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("A")}, NumberOfMembers: Str("9223372036854775808")}}, Str("Club")
		}, testOpts, CodeInvalidValue, "type.group.numberOfMembers"},
		{"numberOfMembers the largest long", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("A")}, NumberOfMembers: Str("9223372036854775807")}}, Str("Club")
		}, testOpts, "", ""},
		{"income length", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("group"), Group: &Group{Type: &Value{Value: Str("A")}, Income: long(21)}}, Str("Club")
		}, testOpts, CodeValueTooLong, "type.group.income"},
		{"corporate needs name", func(c *Customer) { c.Type = &CustomerType{Value: Str("corporate")} }, testOpts, CodeMissingElement, "customerName"},
		{"corporate valid", func(c *Customer) {
			c.Type, c.CustomerName = &CustomerType{Value: Str("corporate"), Corporate: &Corporate{Region: Str("EMEA")}}, Str("Acme")
		}, testOpts, "", ""},
		{"customerName length", func(c *Customer) { c.CustomerName = long(125) }, testOpts, CodeValueTooLong, "customerName"},
		{"role enum", func(c *Customer) { c.Role.Value = Str("Vendor") }, testOpts, CodeInvalidValue, "role.value"},
		{"howReferred enum", func(c *Customer) { c.HowReferred.Value = Str("Radio") }, testOpts, CodeInvalidValue, "howReferred.value"},
		{"pin length", func(c *Customer) { c.Pin = long(256) }, testOpts, CodeValueTooLong, "pin"},
		{"marketSegment length", func(c *Customer) { c.MarketSegment = long(51) }, testOpts, CodeValueTooLong, "marketSegment"},
		{"entitlements length", func(c *Customer) { c.Entitlements = long(1025) }, testOpts, CodeValueTooLong, "entitlements"},
		{"entitlements at limit", func(c *Customer) { c.Entitlements = Str(strings.Repeat("é", 1024)) }, testOpts, "", ""},
		{"unknown custom attribute", func(c *Customer) { c.CustomAttributes[0].AttribName = Str("shoeSize") }, testOpts, CodeUnknownCustomAttribute, "customAttributes.customAttribute[0].attribName"},
		{"person-level name at customer level", func(c *Customer) { c.CustomAttributes[0].AttribName = Str("isprimary") }, testOpts, CodeUnknownCustomAttribute, "customAttributes.customAttribute[0].attribName"},
		{"duplicate custom attribute", func(c *Customer) { c.CustomAttributes = append(c.CustomAttributes, c.CustomAttributes[0]) }, testOpts, CodeInvalidValue, "customAttributes.customAttribute[1].attribName"},
		{"firstName missing", func(c *Customer) { person(c).FirstName = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].firstName"},
		{"firstName length", func(c *Customer) { person(c).FirstName = long(125) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].firstName"},
		{"salutation enum", func(c *Customer) { person(c).Salutation = Str("Dr.") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].salutation"},
		{"middleName length", func(c *Customer) { person(c).MiddleName = long(125) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].middleName"},
		{"lastName length", func(c *Customer) { person(c).LastName = long(125) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].lastName"},
		{"loginId length", func(c *Customer) { person(c).LoginID = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].loginId"},
		{"gender enum", func(c *Customer) { person(c).Gender.Value = Str("m") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].gender.value"},
		{"identification length", func(c *Customer) { person(c).Identification.Value = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].identification.value"},
		{"suffix enum", func(c *Customer) { person(c).Suffix.Value = Str("iv") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].suffix.value"},
		{"initials length", func(c *Customer) { person(c).Initials = long(17) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].initials"},
		{"secretQuestion length", func(c *Customer) { person(c).SecretQuestion = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].secretQuestion"},
		{"secretAnswer length", func(c *Customer) { person(c).SecretAnswer = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].secretAnswer"},
		{"mailing consent", func(c *Customer) { person(c).HasDirectMailingConsent = Str("yes") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].hasDirectMailingConsent"},
		{"calling consent", func(c *Customer) { person(c).HasDirectCallingConsent = Str("1") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].hasDirectCallingConsent"},
		{"holding consent", func(c *Customer) { person(c).HasHoldingDataConsent = Str("TRUE") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].hasHoldingDataConsent"},
		{"jobTitle length", func(c *Customer) { person(c).JobTitle = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].jobTitle"},
		{"employmentStatus enum", func(c *Customer) { person(c).EmploymentStatus.Value = Str("retired") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].employmentStatus.value"},
		{"priority length", func(c *Customer) { person(c).Priority = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].priority"},
		{"dateOfBirth format", func(c *Customer) { person(c).DateOfBirth = Str("09/12/1965") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].dateOfBirth"},
		{"dateOfBirth date only", func(c *Customer) { person(c).DateOfBirth = Str("1965-12-09") }, testOpts, "", ""},
		{"dateOfBirth in future", func(c *Customer) { person(c).DateOfBirth = Str("2030-01-01") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].dateOfBirth"},
		// Only the day as written is kept (DOB 2024-01-01). At testOpts.Now (midnight UTC)
		// that day has begun everywhere from UTC+0 east (14:00 at UTC+14), so a client
		// there entering today's date is right; the next day has begun nowhere yet.
		{"dateOfBirth today with a positive offset", func(c *Customer) { person(c).DateOfBirth = Str("2024-01-01T09:00:00+14:00") }, testOpts, "", ""},
		{"dateOfBirth today", func(c *Customer) { person(c).DateOfBirth = Str("2024-01-01") }, testOpts, "", ""},
		{"dateOfBirth tomorrow", func(c *Customer) { person(c).DateOfBirth = Str("2024-01-02") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].dateOfBirth"},
		{"dateOfBirth tomorrow with an offset", func(c *Customer) { person(c).DateOfBirth = Str("2024-01-02T01:00:00+14:00") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].dateOfBirth"},
		// RFC 3339 offsets are -23:59..+23:59; the profile's DOB refuses +24:00 later, naming "DOB", not this field.
		{"dateOfBirth offset +24:00", func(c *Customer) { person(c).DateOfBirth = Str("1965-12-09T00:00:00+24:00") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].dateOfBirth"},
		{"maritalStatus enum", func(c *Customer) { person(c).MaritalStatus.Value = Str("engaged") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].maritalStatus.value"},
		{"furigana length", func(c *Customer) { person(c).LastNameFurigana = long(125) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].lastNameFurigana"},
		{"startGreeting length", func(c *Customer) { person(c).StartGreeting = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].startGreeting"},
		{"spouseName length", func(c *Customer) { person(c).SpouseName = long(513) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].spouseName"},
		{"emergencyContact length", func(c *Customer) { person(c).EmergencyContact = long(51) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].emergencyContact"},
		{"occupation length", func(c *Customer) { person(c).Occupation = long(256) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].occupation"},
		{"educationLevel enum", func(c *Customer) { person(c).EducationLevel.Value = Str("phd") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].educationLevel.value"},
		{"isSmoker boolean", func(c *Customer) { person(c).IsSmoker = Str("sometimes") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].isSmoker"},
		{"person custom attribute", func(c *Customer) { person(c).CustomAttributes[0].AttribName = Str("preferredlang") }, testOpts, CodeUnknownCustomAttribute, "contactPersons.contactPerson[0].customAttributes.customAttribute[0].attribName"},
		{"point kind missing", func(c *Customer) { point(c, 0).Type = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.value"},
		{"point kind enum", func(c *Customer) { point(c, 0).Type.Value = Str("fax") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.value"},
		{"point payload mismatch", func(c *Customer) { point(c, 0).Type.Email = &Email{EmailAddress: Str("a@b.c")} }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.email"},
		{"phone payload missing", func(c *Customer) { point(c, 0).Type.Phone = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.phoneNo"},
		{"phone type required", func(c *Customer) { phone(c).Type = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.type.value"},
		{"phone type enum", func(c *Customer) { phone(c).Type.Value = Str("work") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.type.value"},
		{"phoneNo required", func(c *Customer) { phone(c).PhoneNo = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.phoneNo"},
		{"phoneNo length", func(c *Customer) { phone(c).PhoneNo = long(41) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.phoneNo"},
		{"countryCode digits", func(c *Customer) { phone(c).CountryCode = Str("+1") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.countryCode"},
		{"countryCode length", func(c *Customer) { phone(c).CountryCode = Str("1234567890") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.countryCode"},
		{"areaCode length", func(c *Customer) { phone(c).AreaCode = long(11) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.areaCode"},
		{"extension length", func(c *Customer) { phone(c).Extension = long(11) }, testOpts, CodeValueTooLong, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.extension"},
		{"days enum", func(c *Customer) { phone(c).Availability.Days.Value = Str("monday") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.availability.days.value"},
		{"times enum", func(c *Customer) { phone(c).Availability.Times.Value = Str("night") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.availability.times.value"},
		{"point priority enum", func(c *Customer) { point(c, 0).Priority.Value = Str("urgent") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].priority.value"},
		{"point custom attribute", func(c *Customer) { point(c, 0).CustomAttributes[0].AttribName = Str("x") }, testOpts, CodeUnknownCustomAttribute, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].customAttributes.customAttribute[0].attribName"},
		{"postal type required", func(c *Customer) { point(c, 1).Type.Postal.Type = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[1].type.postal.type.value"},
		{"postal address required", func(c *Customer) { point(c, 1).Type.Postal.Address1 = Str("") }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[1].type.postal.address_1"},
		{"email required", func(c *Customer) { point(c, 2).Type.Email.EmailAddress = nil }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[2].type.email.emailAddress"},
		{"email syntax", func(c *Customer) { point(c, 2).Type.Email.EmailAddress = Str("john at customer.com") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[2].type.email.emailAddress"},
		{"email display name", func(c *Customer) { point(c, 2).Type.Email.EmailAddress = Str("John <j@c.com>") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[2].type.email.emailAddress"},
		{"social needs id", func(c *Customer) {
			point(c, 2).Type = &ContactPointType{Value: Str("social"), Social: &Social{Type: &Value{Value: Str("twitter")}}}
		}, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[2].type.social.socialId"},
		{"web needs url", func(c *Customer) { point(c, 2).Type = &ContactPointType{Value: Str("web"), Web: &Web{}} }, testOpts, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[2].type.web.url"},
		// XML cannot carry these, so an XML client could not read them back.
		{"control character", func(c *Customer) { person(c).FirstName = Str("A\aB") }, testOpts, CodeInvalidValue, "contactPersons.contactPerson[0].firstName"},
		{"escape character", func(c *Customer) { c.Pin = Str("\x1b[31m") }, testOpts, CodeInvalidValue, "pin"},
		{"control character in a custom value", func(c *Customer) { c.CustomAttributes[0].AttribValues[0].Value = Str("\x00") }, testOpts, CodeInvalidValue, "customAttributes.customAttribute[0].attribValues.attribValue[0].value"},
		{"web valid", func(c *Customer) {
			point(c, 2).Type = &ContactPointType{Value: Str("web"), Web: &Web{URL: Str("https://example.com")}}
		}, testOpts, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fullExample(t)
			tt.mutate(c)
			err := ValidateForCreate(c, tt.opts)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			e := wantCode(t, err, tt.code)
			if got, want := e.Field, tt.field; got != want {
				t.Errorf("got field %q, want %q", got, want)
			}
		})
	}
}

func TestValidateForEditRules(t *testing.T) {
	individual := Options{CustomAttributes: testOpts.CustomAttributes, StoredType: TypeIndividual, Now: testOpts.Now}
	group := individual
	group.StoredType = TypeGroup
	readName := individual
	readName.StoredName = "Ann Lee"
	withUsers := individual
	withUsers.UserIDs = map[string]bool{"1001": true}
	storedAgent := withUsers
	storedAgent.StoredAgent = "987654" // a user since removed
	tests := []struct {
		name  string
		body  string // JSON edit body
		opts  Options
		code  string
		field string
	}{
		{"clear optional fields", `{"id":"1","entitlements":"","level":{"value":""},"role":{"value":""}}`, individual, "", ""},
		{"id required", `{"pin":"1"}`, individual, CodeMissingElement, "id"},
		{"id numeric", `{"id":"abc"}`, individual, CodeInvalidValue, "id"},
		{"preferredAgent", `{"id":"1","preferredAgent":{"id":"1001"}}`, individual, "", ""},
		{"preferredAgent numeric", `{"id":"1","preferredAgent":{"id":"x"}}`, individual, CodeInvalidValue, "preferredAgent.id"},
		{"preferredAgent a user", `{"id":"1","preferredAgent":{"id":"1001"}}`, withUsers, "", ""},
		{"preferredAgent not a user", `{"id":"1","preferredAgent":{"id":"987654"}}`, withUsers, CodeInvalidValue, "preferredAgent.id"},
		{"preferredAgent as stored", `{"id":"1","preferredAgent":{"id":"987654"}}`, storedAgent, "", ""},
		{"edit person by id", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","lastName":"Doe"}]}}`, individual, "", ""},
		{"second person on individual", `{"id":"1","contactPersons":{"contactPerson":[{"firstName":"Jane"}]}}`, individual, CodeInvalidValue, "contactPersons.contactPerson[0]"},
		{"two persons on individual", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10"},{"id":"11"}]}}`, individual, CodeInvalidValue, "contactPersons.contactPerson"},
		{"customerName on individual", `{"id":"1","customerName":"X"}`, individual, CodeInvalidValue, "customerName"},
		{"customerName on individual as read", `{"id":"1","customerName":"Ann Lee"}`, readName, "", ""},
		{"customerName on individual, another", `{"id":"1","customerName":"Ann Leigh"}`, readName, CodeInvalidValue, "customerName"},
		{"type change", `{"id":"1","type":{"value":"group"}}`, individual, CodeInvalidValue, "type.value"},
		{"clear firstName", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","firstName":""}]}}`, individual, CodeMissingElement, "contactPersons.contactPerson[0].firstName"},
		{"firstName of spaces", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","firstName":"  "}]}}`, individual, CodeMissingElement, "contactPersons.contactPerson[0].firstName"},
		{"enum still checked", `{"id":"1","role":{"value":"Boss"}}`, individual, CodeInvalidValue, "role.value"},
		{"add person to group", `{"id":"1","contactPersons":{"contactPerson":[{"firstName":"Jane"},{"id":"10","lastName":"X"}]}}`, group, "", ""},
		{"added person needs firstName", `{"id":"1","contactPersons":{"contactPerson":[{"lastName":"X"}]}}`, group, CodeMissingElement, "contactPersons.contactPerson[0].firstName"},
		{"group name cannot be cleared", `{"id":"1","customerName":""}`, group, CodeMissingElement, "customerName"},
		{"group sub-type cannot be cleared", `{"id":"1","type":{"group":{"type":{"value":""}}}}`, group, CodeMissingElement, "type.group.type.value"},
		{"group rename", `{"id":"1","customerName":"New","type":{"group":{"region":"EMEA"}}}`, group, "", ""},
		{"edit point priority", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"id":"20","priority":{"value":"low"}}]}}]}}`, individual, "", ""},
		{"edit point phone number", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"id":"20","type":{"value":"phone","phone":{"phoneNo":"555"}}}]}}]}}`, individual, "", ""},
		{"edit point only id", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"id":"20"}]}}]}}`, individual, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0]"},
		{"edit point clears phoneNo", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"id":"20","type":{"value":"phone","phone":{"phoneNo":""}}}]}}]}}`, individual, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.phone.phoneNo"},
		{"added point is a create", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{}}}]}}]}}`, individual, CodeMissingElement, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].type.email.emailAddress"},
		{"control character", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","lastName":"\u0007"}]}}`, individual, CodeInvalidValue, "contactPersons.contactPerson[0].lastName"},
		{"point id numeric", `{"id":"1","contactPersons":{"contactPerson":[{"id":"10","contactPoints":{"contactPoint":[{"id":"x","priority":{"value":"low"}}]}}]}}`, individual, CodeInvalidValue, "contactPersons.contactPerson[0].contactPoints.contactPoint[0].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCustomerJSON(strings.NewReader(tt.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateForEdit(c, tt.opts)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			e := wantCode(t, err, tt.code)
			if got, want := e.Field, tt.field; got != want {
				t.Errorf("got field %q, want %q", got, want)
			}
		})
	}
}

func TestProject(t *testing.T) {
	c := fullExample(t)
	c.ID = Str("7")
	c.CustomAttributes = append(c.CustomAttributes, CustomAttribute{AttribName: Str("loyaltyId")})
	tests := []struct {
		name       string
		attrs      Attributes
		wantLevel  bool
		wantCustom int
	}{
		{"summary", Attributes{}, false, 0},
		{"level", Attributes{Names: []string{"level"}}, true, 0},
		{"one custom attribute", Attributes{Names: []string{"custom.loyaltyId"}}, false, 1},
		{"all", Attributes{All: true}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Project(tt.attrs)
			if (got.Level != nil) != tt.wantLevel {
				t.Errorf("got level %v, want present=%v", got.Level, tt.wantLevel)
			}
			if len(got.CustomAttributes) != tt.wantCustom {
				t.Errorf("got %d custom attributes, want %d", len(got.CustomAttributes), tt.wantCustom)
			}
			if got.ID != c.ID || len(got.ContactPersons) != 1 || got.Department == nil {
				t.Errorf("summary attributes lost: %+v", got)
			}
		})
	}
}
