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

// TestNotReloaded_EmptyListsWithinLists: a list left out equals an empty
// one within a list's entries too ("foreign_departments: []" of an eGain
// user is none, as absent is): writing or removing it changes nothing, so
// a reload must not name egain.users as waiting for a restart.
func TestNotReloaded_EmptyListsWithinLists(t *testing.T) {
	// An eGain user's foreign_departments: [] is none, as absent is. (An
	// empty tenants list is refused: it would read as every tenant.)
	user := "{name: agent, password_hash: \"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG\"%s}"
	file := "egain: {users: [" + user + "]}\nschema:\n  profile:\n    - {name: FirstName, type: string}\n"
	started, err := config.Parse("config.yaml", []byte(strings.Replace(file, "%s", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	next, err := config.Parse("config.yaml", []byte(strings.Replace(file, "%s", ", foreign_departments: []", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := started.NotReloaded(next); len(got) > 0 {
		t.Errorf("foreign_departments: [] written out: NotReloaded = %v, want none", got)
	}
	if got := next.NotReloaded(started); len(got) > 0 {
		t.Errorf("foreign_departments: [] removed: NotReloaded = %v, want none", got)
	}
	// A real edit within the entry is still named.
	edited, err := config.Parse("config.yaml", []byte(strings.Replace(file, "%s", ", foreign_departments: [Sales]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := started.NotReloaded(edited); !slices.Equal(got, []string{"egain.users"}) {
		t.Errorf("foreign_departments: [Sales] added: NotReloaded = %v, want [egain.users]", got)
	}
}
