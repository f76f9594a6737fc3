package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/store/postgres/postgrestest"
)

// TestReload_NamesTheSettingsItDoesNotApply: a reload (SIGHUP, POST
// /admin/reload) applies the schema only; every other setting waits for a
// restart (deploy.md, "Reload the schema"). An operator who rotates
// admin.token or removes an eGain user, then reloads, must not read a
// plain success: the old token and the removed user's logins still work.
// The answer names the settings it left as they were (not_applied), the
// log says so at warn level (SIGHUP answers no one), and
// profiled_config_settings_not_applied counts them, on both stores.
func TestReload_NamesTheSettingsItDoesNotApply(t *testing.T) {
	t.Parallel()
	cfgPath := configWith(t, `  token: ""`, `  token: "old-token"`)
	url := ""
	if onPostgres() {
		url = postgrestest.URL(t)
	}
	ts, logs := startLogged(t, cfgPath, filepath.Join(t.TempDir(), "profiles.db"), url)
	oldAuth := []string{"Authorization", "Bearer old-token"}

	// A reload with only the schema changed names nothing: the flags and
	// the test's own overrides (store path or URL) are no edit of the file.
	schemaOnly := strings.Replace(string(mustRead(t, cfgPath)), "    - {name: Title,        type: string, length: 64}\n",
		"    - {name: Title,        type: string, length: 64}\n    - {name: Nickname,     type: string, length: 64}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(schemaOnly), 0o600); err != nil {
		t.Fatal(err)
	}
	res := ts.do("POST", "/admin/reload", nil, oldAuth...)
	if res.Status != http.StatusOK {
		t.Fatalf("reload of a schema edit: %d %s", res.Status, res.Body)
	}
	if notApplied := notAppliedOf(t, res); len(notApplied) > 0 {
		t.Errorf("a schema-only edit: not_applied = %v, want none", notApplied)
	}

	// The operator rotates the token, removes the demo user and lowers a limit.
	edited := strings.NewReplacer(`  token: "old-token"`, `  token: "new-token"`,
		"    - name: demo\n", "    - name: someone_else\n",
		"max_records_per_extension: 1000", "max_records_per_extension: 5").Replace(schemaOnly)
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res = ts.do("POST", "/admin/reload", nil, oldAuth...)
	if res.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", res.Status, res.Body)
	}
	want := []string{"admin.token", "egain.users", "limits.max_records_per_extension"}
	if notApplied := notAppliedOf(t, res); !slices.Equal(notApplied, want) {
		t.Errorf("POST /admin/reload after editing settings: 200 with not_applied = %v, want %v", notApplied, want)
	}
	// As documented, they are not in effect until a restart.
	if res := ts.do("GET", "/admin/schema", nil, oldAuth...); res.Status != http.StatusOK {
		t.Errorf("the old token after the reload: %d, want 200 until a restart", res.Status)
	}

	// SIGHUP (main.serve runs App.Reload): only the log and /metrics tell.
	if err := ts.App.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["level"] == "warn" && strings.Contains(l, `"admin.token"`) && strings.Contains(l, `"egain.users"`) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warn line names admin.token and egain.users after the reload; log:\n%s", logs)
	}
	if m := metricLine(t, ts, "profiled_config_settings_not_applied "); m != "profiled_config_settings_not_applied 3" {
		t.Errorf("metric: %q, want profiled_config_settings_not_applied 3", m)
	}

	// Back to the file the server started with: nothing pending.
	if err := os.WriteFile(cfgPath, []byte(schemaOnly), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/admin/reload", nil, oldAuth...); res.Status != http.StatusOK || len(notAppliedOf(t, res)) > 0 {
		t.Errorf("reload of the started settings: %d %s, want 200 with nothing not applied", res.Status, res.Body)
	}
	if m := metricLine(t, ts, "profiled_config_settings_not_applied "); m != "profiled_config_settings_not_applied 0" {
		t.Errorf("metric after reverting: %q, want 0", m)
	}
}

