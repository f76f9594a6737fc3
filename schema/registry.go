package schema

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// YAMLKeys are the key nodes of mapping n, those of the mappings a merge
// key (<<) brings in instead of the merge key: what decoding n sets, for a
// check of unknown keys (yaml.v3 checks none below a custom decoder).
func YAMLKeys(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	var keys []*yaml.Node
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag != "!!merge" {
			keys = append(keys, n.Content[i])
			continue
		}
		v := n.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			merged = v.Content
		}
		for _, m := range merged {
			keys = append(keys, YAMLKeys(m)...)
		}
	}
	return keys
}

// DecodeYAML decodes a schema document from a YAML node (the `schema:`
// section of config.yaml, or the root of a schema file). Problems carry the
// file name and line.
func DecodeYAML(n *yaml.Node, file string) (Document, Problems) {
	doc := Document{File: file}
	if n == nil {
		return doc, nil
	}
	if n.Kind == yaml.MappingNode { // unknown keys are problems, as in the rest of the file
		allowed := yamlFieldNames(&doc)
		var problems Problems
		for _, k := range YAMLKeys(n) {
			if !allowed[k.Value] {
				msg := "unknown key in schema (profile, extensions, identification_keys; or file: alone)"
				problems = append(problems, Problem{File: file, Line: k.Line, Name: k.Value, Message: msg})
			}
		}
		if len(problems) > 0 {
			return doc, problems
		}
	}
	if err := n.Decode(&doc); err != nil {
		return doc, Problems{{File: file, Line: n.Line, Message: err.Error()}}
	}
	doc.File = file
	return doc, nil
}

// Source yields the base schema document and the unauthorized strings its
// config declares (spec §7: they bound the schema's names, so they go live
// with it); the registry calls it at start and on every reload, so it
// re-reads the config files each time.
type Source func() (Document, Unauthorized, Problems)

// sourced is what a Source yielded.
type sourced struct {
	doc          Document
	unauthorized Unauthorized
}

// Registry holds the live compiled schema. Readers call Current, which is a
// single atomic load; writers (reload, metadata API) build a fresh Compiled
// and swap it in, so requests in flight finish on the schema they started with.
type Registry struct {
	source Source
	now    func() time.Time

	mu     sync.Mutex              // serialises writers
	guards []func(*Compiled) error // guarded by mu
	// base is what source yielded when the live schema was built (guarded
	// by mu): a metadata change builds on it, not on whatever the file says
	// now, so an edit nobody has reloaded (or a half-written file) does not
	// go live with it.
	base    sourced
	current atomic.Pointer[Compiled]
}

// NewRegistry compiles the base schema with overlay, the stored schema
// overlay (JSON; empty for none) at store version version; any problem
// refuses the start.
func NewRegistry(source Source, overlay []byte, version uint64) (*Registry, error) {
	r := &Registry{source: source, now: time.Now}
	if _, err := r.Refresh(overlay, version, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// Refresh compiles the base schema (re-read from its source) with overlay
// as stored at version and, if accept (when given) agrees, swaps it in: how
// a process follows a schema change that another process made. On a
// problem nothing changes.
func (r *Registry) Refresh(overlay []byte, version uint64, accept func(*Compiled) error) (*Compiled, error) {
	var doc Document
	if len(overlay) > 0 {
		if err := json.Unmarshal(overlay, &doc); err != nil {
			return nil, fmt.Errorf("decode schema overlay stored by the metadata API: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, base, err := r.build(doc, true)
	if err != nil {
		return nil, err
	}
	c.Version = version
	if accept != nil {
		if err := accept(c); err != nil {
			return nil, err
		}
	}
	r.current.Store(c)
	r.base = base
	return c, nil
}

// Build compiles overlay (JSON, as stored) over the base schema read from
// the source anew, as Refresh does, and changes nothing: a caller sees
// what its config makes now before it takes the locks a swap needs.
func (r *Registry) Build(overlay []byte) (*Compiled, error) {
	var doc Document
	if len(overlay) > 0 {
		if err := json.Unmarshal(overlay, &doc); err != nil {
			return nil, fmt.Errorf("decode schema overlay stored by the metadata API: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, _, err := r.build(doc, true)
	return c, err
}

// AddGuard makes every later reload or change also pass guard, so a
// component that depends on parts of the schema (the eGain mapping) can
// refuse a schema that would break it.
func (r *Registry) AddGuard(guard func(*Compiled) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.guards = append(r.guards, guard)
}

// Current returns the live schema.
func (r *Registry) Current() *Compiled { return r.current.Load() }

// Change applies edit to the overlay stored at version (JSON; empty for
// none), compiles the result, lets persist store the new overlay (with
// whatever data change goes with it, in one transaction, as version+1), and
// only then swaps the schema in: a failure anywhere leaves the live schema
// as it was. fromSource re-reads the base schema (a reload); otherwise the
// change builds on the base the live schema was built from (the metadata
// API's changes).
func (r *Registry) Change(stored []byte, version uint64, fromSource bool, edit func(overlay *Document) error, persist func(overlay []byte, next *Compiled) error) (*Compiled, error) {
	var next Document // freshly decoded: edit may change it in place
	if len(stored) > 0 {
		if err := json.Unmarshal(stored, &next); err != nil {
			return nil, fmt.Errorf("decode schema overlay stored by the metadata API: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := edit(&next); err != nil {
		return nil, err
	}
	c, base, err := r.build(next, fromSource)
	if err != nil {
		return nil, err
	}
	c.Version = version + 1
	data, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode schema overlay: %w", err)
	}
	if err := persist(data, c); err != nil {
		return nil, err
	}
	r.current.Store(c)
	r.base = base
	return c, nil
}

// build compiles overlay over the base schema, read from the source anew
// (fromSource) or the live one's, and returns that base too.
func (r *Registry) build(overlay Document, fromSource bool) (*Compiled, sourced, error) {
	base := r.base
	if fromSource || r.current.Load() == nil {
		var problems Problems
		if base.doc, base.unauthorized, problems = r.source(); len(problems) > 0 {
			return nil, sourced{}, problems
		}
	}
	c, err := Load(base.doc, overlay, base.unauthorized, r.now())
	if err != nil {
		return nil, sourced{}, err
	}
	for _, guard := range r.guards {
		if err := guard(c); err != nil {
			return nil, sourced{}, Problems{{File: base.doc.File, Message: err.Error()}}
		}
	}
	return c, base, nil
}

// Load builds base (from a file) with overlay (from the metadata API) and
// compiles the result: what a start, a reload and check-config all run.
// Problems name the file and line where they were written.
func Load(base, overlay Document, unauthorized Unauthorized, now time.Time) (*Compiled, error) {
	def, problems := Build(base, overlay, unauthorized)
	if len(problems) > 0 {
		// Definitions from the file have lines; the overlay's do not.
		for i := range problems {
			if problems[i].Line > 0 {
				problems[i].File = base.File
			} else {
				problems[i].File = "schema created through the metadata API"
			}
		}
		return nil, problems
	}
	c, err := Compile(def, unauthorized, now)
	if err != nil {
		return nil, Problems{{File: base.File, Message: err.Error()}}
	}
	return c, nil
}
