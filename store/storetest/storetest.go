// Package storetest is the conformance suite of the store engines: one set
// of tests of profile.Store, profile.Tx and session.Store that every engine
// (bbolt in package store, PostgreSQL in store/postgres) runs unchanged.
// Only tests import it.
//
// The tests check what the interfaces promise and what the service relies
// on. What an engine does on its own (files, locks, stats, migrations) is
// tested in the engine's package.
//
// The tests use a Tx the way the service does, where the engines differ
// outside of it:
//
//   - A replace (PutProfile of a stored id) reads the profile with Profile
//     in the same transaction first. PostgreSQL takes PutProfile of an id
//     the transaction has not read for a create, which fails with
//     CodeProfileExists when the id is taken, so that creates racing on
//     one id never overwrite each other; bbolt replaces.
//   - Every profile has a Num of its own, as NextNum hands them out.
//     PostgreSQL keeps Num unique over all tenants' profiles, 0 included;
//     bbolt takes 0 for "no numeric id".
//   - A tenant gets data by a profile. PostgreSQL lists (Tenants) and
//     visits (UpdateSchema) the tenants that have had profiles; bbolt also
//     those that only have records or index entries.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
)

// Store is what the suite needs of an engine: the profile and session
// stores, server settings, the profile count and the readiness check.
type Store interface {
	profile.Store
	session.Store
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	ProfileCount() (int, error)
	// RecordsWritten counts extension records stored since Open.
	RecordsWritten() uint64
	Ping() error
	Close() error
}

// Run runs every conformance test as a parallel subtest of t, each on a
// store of its own that open returns empty. open runs inside the subtest and
// registers the store's cleanup (Close) itself.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var tests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"Settings", testSettings},
	// Profiles, records and numeric ids.
	{"ProfileLifecycle", testProfileLifecycle},
	{"CustomerIDRoundTrip", testCustomerIDRoundTrip},
	{"IDByNum", testIDByNum},
	{"NextNumStrictlyIncreasing", testNextNumStrictlyIncreasing},
	{"DeleteProfile", testDeleteProfile},
	{"PurgeProfile", testPurgeProfile},
	{"StoredExtensions", testStoredExtensions},
	{"RecordSets", testRecordSets},
	{"RecordWritesOnlyWhatChanged", testRecordWritesOnlyWhatChanged},
	{"ManySetsReadInOneWrite", testManySetsReadInOneWrite},
	{"ReadsAreIndependent", testReadsAreIndependent},
	{"Documents", testDocuments},
	{"ProfilesAfter", testProfilesAfter},
	{"ForEachProfileWhileWriting", testForEachProfileWhileWriting},
	{"ScanCreated", testScanCreated},
	{"ScanCreated_BoundsOutsideNanosecondRange", testScanCreatedBoundsOutsideNanosecondRange},
	{"FailingUpdateKeepsNothing", testFailingUpdateKeepsNothing},
	{"ProfileCount", testProfileCount},
	{"PingAndCount", testPingAndCount},

	// Identification indexes.
	{"ScanIndex", testScanIndex},
	{"ScanIndex_BytesRoundTrip", testScanIndexBytesRoundTrip},
	{"ScanIndexRange", testScanIndexRange},
	{"ScanIndexRange_OpenBounds", testScanIndexRangeOpenBounds},
	{"UniqueIndexEntry", testUniqueIndexEntry},
	{"NonUniqueIndexEntry", testNonUniqueIndexEntry},
	{"RemoveIndexEntry", testRemoveIndexEntry},

	// Tenants and schema.
	{"TenantIsolation", testTenantIsolation},
	{"Tenants", testTenants},
	{"UpdateSchema", testUpdateSchema},
	{"SchemaVersion", testSchemaVersion},
	{"DropExtensionAndIndex", testDropExtensionAndIndex},

	{"UpdateSchemaVisitsDefaultTenant", testUpdateSchemaVisitsDefaultTenant},

	// Audit trail.
	{"Audit", testAudit},
	{"AuditDeleteBefore", testAuditDeleteBefore},
	{"AuditFailedUpdateKeepsNone", testAuditFailedUpdateKeepsNone},

	// Sessions.
	{"Sessions", testSessions},
	{"OpenSessionConcurrent", testOpenSessionConcurrent},
}

// t0 has nanoseconds, so that a store that rounds times is caught.
var t0 = time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)

// MustUpdate runs fn in an update of s, failing the test on error.
func MustUpdate(tb testing.TB, s Store, tenant string, fn func(profile.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), tenant, fn); err != nil {
		tb.Fatal(err)
	}
}

// MustView runs fn in a view of s, failing the test on error.
func MustView(tb testing.TB, s Store, tenant string, fn func(profile.Tx) error) {
	tb.Helper()
	if err := s.View(context.Background(), tenant, fn); err != nil {
		tb.Fatal(err)
	}
}

// NewProfile is a profile with one attribute, created at created.
func NewProfile(id string, num uint64, created time.Time) *profile.Profile {
	return &profile.Profile{ID: id, Num: num, Created: created, Updated: created, Rev: 1,
		Attributes: map[string]any{"name": id}}
}

// Scan collects the ids a scan reports.
func Scan(tb testing.TB, run func(fn func(id string) bool) error) []string {
	tb.Helper()
	ids := []string{}
	if err := run(func(id string) bool { ids = append(ids, id); return true }); err != nil {
		tb.Fatal(err)
	}
	return ids
}

func schemaOverlay(s Store) ([]byte, error) {
	st, err := s.SchemaState(context.Background())
	return st.Overlay, err
}

func profileCount(tb testing.TB, s Store) int {
	tb.Helper()
	n, err := s.ProfileCount()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// testSettings: a setting reads "" until set, then the last value set.
func testSettings(t *testing.T, s Store) {
	ctx := context.Background()
	if v, err := s.Setting(ctx, "mode"); err != nil || v != "" {
		t.Fatalf("unset setting = %q, %v", v, err)
	}
	for _, want := range []string{"maintenance", "production"} {
		if err := s.SetSetting(ctx, "mode", want); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Setting(ctx, "mode"); err != nil || v != want {
			t.Errorf("Setting = %q, %v; want %q", v, err, want)
		}
	}
	if v, _ := s.Setting(ctx, "other"); v != "" {
		t.Errorf("another setting = %q", v)
	}
	// Inside a transaction (an import's progress mark): kept with it, or
	// not at all.
	if err := s.Update(ctx, "t1", func(tx profile.Tx) error { return tx.PutSetting("mark", "4") }); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("the batch failed")
	if err := s.Update(ctx, "t1", func(tx profile.Tx) error {
		if err := tx.PutSetting("mark", "6"); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("failing update: %v", err)
	}
	if v, _ := s.Setting(ctx, "mark"); v != "4" {
		t.Errorf("mark = %q, want the committed 4", v)
	}
}
