// Package egain is the eGain / Cisco ECE Interaction API v12 customer facade
// over the profile domain: the customer representation, its XML and JSON
// codecs, the validation rules of create and edit, query-parameter parsing,
// content negotiation and the WSError catalogue (pure), plus sessions, the
// mapping of customers onto profiles and the HTTP handlers (facade.go).
// The choices the facade makes are recorded in docs/egain.md.
//
// Optional scalars are *string so that an absent element (nil) and an element
// sent empty (pointer to "") stay distinguishable: on edit the latter clears
// the field. Struct tags `egain:"..."` describe the wire shape once for both
// formats:
//
//	egain:"name"                 child element / JSON property, in the namespace of the enclosing element
//	egain:"name,ns=KEY"          the same, in namespace KEY (cu, cp, pt, pl, co, case)
//	egain:"name,attr"            XML attribute (a plain property in JSON)
//	egain:"name,item=I,ns=KEY"   on a slice: wrapper element "name" holding repeated "I" elements in KEY
package egain

// Customer is one eGain customer (spec §3.1).
type Customer struct {
	ID               *string           `egain:"id,attr"`
	Link             *Link             `egain:"link"`  // output only
	Cases            *Cases            `egain:"cases"` // output only
	CustomerName     *string           `egain:"customerName"`
	Department       *Department       `egain:"department"`
	Type             *CustomerType     `egain:"type"`
	Level            *Value            `egain:"level"`
	Role             *Value            `egain:"role"`
	Pin              *string           `egain:"pin"`
	HowReferred      *Value            `egain:"howReferred"`
	Industry         *Value            `egain:"industry"`
	MarketSegment    *string           `egain:"marketSegment"`
	Entitlements     *string           `egain:"entitlements"`
	PreferredAgent   *UserRef          `egain:"preferredAgent"`
	Created          *string           `egain:"created"`   // output only
	CreatedBy        *UserRef          `egain:"createdBy"` // output only
	LastModified     *LastModified     `egain:"lastModified"`
	CustomAttributes []CustomAttribute `egain:"customAttributes,item=customAttribute,ns=co"`
	ContactPersons   []ContactPerson   `egain:"contactPersons,item=contactPerson,ns=cp"`
}

// Link is an output-only hypermedia link (`<link rel=".." href=".."/>`).
type Link struct {
	Rel  *string `egain:"rel,attr"`
	Href *string `egain:"href,attr"`
}

// Cases wraps the link to the customer's cases; the link is in the case namespace.
type Cases struct {
	Link *Link `egain:"link,ns=case"`
}

// Department names the customer's department; its name is in the platform namespace.
type Department struct {
	ID   *string `egain:"id,attr"`
	Name *string `egain:"name,ns=pl"`
}

// CustomerType is the customer's `type`: unlike other {value} wrappers its
// value and displayValue stay in the customer namespace.
type CustomerType struct {
	Value        *string    `egain:"value"`
	DisplayValue *string    `egain:"displayValue"` // output only
	Group        *Group     `egain:"group"`
	Corporate    *Corporate `egain:"corporate"`
}

// Group carries the group-only attributes of a customer (spec §5.2).
type Group struct {
	Type               *Value  `egain:"type"`
	Region             *string `egain:"region"`
	NumberOfMembers    *string `egain:"numberOfMembers"`
	Income             *string `egain:"income"`
	Currency           *string `egain:"currency"`
	RegistrationNumber *string `egain:"registrationNumber"`
	Affiliation        *string `egain:"affiliation"`
}

// Corporate carries the corporate-only attributes of a customer (spec §10 Q5).
type Corporate struct {
	Region *string `egain:"region"`
}

// Value is the common {value} wrapper; value and displayValue live in the
// common namespace whatever the owner's namespace is.
type Value struct {
	Value        *string `egain:"value,ns=co"`
	DisplayValue *string `egain:"displayValue,ns=co"` // output only
}

// UserRef points at an agent (preferredAgent) or the creating user (createdBy).
type UserRef struct {
	ID *string `egain:"id,attr"`
}

// LastModified is output only; JSON clients read lastModified.date.
type LastModified struct {
	Date *string `egain:"date,attr"`
}

// CustomAttribute is one configured custom attribute and its values (spec §3.4).
type CustomAttribute struct {
	AttribName   *string       `egain:"attribName"`
	AttribValues []AttribValue `egain:"attribValues,item=attribValue"`
}

// AttribValue is one value of a custom attribute.
type AttribValue struct {
	Value *string `egain:"value"`
}