// TestReplicas_FollowerNamesTheSettingsItDoesNotApply: on PostgreSQL the
// operator reloads one replica and the others follow, each re-reading its
// own file (scale-out.md). A follower does not apply the settings either,
// so its log names them too: both replicas still take the old token.
func TestReplicas_FollowerNamesTheSettingsItDoesNotApply(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("replicas share a PostgreSQL store; a bbolt file has one process")
	}
	cfgPath := configWith(t, `  token: ""`, `  token: "old-token"`)
	a := startOn(t, cfgPath, filepath.Join(t.TempDir(), "unused.db"), postgrestest.URL(t))
	b, logsB := startLogged(t, cfgPath, filepath.Join(t.TempDir(), "unused.db"), a.storeURL)
	edited := strings.Replace(string(mustRead(t, cfgPath)), `  token: "old-token"`, `  token: "new-token"`, 1)
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res := a.do("POST", "/admin/reload", nil, "Authorization", "Bearer old-token")
	if res.Status != http.StatusOK {
		t.Fatalf("reload on A: %d %s", res.Status, res.Body)
	}
	if notApplied := notAppliedOf(t, res); !slices.Equal(notApplied, []string{"admin.token"}) {
		t.Fatalf("reload on A: 200 with not_applied = %v, want [admin.token]", notApplied)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logsB.String(), `"admin.token"`) {
		if time.Now().After(deadline) {
			t.Fatalf("B followed A's reload without naming admin.token as not applied; log:\n%s", logsB)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := metricLine(t, b, "profiled_config_settings_not_applied "); m != "profiled_config_settings_not_applied 1" {
		t.Errorf("B's metric: %q, want 1", m)
	}
}

// notAppliedOf is the not_applied list of a reload's answer.
func notAppliedOf(tb testing.TB, res response) []string {
	tb.Helper()
	var body struct {
		NotApplied []string `json:"not_applied"`
	}
	res.JSON(tb, &body)
	return body.NotApplied
}

// metricLine is the first line of ts's /metrics that starts with prefix.
func metricLine(tb testing.TB, ts *testServer, prefix string) string {
	tb.Helper()
	for _, l := range strings.Split(string(ts.do("GET", "/metrics", nil).Body), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestReload_AppliesTheUnauthorizedStrings: genesys.unauthorized_strings
// bound the schema's names (spec §7), so a reload applies them with the
// schema. An operator who drops a word from the list and adds an attribute
// named by it, as check-config accepts, gets the reload done (before, the
// running list refused the schema until a restart, and the failed-reload
// metric fired); value checks switched on go live with it. Both stores.
func TestReload_AppliesTheUnauthorizedStrings(t *testing.T) {
	t.Parallel()
	ts, cfgPath, base := startOnConfigCopyAt(t)
	// The list alone changed (value checks on): the reload applies it.
	valuesChecked := strings.Replace(base, "genesys:\n", "genesys:\n  unauthorized_strings: {check_values: true}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(valuesChecked), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK || len(notAppliedOf(t, res)) > 0 {
		t.Fatalf("reload of the list alone: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/profiles", `{"LastName":"Select"}`), http.StatusBadRequest, "UNAUTHORIZED_STRING")
	withOrder := strings.Replace(base, "    - {name: Title,        type: string, length: 64}\n",
		"    - {name: Title,        type: string, length: 64}\n    - {name: Order,        type: string, length: 64}\n", 1)
	edited := strings.Replace(withOrder, "genesys:\n", "genesys:\n  unauthorized_strings: {words: [long], check_values: true}\n", 1)
	if edited == withOrder || withOrder == base {
		t.Fatal("the config has no genesys section or no Title to add beside")
	}
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res := ts.do("POST", "/admin/reload", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", res.Status, res.Body)
	}
	if notApplied := notAppliedOf(t, res); len(notApplied) > 0 {
		t.Errorf("not_applied = %v, want none: the reload applies the list", notApplied)
	}
	if m := metricLine(t, ts, "profiled_schema_last_reload_successful "); m != "profiled_schema_last_reload_successful 1" {
		t.Errorf("after the reload: %q", m)
	}
	if res := ts.do("POST", "/profiles", `{"LastName":"Bond","Order":"7"}`); res.Status != http.StatusCreated {
		t.Errorf("a profile with the attribute the new list allows: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/profiles", `{"LastName":"Long"}`), http.StatusBadRequest, "UNAUTHORIZED_STRING")
	if res := ts.do("POST", "/profiles", `{"LastName":"Select"}`); res.Status != http.StatusCreated {
		t.Errorf("a value only the old list names, with check_values on: %d %s", res.Status, res.Body)
	}
}

// TestReload_UnauthorizedStringsBindTheMetadataAPI: a metadata change after
// a reload builds on the reloaded base (fromSource=false), so the list the
// reload applied names what it may create, not the start's list.
func TestReload_UnauthorizedStringsBindTheMetadataAPI(t *testing.T) {
	t.Parallel()
	ts, cfgPath, base := startOnConfigCopyAt(t)
	ext := `{"name":"Select","type":"single-valued","attributes":[{"name":"a","type":"string"}]}`
	edited := strings.Replace(base, "genesys:\n", "genesys:\n  unauthorized_strings: {words: [long]}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", res.Status, res.Body)
	}
	if res := ts.do("POST", "/metadata/profiles/extensions", ext); res.Status != http.StatusCreated {
		t.Errorf("an extension named by a word only the start's list had: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/metadata/profiles/extensions", `{"name":"Long","type":"single-valued","attributes":[{"name":"a","type":"string"}]}`),
		http.StatusBadRequest, "INVALID_SCHEMA") // a word the reloaded list added
}
