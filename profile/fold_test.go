package profile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
)

// onBothStores runs test on a new bbolt store and on a new PostgreSQL
// database (pgtest.URL: skipped without a server outside CI).
func onBothStores(t *testing.T, test func(t *testing.T, st profile.Store)) {
	t.Run("bbolt", func(t *testing.T) {
		db, err := store.Open(filepath.Join(t.TempDir(), "profiles.db"), store.Options{OpenTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		db, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db)
	})
}

// startOver is a process starting over st with the config at path: its
// schema compiled with the stored overlay, not yet synced.
func startOver(t *testing.T, st profile.Store, path string) *profile.Service {
	t.Helper()
	return profile.NewService(st, registryOver(t, st, path))
}

// identifyIDs identifies by one core attribute.
func identifyIDs(t *testing.T, s *profile.Service, attr, value string) ([]string, error) {
	t.Helper()
	res, err := s.Identify(context.Background(), "", profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: attr, Value: value}}})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range res.Profiles {
		ids = append(ids, d.ID)
	}
	return ids, nil
}

func wantFound(t *testing.T, s *profile.Service, attr, value, id string) {
	t.Helper()
	ids, err := identifyIDs(t, s, attr, value)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("identify %s=%q = %q, %v; want [%s]", attr, value, ids, err, id)
	}
}

