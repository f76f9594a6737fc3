package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Several processes may share one store (replicas over PostgreSQL). Each
// compiles the schema from its own config file and the overlay stored by
// the metadata API; the store keeps a schema version that every schema
// change bumps. A write commits only if the version its schema was built
// from is still the stored one, so no process writes under a schema another
// process has replaced: it catches up first (FollowSchema) and runs the
// write again. A schema change excludes every write of every process while
// it rebuilds indexes (Store.UpdateSchema).

// CodeSchemaOutOfSync answers writes on a process whose config cannot
// follow the schema stored by another process.
const CodeSchemaOutOfSync = "SCHEMA_OUT_OF_SYNC"

// errSchemaStale is what a write's transaction returns when the stored
// schema version moved past the one the write was validated with.
var errSchemaStale = errors.New("the stored schema is newer than the live one")

// followAttempts bounds how often one write catches up with schema changes
// made elsewhere before it gives up.
const followAttempts = 3

// LoadRegistry compiles the schema of source with the overlay stored in store.
func LoadRegistry(ctx context.Context, store Store, source schema.Source) (*schema.Registry, error) {
	state, err := store.SchemaState(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the stored schema: %w", err)
	}
	return schema.NewRegistry(source, state.Overlay, state.Version)
}

// withSchema runs op under the live schema, held against local schema
// changes. When op's write finds that another process changed the stored
// schema, the live one catches up and op runs again.
//
// A write refused under the live schema (invalid, or naming what it does
// not define) is checked against the stored one too, once: another replica
// may have just added what the write names (a client that adds an
// extension on one replica and writes it through another must not get 400
// until this one's watch catches up). That costs a refused write one read
// of the stored schema version.
func withSchema[T any](ctx context.Context, s *Service, op func(c *schema.Compiled) (T, error)) (T, error) {
	recheckedRefusal := false
	for attempt := 1; ; {
		s.schemaMu.RLock()
		used := s.schema.Current()
		out, err := op(used)
		s.schemaMu.RUnlock()
		if !recheckedRefusal && (errs.Is(err, errs.KindInvalid) || NamesWhatSchemaLacks(err)) {
			recheckedRefusal = true
			if s.CatchUp(ctx, used.Version) {
				continue
			}
		}
		if !errors.Is(err, errSchemaStale) {
			return out, err
		}
		_, ferr := s.FollowSchema(ctx)
		if ferr != nil || attempt == followAttempts {
			if ferr == nil {
				ferr = errors.New("the schema kept changing")
			}
			return out, &errs.Error{Kind: errs.KindUnavailable, Code: CodeSchemaOutOfSync,
				Message: "the schema was changed by another replica and this one cannot follow yet; retry", Err: ferr}
		}
		attempt++
	}
}

// NamesWhatSchemaLacks reports whether err refuses a request for naming an
// attribute, extension or identification key the live schema does not
// define, or attributes no key of it covers: one another process may have
// just added.
func NamesWhatSchemaLacks(err error) bool {
	e := errs.As(err)
	if e == nil {
		return false
	}
	switch e.Code {
	case schema.CodeUnknownAttribute, schema.CodeUnknownExtension, CodeUnknownKey, CodeExtensionNotFound, CodeKeyNotFound, CodeNoIdentificationKey:
		return true
	}
	return false
}

// CatchUp follows the stored schema when it is newer than used, the
// version a refused request ran under, and reports whether the live schema
// is now newer than used (caught up here or by the watch meanwhile). A
// stored version this process's config could not follow is not tried
// again here: the watch keeps saying why, and clients cannot make this
// process recompile on every refusal.
func (s *Service) CatchUp(ctx context.Context, used uint64) bool {
	state, err := s.store.SchemaState(ctx)
	if err == nil && state.Version != used && state.Version != s.unfollowable.Load() {
		// Only the config's refusal is remembered: an outage or a timeout
		// says nothing about whether the config can follow.
		if _, err := s.FollowSchema(ctx); err != nil && ctx.Err() == nil && !errs.Is(err, errs.KindUnavailable) {
			s.unfollowable.Store(state.Version)
		}
	}
	return s.Schema().Version != used
}

