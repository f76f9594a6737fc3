package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The *Doc types are schema definitions as people write them, in config YAML
// or in metadata API JSON. Their scalar fields are loose on purpose: the
// vendor examples write `"mandatory":"true"` and `"length":"3"` (spec §10 Q7).
// Build turns docs into the strict model and reports every problem.

// AttributeDoc is an attribute as written in a schema document.
type AttributeDoc struct {
	Name        string    `json:"name" yaml:"name"`
	Type        string    `json:"type" yaml:"type"`
	Default     any       `json:"default,omitempty" yaml:"default,omitempty"`
	Length      LooseInt  `json:"length,omitzero" yaml:"length,omitempty"`
	Mandatory   LooseBool `json:"mandatory,omitzero" yaml:"mandatory,omitempty"`
	MultiValued LooseBool `json:"multi_valued,omitzero" yaml:"multi_valued,omitempty"`
	// Aliases are other names accepted for the attribute on input (a
	// vendor sample's spelling); it is stored and returned by Name.
	Aliases []string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	Line    int      `json:"-" yaml:"-"` // where it was written, 0 when unknown
}

// ExtensionDoc is an extension schema as written in a schema document.
type ExtensionDoc struct {
	Name       string         `json:"name" yaml:"name"`
	Type       string         `json:"type" yaml:"type"`
	Attributes []AttributeDoc `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	Unique     []string       `json:"unique,omitempty" yaml:"unique,omitempty"`
	// Required is accepted and ignored: metadata queries list it, and
	// clients post back what they read.
	Required LooseBool `json:"required,omitzero" yaml:"-"`
	// Origin is accepted and ignored for the same reason (views list it).
	Origin ViewOnly `json:"origin,omitzero" yaml:"-"`
	Line   int      `json:"-" yaml:"-"`
}

// KeyDoc is an identification key as written in a schema document.
type KeyDoc struct {
	Name       string    `json:"name" yaml:"name"`
	Source     string    `json:"source,omitempty" yaml:"source,omitempty"`
	Attributes []string  `json:"attributes" yaml:"attributes"`
	Unique     LooseBool `json:"unique,omitzero" yaml:"unique,omitempty"`
	Origin     ViewOnly  `json:"origin,omitzero" yaml:"-"` // listed by views; ignored
	Line       int       `json:"-" yaml:"-"`
}

// ViewOnly is a member metadata views show (origin) that a body may carry
// back: any string is accepted, nothing is kept, nothing is written.
type ViewOnly struct{}

func (ViewOnly) IsZero() bool { return true }

func (*ViewOnly) UnmarshalJSON(data []byte) error {
	var s *string
	return json.Unmarshal(data, &s)
}

// Document is a whole schema as written: the `schema:` section of config.yaml,
// a schema file it names, or the overlay persisted in the store.
type Document struct {
	Profile    []AttributeDoc `json:"profile,omitempty" yaml:"profile,omitempty"`
	Extensions []ExtensionDoc `json:"extensions,omitempty" yaml:"extensions,omitempty"`
	Keys       []KeyDoc       `json:"identification_keys,omitempty" yaml:"identification_keys,omitempty"`
	File       string         `json:"-" yaml:"-"` // where it was read from, for problem reports
}

// The UnmarshalYAML methods record the line of each definition so problems
// can be reported as file:line.

func (d *AttributeDoc) UnmarshalYAML(n *yaml.Node) error {
	type plain AttributeDoc
	if err := decodeStrictYAML(n, (*plain)(d)); err != nil {
		return err
	}
	d.Line = n.Line
	return nil
}

func (d *ExtensionDoc) UnmarshalYAML(n *yaml.Node) error {
	type plain ExtensionDoc
	if err := decodeStrictYAML(n, (*plain)(d)); err != nil {
		return err
	}
	d.Line = n.Line
	return nil
}

func (d *KeyDoc) UnmarshalYAML(n *yaml.Node) error {
	type plain KeyDoc
	if err := decodeStrictYAML(n, (*plain)(d)); err != nil {
		return err
	}
	d.Line = n.Line
	return nil
}

// decodeStrictYAML decodes n into v refusing unknown fields, which
// yaml.Node.Decode alone does not do.
func decodeStrictYAML(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping", n.Line)
	}
	allowed := yamlFieldNames(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !allowed[k.Value] {
			return fmt.Errorf("line %d: unknown field %q", k.Line, k.Value)
		}
	}
	return n.Decode(v)
}

// yamlFieldNames lists the yaml names of the fields of the struct v points to.
func yamlFieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v).Elem()
	names := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// DecodeDocumentJSON decodes a schema document (or one part of it) refusing
// unknown fields at every level.
func DecodeDocumentJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			// Go's own words name Go types ("Go struct field KeyDoc.attributes
			// of type []string"); a client wrote JSON.
			return fmt.Errorf("%q must be %s, not a JSON %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON document")
	}
	return nil
}

// jsonKind says in JSON's words what a value decoded into t must be.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another JSON type"
}

// LooseInt is an integer that may be written as a number or a numeric string.
type LooseInt struct {
	Value int
	Set   bool
}

func (l *LooseInt) set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a non-negative integer", s)
	}
	*l = LooseInt{Value: n, Set: true}
	return nil
}

func (l *LooseInt) UnmarshalJSON(b []byte) error {
	return l.set(strings.Trim(string(b), `"`))
}

func (l *LooseInt) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected an integer", n.Line)
	}
	if err := l.set(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

func (l LooseInt) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(l.Value)), nil }
func (l LooseInt) IsZero() bool                 { return !l.Set }

// LooseBool is a boolean that may be written as true/false or
// "true"/"false" (in any case); JSON null is not given. Nothing else is
// one: 1, "t" or "yes" (strconv.ParseBool's and YAML 1.1's other forms)
// are refused, as a record's boolean refuses them, since a merge flag
// read wrongly deletes a customer for good.
type LooseBool struct {
	Value bool
	Set   bool
}

func (l *LooseBool) set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*l = LooseBool{Value: true, Set: true}
	case "false":
		*l = LooseBool{Value: false, Set: true}
	default:
		return fmt.Errorf("%q is not a boolean (true or false)", s)
	}
	return nil
}

func (l *LooseBool) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = LooseBool{}
		return nil
	}
	return l.set(strings.Trim(string(b), `"`))
}

func (l *LooseBool) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a boolean", n.Line)
	}
	if err := l.set(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

func (l LooseBool) MarshalJSON() ([]byte, error) { return []byte(strconv.FormatBool(l.Value)), nil }
func (l LooseBool) IsZero() bool                 { return !l.Set }
