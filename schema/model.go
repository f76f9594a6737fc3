// Package schema holds the profile schema model: core attributes, extension
// schemas and identification keys; it loads them from config documents,
// checks the naming and typing rules of Genesys Context Services, compiles
// them to JSON Schema (santhosh-tekuri/jsonschema/v5) and validates and
// normalises every profile write against the compiled result. A Registry
// keeps the live compiled schema behind an atomic pointer so reloads never
// disturb requests in flight.
package schema

import (
	"regexp"
	"slices"
	"strings"
)

// Type is an attribute type of the Context Services schema.
type Type string

const (
	TypeBoolean  Type = "boolean"
	TypeString   Type = "string"
	TypeInteger  Type = "integer"
	TypeLong     Type = "long"
	TypeDouble   Type = "double"
	TypeDate     Type = "date"
	TypeDatetime Type = "datetime"
	TypeCurrency Type = "currency"
)

// parseType accepts the type names in any case: the Genesys pages capitalise
// them in tables and use lower case in JSON.
func parseType(s string) (Type, bool) {
	switch t := Type(strings.ToLower(strings.TrimSpace(s))); t {
	case TypeBoolean, TypeString, TypeInteger, TypeLong, TypeDouble, TypeDate, TypeDatetime, TypeCurrency:
		return t, true
	}
	return "", false
}

// ExtensionKind says how many records of an extension a customer may have.
type ExtensionKind string

const (
	SingleValued ExtensionKind = "single-valued"
	MultiValued  ExtensionKind = "multi-valued"
)

// Origin says where a definition came from. Config definitions are the base;
// definitions created through the metadata API are persisted in the store
// and overlay them.
type Origin string

const (
	OriginConfig Origin = "config"
	OriginAPI    Origin = "api"
)

// Attribute is one attribute of the profile or of an extension.
type Attribute struct {
	Name        string `json:"name"`
	Type        Type   `json:"type"`
	Default     any    `json:"default,omitempty"` // already normalised to Type
	Length      int    `json:"length,omitempty"`  // 0: unbounded
	Mandatory   bool   `json:"mandatory"`
	MultiValued bool   `json:"multi_valued,omitempty"` // core attributes only: a JSON array, first value primary
	// Aliases are names accepted for it on input, in bodies, identify
	// queries and update-by-unique; Name is what is stored and returned.
	Aliases []string `json:"aliases,omitempty"`
}

// int32Digits is how many decimal digits every 32-bit integer can have.
const int32Digits = 9

// valueType is the type a's values are checked and stored as: its declared
// type, except that an integer declared with a length of more digits than
// 32 bits hold is 64-bit (the vendor's own Phone schema declares
// PhoneNumber an integer of length 15 and sends 10-digit numbers). The
// length still bounds its digits.
func (a *Attribute) valueType() Type {
	if a.Type == TypeInteger && a.Length > int32Digits {
		return TypeLong
	}
	return a.Type
}

// named reports whether name (case-insensitively) is a's name or an alias.
func (a *Attribute) named(name string) bool {
	return SameName(a.Name, name) || slices.ContainsFunc(a.Aliases, func(al string) bool { return SameName(al, name) })
}

// SameName compares a declared name (ASCII) with one a client sent,
// ignoring ASCII case as every name lookup does (LowerASCII): EqualFold
// alone also folds "ſ" into "s" and the Kelvin sign into "k", which the
// equal lengths rule out.
func SameName(a, b string) bool { return len(a) == len(b) && strings.EqualFold(a, b) }

// Extension is a profile extension schema.
type Extension struct {
	Name       string        `json:"name"`
	Kind       ExtensionKind `json:"type"`
	Attributes []Attribute   `json:"attributes"`
	Unique     []string      `json:"unique,omitempty"`
	Origin     Origin        `json:"-"`
}

// Attribute returns the attribute named name (case-insensitively).
func (e *Extension) Attribute(name string) (*Attribute, bool) {
	return findAttribute(e.Attributes, name)
}

// IdentificationKey names the attributes by which customers are identified.
// Source is "" for core profile attributes, or the name of one extension.
type IdentificationKey struct {
	Name       string   `json:"name"`
	Source     string   `json:"source,omitempty"`
	Attributes []string `json:"attributes"`
	Unique     bool     `json:"unique"`
	Origin     Origin   `json:"-"`
}

// Definition is a whole schema: what a config file or the store overlay holds.
type Definition struct {
	Profile    []Attribute         `json:"profile,omitempty"`
	Extensions []Extension         `json:"extensions,omitempty"`
	Keys       []IdentificationKey `json:"identification_keys,omitempty"`
}

// MaxNameLength is the Context Services limit on extension, attribute and key
// names (it comes from RDBMS index-name limits).
const MaxNameLength = 26

var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// validName reports whether s is a legal extension, key or attribute name.
func validName(s string) bool {
	return len(s) <= MaxNameLength && namePattern.MatchString(s)
}

func findAttribute(attrs []Attribute, name string) (*Attribute, bool) {
	for i := range attrs {
		if attrs[i].named(name) {
			return &attrs[i], true
		}
	}
	return nil, false
}
