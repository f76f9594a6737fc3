package profile_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
)

// firstOnly is an identification key the shipped config does not have.
const firstOnly = "    - {name: first_only,   attributes: [FirstName]}"

// TestCatchUp_RefusalsDoNotRecompileASchemaThatCannotBeFollowed: a process
// whose config cannot follow the stored schema (its identification keys
// differ) answers refused requests without compiling the stored schema
// again for each one (each try takes the schema lock), and a later stored
// version is tried again.
func TestCatchUp_RefusalsDoNotRecompileASchemaThatCannotBeFollowed(t *testing.T) {
	ctx := context.Background()
	a, _, db := newServiceAndStore(t)
	if err := a.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// B shares the store (as a replica would) with one more key in its config.
	registry := registryOver(t, db, configWithKey(t, firstOnly))
	var builds atomic.Int32
	registry.AddGuard(func(*schema.Compiled) error { builds.Add(1); return nil })
	b := profile.NewService(db, registry)

	// A changes the schema; B cannot follow it.
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Loyalty", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "tier", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	used := b.Schema().Version
	for range 5 {
		_, err := b.Create(ctx, "", map[string]any{"Unknown": "x"}, profile.CreateOptions{})
		if !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("refused write on B: %v, want invalid", err)
		}
		if b.CatchUp(ctx, used) {
			t.Fatal("CatchUp followed a schema B's config cannot follow")
		}
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("B compiled the stored schema %d times for 10 refusals, want once", n)
	}
	// A newer stored version is worth one more try.
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Loyalty2", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "tier", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	b.CatchUp(ctx, used)
	if n := builds.Load(); n != 2 {
		t.Errorf("B compiled %d times after a newer stored schema, want 2", n)
	}
}

// TestReloadSchema_AuditNamesTheKeysItChanged: a reload (and a start) that
// builds or drops indexes names those keys in its audit entry, as a key
// made through the metadata API does.
func TestReloadSchema_AuditNamesTheKeysItChanged(t *testing.T) {
	s, path, base := reloadableService(t)
	text := edited(t, base, "  identification_keys:\n", "  identification_keys:\n    - {name: First_Only,   attributes: [FirstName]}\n")
	reloadWith(t, s, path, edited(t, text, "    - {name: phone_number, attributes: [PhoneNumber]}\n", ""))
	entries := trail(t, s, profile.AuditQuery{Op: profile.OpSchemaReload})
	if len(entries) != 1 || strings.Join(entries[0].Keys, ",") != "First_Only,phone_number" {
		t.Fatalf("reload entries %+v, want one naming First_Only and phone_number", entries)
	}
}

// TestFollowSchema_ReadsThroughKeysIndexedOtherwise: a replica whose config
// cannot follow the schema another stored answers a read through a key
// whose index the store no longer holds as its config defines it with 503
// SCHEMA_OUT_OF_SYNC, not with what is left of the index (identify
// answered [] and a client would create a duplicate); reads through keys
// indexed alike are served, and a reload of its config ends it.
func TestFollowSchema_ReadsThroughKeysIndexedOtherwise(t *testing.T) {
	ctx := context.Background()
	a, db := replicaWithSolo(t)
	// B starts with one more key and indexes it, as its start would.
	b := profile.NewService(db, registryOver(t, db, configWithKey(t, firstOnly)))
	if err := b.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	byFirst := profile.IdentifyQuery{Key: "first_only", Filters: []profile.Filter{{Attribute: "FirstName", Value: "Solo"}}}
	byEmail := profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "EmailAddress", Value: "solo@x.dom"}}}
	found := func(q profile.IdentifyQuery) (int, error) {
		res, err := b.Identify(ctx, "", q)
		if err != nil {
			return 0, err
		}
		return len(res.Profiles), nil
	}
	if n, err := found(byFirst); n != 1 || err != nil {
		t.Fatalf("B by first_only before: %d, %v", n, err)
	}

	// A changes the schema with its own keys: first_only's index is dropped.
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Loyalty", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "tier", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FollowSchema(ctx); err == nil {
		t.Fatal("B followed a schema whose keys differ from its config's")
	}
	if _, err := found(byFirst); errs.As(err) == nil || errs.As(err).Code != profile.CodeSchemaOutOfSync {
		t.Errorf("B by first_only after A's change = %v, want SCHEMA_OUT_OF_SYNC", err)
	}
	err := b.Read(ctx, "", func(r profile.Reader) error {
		_, _, err := r.Lookup("first_only", []string{"Solo"}, 0)
		return err
	})
	if errs.As(err) == nil || errs.As(err).Code != profile.CodeSchemaOutOfSync {
		t.Errorf("B's lookup by first_only = %v, want SCHEMA_OUT_OF_SYNC", err)
	}
	if n, err := found(byEmail); n != 1 || err != nil {
		t.Errorf("B by e-mail, indexed alike: %d, %v", n, err)
	}

	// B reloads its config: the store is indexed for it again.
	if _, err := b.ReloadSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := found(byFirst); n != 1 || err != nil {
		t.Errorf("B by first_only after its reload: %d, %v", n, err)
	}
}

