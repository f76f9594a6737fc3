package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of schema administration.
const (
	CodeSchemaChangedConcurrently = "SCHEMA_CHANGED_CONCURRENTLY"
	CodeExtensionExists           = "EXTENSION_EXISTS"
	CodeKeyExists                 = "IDENTIFICATION_KEY_EXISTS"
	CodeExtensionInUse            = "EXTENSION_IN_USE"
	CodeDefinedInConfig           = "DEFINED_IN_CONFIG"
	CodeExtensionNotFound         = "EXTENSION_NOT_FOUND"
	CodeKeyNotFound               = "IDENTIFICATION_KEY_NOT_FOUND"
)

// Every schema change — a reload of the config, or a metadata API call —
// goes through changeSchema. It holds the schema lock exclusively, so no
// write is in flight under the old schema, and in one transaction stores
// the overlay, brings every identification index in line with the new
// schema and applies the change's own data edits; only then is the new
// schema swapped in.

// ReloadSchema re-reads the schema config and applies it. On any problem
// the live schema and the data stay as they were.
func (s *Service) ReloadSchema(ctx context.Context) (*schema.Compiled, error) {
	return s.changeSchema(ctx, newEntry(ctx, OpSchemaReload), true, func(*schema.Document) error { return nil }, nil)
}

// SyncSchema rebuilds the indexes of keys that changed while the service
// was down (the config was edited); call it once at start. With an
// unchanged schema it reads one value and does nothing, so start-up stays
// fast. A store's first start stores the schema even without keys, so a
// used store never reads as new (KeysDiffer).
func (s *Service) SyncSchema(ctx context.Context) error {
	state, stored, err := s.storedSchema(ctx)
	if err != nil {
		return err
	}
	if state.Version > 0 && manifestEqual(stored, manifestOf(s.Schema())) {
		return nil
	}
	entry := newEntry(WithActor(ctx, &Actor{Name: "profiled (start)"}), OpSchemaSync)
	_, err = s.changeSchema(ctx, entry, false, func(*schema.Document) error { return nil }, nil)
	return err
}

// KeysToSync names the identification keys whose indexes SyncSchema would
// build: at a start after the config's keys changed while stopped, or the
// first start of a release that computes index entries otherwise. The
// build reads every profile, so a start over a large store takes long.
func (s *Service) KeysToSync(ctx context.Context) ([]string, error) {
	state, stored, err := s.storedSchema(ctx)
	if err != nil || state.Version == 0 {
		return nil, err // a new store: nothing to read
	}
	var names []string
	for _, k := range changedKeys(s.Schema(), stored, manifestOf(s.Schema())) {
		names = append(names, k.Name)
	}
	return names, nil
}

