package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/jsonw"
)

// Record is one extension record: attribute name to stored value.
type Record = map[string]any

// Doc is a validated, normalised write: names are canonical (as the schema
// spells them), values are in stored form, defaults applied.
type Doc struct {
	CustomerID string              // "" when the body carried none
	Attributes map[string]any      // core attributes; multi-valued ones as []any
	Extensions map[string][]Record // extensions present in the body, by canonical name
}

// Error codes of schema validation. They are part of the API: clients switch on them.
const (
	CodeInvalidBody      = "INVALID_BODY"
	CodeUnknownAttribute = "UNKNOWN_ATTRIBUTE"
	// CodeTooManyRecords refuses more records of one extension than a
	// write may bring or a customer may hold (profile.CodeTooManyRecords).
	CodeTooManyRecords   = "TOO_MANY_RECORDS"
	CodeUnknownExtension = "UNKNOWN_EXTENSION"
	CodeInvalidType      = "INVALID_TYPE"
	CodeInvalidValue     = "INVALID_VALUE"
	CodeTooLong          = "VALUE_TOO_LONG"
	CodeMissingMandatory = "MISSING_MANDATORY_ATTRIBUTE"
	CodeUnauthorized     = "UNAUTHORIZED_STRING"
	CodeInvalidID        = "INVALID_CUSTOMER_ID"
	CodeInvalidSchema    = "INVALID_SCHEMA"
)

// PrepareProfile validates a whole profile body (create and replace).
func (c *Compiled) PrepareProfile(body map[string]any) (*Doc, error) {
	return c.prepare(body, true, true)
}

// PrepareProfileAnyWords is PrepareProfile without the unauthorized-strings
// rule (§7). The rule is the Genesys API's: the eGain facade stores values
// such as "Service" or "date" that eGain clients may send, and a stored
// profile checked against a new schema was held to the rule of the API that
// wrote it.
func (c *Compiled) PrepareProfileAnyWords(body map[string]any) (*Doc, error) {
	return c.prepare(body, true, false)
}

// PrepareExtensions validates a body holding only extensions (insert records).
func (c *Compiled) PrepareExtensions(body map[string]any) (*Doc, error) {
	return c.prepare(body, false, true)
}

func (c *Compiled) prepare(body map[string]any, withCore, checkWords bool) (*Doc, error) {
	canon := make(map[string]any, len(body))
	var cleared []string // single-valued extensions given as [] : remove the record
	// Members in name order: a body with several faults is answered by the
	// same one every time, on every store (map order made it vary).
	names := make([]string, 0, len(body)) // one allocation; slices.Sorted(maps.Keys) grows its slice step by step
	for name := range body {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := body[name]
		if v == nil {
			continue // null means "no value", as if the key were absent
		}
		canonical, value, err := c.canonicalMember(name, v, withCore)
		if err != nil {
			return nil, err
		}
		if _, dup := canon[canonical]; dup || slices.Contains(cleared, canonical) {
			return nil, errs.Invalid(CodeInvalidBody, name, "%q is given twice (names are case-insensitive)", canonical)
		}
		switch {
		case value == nil:
			cleared = append(cleared, canonical)
		case isEmptyList(value) && c.isCoreAttribute(canonical):
			// An empty list is no value, like null.
		default:
			canon[canonical] = value
		}
	}
	if err := checkNumbers("", canon); err != nil {
		return nil, err
	}
	if checkWords && c.unauthorized.Values {
		if err := c.checkUnauthorized("", canon); err != nil {
			return nil, err
		}
	}
	validator := c.profile
	if !withCore {
		validator = c.extensionBody
	}
	if err := validator.Validate(canon); err != nil {
		return nil, c.validationError("", err)
	}
	doc, err := c.normalizeDoc(canon)
	if err != nil {
		return nil, err
	}
	for _, name := range cleared {
		doc.Extensions[name] = []Record{}
	}
	return doc, nil
}

func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

func (c *Compiled) isCoreAttribute(name string) bool {
	_, ok := c.Attribute(name)
	return ok
}

// canonicalMember resolves one top-level body member to its schema name and
// canonical value.
func (c *Compiled) canonicalMember(name string, v any, withCore bool) (string, any, error) {
	if SameName(name, "customer_id") {
		return "customer_id", v, nil
	}
	if a, ok := c.Attribute(name); ok {
		if !withCore {
			return "", nil, errs.Invalid(CodeUnknownExtension, name, "%q is a core attribute, not an extension: this request takes extensions only", name)
		}
		if list, ok := v.([]any); ok && a.MultiValued && len(list) > MaxValuesPerAttribute {
			return "", nil, TooManyItems(a.Name, len(list), MaxValuesPerAttribute)
		}
		return a.Name, coerceAttribute(a, v), nil
	}
	if e, ok := c.Extension(name); ok {
		rec, err := c.canonicalExtension(e, v)
		return e.Name, rec, err
	}
	return "", nil, errs.Invalid(CodeUnknownAttribute, name, "%q is neither an attribute of the profile schema nor an extension", name)
}

