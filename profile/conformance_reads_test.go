package profile_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
)

// readCallsStore counts the record reads (statements, on PostgreSQL) of
// read transactions.
type readCallsStore struct {
	*store.DB
	calls *atomic.Int64
}

func (s readCallsStore) View(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return s.DB.View(ctx, tenant, func(tx profile.Tx) error { return fn(readCallsTx{tx, s.calls}) })
}

type readCallsTx struct {
	profile.Tx
	calls *atomic.Int64
}

func (t readCallsTx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	t.calls.Add(1)
	return t.Tx.RecordSets(id, exts)
}

func (t readCallsTx) Records(ext, id string) ([]schema.Record, error) {
	t.calls.Add(1)
	return t.Tx.Records(ext, id)
}

// TestCheckConformance_OneRecordReadPerProfile: the check after a reload
// reads each profile's records in one statement, not one per extension of
// the schema (on PostgreSQL, 906 profiles x 70 extensions took 38 s and
// held a pooled connection throughout).
func TestCheckConformance_OneRecordReadPerProfile(t *testing.T) {
	counted := readCallsStore{calls: new(atomic.Int64)}
	s, _, _ := profiletest.NewOver(t, "../config.yaml", func(db *store.DB) profile.Store {
		counted.DB = db
		return counted
	})
	ctx := context.Background()
	const n = 5
	for i := range n {
		if _, err := s.Create(ctx, "", map[string]any{"FirstName": fmt.Sprint("F", i), "Phone": []any{map[string]any{"PhoneNumber": fmt.Sprint("555", i)}}}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	counted.calls.Store(0)
	res, err := s.CheckConformance(ctx, s.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != n {
		t.Fatalf("checked %d, want %d", res.Checked, n)
	}
	if got := counted.calls.Load(); got > n {
		t.Errorf("%d record reads for %d profiles, want at most one each", got, n)
	}
}