// TestIdentify_EmptyAnswerChecksTheStoredSchema: a replica whose live
// schema still has a key another replica deleted reads its emptied index;
// it answers that the key is unknown, after catching up, not [] (a client
// told "no such customer" would create a duplicate).
func TestIdentify_EmptyAnswerChecksTheStoredSchema(t *testing.T) {
	ctx := context.Background()
	a, db := replicaWithSolo(t)
	if _, err := a.CreateKey(ctx, schema.KeyDoc{Name: "first_named", Attributes: []string{"FirstName"}}); err != nil {
		t.Fatal(err)
	}
	// B shares the store (as a replica would) and starts after the key was made.
	b := profile.NewService(db, registryOver(t, db, "../config.yaml"))
	byFirst := profile.IdentifyQuery{Key: "first_named", Filters: []profile.Filter{{Attribute: "FirstName", Value: "Solo"}}}
	if res, err := b.Identify(ctx, "", byFirst); err != nil || len(res.Profiles) != 1 {
		t.Fatalf("B by first_named: %v, %v", res, err)
	}
	if err := a.DeleteKey(ctx, "first_named"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Schema().Key("first_named"); !ok {
		t.Fatal("B followed A's change by itself: the test proves nothing")
	}
	_, err := b.Identify(ctx, "", byFirst)
	if e := errs.As(err); e == nil || e.Code != profile.CodeUnknownKey {
		t.Errorf("B by the key A deleted: %v, want %s", err, profile.CodeUnknownKey)
	}
}

// TestIdentify_AnswerFromARedefinedKeyChecksTheStoredSchema: another
// replica deleted a key and made one of the same name over other
// attributes, rebuilding its index. A replica that has not followed yet
// (the notification is on its way, or lost while its listener reconnects:
// up to store.schema_poll) read the new index as the old key's: identify
// FirstName=Solo answered the customer whose LastName is Solo, a caller
// matched to another customer. It answers as the other replica does.
func TestIdentify_AnswerFromARedefinedKeyChecksTheStoredSchema(t *testing.T) {
	ctx := context.Background()
	a, db := replicaWithSolo(t)
	namesake, err := a.Create(ctx, "", map[string]any{"FirstName": "Other", "LastName": "Solo"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateKey(ctx, schema.KeyDoc{Name: "first_named", Attributes: []string{"FirstName"}}); err != nil {
		t.Fatal(err)
	}
	// B shares the store (as a replica would) and starts after the key was made.
	b := profile.NewService(db, registryOver(t, db, "../config.yaml"))
	byFirst := profile.IdentifyQuery{Key: "first_named", Filters: []profile.Filter{{Attribute: "FirstName", Value: "Solo"}}}
	if res, err := b.Identify(ctx, "", byFirst); err != nil || len(res.Profiles) != 1 || res.Profiles[0].ID == namesake.ID {
		t.Fatalf("B by first_named: %v, %v", res, err)
	}
	// A redefines the key: its index now holds last names.
	if err := a.DeleteKey(ctx, "first_named"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateKey(ctx, schema.KeyDoc{Name: "first_named", Attributes: []string{"LastName"}}); err != nil {
		t.Fatal(err)
	}
	if k, _ := b.Schema().Key("first_named"); k == nil || k.Attributes[0] != "FirstName" {
		t.Fatal("B followed A's change by itself: the test proves nothing")
	}
	answer := func(s *profile.Service) string {
		res, err := s.Identify(ctx, "", byFirst)
		if err != nil {
			return "error " + errs.As(err).Code
		}
		var ids []string
		for _, p := range res.Profiles {
			ids = append(ids, p.ID)
		}
		return strings.Join(ids, ",")
	}
	if got, want := answer(b), answer(a); got != want {
		t.Errorf("B by the key A redefined: %s, want %s as A answers (%s is the customer whose LastName is Solo)", got, want, namesake.ID)
	}
}

// TestGet_ExtensionRedefinedChecksTheStoredSchema: a replica that has not
// yet followed another's deleting an extension and making it anew
// multi-valued reads its records under the new schema, which the API shows
// them by, not in the old single-valued shape (one record of two).
func TestGet_ExtensionRedefinedChecksTheStoredSchema(t *testing.T) {
	ctx := context.Background()
	a, db := replicaWithSolo(t)
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Tier", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "level", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	b := profile.NewService(db, registryOver(t, db, "../config.yaml"))
	if err := a.DeleteExtension(ctx, "Tier"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Tier", Type: "multi-valued", Attributes: []schema.AttributeDoc{{Name: "level", Type: "string"}}, Unique: []string{"level"}}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Create(ctx, "", map[string]any{"FirstName": "Tiered", "Tier": []any{map[string]any{"level": "gold"}, map[string]any{"level": "silver"}}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := b.Schema().Extension("Tier"); !ok || e.Kind != schema.SingleValued {
		t.Fatal("B followed A's change by itself: the test proves nothing")
	}
	d, err := b.Get(ctx, "", p.ID, []string{"Tier"})
	if err != nil {
		t.Fatal(err)
	}
	// The API shows the records in the shape of the schema live after the
	// read: one object for a single-valued extension.
	if e, _ := b.Schema().Extension("Tier"); len(d.Extensions["Tier"]) != 2 || e.Kind != schema.MultiValued {
		t.Errorf("B reads Tier as %v under a %s extension, want the two records of the multi-valued extension A made", d.Extensions, e.Kind)
	}
}

// TestRead_RunsAgainUnderANewerStoredSchema: a read (the eGain facade's)
// on a replica that has not yet followed another's schema change runs
// again under that schema once it has caught up, so what it maps by the
// schema is never the old schema's reading of new data.
func TestRead_RunsAgainUnderANewerStoredSchema(t *testing.T) {
	ctx := context.Background()
	a, db := replicaWithSolo(t)
	b := profile.NewService(db, registryOver(t, db, "../config.yaml"))
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Tier", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "level", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Schema().Extension("Tier"); ok {
		t.Fatal("B followed A's change by itself: the test proves nothing")
	}
	var runs []uint64
	err := b.Read(ctx, "", func(rd profile.Reader) error {
		runs = append(runs, rd.Schema().Version)
		return nil
	})
	if err != nil || len(runs) != 2 || runs[1] != a.Schema().Version {
		t.Errorf("B's read ran under versions %v (%v), want its own then A's %d", runs, err, a.Schema().Version)
	}
}

// replicaWithSolo is a Service over a store of its own, synced as at a
// start, holding one customer (FirstName Solo, solo@x.dom); a test makes
// other replicas over db.
func replicaWithSolo(t *testing.T) (*profile.Service, *store.DB) {
	ctx := context.Background()
	a, _, db := newServiceAndStore(t)
	if err := a.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, "", map[string]any{"FirstName": "Solo", "EmailAddress": []any{"solo@x.dom"}}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, db
}

// TestFollowSchema_CatchingUpHoldsUpNoWrite: a replica that followed a
// stored version with a config file that makes another schema (its file
// reached it late, or differs outside the keys for good) reads its file
// again at every poll until it makes the stored schema. A poll that finds
// the file still behind changes nothing, so, as the look before the lock
// says for a poll that finds nothing new, it must not take the schema
// lock: that waits for every write in flight (one waiting on a row lock,
// an import batch) and holds every new write of the replica meanwhile.
func TestFollowSchema_CatchingUpHoldsUpNoWrite(t *testing.T) {
	ctx := context.Background()
	a, _, db := newServiceAndStore(t)
	if err := a.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// B's file has one attribute more: it follows A's changes, under
	// another schema hash than A stores.
	b := profile.NewService(db, registryOver(t, db, configWith(t, "  profile:\n", "  profile:\n    - {name: Segment, type: string, length: 64}\n")))
	if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: "Loyalty", Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "tier", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FollowSchema(ctx); err != nil || b.Schema().Version != a.Schema().Version {
		t.Fatalf("B follows A's change: version %d, %v; want %d", b.Schema().Version, err, a.Schema().Version)
	}

	// A write in flight on B holds the schema lock shared.
	entered, release := make(chan struct{}), make(chan struct{})
	inFlight := make(chan struct{})
	go func() {
		defer close(inFlight)
		_, _ = b.EditByNum(ctx, "", 1, func(*schema.Compiled) []string { close(entered); <-release; return nil },
			func(*schema.Compiled, *profile.Profile) (map[string]any, error) { return nil, nil }, profile.ReplaceOptions{})
	}()
	<-entered
	polled := make(chan struct{})
	go func() { defer close(polled); _, _ = b.FollowSchema(ctx) }() // B's watch polls
	time.Sleep(200 * time.Millisecond)

	created := make(chan error, 1)
	go func() {
		_, err := b.Create(ctx, "", map[string]any{"FirstName": "Meanwhile"}, profile.CreateOptions{})
		created <- err
	}()
	select {
	case err := <-created:
		if err != nil {
			t.Errorf("a write on B while it polls: %v", err)
		}
		close(release)
	case <-time.After(2 * time.Second):
		t.Errorf("a write on B waited over 2 s for a poll that found its file still behind, which waited for another write in flight")
		close(release)
		<-created
	}
	<-inFlight
	<-polled
}
