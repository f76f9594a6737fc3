package profile_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/postgres"
)

// TestRead_OneSnapshot: the lookups and loads of one Service.Read see one
// snapshot (a profile deleted after the lookup found it is still loaded),
// and only the profiles GetMany loaded are audited as read, once, after
// the read succeeded.
func TestRead_OneSnapshot(t *testing.T) {
	s, _ := newService(t)
	s.Reads = profile.ReadsEvery
	ctx := context.Background()
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Snap", "EmailAddress": []any{"snap@x.example"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var loaded []*profile.Profile
	err = s.Read(ctx, "", func(r profile.Reader) error {
		ids, _, err := r.Lookup("email", []string{"SNAP@x.example"}, 0)
		if err != nil || !slices.Equal(ids, []string{p.ID}) {
			t.Fatalf("Lookup = %q, %v", ids, err)
		}
		if err := s.Delete(ctx, "", p.ID, 0); err != nil {
			t.Fatal(err)
		}
		loaded, err = r.GetMany(ids, []string{"Phone"})
		return err
	})
	if err != nil || len(loaded) != 1 || loaded[0].ID != p.ID {
		t.Fatalf("GetMany in the snapshot = %v, %v; want the profile as it was", loaded, err)
	}
	reads := trail(t, s, profile.AuditQuery{Op: profile.OpRead})
	if len(reads) != 1 || !slices.Equal(reads[0].Customers, []string{p.ID}) {
		t.Errorf("read entries %+v, want one naming %s", reads, p.ID)
	}
	// A read that fails is not audited, though it loaded a live profile.
	live, err := s.Create(ctx, "", map[string]any{"FirstName": "Live", "EmailAddress": []any{"live@x.example"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Read(ctx, "", func(r profile.Reader) error {
		if ps, err := r.GetMany([]string{live.ID}, nil); err != nil || len(ps) != 1 {
			t.Fatalf("GetMany of a live profile = %v, %v", ps, err)
		}
		return context.Canceled
	}); err != context.Canceled {
		t.Errorf("Read = %v, want fn's error", err)
	}
	if reads := trail(t, s, profile.AuditQuery{Op: profile.OpRead}); len(reads) != 1 {
		t.Errorf("%d read entries, want still 1", len(reads))
	}
	// Counted reads: one per Read that loaded, none for one that only
	// looked up.
	s.Reads = profile.ReadsCount
	counted := 0
	s.OnRead = func(string) { counted++ }
	_ = s.Read(ctx, "", func(r profile.Reader) error {
		_, _, err := r.Lookup("email", []string{"live@x.example"}, 0)
		return err
	})
	if counted != 0 {
		t.Errorf("a lookup-only read was counted %d times", counted)
	}
	_ = s.Read(ctx, "", func(r profile.Reader) error {
		_, err := r.GetMany([]string{live.ID}, nil)
		return err
	})
	if counted != 1 {
		t.Errorf("a read that loaded was counted %d times, want 1", counted)
	}
}

// TestMetadata_ChecksTheStoredSchema: two replicas over one PostgreSQL
// database, neither following the other (no schema watch runs here): a
// metadata change on one is checked against the schema the other stored,
// not against its own stale copy (it answered "already exists" for a key
// just deleted, 404 for one just created, and deleted a key twice).
func TestMetadata_ChecksTheStoredSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t) // skips without a server outside CI
	ctx := context.Background()
	replica := func() *profile.Service {
		db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return profiletest.Started(t, "../config.yaml", db)
	}
	a, b := replica(), replica()
	key := schema.KeyDoc{Name: "title_key", Attributes: []string{"Title"}}
	ext := schema.ExtensionDoc{Name: "Loyalty", Type: "multi-valued", Attributes: []schema.AttributeDoc{{Name: "tier", Type: "string"}}}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for range 2 {
		_, err := a.CreateKey(ctx, key)
		must("A creates the key", err)
		must("B deletes the key A created", b.DeleteKey(ctx, key.Name))
		if err := a.DeleteKey(ctx, key.Name); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("A deletes the key B deleted: %v, want not found", err)
		}
		_, err = a.CreateExtension(ctx, ext)
		must("A creates the extension", err)
		if _, err := b.CreateExtension(ctx, ext); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("B creates the extension A created: %v, want already exists", err)
		}
		must("B deletes the extension A created", b.DeleteExtension(ctx, ext.Name))
	}
}

// TestSyncSchema_FirstStartStoresAVersion: a store's first start stores
// the schema even when the config has no identification keys, so an
// import with other keys later sees a used store (KeysDiffer), not a new
// one whose indexes it may build as it likes.
func TestSyncSchema_FirstStartStoresAVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	start := strings.Index(base, "  identification_keys:")
	end := strings.Index(base, "\n\n# The eGain")
	if start < 0 || end < start {
		t.Fatal("config.yaml changed; the test proves nothing")
	}
	// No keys, and no eGain (its mapping needs them).
	noKeys := base[:start] + "  identification_keys: []" + base[end:]
	noKeys = strings.Replace(noKeys, "egain:\n", "egain:\n  disabled: true\n", 1)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(noKeys), 0o600); err != nil {
		t.Fatal(err)
	}
	s, db, _ := profiletest.New(t, path)
	if err := s.SyncSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, err := db.SchemaState(context.Background()); err != nil || st.Version == 0 {
		t.Errorf("schema state after the first start: version %d, %v; want a stored version", st.Version, err)
	}
}

// TestRevision_NotAuditedAsARead: the revision a write's precondition
// reads is no read of the customer's data (nothing leaves); it reports a
// missing customer as Get does.
func TestRevision_NotAuditedAsARead(t *testing.T) {
	s, _ := newService(t)
	s.Reads = profile.ReadsEvery
	ctx := context.Background()
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Rev"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := s.Revision(ctx, "", p.ID); err != nil || rev != p.Rev {
		t.Fatalf("Revision = %d, %v; want %d", rev, err, p.Rev)
	}
	if reads := trail(t, s, profile.AuditQuery{Op: profile.OpRead}); len(reads) != 0 {
		t.Errorf("read entries %+v, want none", reads)
	}
	if _, err := s.Revision(ctx, "", "NOSUCH"); !errs.Is(err, errs.KindNotFound) {
		t.Errorf("Revision of a missing customer = %v, want not found", err)
	}
}
