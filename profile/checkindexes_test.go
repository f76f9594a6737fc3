package profile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// TestCheckIndexes: a key made unique over values two customers of one
// tenant hold is a problem naming the tenant and the customer; the same
// values in two tenants are not; the check writes nothing (no commit, so
// on bbolt no write waits for it); a cancelled check stops.
func TestCheckIndexes(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	if err := s.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	twin := map[string]any{"FirstName": "Twin", "LastName": "Same"}
	for _, tenant := range []string{"", "acme", "acme", "zed"} {
		if _, err := s.Create(ctx, tenant, twin, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	unique := candidate(t, db, "    - {name: name,         attributes: [LastName, FirstName]}", "    - {name: name,         attributes: [LastName, FirstName], unique: true}")
	commits := db.Stats().Commits
	problems, err := s.CheckIndexes(ctx, unique, "candidate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Message, `tenant "acme"`) || !strings.Contains(problems[0].Message, "customer ") {
		t.Errorf("problems = %v, want one naming tenant acme and a customer", problems)
	}
	if got := db.Stats().Commits; got != commits {
		t.Errorf("the check committed %d writes", got-commits)
	}

	// Unique values held once per tenant pass, and a changed key that is
	// not unique is only read.
	firstOnly := candidate(t, db, "  identification_keys:\n", "  identification_keys:\n    - {name: first_only,   attributes: [FirstName]}\n")
	if problems, err := s.CheckIndexes(ctx, firstOnly, "candidate.yaml"); err != nil || len(problems) != 0 {
		t.Errorf("a new key that is not unique: %v, %v", problems, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CheckIndexes(cancelled, unique, "candidate.yaml"); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled check = %v, want context.Canceled", err)
	}
}

// candidate compiles the shipped config with old replaced by new, as
// check-config would compile the file it is given, over the store db.
func candidate(t *testing.T, db profile.Store, old, new string) *schema.Compiled {
	t.Helper()
	base, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(base), old) {
		t.Fatalf("config.yaml has no %q", old)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(base), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File), cfg.Unauthorized())
	if err != nil {
		t.Fatal(err)
	}
	return registry.Current()
}

// TestCreateKey_TooManyIndexValuesNamesTheCustomer: a key whose entries
// over a stored customer would pass the per-key bound is refused naming
// that customer (the write-time refusal has no customer to name), in the
// check as in the build.
func TestCreateKey_TooManyIndexValuesNamesTheCustomer(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	if err := s.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	var emails, phones []any
	for i := range 40 {
		emails = append(emails, fmt.Sprintf("m%d@x.dom", i))
		phones = append(phones, fmt.Sprint(5550000+i))
	}
	p, err := s.Create(ctx, "", map[string]any{"EmailAddress": emails, "PhoneNumber": phones}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateKey(ctx, schema.KeyDoc{Name: "both", Attributes: []string{"EmailAddress", "PhoneNumber"}})
	if e := errs.As(err); e == nil || e.Code != profile.CodeTooManyIndexValues || !strings.Contains(e.Message, p.ID) {
		t.Errorf("CreateKey over 1,600 entries of one customer = %v, want TOO_MANY_INDEX_VALUES naming %s", err, p.ID)
	}
	both := candidate(t, db, "  identification_keys:\n", "  identification_keys:\n    - {name: both,         attributes: [EmailAddress, PhoneNumber]}\n")
	if problems, err := s.CheckIndexes(ctx, both, "candidate.yaml"); err != nil || len(problems) != 1 || !strings.Contains(problems[0].Message, p.ID) {
		t.Errorf("check of a config with that key = %v, %v; want one problem naming %s", problems, err, p.ID)
	}
}
