package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
)

// TestNotReloaded names the settings two files disagree on, by their
// dotted keys, and only those: an override from the environment or a
// flag is no edit of the file, a list left out equals an empty one, and
// the schema is what a reload applies.
func TestNotReloaded(t *testing.T) {
	base := "admin: {token: a}\nserver: {cors: {allow_origins: []}}\nschema:\n  profile:\n    - {name: FirstName, type: string}\n"
	started, err := config.Parse("config.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	started.ApplyEnv(func(name string) string {
		return map[string]string{"PROFILED_ADMIN_TOKEN": "from-env", "PROFILED_ADDR": ":9999"}[name]
	})
	same := strings.Replace(base, "server: {cors: {allow_origins: []}}\n", "", 1) + "    - {name: LastName, type: string}\n"
	next, err := config.Parse("config.yaml", []byte(same))
	if err != nil {
		t.Fatal(err)
	}
	if got := started.NotReloaded(next); len(got) > 0 {
		t.Errorf("a schema edit, an override and a list left out: %v, want none", got)
	}
	edited := strings.Replace(base, "token: a", "token: b", 1) + "limits: {max_records_per_extension: 5}\negain: {login_throttle: {max_failures: 1}}\n"
	next, err = config.Parse("config.yaml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin.token", "egain.login_throttle.max_failures", "limits.max_records_per_extension"}
	if got := started.NotReloaded(next); !slices.Equal(got, want) {
		t.Errorf("NotReloaded = %v, want %v", got, want)
	}
}
