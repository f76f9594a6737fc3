package profile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
)

// shippedConfig is config.yaml as the repository ships it.
func shippedConfig(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// writeConfig writes text as a config file of the test's own and returns
// its path.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configWith is the shipped config with old replaced by new, written to a
// file of the test's own (its path); old must be in it.
func configWith(t testing.TB, old, new string) string {
	t.Helper()
	base := shippedConfig(t)
	if !strings.Contains(base, old) {
		t.Fatalf("config.yaml has no %q: the test proves nothing", old)
	}
	return writeConfig(t, strings.Replace(base, old, new, 1))
}

// configWithKey is configWith one more identification key: line, a YAML
// list item.
func configWithKey(t testing.TB, line string) string {
	t.Helper()
	return configWith(t, "  identification_keys:\n", "  identification_keys:\n"+line+"\n")
}

// registryOver compiles the config at path with the schema stored in db,
// as another replica of the store would at its start.
func registryOver(t testing.TB, db profile.Store, path string) *schema.Registry {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File), cfg.Unauthorized())
	if err != nil {
		t.Fatal(err)
	}
	return registry
}

// reloadableService is a Service over a store of its own, its schema
// synced as at a start, with a copy of the shipped config (path, and its
// text base) that the test may rewrite and reload.
func reloadableService(t testing.TB) (s *profile.Service, path, base string) {
	t.Helper()
	base = shippedConfig(t)
	path = writeConfig(t, base)
	s, _, _ = profiletest.New(t, path)
	if err := s.SyncSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, path, base
}