// coerceAttribute coerces a core attribute's value; a lone value of a
// multi-valued attribute becomes an array of one.
func coerceAttribute(a *Attribute, v any) any {
	if !a.MultiValued {
		return coerce(a.valueType(), v)
	}
	list, ok := v.([]any)
	if !ok {
		return []any{coerce(a.valueType(), v)}
	}
	out := make([]any, len(list))
	for i, item := range list {
		out[i] = coerce(a.valueType(), item)
	}
	return out
}

// canonicalExtension renames record attributes to their schema spelling,
// applies defaults, and shapes the value: single-valued extensions take one
// object, multi-valued ones an array (a lone object is taken as one record).
func (c *Compiled) canonicalExtension(e *Extension, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		rec, err := c.canonicalRecord(e, x, true)
		if err != nil || e.Kind == SingleValued {
			return rec, err
		}
		return []any{rec}, nil
	case []any:
		if e.Kind == SingleValued && len(x) > 1 {
			return nil, errs.Invalid(CodeInvalidType, e.Name, "extension %q is single-valued: give one record, not %d", e.Name, len(x))
		}
		if len(x) > MaxRecordsPerWrite {
			return nil, errs.Invalid(CodeTooManyRecords, e.Name, "extension %q takes at most %d records in one write, not %d", e.Name, MaxRecordsPerWrite, len(x))
		}
		out := make([]any, len(x))
		for i, item := range x {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, errs.Invalid(CodeInvalidType, e.Name, "extension %q: record %d is not a JSON object", e.Name, i+1)
			}
			rec, err := c.canonicalRecord(e, m, true)
			if err != nil {
				return nil, err
			}
			out[i] = rec
		}
		if e.Kind == SingleValued {
			if len(out) == 0 {
				return nil, nil
			}
			return out[0], nil
		}
		return out, nil
	}
	return nil, errs.Invalid(CodeInvalidType, e.Name, "extension %q must be a JSON object or an array of objects", e.Name)
}

// addRecordMember adds member name of a record to out under its schema
// name, dropping the envelope fields (spec §2.3; an envelope name must
// name e, the extension the record is given under); it refuses an unknown
// name and a name given twice.
func addRecordMember(e *Extension, out Record, name string, v any) error {
	a, ok := e.Attribute(name)
	if !ok {
		if SameName(name, "name") {
			if s, isString := v.(string); v != nil && (!isString || !SameName(s, e.Name)) {
				return errs.Invalid(CodeInvalidValue, e.Name+"."+name, "a record given under %q names extension %v", e.Name, v)
			}
			return nil
		}
		if SameName(name, "customer_id") {
			return nil
		}
		return errs.Invalid(CodeUnknownAttribute, e.Name+"."+name, "%q is not an attribute of extension %q", name, e.Name)
	}
	if v == nil {
		return nil
	}
	if _, dup := out[a.Name]; dup {
		return errs.Invalid(CodeInvalidBody, e.Name+"."+name, "%q is given twice in a record of %q (names are case-insensitive)", a.Name, e.Name)
	}
	out[a.Name] = coerce(a.valueType(), v)
	return nil
}

// TooManyItems refuses a list longer than the schema's maxItems before the
// JSON Schema validator walks every item of it (refusing 20,000 Phone
// records took 70 ms, nearly all of it validating records; now it costs
// what parsing costs). The answer is the one maxItems gives.
func TooManyItems(field string, n, max int) error {
	return errs.Invalid(CodeInvalidValue, field, "attribute %q: maximum %d items required, but found %d items", field, max, n)
}

// canonicalRecord renames attributes, drops the record-envelope fields of
// spec §2.3 (customer_id, name) when they are not attributes, and applies
// defaults when complete is set.
func (c *Compiled) canonicalRecord(e *Extension, in map[string]any, complete bool) (Record, error) {
	out := make(Record, len(in))
	for name, v := range in {
		if err := addRecordMember(e, out, name, v); err != nil {
			// Again in name order, for the fault to name (records are
			// many, so the valid ones are not sorted).
			clear(out)
			for _, name := range slices.Sorted(maps.Keys(in)) {
				if err := addRecordMember(e, out, name, in[name]); err != nil {
					return nil, err
				}
			}
			return nil, err
		}
	}
	if complete {
		for i := range e.Attributes {
			a := &e.Attributes[i]
			if _, set := out[a.Name]; !set && a.Default != nil {
				out[a.Name] = a.Default
			}
		}
	}
	return out, nil
}

