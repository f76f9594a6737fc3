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

// edited is text with old replaced by new; old must be in it, or the test
// would prove nothing.
func edited(t testing.TB, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("the config has no %q: the test proves nothing", old)
	}
	return strings.Replace(text, old, new, 1)
}

// configWith is the shipped config with old replaced by new, written to a
// file of the test's own (its path).
func configWith(t testing.TB, old, new string) string {
	t.Helper()
	return writeConfig(t, edited(t, shippedConfig(t), old, new))
}

// reloadWith writes text to the config file at path and reloads s's schema
// from it, as an operator's edit and SIGHUP would.
func reloadWith(t testing.TB, s *profile.Service, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReloadSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
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
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File))
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
