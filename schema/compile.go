package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Limits that keep one write bounded whatever the schema says.
const (
	MaxValuesPerAttribute = 100  // values of one multi-valued core attribute
	MaxRecordsPerWrite    = 1000 // records of one multi-valued extension in one body
	MaxCustomerIDLength   = 16
)

// customerIDPattern keeps ids safe in URLs, logs and store keys. No dots:
// "." and ".." are path dot segments that clients and proxies rewrite.
const customerIDPattern = `^[A-Za-z0-9_-]+$`

// Compiled is an immutable, validated and compiled schema. It is what
// requests use; reloads replace it whole.
type Compiled struct {
	Def      *Definition
	Hash     string    // sha256 of the definition, hex
	LoadedAt time.Time // when it was built
	// Version is the store's schema version this was built from: writes
	// compare it with the stored one, so that no process writes under a
	// schema another process has already changed.
	Version uint64

	unauthorized Unauthorized
	attributes   map[string]*Attribute // lower-cased core attribute names
	extensions   map[string]*Extension // lower-cased extension names
	extNames     []string              // in definition order
	keys         map[string]*IdentificationKey

	profile       *jsonschema.Schema            // a whole profile body
	extensionBody *jsonschema.Schema            // a body of extensions only
	records       map[string]*jsonschema.Schema // one complete record, by lower-cased extension
	patches       map[string]*jsonschema.Schema // one partial record, by lower-cased extension
}

// Compile builds the JSON Schemas for def. def must come from Build.
func Compile(def *Definition, unauthorized Unauthorized, now time.Time) (*Compiled, error) {
	c := &Compiled{
		Def:          def,
		LoadedAt:     now,
		unauthorized: unauthorized,
		attributes:   map[string]*Attribute{},
		extensions:   map[string]*Extension{},
		keys:         map[string]*IdentificationKey{},
		records:      map[string]*jsonschema.Schema{},
		patches:      map[string]*jsonschema.Schema{},
	}
	for i := range def.Profile {
		c.attributes[strings.ToLower(def.Profile[i].Name)] = &def.Profile[i]
		for _, alias := range def.Profile[i].Aliases {
			c.attributes[strings.ToLower(alias)] = &def.Profile[i]
		}
	}
	for i := range def.Extensions {
		c.extensions[strings.ToLower(def.Extensions[i].Name)] = &def.Extensions[i]
		c.extNames = append(c.extNames, def.Extensions[i].Name)
	}
	for i := range def.Keys {
		c.keys[strings.ToLower(def.Keys[i].Name)] = &def.Keys[i]
	}
	sum, err := hashDefinition(def, unauthorized)
	if err != nil {
		return nil, err
	}
	c.Hash = sum

	profileProps := map[string]any{"customer_id": customerIDSchema()}
	extensionProps := map[string]any{"customer_id": customerIDSchema()}
	var required []string
	for i := range def.Profile {
		a := &def.Profile[i]
		profileProps[a.Name] = coreAttributeSchema(a)
		if a.Mandatory {
			required = append(required, a.Name)
		}
	}
	for i := range def.Extensions {
		e := &def.Extensions[i]
		record := recordSchema(e, true)
		var body any = record
		if e.Kind == MultiValued {
			body = map[string]any{"type": "array", "items": record, "maxItems": MaxRecordsPerWrite}
		}
		profileProps[e.Name] = body
		extensionProps[e.Name] = body
		lower := strings.ToLower(e.Name)
		if c.records[lower], err = compileOne("record/"+lower, record); err != nil {
			return nil, err
		}
		if c.patches[lower], err = compileOne("patch/"+lower, recordSchema(e, false)); err != nil {
			return nil, err
		}
	}
	if c.profile, err = compileOne("profile", objectSchema(profileProps, required)); err != nil {
		return nil, err
	}
	if c.extensionBody, err = compileOne("extensions", objectSchema(extensionProps, nil)); err != nil {
		return nil, err
	}
	return c, nil
}

// hashDefinition is the schema's hash: of def, and of the unauthorized
// strings when they are not the default (replicas with different sets
// judge the same names and values differently; the default adds nothing,
// so the hash of a store with a default config stays as it was).
func hashDefinition(def *Definition, unauthorized Unauthorized) (string, error) {
	type withOrigins struct {
		Def          *Definition
		Origins      []Origin
		Unauthorized *unauthorizedForm `json:",omitempty"`
	}
	var origins []Origin
	for _, e := range def.Extensions {
		origins = append(origins, e.Origin)
	}
	for _, k := range def.Keys {
		origins = append(origins, k.Origin)
	}
	data, err := json.Marshal(withOrigins{def, origins, unauthorized.form()})
	if err != nil {
		return "", fmt.Errorf("hash schema: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func customerIDSchema() map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": MaxCustomerIDLength, "pattern": customerIDPattern}
}

func coreAttributeSchema(a *Attribute) map[string]any {
	one := jsonSchemaFor(a)
	if !a.MultiValued {
		return one
	}
	// A multi-valued attribute is an array, first value primary (a lone
	// value was wrapped into an array of one before validation).
	return map[string]any{"type": "array", "items": one, "maxItems": MaxValuesPerAttribute}
}

func recordSchema(e *Extension, complete bool) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range e.Attributes {
		a := &e.Attributes[i]
		props[a.Name] = jsonSchemaFor(a)
		if complete && a.Mandatory {
			required = append(required, a.Name)
		}
	}
	return objectSchema(props, required)
}