// checkUnauthorized refuses any string value that is a reserved keyword.
func (c *Compiled) checkUnauthorized(path string, v any) error {
	return walkScalars(path, v, func(path func() string, v any) error {
		if s, ok := v.(string); ok && c.unauthorized.Contains(s) {
			return errs.Invalid(CodeUnauthorized, path(), "bad parameter '%s' reason: '%s' keyword is not authorized.", path(), s)
		}
		return nil
	})
}

// checkNumbers refuses number literals no attribute type can hold
// (jsonw.CheckNumber) before the JSON Schema validator parses them as
// arbitrary-precision rationals, which a huge exponent makes fail inside it.
func checkNumbers(path string, v any) error {
	return walkScalars(path, v, func(path func() string, v any) error {
		if n, ok := v.(json.Number); ok {
			if err := jsonw.CheckNumber(string(n)); err != nil {
				return errs.Invalid(CodeInvalidType, path(), "attribute %q: %v", path(), err)
			}
		}
		return nil
	})
}

// walkScalars calls fn for every scalar in v (under root, "" for none);
// path gives the scalar's dotted path. It is built only when fn asks, on
// a refusal: built at every level it cost O(depth²), 25 MB of strings and
// most of 33 ms for one value nested 5,000 objects deep.
func walkScalars(root string, v any, fn func(path func() string, v any) error) error {
	var names []string
	if root != "" {
		names = append(names, root)
	}
	path := func() string { return strings.Join(names, ".") }
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case []any:
			for _, item := range x {
				if err := walk(item); err != nil {
					return err
				}
			}
		case map[string]any:
			for k, item := range x {
				names = append(names, k)
				err := walk(item)
				names = names[:len(names)-1]
				if err != nil {
					return err
				}
			}
		default:
			return fn(path, v)
		}
		return nil
	}
	return walk(v)
}

func (c *Compiled) normalizeDoc(canon map[string]any) (*Doc, error) {
	doc := &Doc{Attributes: map[string]any{}, Extensions: map[string][]Record{}}
	for name, v := range canon {
		if name == "customer_id" {
			doc.CustomerID = v.(string)
			continue
		}
		if a, ok := c.Attribute(name); ok {
			nv, err := normalizeAttribute(a, v)
			if err != nil {
				return nil, errs.Invalid(CodeInvalidValue, name, "attribute %q: %v", name, err)
			}
			doc.Attributes[a.Name] = nv
			continue
		}
		e, _ := c.Extension(name)
		var records []Record
		switch x := v.(type) {
		case Record:
			records = []Record{x}
		case []any:
			records = make([]Record, len(x))
			for i, r := range x {
				records[i] = r.(Record)
			}
		}
		for _, r := range records {
			if err := normalizeRecord(e, r); err != nil {
				return nil, err
			}
		}
		doc.Extensions[e.Name] = records
	}
	return doc, nil
}

func normalizeAttribute(a *Attribute, v any) (any, error) {
	if !a.MultiValued {
		return normalize(a.valueType(), v)
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, len(list))
	for i, item := range list {
		nv, err := normalize(a.valueType(), item)
		if err != nil {
			return nil, err
		}
		out[i] = nv
	}
	return out, nil
}

func normalizeRecord(e *Extension, r Record) error {
	for name, v := range r {
		a, _ := e.Attribute(name)
		nv, err := normalize(a.valueType(), v)
		if err != nil {
			return errs.Invalid(CodeInvalidValue, e.Name+"."+name, "%s.%s: %v", e.Name, name, err)
		}
		r[name] = nv
	}
	return nil
}

// PrepareRecordPatch validates part of one record (update by unique): only
// the attributes given are checked, and no defaults are applied.
func (c *Compiled) PrepareRecordPatch(ext string, body map[string]any) (Record, error) {
	return c.prepareRecordPatch(ext, body, true)
}

// PrepareRecordSelector validates the body of a delete by unique: it only
// selects a stored record, so its values are not held to the unauthorized
// strings (a value stored unchecked, through the eGain facade or before
// check_values was set, must stay addressable).
func (c *Compiled) PrepareRecordSelector(ext string, body map[string]any) (Record, error) {
	return c.prepareRecordPatch(ext, body, false)
}

