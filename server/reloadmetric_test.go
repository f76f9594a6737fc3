package server_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestReload_RefusedIsAMetric: a reload the server refuses (a bad edit,
// then SIGHUP, which answers no one) is visible in /metrics, so an alert
// can fire before the next restart, which would refuse the same file and
// not start: profiled_schema_last_reload_successful is 0 until a reload
// succeeds again.
func TestReload_RefusedIsAMetric(t *testing.T) {
	t.Parallel()
	cfgPath := configWith(t)
	good := string(mustRead(t, cfgPath))
	ts := mustStartWith(t, cfgPath, t.TempDir()+"/profiles.db")
	metric := func() string { return metricLine(t, ts, "profiled_schema_last_reload_successful ") }
	if got := metric(); got != "profiled_schema_last_reload_successful 1" {
		t.Errorf("after the start: %q, want profiled_schema_last_reload_successful 1", got)
	}
	bad := strings.Replace(good, "{name: LastName,     type: string", "{name: LastName,     type: strng", 1)
	if bad == good {
		t.Fatal("config.yaml has no LastName line to break")
	}
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	// What SIGHUP runs (main.serve): nobody sees its error but the log.
	if err := ts.App.Reload(context.Background()); err == nil {
		t.Fatal("a reload of a bad file was not refused")
	}
	if got := metric(); got != "profiled_schema_last_reload_successful 0" {
		t.Errorf("after a refused reload: %q, want profiled_schema_last_reload_successful 0", got)
	}
	wantError(t, ts.do("POST", "/admin/reload", nil), http.StatusBadRequest, "SCHEMA_RELOAD_REFUSED")
	if got := metric(); got != "profiled_schema_last_reload_successful 0" {
		t.Errorf("after a refused POST /admin/reload: %q, want 0", got)
	}
	if err := os.WriteFile(cfgPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
		t.Fatalf("reload of the good file: %d %s", res.Status, res.Body)
	}
	if got := metric(); got != "profiled_schema_last_reload_successful 1" {
		t.Errorf("after a reload that succeeded: %q, want 1", got)
	}
}

// TestReload_StoreFaultIsNoRefusedFile: a reload of a good file that fails
// because the store cannot commit now (503 STORE_UNAVAILABLE: retry) says
// nothing about the file, which the next start takes: deploy.md has
// operators alert on profiled_schema_last_reload_successful 0 as "the next
// start would refuse the same file", so it must stay 1.
func TestReload_StoreFaultIsNoRefusedFile(t *testing.T) {
	t.Parallel()
	boltOnly(t, "injects bbolt commit faults")
	ts := mustStartWith(t, configWith(t), t.TempDir()+"/profiles.db")
	ts.injectCommitFault(func() error { return errors.New("write /data/profiles.db: no space left on device") })
	res := ts.do("POST", "/admin/reload", nil)
	ts.injectCommitFault(nil)
	wantError(t, res, http.StatusServiceUnavailable, "STORE_UNAVAILABLE")
	if l := metricLine(t, ts, "profiled_schema_last_reload_successful "); l != "profiled_schema_last_reload_successful 1" {
		t.Errorf("after a reload of a good file cut by a store fault: %q, want 1 (the file is fine; retry)", l)
	}
}

// TestReload_UniqueKeyOverDuplicatesIsARefusedFile: a reload that makes a
// key unique over values two customers share is refused (409 kind: the
// stored data), and the next start refuses the same file ("At a start that
// stops the start", config.md), so profiled_schema_last_reload_successful
// must be 0, as deploy.md promises for every refused reload of a file the
// next start would refuse.
func TestReload_UniqueKeyOverDuplicatesIsARefusedFile(t *testing.T) {
	t.Parallel()
	cfgPath := configWith(t)
	good := string(mustRead(t, cfgPath))
	ts := mustStartWith(t, cfgPath, t.TempDir()+"/profiles.db")
	for _, id := range []string{"A1", "A2"} {
		if res := ts.do("POST", "/profiles", `{"customer_id":"`+id+`","LastName":"Lee","FirstName":"Ann"}`); res.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, res.Status, res.Body)
		}
	}
	unique := strings.Replace(good, "attributes: [LastName, FirstName]}", "attributes: [LastName, FirstName], unique: true}", 1)
	if unique == good {
		t.Fatal("config.yaml has no name key to make unique")
	}
	if err := os.WriteFile(cfgPath, []byte(unique), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ts.App.Reload(context.Background()); err == nil {
		t.Fatal("a reload making a key unique over duplicates was not refused")
	}
	if l := metricLine(t, ts, "profiled_schema_last_reload_successful "); l != "profiled_schema_last_reload_successful 0" {
		t.Errorf("after a reload refused for a unique key over duplicates (the next start refuses it too): %q, want 0", l)
	}
}