func objectSchema(props map[string]any, required []string) map[string]any {
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// compileOne compiles one generated schema with a fresh compiler: a live
// compiler is never mutated, so reloads cannot race with validation. A
// compiled schema is immutable, so one compiled before from the same JSON
// is used again (compiledSchemas).
func compileOne(name string, doc map[string]any) (*jsonschema.Schema, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s schema: %w", name, err)
	}
	cacheKey := name + "\x00" + string(data)
	if s, ok := compiledSchemas.get(cacheKey); ok {
		return s, nil
	}
	s, err := compileFresh(name, data)
	if err == nil {
		compiledSchemas.put(cacheKey, s)
	}
	return s, err
}

// compiledSchemas remembers the last schemas compiled in this process:
// each start and reload compiles every extension's schema, which measured
// a fifth of the CPU of a start.
var compiledSchemas = schemaCache{max: 256}

type schemaCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*jsonschema.Schema
}

func (c *schemaCache) get(key string) (*jsonschema.Schema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *schemaCache) put(key string, s *jsonschema.Schema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max { // a process compiles a handful; start over rather than grow
		c.m = map[string]*jsonschema.Schema{}
	}
	c.m[key] = s
}

func compileFresh(name string, data []byte) (*jsonschema.Schema, error) {
	url := "mem:///" + name + ".json"
	compiler := jsonschema.NewCompiler()
	// Draft 2019-09, not 2020-12: the generated schemas use no keyword the
	// two differ on, and the compiler's 2020-12 dynamic anchor pass lists
	// every resource of the document for each subschema, quadratic in the
	// attributes (10,000 of one extension took 11 s to compile, and every
	// schema change after it seconds, holding writes).
	compiler.Draft = jsonschema.Draft2019
	compiler.AssertFormat = true
	compiler.Formats = map[string]func(any) bool{formatDate: isDate, formatDatetime: isDatetime}
	if err := compiler.AddResource(url, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("load %s schema: %w", name, err)
	}
	s, err := compiler.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile %s schema: %w", name, err)
	}
	return s, nil
}

// Attribute returns the core attribute named name, case-insensitively.
func (c *Compiled) Attribute(name string) (*Attribute, bool) {
	return lookupFold(c.attributes, name)
}

// Extension returns the extension named name, case-insensitively.
func (c *Compiled) Extension(name string) (*Extension, bool) {
	return lookupFold(c.extensions, name)
}

// ExtensionNames lists every extension's name in definition order; the
// caller must not change the slice.
func (c *Compiled) ExtensionNames() []string { return c.extNames }

// Key returns the identification key named name, case-insensitively.
func (c *Compiled) Key(name string) (*IdentificationKey, bool) {
	return lookupFold(c.keys, name)
}

// Keys returns the identification keys in definition order, which is the
// order key inference walks them (spec §3.5).
func (c *Compiled) Keys() []IdentificationKey { return c.Def.Keys }

// Unauthorized returns the keyword set the schema was built with.
func (c *Compiled) Unauthorized() Unauthorized { return c.unauthorized }

// lookupFold is m[LowerASCII(name)] without allocating for a name of up to
// 64 bytes (m[string(b)] copies nothing): lookups by name run several
// times per request, and LowerASCII allocated twice for each name with a
// capital (BenchmarkSearchByEmail: 7 of its 363 allocations).
func lookupFold[T any](m map[string]T, name string) (T, bool) {
	var buf [64]byte
	if len(name) > len(buf) {
		v, ok := m[LowerASCII(name)]
		return v, ok
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	v, ok := m[string(b)]
	return v, ok
}

// LowerASCII lower-cases A-Z only, for looking up a name a client sent:
// schema names are ASCII, and Unicode's wider case mapping (the Kelvin sign
// to k, İ to i) must not make another name match one.
func LowerASCII(s string) string {
	b := []byte(nil)
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			if b == nil {
				b = []byte(s)
			}
			b[i] = c + 'a' - 'A'
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}