func (c *Compiled) prepareRecordPatch(ext string, body map[string]any, writes bool) (Record, error) {
	e, ok := c.Extension(ext)
	if !ok {
		return nil, errs.NotFound(CodeUnknownExtension, "extension %q is not defined", ext)
	}
	rec, err := c.canonicalRecord(e, body, false)
	if err != nil {
		return nil, err
	}
	if err := checkNumbers(e.Name, rec); err != nil {
		return nil, err
	}
	if c.unauthorized.Values && writes {
		// The unique attributes select the record; an update never changes them.
		written := Record{}
		for name, v := range rec {
			if !slices.ContainsFunc(e.Unique, func(u string) bool { return SameName(u, name) }) {
				written[name] = v
			}
		}
		if err := c.checkUnauthorized(e.Name, written); err != nil {
			return nil, err
		}
	}
	if err := c.patches[strings.ToLower(e.Name)].Validate(map[string]any(rec)); err != nil {
		return nil, c.validationError(e.Name, err)
	}
	if err := normalizeRecord(e, rec); err != nil {
		return nil, err
	}
	// null clears an attribute (reads show an unset one as null): it stays
	// in the patch as nil, for the update to remove. An attribute with a
	// default takes it instead, as on create: a record never lacks one, so
	// that what is read can be written back unchanged.
	// A unique attribute stays null: it selects the record where it is
	// unset (extensions.UpdateByUnique), and is not changed.
	for name, v := range body {
		if a, ok := e.Attribute(name); ok && v == nil {
			if old, given := rec[a.Name]; given && old != nil {
				return nil, errs.Invalid(CodeInvalidBody, e.Name+"."+name, "%q is given twice in a record of %q (names are case-insensitive)", a.Name, e.Name)
			}
			rec[a.Name] = nil
		}
	}
	for name, v := range rec {
		if a, _ := e.Attribute(name); v == nil && a.Default != nil && !slices.Contains(e.Unique, a.Name) {
			rec[name] = a.Default
		}
	}
	return rec, nil
}

// CheckRecord validates one complete record in stored form, such as a record
// after a patch was applied to it.
func (c *Compiled) CheckRecord(ext string, rec Record) error {
	e, ok := c.Extension(ext)
	if !ok {
		return errs.NotFound(CodeUnknownExtension, "extension %q is not defined", ext)
	}
	if err := c.records[strings.ToLower(e.Name)].Validate(map[string]any(rec)); err != nil {
		return c.validationError(e.Name, err)
	}
	return nil
}

// QueryValue normalises a value given in a query (identify, search) for an
// attribute of the profile (source "") or of an extension, into index text.
func (c *Compiled) QueryValue(source, attr, raw string) (string, error) {
	field := attr
	if source != "" {
		field = source + "." + attr
	}
	var a *Attribute
	var ok bool
	if source == "" {
		a, ok = c.Attribute(attr)
	} else if e, found := c.Extension(source); found {
		a, ok = e.Attribute(attr)
	}
	if !ok {
		return "", errs.Invalid(CodeUnknownAttribute, field, "%q is not a known attribute", field)
	}
	v, err := normalize(a.valueType(), raw)
	if err != nil {
		return "", errs.Invalid(CodeInvalidValue, field, "%s: %v", field, err)
	}
	return IndexText(v), nil
}