// write runs fn in a write transaction for schema c, with its audit entry
// for op, refusing to commit (errSchemaStale) when the stored schema is no
// longer the one c was built from.
func (s *Service) write(ctx context.Context, tenant string, c *schema.Compiled, op string, fn func(Tx) error) error {
	return s.store.Update(ctx, tenant, func(tx Tx) error {
		v, err := tx.SchemaVersion()
		if err != nil {
			return err
		}
		if v != c.Version {
			return errSchemaStale
		}
		return s.audited(ctx, canonical(tx, c), c, op, fn)
	})
}

// FollowSchema brings the live schema up to the stored one after another
// process changed it: the stored overlay is compiled with this process's
// config. It returns the new schema, or nil when the live one is current.
// A config whose identification keys differ from the indexes in the store
// is refused (the schema stays, and writes answer CodeSchemaOutOfSync):
// the indexes follow the process that changed the schema last, so this
// process's config must be brought in line (see docs/scale-out.md).
func (s *Service) FollowSchema(ctx context.Context) (*schema.Compiled, error) {
	// A look first, without the lock: the periodic check must not hold up
	// writes when nothing changed (or while the store does not answer).
	state, err := s.store.SchemaState(ctx)
	if err != nil || current(state, s.Schema()) {
		return nil, err
	}
	// Catching up (see below): the lock waits for every write in flight
	// and holds every new one meanwhile, so the file is compiled first
	// without it, and a poll that finds it still behind (at every poll, for
	// as long as the file differs) holds up nothing. A file that does not
	// compile goes on below, which reports why.
	if state.Version == s.Schema().Version {
		if c, err := s.schema.Build(state.Overlay); err == nil && c.Hash != state.Hash {
			return nil, nil // as below: the live schema stays
		}
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	state, stored, err := s.storedSchema(ctx)
	if err != nil || current(state, s.Schema()) {
		return nil, err
	}
	// The stored version, followed already with a config file that made
	// another schema than the process that stored it had: this file is
	// read again, and goes live only once it makes that schema (its file
	// reached this replica after the change did).
	catchingUp := state.Version == s.Schema().Version
	c, err := s.schema.Refresh(state.Overlay, state.Version, func(c *schema.Compiled) error {
		if catchingUp && c.Hash != state.Hash {
			return errFileBehind
		}
		// A key the release before read parts added meanwhile is not in
		// the live schema: it is read as c reads it, as readAsLive takes
		// the live schema's keys.
		if want := manifestOf(c); !manifestEqual(readAsLive(stored, want), want) {
			return fmt.Errorf("the identification keys of this replica's config differ from those the store is indexed for (schema version %d); give every replica the same config and reload", state.Version)
		}
		return nil
	})
	if errors.Is(err, errFileBehind) {
		return nil, nil // as before: the live schema stays
	}
	if err != nil {
		s.staleKeys.Store(keysIndexedOtherwise(s.Schema(), stored))
	} else {
		s.staleKeys.Store(nil)
	}
	if c != nil && s.OnFollow != nil {
		s.OnFollow(c)
	}
	return c, err
}

// current reports whether live is the stored schema: its version, and,
// where the store knows the hash of the schema the version was stored
// with, that schema.
func current(state SchemaState, live *schema.Compiled) bool {
	return state.Version == live.Version && (state.Hash == "" || state.Hash == live.Hash)
}

// errFileBehind refuses, while catching up, a schema this process's config
// still makes differently from the stored version's.
var errFileBehind = errors.New("this replica's config does not yet make the stored schema")

// keysIndexedOtherwise names (lower-cased) the keys of live whose index in
// the store (its manifest, stored) is missing or built for another
// definition; nil when there are none.
func keysIndexedOtherwise(live *schema.Compiled, stored manifest) *map[string]bool {
	stale := map[string]bool{}
	for name, fingerprint := range manifestOf(live) {
		if stored[name] != fingerprint {
			stale[name] = true
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return &stale
}

// checkIndexed refuses a read through identification key name when the
// store's index of it is not the live schema's (staleKeys).
func checkIndexed(stale *map[string]bool, name string) error {
	if stale == nil || !(*stale)[strings.ToLower(name)] {
		return nil
	}
	return &errs.Error{Kind: errs.KindUnavailable, Code: CodeSchemaOutOfSync,
		Message: fmt.Sprintf("identification key %q is indexed in the store as another replica's schema defines it, and this replica's config cannot follow that schema yet; retry, or ask another replica", name)}
}
