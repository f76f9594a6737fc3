package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a schema document.
type Problem struct {
	File    string `json:"file,omitempty"` // set by the loader when the document came from a file
	Line    int    `json:"line,omitempty"` // 0 when unknown
	Name    string `json:"name,omitempty"` // the offending definition or attribute name
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Name != "" {
		fmt.Fprintf(&b, "%q: ", p.Name)
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a schema; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// builder turns documents into a Definition, collecting problems instead of
// stopping at the first so ops see everything wrong in one check-config run.
type builder struct {
	unauthorized Unauthorized
	problems     Problems
}

func (b *builder) fail(line int, name, format string, args ...any) {
	b.problems = append(b.problems, Problem{Line: line, Name: name, Message: fmt.Sprintf(format, args...)})
}

// checkName applies the Context Services naming rules shared by attributes,
// extensions and identification keys.
func (b *builder) checkName(line int, what, name string) bool {
	switch {
	case name == "":
		b.fail(line, name, "%s has no name", what)
	case !validName(name):
		b.fail(line, name, "%s name must start with a letter, use only letters, digits and '_', and be at most %d characters", what, MaxNameLength)
	case b.unauthorized.Contains(name):
		b.fail(line, name, "%s name is a reserved keyword", what)
	default:
		return true
	}
	return false
}

func (b *builder) attribute(d AttributeDoc, allowMulti bool) (Attribute, bool) {
	ok := b.checkName(d.Line, "attribute", d.Name)
	a := Attribute{Name: d.Name, Length: d.Length.Value, Mandatory: d.Mandatory.Value, MultiValued: d.MultiValued.Value, Aliases: d.Aliases}
	for _, alias := range d.Aliases {
		ok = b.checkName(d.Line, "attribute alias", alias) && ok
	}
	t, known := parseType(d.Type)
	if !known {
		b.fail(d.Line, d.Name, "unknown type %q (want boolean, string, integer, long, double, date, datetime or currency)", d.Type)
		return a, false
	}
	a.Type = t
	if a.MultiValued && !allowMulti {
		b.fail(d.Line, d.Name, "only core profile attributes can be multi-valued")
		ok = false
	}
	if d.Default != nil {
		v, err := defaultValue(&a, d.Default)
		if err != nil {
			b.fail(d.Line, d.Name, "default: %v", err)
			ok = false
		}
		a.Default = v
	}
	return a, ok
}

// defaultValue checks a default against the attribute's own rules.
func defaultValue(a *Attribute, raw any) (any, error) {
	v, err := normalize(a.valueType(), looseScalar(raw))
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && a.Type == TypeString && a.Length > 0 && len([]rune(s)) > a.Length {
		return nil, fmt.Errorf("longer than length %d", a.Length)
	}
	return v, nil
}

// looseScalar turns YAML-decoded numbers into the JSON forms normalize knows.
func looseScalar(v any) any {
	switch n := v.(type) {
	case int, int64, float64:
		return fmt.Sprint(n)
	}
	return v
}

func (b *builder) attributes(docs []AttributeDoc, owner string, allowMulti bool) []Attribute {
	seen := map[string]bool{}
	out := make([]Attribute, 0, len(docs))
	for _, d := range docs {
		a, ok := b.attribute(d, allowMulti)
		if !ok {
			continue
		}
		clash := ""
		for _, name := range append([]string{a.Name}, a.Aliases...) {
			if seen[strings.ToLower(name)] {
				clash = name
			}
		}
		if clash != "" {
			b.fail(d.Line, a.Name, "attribute defined twice in %s: %q is the name or an alias of another (names and aliases are case-insensitive)", owner, clash)
			continue
		}
		for _, name := range append([]string{a.Name}, a.Aliases...) {
			seen[strings.ToLower(name)] = true
		}
		out = append(out, a)
	}
	return out
}

func (b *builder) extension(d ExtensionDoc, origin Origin) (Extension, bool) {
	if !b.checkName(d.Line, "extension", d.Name) {
		return Extension{}, false
	}
	e := Extension{Name: d.Name, Origin: origin}
	switch strings.ToLower(strings.TrimSpace(d.Type)) {
	case string(SingleValued), "classifier":
		e.Kind = SingleValued
	case string(MultiValued):
		e.Kind = MultiValued
	default:
		b.fail(d.Line, d.Name, "extension type %q must be single-valued or multi-valued", d.Type)
		return e, false
	}
	before := len(b.problems)
	e.Attributes = b.attributes(d.Attributes, "extension "+d.Name, false)
	for _, u := range d.Unique {
		a, found := e.Attribute(u)
		if !found {
			b.fail(d.Line, d.Name, "unique names %q, which is not an attribute of the extension", u)
			continue
		}
		if !slices.Contains(e.Unique, a.Name) {
			e.Unique = append(e.Unique, a.Name)
		}
	}
	return e, len(b.problems) == before
}

func (b *builder) key(d KeyDoc, def *Definition, origin Origin) (IdentificationKey, bool) {
	if !b.checkName(d.Line, "identification key", d.Name) {
		return IdentificationKey{}, false
	}
	k := IdentificationKey{Name: d.Name, Unique: d.Unique.Value, Origin: origin}
	declared := strings.TrimSpace(d.Source)
	declaredProfile := strings.EqualFold(declared, "profile")
	if declaredProfile {
		declared = ""
	}
	if len(d.Attributes) == 0 {
		b.fail(d.Line, d.Name, "identification key needs at least one attribute")
		return k, false
	}
	// Listed keys show extension attributes as ext.attr; accept that form and
	// take the source from it, but never a mix of sources (spec §2.6).
	var attrs []string
	var source string
	for i, raw := range d.Attributes {
		src, name, dotted := strings.Cut(raw, ".")
		if !dotted {
			src, name = declared, raw
		} else if (declared != "" || declaredProfile) && !strings.EqualFold(src, declared) {
			b.fail(d.Line, d.Name, "attribute %q is not from the key's source, %s", raw, sourceLabel(declared))
			return k, false
		}
		if i == 0 {
			source = src
		} else if !strings.EqualFold(src, source) {
			b.fail(d.Line, d.Name, "attributes mix sources %q and %q: a key uses the profile or one extension, never both", sourceLabel(source), sourceLabel(src))
			return k, false
		}
		attrs = append(attrs, name)
	}
	var owner []Attribute
	if source != "" {
		ext, found := def.extension(source)
		if !found {
			b.fail(d.Line, d.Name, "source %q is not an extension", source)
			return k, false
		}
		k.Source, owner = ext.Name, ext.Attributes
	} else {
		owner = def.Profile
	}
	seen := map[string]bool{}
	for _, name := range attrs {
		a, found := findAttribute(owner, name)
		if !found {
			b.fail(d.Line, d.Name, "attribute %q is not defined in %s", name, sourceLabel(k.Source))
			return k, false
		}
		if seen[strings.ToLower(a.Name)] {
			b.fail(d.Line, d.Name, "attribute %q listed twice", name)
			return k, false
		}
		seen[strings.ToLower(a.Name)] = true
		k.Attributes = append(k.Attributes, a.Name)
	}
	return k, true
}

func sourceLabel(source string) string {
	if source == "" {
		return "the profile"
	}
	return "extension " + source
}

// Build checks a base document (from config) and an overlay (created through
// the metadata API and persisted in the store) and merges them into one
// Definition. A name defined in both is reported, never guessed.
func Build(base, overlay Document, unauthorized Unauthorized) (*Definition, Problems) {
	b := &builder{unauthorized: unauthorized}
	def := &Definition{Profile: b.attributes(base.Profile, "the profile", true)}
	if len(overlay.Profile) > 0 {
		b.fail(0, "", "core profile attributes come from config only")
	}
	holders := map[string]string{} // lower-cased name → what has it, for a refusal
	for _, a := range def.Profile {
		holders[strings.ToLower(a.Name)] = fmt.Sprintf("the core attribute %q", a.Name)
	}
	holders["customer_id"] = "customer_id, every profile's id"
	// A name the metadata API defined again in the file is reported at the
	// file's line: the overlay's definitions have none, and the file is
	// what the operator edits.
	configLines := map[string]int{} // lower-cased extension or key name → its line in the file
	addExtensions := func(docs []ExtensionDoc, origin Origin) {
		for _, d := range docs {
			e, ok := b.extension(d, origin)
			if !ok {
				continue
			}
			if holder, taken := holders[strings.ToLower(e.Name)]; taken {
				line := d.Line
				if holder == "an extension "+defined(OriginConfig) && origin == OriginAPI {
					holder += ", and the metadata API has one too (a reload added it to config): remove one of them"
					line = configLines["ext:"+strings.ToLower(e.Name)]
				}
				b.fail(line, e.Name, "extension name is already used by %s (names are case-insensitive)", holder)
				continue
			}
			if origin == OriginConfig {
				configLines["ext:"+strings.ToLower(e.Name)] = d.Line
			}
			holders[strings.ToLower(e.Name)] = "an extension " + defined(origin)
			def.Extensions = append(def.Extensions, e)
		}
	}
	addExtensions(base.Extensions, OriginConfig)
	addExtensions(overlay.Extensions, OriginAPI)

	keyNames := map[string]Origin{}
	addKeys := func(docs []KeyDoc, origin Origin) {
		for _, d := range docs {
			k, ok := b.key(d, def, origin)
			if !ok {
				continue
			}
			if prev, taken := keyNames[strings.ToLower(k.Name)]; taken {
				line := d.Line
				if prev == OriginConfig && origin == OriginAPI {
					line = configLines["key:"+strings.ToLower(k.Name)]
				}
				b.fail(line, k.Name, "identification key is already defined by %s", describe(prev, origin))
				continue
			}
			if origin == OriginConfig {
				configLines["key:"+strings.ToLower(k.Name)] = d.Line
			}
			keyNames[strings.ToLower(k.Name)] = origin
			def.Keys = append(def.Keys, k)
		}
	}
	addKeys(base.Keys, OriginConfig)
	addKeys(overlay.Keys, OriginAPI)
	return def, b.problems
}

// defined says where a definition of origin was made.
func defined(origin Origin) string {
	if origin == OriginConfig {
		return "defined in config"
	}
	return "created through the metadata API"
}

func describe(prev, now Origin) string {
	switch {
	case prev == OriginConfig && now == OriginAPI:
		return "config and by the metadata API (remove one of them)"
	case prev == OriginConfig:
		return "another definition in config, or a core attribute"
	default:
		return "another definition created through the metadata API"
	}
}

func (d *Definition) extension(name string) (*Extension, bool) {
	for i := range d.Extensions {
		if strings.EqualFold(d.Extensions[i].Name, name) {
			return &d.Extensions[i], true
		}
	}
	return nil, false
}
