package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/store"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestCLI_Help: --help, -h and help print the command list and exit 0;
// help COMMAND and COMMAND -h list only that command's flags.
func TestCLI_Help(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("%v: the page lacks %s:\n%s", args, c.name, out)
			}
		}
	}
	for _, args := range [][]string{{"help", "backup"}, {"backup", "-h"}, {"backup", "--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: profiled backup") || !strings.Contains(out, "-out") || strings.Contains(out, "-batch") || strings.Contains(out, "-from") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, out, _ := runCLI(t, "hash-password", "-h"); code != 0 || !strings.Contains(out, "bcrypt") {
		t.Errorf("hash-password -h: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "nosuch"); code != 2 || !strings.Contains(errOut, `unknown command "nosuch"`) || !strings.Contains(errOut, "check-config") {
		t.Errorf("unknown command: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "import", "-bogus"); code != 2 || !strings.Contains(errOut, "-bogus") {
		t.Errorf("unknown flag: exit %d\n%s", code, errOut)
	}
}

// TestCLI_Version: version and --version name the Go version.
func TestCLI_Version(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "profiled ") || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, "commit") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// TestCLI_Refusals: extra arguments, a backup of a file that does not
// exist and a busy port fail, and none of them creates a data file.
func TestCLI_Refusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	if code, _, errOut := runCLI(t, "serve", "-data", data, "extra-arg"); code != 2 || !strings.Contains(errOut, `unexpected argument "extra-arg"`) {
		t.Errorf("serve extra-arg: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "backup", "-data", data, "-out", filepath.Join(dir, "b.db")); code != 1 || !strings.Contains(errOut, "no such data file") {
		t.Errorf("backup of a missing file: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "backup", "-data", data); code != 2 || !strings.Contains(errOut, "backup needs -out FILE") {
		t.Errorf("backup without -out, a usage error: exit %d, %q", code, errOut)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// Why it stops, for log collectors as a JSON line too.
	if code, _, errOut := runCLI(t, "serve", "-data", data, "-addr", busy.Addr().String()); code != 1 || !strings.Contains(errOut, "listen on") ||
		!regexp.MustCompile(`\{"level":"error",[^\n]*"error":"listen on [^\n]*"message":"profiled cannot serve; exiting"\}`).MatchString(errOut) {
		t.Errorf("serve on a busy port: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "check", "-data", t.TempDir()); code != 1 || !strings.Contains(errOut, "is a directory") || !strings.Contains(errOut, "profiles.db") {
		t.Errorf("-data naming a directory: exit %d, %q", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files created: %v", entries)
	}
	// One file named two ways is the same store, not one in use by another
	// process.
	src := filepath.Join(t.TempDir(), "a.db")
	if err := os.WriteFile(src, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Dir(src) + "/./a.db" // not cleaned
	if code, _, errOut := runCLI(t, "copy-store", "-from", src, "-to", other); code != 1 || !strings.Contains(errOut, "name the same store") {
		t.Errorf("copy-store of one file to itself, spelled otherwise: exit %d, %q", code, errOut)
	}
}

// TestCLI_BackupNeverReplacesAFile: -data and -out swapped during a
// restore must not replace the live data file.
func TestCLI_BackupNeverReplacesAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	stored := filepath.Join(dir, "stored.db")
	db, err := store.Open(stored, store.Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.WriteFile(data, []byte("live"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "backup", "-data", stored, "-out", data); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("backup over an existing file: exit %d, %q", code, errOut)
	}
	if got, _ := os.ReadFile(data); string(got) != "live" {
		t.Errorf("backup replaced the existing file")
	}
}

// TestCLI_HealthcheckIgnoresABrokenConfigGivenAnAddress: the image's health
// check names the address (PROFILED_ADDR); a config file being edited, or
// one whose reload was refused, must not fail it while the server serves.
func TestCLI_HealthcheckIgnoresABrokenConfigGivenAnAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.Write([]byte(`{"status":"ready"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	broken := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(broken, []byte("server: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	if code, _, errOut := runCLI(t, "healthcheck", "-config", broken, "-addr", addr); code != 0 {
		t.Errorf("healthcheck -addr with a broken config: exit %d\n%s", code, errOut)
	}
	t.Setenv("PROFILED_ADDR", addr)
	if code, _, errOut := runCLI(t, "healthcheck", "-config", broken); code != 0 {
		t.Errorf("healthcheck with PROFILED_ADDR and a broken config: exit %d\n%s", code, errOut)
	}
	t.Setenv("PROFILED_ADDR", "")
	if code, _, _ := runCLI(t, "healthcheck", "-config", broken); code != 1 {
		t.Errorf("healthcheck without an address and a broken config: exit %d, want 1", code)
	}
}

// TestCLI_BackupOfAServedFile points to the running server's backup.
func TestCLI_BackupOfAServedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	_, _ = serveOn(t, data)
	if code, _, errOut := runCLI(t, "backup", "-data", data, "-out", filepath.Join(dir, "b.db")); code != 1 || !strings.Contains(errOut, "GET /admin/backup") {
		t.Errorf("backup of a file a server holds: exit %d, %q", code, errOut)
	}
}

// TestCLI_MissingConfigSaysHowToNameOne: a config file that is not there
// (a first run outside the repository, where the default config.yaml is
// not) is named together with the way to give another, as a data file
// that is not there is (-data or store.path names it).
func TestCLI_MissingConfigSaysHowToNameOne(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "config.yaml")
	for _, args := range [][]string{
		{"serve", "-config", missing, "-addr", "127.0.0.1:0"},
		{"check-config", "-config", missing},
		{"check", "-config", missing, "-data", filepath.Join(t.TempDir(), "p.db")},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 1 || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "-config") || !strings.Contains(errOut, "PROFILED_CONFIG") {
			t.Errorf("%v: exit %d, want 1 and a message naming the file, -config and PROFILED_CONFIG:\n%s", args, code, errOut)
		}
	}
}