// ContactPerson is a person of a customer (spec §3.2).
type ContactPerson struct {
	ID                      *string           `egain:"id,attr"`
	Salutation              *string           `egain:"salutation"`
	FirstName               *string           `egain:"firstName"`
	MiddleName              *string           `egain:"middleName"`
	LastName                *string           `egain:"lastName"`
	LoginID                 *string           `egain:"loginId"`
	Gender                  *Value            `egain:"gender"`
	Identification          *Identification   `egain:"identification"`
	Suffix                  *Value            `egain:"suffix"`
	Initials                *string           `egain:"initials"`
	SecretQuestion          *string           `egain:"secretQuestion"`
	SecretAnswer            *string           `egain:"secretAnswer"`
	HasDirectMailingConsent *string           `egain:"hasDirectMailingConsent"`
	HasDirectCallingConsent *string           `egain:"hasDirectCallingConsent"`
	HasHoldingDataConsent   *string           `egain:"hasHoldingDataConsent"`
	JobTitle                *string           `egain:"jobTitle"`
	EmploymentStatus        *Value            `egain:"employmentStatus"`
	Priority                *string           `egain:"priority"`
	DateOfBirth             *string           `egain:"dateOfBirth"`
	MaritalStatus           *Value            `egain:"maritalStatus"`
	Type                    *Value            `egain:"type"`
	FirstNameFurigana       *string           `egain:"firstNameFurigana"`
	MiddleNameFurigana      *string           `egain:"middleNameFurigana"`
	LastNameFurigana        *string           `egain:"lastNameFurigana"`
	StartGreeting           *string           `egain:"startGreeting"`
	EndGreeting             *string           `egain:"endGreeting"`
	SpouseName              *string           `egain:"spouseName"`
	EmergencyContact        *string           `egain:"emergencyContact"`
	Occupation              *string           `egain:"occupation"`
	IncomeLevel             *string           `egain:"incomeLevel"`
	EducationLevel          *Value            `egain:"educationLevel"`
	Race                    *string           `egain:"race"`
	Dependents              *string           `egain:"dependents"`
	IsSmoker                *string           `egain:"isSmoker"`
	Hobbies                 *string           `egain:"hobbies"`
	Interests               *string           `egain:"interests"`
	ContactOrder            *string           `egain:"contactOrder"`
	CustomAttributes        []CustomAttribute `egain:"customAttributes,item=customAttribute,ns=co"`
	ContactPoints           []ContactPoint    `egain:"contactPoints,item=contactPoint,ns=pt"`
}

// Identification is a person's identity document; both children stay in the
// contact-person namespace (no common {value} wrapper here).
type Identification struct {
	Type  *string `egain:"type"`
	Value *string `egain:"value"`
}

// ContactPoint is a phone, e-mail, postal, social or web address of a person
// (spec §3.3).
type ContactPoint struct {
	ID               *string           `egain:"id,attr"`
	Type             *ContactPointType `egain:"type"`
	Priority         *Value            `egain:"priority"`
	CustomAttributes []CustomAttribute `egain:"customAttributes,item=customAttribute,ns=co"`
}

// ContactPointType names the kind in Value; the sibling of the same name
// carries the data. Value stays in the contact-point namespace.
type ContactPointType struct {
	Value  *string `egain:"value"`
	Phone  *Phone  `egain:"phone"`
	Email  *Email  `egain:"email"`
	Postal *Postal `egain:"postal"`
	Social *Social `egain:"social"`
	Web    *Web    `egain:"web"`
}

// Phone is the payload of a phone contact point.
type Phone struct {
	Type         *Value        `egain:"type"`
	PhoneNo      *string       `egain:"phoneNo"`
	CountryCode  *string       `egain:"countryCode"`
	AreaCode     *string       `egain:"areaCode"`
	Extension    *string       `egain:"extension"`
	Availability *Availability `egain:"availability"`
}

// Availability says when a phone may be called.
type Availability struct {
	Days  *Value `egain:"days"`
	Times *Value `egain:"times"`
}

// Email is the payload of an e-mail contact point.
type Email struct {
	EmailAddress *string `egain:"emailAddress"`
}

// Postal is the payload of a postal contact point.
type Postal struct {
	Type     *Value  `egain:"type"`
	Address1 *string `egain:"address_1"`
	Address2 *string `egain:"address_2"`
	City     *string `egain:"city"`
	State    *string `egain:"state"`
	Zip      *string `egain:"zip"`
	Country  *string `egain:"country"`
	Region   *string `egain:"region"`
}

// Social is the payload of a social contact point (element names from v3, spec §10 Q6).
type Social struct {
	Type     *Value  `egain:"type"`
	SocialID *string `egain:"socialId"`
}

// Web is the payload of a web contact point (element names from v3, spec §10 Q6).
type Web struct {
	URL *string `egain:"url"`
}

// Login is the body of the login call.
type Login struct {
	UserName string
	Password string
}

// Str returns a pointer to s, for building optional fields.
func Str(s string) *string { return &s }

// Project returns c cut down to the summary attributes plus those a asks
// for (spec §3.5). Customer-level custom attributes are requested one by one
// as "custom.<name>"; contact persons are part of the summary whole.
func (c Customer) Project(a Attributes) Customer {
	if a.All {
		return c
	}
	out := Customer{
		ID: c.ID, Link: c.Link, Cases: c.Cases, CustomerName: c.CustomerName,
		Department: c.Department, Type: c.Type, LastModified: c.LastModified,
		ContactPersons: c.ContactPersons,
	}
	if a.Has("level") {
		out.Level = c.Level
	}
	if a.Has("role") {
		out.Role = c.Role
	}
	if a.Has("pin") {
		out.Pin = c.Pin
	}
	if a.Has("howReferred") {
		out.HowReferred = c.HowReferred
	}
	if a.Has("industry") {
		out.Industry = c.Industry
	}
	if a.Has("marketSegment") {
		out.MarketSegment = c.MarketSegment
	}
	if a.Has("entitlements") {
		out.Entitlements = c.Entitlements
	}
	if a.Has("preferredAgent") {
		out.PreferredAgent = c.PreferredAgent
	}
	if a.Has("created") {
		out.Created = c.Created
	}
	if a.Has("createdBy") {
		out.CreatedBy = c.CreatedBy
	}
	for _, ca := range c.CustomAttributes {
		if a.Has("custom." + str(ca.AttribName)) {
			out.CustomAttributes = append(out.CustomAttributes, ca)
		}
	}
	return out
}