// greekAndGerman creates the customers the tests look for.
func greekAndGerman(t *testing.T, s *profile.Service) (greek, german *profile.Profile) {
	t.Helper()
	ctx := context.Background()
	greek, err := s.Create(ctx, "", map[string]any{"FirstName": "Γιώργος", "LastName": "Παπαδόπουλος", "EmailAddress": []any{"giorgos@example.gr"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	german, err = s.Create(ctx, "", map[string]any{"FirstName": "Jörg", "LastName": "Straße", "EmailAddress": []any{"jörg@straße.example"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return greek, german
}

// TestIdentify_FoldsCase: matching ignores case as Unicode case folding
// has it (docs/api.md): a Greek surname typed in capitals (no final sigma)
// finds the customer stored in lower case, STRASSE finds Straße, and the
// unique e-mail key takes an address in another case, ß for SS, for the
// one it holds.
func TestIdentify_FoldsCase(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		path := configWith(t, "    - {name: email,        attributes: [EmailAddress]}", "    - {name: email,        attributes: [EmailAddress], unique: true}")
		s := startOver(t, st, path)
		ctx := context.Background()
		if err := s.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		greek, german := greekAndGerman(t, s)
		for _, v := range []string{"ΠΑΠΑΔΌΠΟΥΛΟΣ", "παπαδόπουλος", "Παπαδόπουλος", "ΠΑΠΑΔΌΠΟΥΛΟσ"} {
			wantFound(t, s, "LastName", v, greek.ID)
		}
		for _, v := range []string{"STRASSE", "strasse", "Straße", "STRAẞE"} {
			wantFound(t, s, "LastName", v, german.ID)
		}
		wantFound(t, s, "EmailAddress", "JÖRG@STRASSE.EXAMPLE", german.ID)
		// Folding is not normalisation: an accent left off is another name.
		if ids, err := identifyIDs(t, s, "LastName", "ΠΑΠΑΔΟΠΟΥΛΟΣ"); err != nil || len(ids) != 0 {
			t.Errorf("identify without the accent = %q, %v; want none", ids, err)
		}

		// The unique key refuses what identification would take for the held address.
		_, err := s.Create(ctx, "", map[string]any{"LastName": "Other", "EmailAddress": []any{"JÖRG@STRASSE.EXAMPLE"}}, profile.CreateOptions{})
		if e := errs.As(err); e == nil || e.Code != profile.CodeUniqueKeyViolation {
			t.Errorf("create with the held address in capitals (SS for ß): %v, want %s", err, profile.CodeUniqueKeyViolation)
		}
		// eGain's e-mail uniqueness (CreateOptions.UniqueKeys) is the index's too.
		_, err = s.Create(ctx, "", map[string]any{"LastName": "Other", "EmailAddress": []any{"Giorgos@EXAMPLE.gr"}}, profile.CreateOptions{UniqueKeys: []string{"email"}})
		if e := errs.As(err); e == nil || e.Code != profile.CodeUniqueKeyViolation {
			t.Errorf("create with the held address in another case: %v, want %s", err, profile.CodeUniqueKeyViolation)
		}
	})
}

// oldManifest is the stored manifest as a release before case folding
// wrote it: fingerprints without their text part.
func oldManifest(t *testing.T, stored []byte) []byte {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(stored, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		old, ok := strings.CutSuffix(v, "|text=fold")
		if !ok {
			t.Fatalf("stored fingerprint of %s is %q: no text part", k, v)
		}
		m[k] = old
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// indexAsOldRelease makes st look as a release before case folding left
// it: the manifest without text parts (the schema version moves, as that
// release's start or schema change would move it), and the email and name
// indexes of greek and german built with strings.ToLower.
func indexAsOldRelease(t *testing.T, st profile.Store, greek, german *profile.Profile) {
	t.Helper()
	ctx := context.Background()
	state, err := st.SchemaState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpdateSchema(ctx, state.Version, state.Overlay, oldManifest(t, state.Manifest), "", func(tenant string, tx profile.Tx) error {
		if tenant != "" {
			return nil
		}
		for _, key := range []string{"email", "name"} {
			if err := tx.DropIndex(key); err != nil {
				return err
			}
		}
		for _, p := range []*profile.Profile{greek, german} {
			last, first := p.Attributes["LastName"].(string), p.Attributes["FirstName"].(string)
			if err := tx.AddIndexEntry("name", []string{strings.ToLower(last), strings.ToLower(first)}, p.ID, false); err != nil {
				return err
			}
			for _, a := range p.Attributes["EmailAddress"].([]any) {
				if err := tx.AddIndexEntry("email", []string{strings.ToLower(a.(string))}, p.ID, false); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSyncSchema_RebuildsIndexesOfTheOldText: a store a release before
// case folding indexed (entries lower-cased, fingerprints without a text
// part) has its indexes rebuilt at the first start of this one, which then
// finds what that release could not.
func TestSyncSchema_RebuildsIndexesOfTheOldText(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path, _, greek, german := startedWithGreekAndGerman(t, st)
		indexAsOldRelease(t, st, greek, german)

		s := startOver(t, st, path) // the first start of this release
		if differ, err := s.KeysDiffer(ctx); err != nil || !differ {
			t.Fatalf("KeysDiffer over the old release's indexes = %t, %v; want true", differ, err)
		}
		if keys, err := s.KeysToSync(ctx); err != nil || len(keys) != len(s.Schema().Keys()) {
			t.Errorf("KeysToSync over the old release's indexes = %v, %v; want every key", keys, err)
		}
		if state, err := st.SchemaState(ctx); err != nil || !profile.IndexedWithOtherText(state.Manifest) {
			t.Errorf("IndexedWithOtherText of the old release's manifest = false (%v), want true", err)
		}
		// The fixture is what the old release left: capitals find nothing.
		if ids, err := identifyIDs(t, s, "LastName", "ΠΑΠΑΔΌΠΟΥΛΟΣ"); err != nil || len(ids) != 0 {
			t.Fatalf("before the rebuild: identify = %q, %v; the fixture is not the old text", ids, err)
		}
		if err := s.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		wantFound(t, s, "LastName", "ΠΑΠΑΔΌΠΟΥΛΟΣ", greek.ID)
		wantFound(t, s, "LastName", "STRASSE", german.ID)
		wantFound(t, s, "EmailAddress", "JÖRG@STRASSE.EXAMPLE", german.ID)
		wantFound(t, s, "EmailAddress", "giorgos@example.gr", greek.ID) // ASCII entries are as they were
		if differ, err := s.KeysDiffer(ctx); err != nil || differ {
			t.Errorf("KeysDiffer after the rebuild = %t, %v; want false", differ, err)
		}
		if keys, err := s.KeysToSync(ctx); err != nil || len(keys) != 0 {
			t.Errorf("KeysToSync after the rebuild = %v, %v; want none", keys, err)
		}
		if state, err := st.SchemaState(ctx); err != nil || profile.IndexedWithOtherText(state.Manifest) {
			t.Errorf("IndexedWithOtherText after the rebuild = true (%v), want false", err)
		}
		state, err := st.SchemaState(ctx)
		if err != nil || !strings.Contains(string(state.Manifest), "|text=fold") {
			t.Errorf("stored manifest %s, %v: want text parts", state.Manifest, err)
		}
		// A second start does nothing.
		before := state.Version
		if err := startOver(t, st, path).SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if state, err := st.SchemaState(ctx); err != nil || state.Version != before {
			t.Errorf("second start moved the schema version %d -> %d (%v)", before, state.Version, err)
		}
	})
}

// TestIdentify_ReplicaOverAnOldReleasesIndexesRefuses: a replica of this
// release running while a replica of an earlier one rebuilt the indexes
// with lower-cased text (its start: the fingerprints differ) answers
// identify with 503 SCHEMA_OUT_OF_SYNC, from the first request on, not the
// [] its query text finds in those entries, and refuses writes alike
// (they would mix the texts), until it restarts and rebuilds.
func TestIdentify_ReplicaOverAnOldReleasesIndexesRefuses(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path, s, greek, german := startedWithGreekAndGerman(t, st)
		indexAsOldRelease(t, st, greek, german)

		ids, err := identifyIDs(t, s, "LastName", "ΠΑΠΑΔΌΠΟΥΛΟΣ")
		if e := errs.As(err); e == nil || e.Kind != errs.KindUnavailable || e.Code != profile.CodeSchemaOutOfSync {
			t.Errorf("identify on the replica = %q, %v; want 503 %s", ids, err, profile.CodeSchemaOutOfSync)
		}
		_, err = s.Create(ctx, "", map[string]any{"LastName": "Ωμέγας"}, profile.CreateOptions{})
		if e := errs.As(err); e == nil || e.Kind != errs.KindUnavailable {
			t.Errorf("write on the replica: %v, want unavailable", err)
		}
		// Its restart rebuilds, and it serves again.
		r := startOver(t, st, path)
		if err := r.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		wantFound(t, r, "LastName", "ΠΑΠΑΔΌΠΟΥΛΟΣ", greek.ID)
	})
}

// TestOtherIndexText: indexes another release built for the same keys are
// told apart from indexes built for other keys, so that an import refused
// over them names the release, not the config.
func TestOtherIndexText(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path, first, greek, german := startedWithGreekAndGerman(t, st)
		if other, err := first.OtherIndexText(ctx); err != nil || other {
			t.Fatalf("OtherIndexText over this release's indexes = %t, %v; want false", other, err)
		}
		indexAsOldRelease(t, st, greek, german)
		s := startOver(t, st, path)
		if other, err := s.OtherIndexText(ctx); err != nil || !other {
			t.Fatalf("OtherIndexText over the old release's indexes = %t, %v; want true", other, err)
		}
		if err := s.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if other, err := s.OtherIndexText(ctx); err != nil || other {
			t.Errorf("OtherIndexText after the rebuild = %t, %v; want false", other, err)
		}
	})
}

// startedWithGreekAndGerman starts a service of this release over st with
// the shipped config (written to path), synced as at a start, holding the
// customers of greekAndGerman.
func startedWithGreekAndGerman(t *testing.T, st profile.Store) (path string, s *profile.Service, greek, german *profile.Profile) {
	t.Helper()
	path = writeConfig(t, shippedConfig(t))
	s = startOver(t, st, path)
	if err := s.SyncSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	greek, german = greekAndGerman(t, s)
	return path, s, greek, german
}

// TestManifest_PreviousReleaseWithoutReadPart: the release before
// fingerprints named how key attributes are read (types, aliases) wrote
// none. Over its manifest, with the same config, this release must find the
// keys indexed as it would index them: nothing to rebuild at the start,
// nothing written (the previous release's replicas keep serving beside it
// in a rolling upgrade), and `profiled import` allowed (KeysDiffer false,
// where it told the operator the config's keys differ).
func TestManifest_PreviousReleaseWithoutReadPart(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path, _, _, german := startedWithGreekAndGerman(t, st)
		previous := storeWithoutReadParts(t, st)
		s := startOver(t, st, path)
		if keys, err := s.KeysToSync(ctx); err != nil || len(keys) != 0 {
			t.Errorf("KeysToSync over the previous release's manifest = %v, %v; want none", keys, err)
		}
		if differ, err := s.KeysDiffer(ctx); err != nil || differ {
			t.Errorf("KeysDiffer over the previous release's manifest = %t, %v; want false (import allowed)", differ, err)
		}
		if err := s.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := st.SchemaState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != previous.Version || string(after.Manifest) != string(previous.Manifest) {
			t.Errorf("the start wrote the schema: version %d -> %d", previous.Version, after.Version)
		}
		if ids, err := identifyIDs(t, s, "LastName", "STRASSE"); err != nil || len(ids) != 1 || ids[0] != german.ID {
			t.Errorf("identify after the start = %v, %v; want [%s]", ids, err, german.ID)
		}
	})
}

// TestOtherIndexText_ConfigReadsAKeyOtherwise: indexes this release built
// for the same keys, over a config that since gave a key attribute an alias
// (how the key's values are read changed), differ by the config, not by the
// release: OtherIndexText must say false, so that import names the config.
func TestOtherIndexText_ConfigReadsAKeyOtherwise(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		startedWithGreekAndGerman(t, st)
		changed := writeConfig(t, edited(t, shippedConfig(t),
			"{name: LastName,     type: string, length: 256}",
			"{name: LastName,     type: string, length: 256, aliases: [Surname]}"))
		s := startOver(t, st, changed)
		if differ, err := s.KeysDiffer(ctx); err != nil || !differ {
			t.Fatalf("KeysDiffer = %t, %v; want true (the config reads key name otherwise)", differ, err)
		}
		if other, err := s.OtherIndexText(ctx); err != nil || other {
			t.Errorf("OtherIndexText = %t, %v; want false: the indexes are this release's, the config changed", other, err)
		}
	})
}

// TestFollowSchema_KeyAddedByThePreviousRelease: in a rolling upgrade, a
// replica of the release before read parts adds a key (POST
// /metadata/identification-keys); its manifest has no read parts. A
// replica of this release must follow it as it takes the other keys of
// that release (readAsLive), not refuse it and answer every write 503
// SCHEMA_OUT_OF_SYNC.
func TestFollowSchema_KeyAddedByThePreviousRelease(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path, old, _, _ := startedWithGreekAndGerman(t, st)
		b := startOver(t, st, path) // this release's replica
		if _, err := old.CreateKey(ctx, schema.KeyDoc{Name: "title", Attributes: []string{"Title"}}); err != nil {
			t.Fatal(err)
		}
		storeWithoutReadParts(t, st) // as the previous release wrote it
		if _, err := b.FollowSchema(ctx); err != nil {
			t.Errorf("this release's replica cannot follow a key the previous release added: %v", err)
		}
		if _, err := b.Create(ctx, "", map[string]any{"Title": "Dr"}, profile.CreateOptions{}); err != nil {
			t.Errorf("a write on this release's replica: %v", err)
		}
	})
}

