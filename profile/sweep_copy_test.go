package profile_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/transfer"
)

// TestSweepAudit_TenantWithoutProfilesAfterCopy: a tenant whose customers
// were all deleted keeps its audit trail (create, delete), and the
// retention sweep deletes those entries once they are old, on bbolt. A
// store copied into PostgreSQL (copy-store, the documented move to
// replicas) must sweep them too: Tenants is "the tenants that have data",
// and audit entries are data (docs/privacy.md: entries older than
// audit.retention_days are deleted).
func TestSweepAudit_TenantWithoutProfilesAfterCopy(t *testing.T) {
	ctx := context.Background()
	src, err := store.Open(filepath.Join(t.TempDir(), "profiles.db"), store.Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := startOver(t, src, "../config.yaml")
	if err := s.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := s.Create(ctx, "acme", map[string]any{"FirstName": "Gone"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "acme", p.ID, 0); err != nil {
		t.Fatal(err)
	}

	dst, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := transfer.Copy(ctx, src, dst, nil); err != nil {
		t.Fatal(err)
	}

	later := time.Now().Add(time.Hour) // every entry is older than this
	for _, st := range []struct {
		name string
		db   profile.Store
	}{{"bbolt", src}, {"postgres", dst}} {
		s := startOver(t, st.db, "../config.yaml")
		before, err := s.Audit(ctx, "acme", profile.AuditQuery{})
		if err != nil || len(before.Entries) != 2 {
			t.Fatalf("%s: acme's trail before the sweep = %+v, %v; want create and delete", st.name, before, err)
		}
		if _, err := s.SweepAudit(ctx, later); err != nil {
			t.Fatal(err)
		}
		if after, err := s.Audit(ctx, "acme", profile.AuditQuery{}); err != nil || len(after.Entries) != 0 {
			t.Errorf("%s: acme's trail after a sweep past every entry: %d entries left (%v), want none", st.name, len(after.Entries), err)
		}
	}
}