// CheckIndexes reports whether the stored data can be indexed for the
// identification keys of c (a schema about to be reloaded or started
// with, from file): the entries of the keys that differ from the stored
// ones are worked out over every tenant's stored data, and a refusal the
// reload or start would meet (a unique key over values two customers hold,
// an index value too long) is a problem naming the customer. It only reads:
// on bbolt, whose one writer a rolled-back build would hold for as long as
// the reload, writes go on beside it. Any other failure (the store's, ctx
// ending) is the error.
func (s *Service) CheckIndexes(ctx context.Context, c *schema.Compiled, file string) (schema.Problems, error) {
	_, old, err := s.storedSchema(ctx)
	if err != nil {
		return nil, err
	}
	want := manifestOf(c)
	if manifestEqual(old, want) {
		return nil, nil
	}
	keys := changedKeys(c, old, want)
	tenants, err := s.store.Tenants()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tenants, "") {
		tenants = slices.Insert(tenants, 0, "")
	}
	for _, tenant := range tenants {
		err := s.store.View(ctx, tenant, func(tx Tx) error { return checkIndexable(ctx, canonical(tx, c), keys) })
		if errs.Is(err, errs.KindInvalid) || errs.Is(err, errs.KindConflict) {
			in := ""
			if tenant != "" {
				in = fmt.Sprintf(" (tenant %q)", tenant)
			}
			key := ""
			if taken, ok := errors.AsType[*TakenValues](err); ok {
				key = taken.Key
			} else if e, ok := errors.AsType[*errs.Error](err); ok && e.Code == CodeTooManyIndexValues {
				key = e.Field
			}
			return schema.Problems{{File: file, Name: key, Message: "the stored data" + in + " cannot be indexed for its identification keys: " + err.Error()}}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// checkIndexable refuses, as buildIndexes would, the tenant's data that
// keys cannot index, without writing: the values of unique keys are
// remembered, so memory grows with them (the values and a customer id
// each), not with the data.
func checkIndexable(ctx context.Context, tx Tx, keys []*schema.IdentificationKey) error {
	holders := map[string]string{} // key name and values → the customer that has them
	return eachIndexEntry(tx, keys, func(k *schema.IdentificationKey, t []string, id string) error {
		if err := ctx.Err(); err != nil { // check-config gave up waiting
			return err
		}
		if !uniqueEntry(k, t) {
			return nil
		}
		slot := strings.ToLower(k.Name)
		for _, v := range t { // length-prefixed: no value can pass for two
			slot += "\x00" + strconv.Itoa(len(v)) + ":" + v
		}
		if other, ok := holders[slot]; ok && other != id {
			// An operator fixes this by editing or merging the two
			// customers (values that fold alike, after an upgrade from
			// lower-casing): name both, the values stay out (personal data).
			e := errs.Conflict(CodeUniqueKeyViolation, "identification key %q is unique and customer %s already has the values of customer %s", k.Name, other, id)
			e.Err = &TakenValues{Key: k.Name, Values: t}
			return e
		}
		holders[slot] = id
		return nil
	})
}

// KeysDiffer reports whether the store's indexes were built for other
// identification keys than the live schema's (a store no schema was ever
// stored in reports false): SyncSchema would rebuild them. A tool run
// beside replicas checks it first, as rebuilding would change the indexes
// under them.
func (s *Service) KeysDiffer(ctx context.Context) (bool, error) {
	state, stored, err := s.storedSchema(ctx)
	if err != nil {
		return false, err
	}
	return state.Version > 0 && !manifestEqual(stored, manifestOf(s.Schema())), nil
}

// OtherIndexText reports whether the store's indexes were built for the
// live schema's identification keys but with another index text (another
// release: before case folding, entries were lower-cased), so that the
// keys differ (KeysDiffer) only by the release that indexed them.
func (s *Service) OtherIndexText(ctx context.Context) (bool, error) {
	state, stored, err := s.storedSchema(ctx)
	if err != nil || state.Version == 0 {
		return false, err
	}
	want := manifestOf(s.Schema())
	if len(stored) != len(want) || manifestEqual(stored, want) {
		return false, nil
	}
	for k, v := range want {
		// A read part differs by the config (types, aliases), not by the
		// release: only a fingerprint without one (a release before read
		// parts) is compared without this release's.
		s, w := withoutText(stored[k]), withoutText(v)
		if !strings.Contains(s, "|read=") {
			w = withoutRead(w)
		}
		if s != w {
			return false, nil
		}
	}
	return true, nil
}

// IndexedWithOtherText reports whether a stored manifest has a key whose
// entries were computed with another index text than this release's (an
// earlier release lower-cased): this release finds them missing and stale
// until its first start rebuilds them. A manifest that cannot be read says
// nothing.
func IndexedWithOtherText(stored []byte) bool {
	m, err := decodeManifest(stored)
	if err != nil {
		return false
	}
	for _, fingerprint := range m {
		if !strings.HasSuffix(fingerprint, "|text="+schema.IndexTextVersion) {
			return true
		}
	}
	return false
}

// KeysIndexedOtherwise names (lower-cased, sorted) the identification keys
// of c whose index the stored manifest says was built for another
// definition, or not at all: a config edited for the next reload, or a
// store an earlier release indexed with another index text. Their entries
// are not what c yields until a start or reload rebuilds them. A manifest
// that cannot be read names none.
func KeysIndexedOtherwise(stored []byte, c *schema.Compiled) []string {
	m, err := decodeManifest(stored)
	if err != nil {
		return nil
	}
	want := manifestOf(c)
	m = readAsLive(m, want)
	var names []string
	for name, fingerprint := range want {
		if m[name] != fingerprint {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// IndexesToBuild names the identification keys whose index a reload (or a
// start) with schema c builds over the stored data (KeysIndexedOtherwise).
func (s *Service) IndexesToBuild(ctx context.Context, c *schema.Compiled) ([]string, error) {
	state, err := s.store.SchemaState(ctx)
	if err != nil || state.Version == 0 {
		return nil, err // a new store: nothing to read
	}
	return KeysIndexedOtherwise(state.Manifest, c), nil
}

// withoutText is a manifest fingerprint without its "|text=" part.
func withoutText(fingerprint string) string {
	if i := strings.Index(fingerprint, "|text="); i >= 0 {
		return fingerprint[:i]
	}
	return fingerprint
}

// changeSchema applies edit to the metadata overlay, then stores it with
// dataEdit (run for every tenant) and the index changes, in one
// transaction. It starts from the stored schema, so a change made by
// another process is never overwritten; when one lands in between, the
// change is made again on top of it. fromFile re-reads the config file's
// schema (a reload); otherwise the change builds on the one the live
// schema came from, so an edit of the file nobody has reloaded (or checked)
// does not go live with a metadata call.
//
// The change's audit entry is appended in the default tenant's trail, in
// the same transaction. ctx's cancellation aborts the change, also in the
// middle of an index build, which then commits nothing: the metadata calls
// pass a ctx without it, so a client that
// goes away does not cut them, and a reload's caller chooses (a SIGHUP
// reload is ended by a shutdown; POST /admin/reload is not by its client).
func (s *Service) changeSchema(ctx context.Context, entry AuditEntry, fromFile bool, edit func(*schema.Document) error, dataEdit func(tenant string, tx Tx) error) (*schema.Compiled, error) {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	for attempt := 1; ; attempt++ {
		state, old, err := s.storedSchema(ctx)
		if err != nil {
			return nil, err
		}
		c, err := s.schema.Change(state.Overlay, state.Version, fromFile, edit, func(overlay []byte, next *schema.Compiled) error {
			want := manifestOf(next)
			data, err := json.Marshal(want)
			if err != nil {
				return err
			}
			recorded := entry
			if len(recorded.Keys) == 0 { // a reload or a start: the keys whose index it changes
				recorded.Keys = touchedKeys(next, old, want)
			}
			return s.store.UpdateSchema(ctx, state.Version, overlay, data, next.Hash, func(tenant string, tx Tx) error {
				if dataEdit != nil {
					if err := dataEdit(tenant, tx); err != nil {
						return err
					}
				}
				if tenant == "" {
					if err := s.appendEntry(tx, recorded); err != nil {
						return err
					}
				}
				return syncIndexesToSchema(ctx, canonical(tx, next), next, old, want)
			})
		})
		if errors.Is(err, ErrSchemaMoved) && attempt == followAttempts {
			return nil, errs.Conflict(CodeSchemaChangedConcurrently, "the schema was changed by another replica meanwhile; retry")
		}
		if !errors.Is(err, ErrSchemaMoved) {
			if err == nil { // the store is indexed for this schema now
				s.staleKeys.Store(nil)
				if s.OnChange != nil {
					s.OnChange(c)
				}
			}
			return c, err
		}
	}
}

// A manifest records, per identification key (lower-cased name), what its
// index was built from, so a changed key is rebuilt and a removed one dropped.
//
// A fingerprint is "source|attributes|unique=B|read=R|text=V": R how the
// attributes' stored values are read (keyReading: their types and aliases,
// which canonicalTx applies), V the schema.IndexTextVersion the entries were
// computed with. Releases before case folding wrote no text part (their
// entries were lower-cased): their fingerprints differ from every one this
// release makes, so the first start over such a store rebuilds every index
// (SyncSchema), a replica of this release that meets such a manifest stored
// by an older one refuses to serve those keys (FollowSchema: 503
// SCHEMA_OUT_OF_SYNC), and an older replica refuses this release's
// manifest alike (see docs/scale-out.md). The release before this one wrote
// no read part; storedSchema takes such a fingerprint for the live
// schema's when the rest agrees, so an upgrade rebuilds nothing and older
// replicas keep serving beside newer ones.
type manifest map[string]string

func manifestOf(c *schema.Compiled) manifest {
	m := manifest{}
	for _, k := range c.Keys() {
		m[strings.ToLower(k.Name)] = fmt.Sprintf("%s|%s|unique=%t|read=%s|text=%s", strings.ToLower(k.Source), strings.ToLower(strings.Join(k.Attributes, ",")), k.Unique, keyReading(c, &k), schema.IndexTextVersion)
	}
	return m
}

// keyReading is how k's attributes are read from stored data: their types
// and their aliases (lower-cased, sorted), so that a reload retyping an
// attribute or adding an alias under which values are stored rebuilds the
// index from the values as they are now read.
func keyReading(c *schema.Compiled, k *schema.IdentificationKey) string {
	lookup := c.Attribute
	if k.Source != "" {
		e, ok := c.Extension(k.Source)
		if !ok {
			return ""
		}
		lookup = e.Attribute
	}
	types, aliases := make([]string, len(k.Attributes)), make([]string, len(k.Attributes))
	for i, name := range k.Attributes {
		a, ok := lookup(name)
		if !ok {
			continue
		}
		types[i] = string(a.Type)
		names := make([]string, len(a.Aliases))
		for j, al := range a.Aliases {
			names[j] = strings.ToLower(al)
		}
		slices.Sort(names)
		aliases[i] = strings.Join(names, "+")
	}
	return "types:" + strings.Join(types, ",") + ";aliases:" + strings.Join(aliases, ",")
}

// withoutRead is a fingerprint without its read part.
func withoutRead(fingerprint string) string {
	before, rest, found := strings.Cut(fingerprint, "|read=")
	if !found {
		return fingerprint
	}
	if _, after, more := strings.Cut(rest, "|"); more {
		return before + "|" + after
	}
	return before
}

// readAsLive takes a stored fingerprint of the release before read parts
// for the live schema's when the rest agrees: that release indexed under
// the types and aliases of its schema, which is the live one unless the
// config changed them while it ran (then profiled check finds the entries
// missing; see docs/scale-out.md).
func readAsLive(stored, live manifest) manifest {
	out := make(manifest, len(stored))
	for k, fp := range stored {
		if l, ok := live[k]; ok && !strings.Contains(fp, "|read=") && withoutRead(l) == fp {
			fp = l
		}
		out[k] = fp
	}
	return out
}

// UniqueKeys reads from a stored manifest which identification keys are
// unique (by lower-cased name), for copying index entries between stores;
// a manifest that cannot be read marks none.
func UniqueKeys(stored []byte) map[string]bool {
	out := map[string]bool{}
	m, err := decodeManifest(stored)
	if err != nil {
		return out
	}
	for key, fingerprint := range m { // "source|attributes|unique=true[|read=…][|text=…]" (manifestOf)
		out[key] = slices.Contains(strings.Split(fingerprint, "|"), "unique=true")
	}
	return out
}

func manifestEqual(a, b manifest) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// storedSchema reads the stored schema state and its index manifest.
func (s *Service) storedSchema(ctx context.Context) (SchemaState, manifest, error) {
	state, err := s.store.SchemaState(ctx)
	if err != nil {
		return state, nil, err
	}
	m, err := decodeManifest(state.Manifest)
	if err != nil {
		return state, nil, err
	}
	if live := s.Schema(); live != nil {
		m = readAsLive(m, manifestOf(live))
	}
	return state, m, nil
}

func decodeManifest(data []byte) (manifest, error) {
	if len(data) == 0 {
		return manifest{}, nil
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode the stored index manifest: %w", err)
	}
	return m, nil
}

// touchedKeys names the identification keys whose index a change from old
// to want builds or drops, as c names them (a dropped one lower-cased).
func touchedKeys(c *schema.Compiled, old, want manifest) []string {
	var names []string
	for name, fingerprint := range old {
		if _, kept := want[name]; !kept && fingerprint != "" {
			names = append(names, name)
		}
	}
	for _, k := range changedKeys(c, old, want) {
		names = append(names, k.Name)
	}
	slices.Sort(names)
	return names
}

// syncIndexesToSchema drops the indexes of keys that are gone or changed
// and builds those of keys that are new or changed, for one tenant.
func syncIndexesToSchema(ctx context.Context, tx Tx, c *schema.Compiled, old, want manifest) error {
	for name, fingerprint := range old {
		if want[name] != fingerprint {
			if err := tx.DropIndex(name); err != nil {
				return err
			}
		}
	}
	rebuild := changedKeys(c, old, want)
	for _, k := range rebuild {
		if err := tx.DropIndex(k.Name); err != nil { // entries left by an older key of that name
			return err
		}
	}
	return buildIndexes(ctx, tx, rebuild)
}

// changedKeys returns c's identification keys whose index old (the stored
// manifest) does not hold as want (c's) says: those a schema change builds.
func changedKeys(c *schema.Compiled, old, want manifest) []*schema.IdentificationKey {
	var changed []*schema.IdentificationKey
	for i := range c.Keys() {
		k := &c.Keys()[i]
		if name := strings.ToLower(k.Name); old[name] != want[name] {
			changed = append(changed, k)
		}
	}
	return changed
}

// buildIndexes indexes every profile of the tenant for keys. It stops
// when ctx ends (a shutdown during a SIGHUP reload): the transaction then
// commits nothing.
func buildIndexes(ctx context.Context, tx Tx, keys []*schema.IdentificationKey) error {
	return eachIndexEntry(tx, keys, func(k *schema.IdentificationKey, t []string, id string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return addEntry(tx, k, t, id)
	})
}

// eachIndexEntry calls fn with every entry keys yield over the tenant's
// profiles, refusing one too long to index. It makes one pass over the
// profiles however many keys there are (a pass per key read every profile
// and its records once for each), reading only the records those keys are
// computed from (none for keys on core attributes).
func eachIndexEntry(tx Tx, keys []*schema.IdentificationKey, fn func(k *schema.IdentificationKey, t []string, id string) error) error {
	if len(keys) == 0 {
		return nil
	}
	sources := keySources(keys)
	return tx.ForEachProfile(func(p *Profile) error {
		in, err := loadIndexed(tx, p, sources)
		if err != nil {
			return err
		}
		for _, k := range keys {
			entries, err := keyEntries(k, in)
			if e := errs.As(err); e != nil && e.Code == CodeTooManyIndexValues {
				return errs.Invalid(e.Code, e.Field, "customer %s: %s", p.ID, e.Message)
			}
			if err != nil {
				return err
			}
			for _, t := range entries {
				if err := checkEntrySize(k, t, p.ID); err != nil {
					return err
				}
				if err := fn(k, t, p.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// CreateExtension adds an extension schema through the metadata API; it is
// persisted in the store and overlays the config schema. Records left by an
// earlier extension of the same name are dropped: a new schema starts empty.
func (s *Service) CreateExtension(ctx context.Context, doc schema.ExtensionDoc) (*schema.Extension, error) {
	s.catchUp(ctx)
	exists := func() error {
		return errs.Invalid(CodeExtensionExists, doc.Name, "extension %q already exists", doc.Name)
	}
	if _, ok := s.Schema().Extension(doc.Name); ok {
		return nil, exists()
	}
	entry := newEntry(ctx, OpSchemaCreateExtension)
	entry.Extensions = []string{doc.Name}
	c, err := s.changeSchema(context.WithoutCancel(ctx), entry, false, func(o *schema.Document) error {
		if hasNamed(o.Extensions, doc.Name, extensionName) {
			return exists() // another replica made it meanwhile
		}
		o.Extensions = append(o.Extensions, doc)
		return nil
	}, func(_ string, tx Tx) error { return tx.DropExtension(doc.Name) })
	if err != nil {
		return nil, schemaError(err)
	}
	e, _ := c.Extension(doc.Name)
	return e, nil
}

// DeleteExtension drops an API-created extension schema and all its records.
func (s *Service) DeleteExtension(ctx context.Context, name string) error {
	s.catchUp(ctx)
	notFound := func() error { return errs.NotFound(CodeExtensionNotFound, "extension %q is not defined", name) }
	e, ok := s.Schema().Extension(name)
	if !ok {
		return notFound()
	}
	if e.Origin == schema.OriginConfig {
		return errs.E(errs.KindForbidden, CodeDefinedInConfig, "extension %q is defined in the config file; remove it there and reload", e.Name)
	}
	for _, k := range s.Schema().Keys() {
		if strings.EqualFold(k.Source, e.Name) {
			return errs.Conflict(CodeExtensionInUse, "extension %q is used by identification key %q; delete the key first", e.Name, k.Name)
		}
	}
	entry := newEntry(ctx, OpSchemaDeleteExtension)
	entry.Extensions = []string{e.Name}
	_, err := s.changeSchema(context.WithoutCancel(ctx), entry, false, func(o *schema.Document) error {
		// Another replica may have deleted it, or keyed it, meanwhile.
		if !hasNamed(o.Extensions, e.Name, extensionName) {
			return notFound()
		}
		for _, k := range o.Keys {
			if strings.EqualFold(k.Source, e.Name) {
				return errs.Conflict(CodeExtensionInUse, "extension %q is used by identification key %q; delete the key first", e.Name, k.Name)
			}
		}
		o.Extensions = removeNamed(o.Extensions, e.Name, extensionName)
		return nil
	}, func(_ string, tx Tx) error { return tx.DropExtension(e.Name) })
	return schemaError(err)
}

// CreateKey adds an identification key; every existing profile is indexed
// for it in the same transaction that persists it.
func (s *Service) CreateKey(ctx context.Context, doc schema.KeyDoc) (*schema.IdentificationKey, error) {
	s.catchUp(ctx)
	exists := func() error {
		return errs.Invalid(CodeKeyExists, doc.Name, "identification key %q already exists", doc.Name)
	}
	if _, ok := s.Schema().Key(doc.Name); ok {
		return nil, exists()
	}
	entry := newEntry(ctx, OpSchemaCreateKey)
	entry.Keys = []string{doc.Name}
	c, err := s.changeSchema(context.WithoutCancel(ctx), entry, false, func(o *schema.Document) error {
		if hasNamed(o.Keys, doc.Name, keyName) {
			return exists() // another replica made it meanwhile
		}
		o.Keys = append(o.Keys, doc)
		return nil
	}, nil)
	if err != nil {
		return nil, schemaError(err)
	}
	k, _ := c.Key(doc.Name)
	return k, nil
}

// DeleteKey drops an API-created identification key and its index.
func (s *Service) DeleteKey(ctx context.Context, name string) error {
	s.catchUp(ctx)
	notFound := func() error { return errs.NotFound(CodeKeyNotFound, "identification key %q is not defined", name) }
	k, ok := s.Schema().Key(name)
	if !ok {
		return notFound()
	}
	if k.Origin == schema.OriginConfig {
		return errs.E(errs.KindForbidden, CodeDefinedInConfig, "identification key %q is defined in the config file; remove it there and reload", k.Name)
	}
	entry := newEntry(ctx, OpSchemaDeleteKey)
	entry.Keys = []string{k.Name}
	_, err := s.changeSchema(context.WithoutCancel(ctx), entry, false, func(o *schema.Document) error {
		if !hasNamed(o.Keys, k.Name, keyName) {
			return notFound() // another replica deleted it meanwhile
		}
		o.Keys = removeNamed(o.Keys, k.Name, keyName)
		return nil
	}, nil)
	return schemaError(err)
}

// catchUp brings the live schema up to the stored one before a metadata
// change checks names against it: on PostgreSQL another replica may have
// changed it a moment ago (its notification may not have arrived). The
// changes check the stored schema again as they edit it; a replica that
// cannot follow (its config disagrees) answers from what it has.
func (s *Service) catchUp(ctx context.Context) { _, _ = s.FollowSchema(ctx) }

func extensionName(d schema.ExtensionDoc) string { return d.Name }
func keyName(d schema.KeyDoc) string             { return d.Name }

func hasNamed[T any](list []T, name string, nameOf func(T) string) bool {
	return slices.ContainsFunc(list, func(item T) bool { return schema.SameName(nameOf(item), name) })
}

func removeNamed[T any](list []T, name string, nameOf func(T) string) []T {
	out := list[:0:0]
	for _, item := range list {
		if !strings.EqualFold(nameOf(item), name) {
			out = append(out, item)
		}
	}
	return out
}

// schemaError turns schema problems into a client error.
func schemaError(err error) error {
	if problems, ok := err.(schema.Problems); ok {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			p.File = ""
			msgs[i] = p.String()
		}
		field := ""
		if len(problems) > 0 {
			field = problems[0].Name
		}
		return errs.Invalid(schema.CodeInvalidSchema, field, "%s", strings.Join(msgs, "; "))
	}
	return err
}