// storeWithoutReadParts rewrites the stored index manifest as the release
// before read parts wrote it (the same fingerprints without "|read=…"), as
// a schema change, and returns the state it stored.
func storeWithoutReadParts(t *testing.T, st profile.Store) profile.SchemaState {
	t.Helper()
	ctx := context.Background()
	state, err := st.SchemaState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(state.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		i, j := strings.Index(v, "|read="), strings.Index(v, "|text=")
		if i < 0 || j < i {
			t.Fatalf("fingerprint %q of %s has no read part before its text part", v, k)
		}
		m[k] = v[:i] + v[j:]
	}
	previous, _ := json.Marshal(m)
	if err := st.UpdateSchema(ctx, state.Version, state.Overlay, previous, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	after, err := st.SchemaState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return after
}

// TestReloadSchema_CancelledMidBuildCommitsNothing: a reload whose context
// ends while it builds an index (a SIGTERM during a SIGHUP reload) stops
// and commits nothing, on both stores: the schema version and the live
// schema stay, and the key is not there.
func TestReloadSchema_CancelledMidBuildCommitsNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		path := writeConfig(t, shippedConfig(t))
		s := startOver(t, st, path)
		if err := s.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			if _, err := s.Create(ctx, "", map[string]any{"FirstName": "F", "Title": fmt.Sprint("T", i)}, profile.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		before, err := st.SchemaState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(edited(t, shippedConfig(t), "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		cancelled := &cancelledAfter{Context: ctx, calls: 100} // of 200 entries to build
		if _, err := s.ReloadSchema(cancelled); !errors.Is(err, context.Canceled) {
			t.Fatalf("reload cancelled mid-build: %v, want context.Canceled", err)
		}
		after, err := st.SchemaState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || string(after.Manifest) != string(before.Manifest) {
			t.Errorf("the cancelled reload committed: version %d -> %d", before.Version, after.Version)
		}
		if _, ok := s.Schema().Key("title"); ok {
			t.Error("the cancelled reload's key is live")
		}
	})
}