// CheckMandatory refuses core attributes attrs (by schema name) that lack
// a mandatory attribute, as a write of them would be refused: for what a
// write builds from stored data (a merge) rather than from a body.
func (c *Compiled) CheckMandatory(attrs map[string]any) error {
	var missing []string
	for _, a := range c.Def.Profile {
		if v, ok := attrs[a.Name]; a.Mandatory && (!ok || v == nil || isEmptyList(v)) {
			missing = append(missing, a.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errs.Invalid(CodeMissingMandatory, strings.Join(missing, ","), "mandatory attribute missing: %s", strings.Join(missing, ", "))
}

// validationError turns a JSON Schema failure into one clear client error
// naming the attribute at fault; record is the extension when the
// validated value was one record of it (its paths are then the record's).
func (c *Compiled) validationError(record string, err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate: %w", err)
	}
	leaf := deepestCause(ve)
	field := strings.ReplaceAll(strings.TrimPrefix(leaf.InstanceLocation, "/"), "/", ".")
	if record != "" {
		field = strings.TrimSuffix(record+"."+field, ".")
	}
	kw := leaf.KeywordLocation
	if field == "customer_id" {
		return errs.Invalid(CodeInvalidID, field, "customer_id must be 1 to %d letters, digits, '_' or '-'", MaxCustomerIDLength)
	}
	switch {
	case strings.HasSuffix(kw, "/required"):
		names := quotedNames(leaf.Message)
		for i, n := range names {
			names[i] = strings.TrimPrefix(field+"."+n, ".")
		}
		return errs.Invalid(CodeMissingMandatory, strings.Join(names, ","), "mandatory attribute missing: %s", strings.Join(names, ", "))
	case strings.HasSuffix(kw, "/maxLength"):
		return errs.Invalid(CodeTooLong, field, "attribute %q is too long: %s", field, leaf.Message)
	case strings.HasSuffix(kw, "/maximum"), strings.HasSuffix(kw, "/minimum"):
		// An integer's length counts its digits (jsonSchemaFor); a value
		// within its type's range is refused for them, not for its type.
		if a := c.attributeAt(field); a != nil && a.Length > 0 && a.Length < 19 {
			return errs.Invalid(CodeTooLong, field, "attribute %q has more than %d digits (its length)", field, a.Length)
		}
	case strings.HasSuffix(kw, "/maxItems"), strings.HasSuffix(kw, "/minItems"):
		return errs.Invalid(CodeInvalidValue, field, "attribute %q: %s", field, leaf.Message)
	case strings.HasSuffix(kw, "/format"):
		value, _, _ := strings.Cut(leaf.Message, " is not valid")
		return errs.Invalid(CodeInvalidValue, field, "attribute %q must be %s, not %s", field, c.expectedType(field), value)
	case strings.HasSuffix(kw, "/additionalProperties"):
		return errs.Invalid(CodeUnknownAttribute, field, "%s", leaf.Message)
	}
	if t := c.expectedType(field); t != "" {
		return errs.Invalid(CodeInvalidType, field, "attribute %q must be %s", field, t)
	}
	return errs.Invalid(CodeInvalidType, field, "attribute %q: %s", field, leaf.Message)
}

// deepestCause follows the cause chain to the innermost failure, the one
// that names the attribute at fault.
func deepestCause(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		causes := ve.Causes
		// Deepest first; among equals the first by location, as causes
		// come in the validator's map order.
		sort.SliceStable(causes, func(i, j int) bool {
			if a, b := len(causes[i].InstanceLocation), len(causes[j].InstanceLocation); a != b {
				return a > b
			}
			return causes[i].InstanceLocation < causes[j].InstanceLocation
		})
		ve = causes[0]
	}
	return ve
}

// expectedType describes the type wanted at a dotted instance path such as
// "DOB", "EmailAddress.1" or "Phone.0.PhoneType".
func (c *Compiled) expectedType(field string) string {
	parts := strings.Split(field, ".")
	if a := c.attributeAt(field); a != nil {
		return typeDescription(a.valueType())
	}
	if e, ok := c.Extension(parts[0]); ok {
		if e.Kind == MultiValued && len(parts) == 1 {
			return "an array of records"
		}
		return "a record (JSON object)"
	}
	return ""
}

// attributeAt is the attribute a field path names (Name, or Ext.attr with
// record indexes between), nil when none.
func (c *Compiled) attributeAt(field string) *Attribute {
	parts := strings.Split(field, ".")
	if a, ok := c.Attribute(parts[0]); ok {
		return a
	}
	if e, ok := c.Extension(parts[0]); ok {
		if a, ok := e.Attribute(parts[len(parts)-1]); ok {
			return a
		}
	}
	return nil
}

func typeDescription(t Type) string {
	switch t {
	case TypeBoolean:
		return "a boolean"
	case TypeString:
		return "a string"
	case TypeInteger:
		return "a 32-bit integer"
	case TypeLong:
		return "a 64-bit integer"
	case TypeDouble:
		return "a number"
	case TypeCurrency:
		return "an amount (number with at most 4 decimals)"
	case TypeDate:
		return "a date (yyyy-MM-dd)"
	case TypeDatetime:
		return "a date-time (yyyy-MM-ddTHH:mm:ss.SSSZ)"
	}
	return string(t)
}

// quotedNames extracts the 'quoted' names of a jsonschema message such as
// "missing properties: 'FirstName', 'LastName'".
func quotedNames(msg string) []string {
	var names []string
	for {
		start := strings.IndexByte(msg, '\'')
		if start < 0 {
			return names
		}
		end := strings.IndexByte(msg[start+1:], '\'')
		if end < 0 {
			return names
		}
		names = append(names, msg[start+1:start+1+end])
		msg = msg[start+end+2:]
	}
}
