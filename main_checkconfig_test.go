package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/pgtest"
)

// writeFile writes text to name in dir and returns the path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckConfig_ProblemForms: every problem is file:line: message on a
// line of its own — YAML syntax (with the text of the line yaml names),
// bad indentation, an unknown key at its own line, an eGain mapping
// problem at the mapping key — and one settings problem (an unknown key
// too) does not hide the schema's problems in the same file.
func TestCheckConfig_ProblemForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := string(mustReadFile(t, "config.yaml"))
	data := filepath.Join(dir, "p.db")
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"Syntax", "server:\n  addr: [\n", []string{"bad.yaml:2: ", "    2 |   addr: ["}},
		{"Indent", "server:\n  addr: \":8080\"\n max_body_bytes: 5\n", []string{"bad.yaml:2: ", "    3 |  max_body_bytes: 5"}},
		{"UnknownKey", strings.Replace(base, "  max_header_bytes: 65536", "  max_header_bytes: 65536\n  max_heder_bytes: 1", 1),
			[]string{`bad.yaml:` + lineOf(base, "  max_header_bytes: 65536", 1) + `: "max_heder_bytes": unknown key in server`}},
		{"Mapping", strings.Replace(base, "    first_name: FirstName", "    first_name: FirstNam", 1),
			[]string{`bad.yaml:` + lineOf(base, "    first_name: FirstName", 0) + `: egain.mapping.first_name: "FirstNam" is not a core attribute`}},
		// A mandatory attribute the facade never writes: every eGain create
		// would be refused.
		{"MandatoryUnmapped", strings.Replace(base, "    - {name: Title,        type: string, length: 64}", "    - {name: Title,        type: string, length: 64, mandatory: true}", 1),
			[]string{`bad.yaml:` + lineOf(base, "  mapping:", 0) + `: egain.mapping: "Title" is mandatory without a default, and the eGain facade never writes it`}},
		// The legacy document is read, never written: mandatory without a
		// default, it refuses every eGain create too.
		{"MandatoryLegacyDocument", strings.Replace(base, "{name: document,                 type: string, length: 524288}", "{name: document,                 type: string, length: 524288, mandatory: true}", 1),
			[]string{`bad.yaml:` + lineOf(base, "    customer: EgainCustomer", 0) + `: egain.mapping.customer: "document" is mandatory without a default, and the eGain facade never writes it`}},
		{"AddrWithoutPort", strings.Replace(base, `  addr: ":8080"`, `  addr: "localhost"`, 1),
			[]string{`bad.yaml:` + lineOf(base, `  addr: ":8080"`, 0) + `: server.addr (-addr, PROFILED_ADDR) must be host:port or :port, not "localhost"`}},
		{"NegativeTimeout", strings.Replace(base, "  read_timeout: 30s", "  read_timeout: -1s", 1),
			[]string{`bad.yaml:` + lineOf(base, "  read_timeout: 30s", 0) + `: server.read_timeout must not be negative`}},
		// A store URL that names no database does not hide the other problems.
		{"StoreURLAndMore", strings.Replace(strings.Replace(base, "  path: data/profiles.db", "  url: mysql://x@y/z\n  path: data/profiles.db", 1),
			"  level: info ", "  level: verbose ", 1),
			[]string{`bad.yaml:` + lineOf(base, "  path: data/profiles.db", 0) + `: store.url (-store, PROFILED_STORE) must be a postgres://`,
				`bad.yaml:` + lineOf(base, "  level: info ", 1) + `: log.level must be`}},
		{"SettingsAndSchema", strings.Replace(strings.Replace(base, "  max_body_bytes: 1048576", "  max_body_bytes: -1", 1),
			"    - {name: Title,        type: string, length: 64}", "    - {name: Title,        type: strng, length: 64}", 1),
			[]string{"bad.yaml:" + lineOf(base, "  max_body_bytes: 1048576", 0) + ": server.max_body_bytes must be positive",
				"bad.yaml:" + lineOf(base, "    - {name: Title,", 0) + `: "Title": unknown type "strng"`}},
		{"UnknownKeyAndSchema", strings.Replace(strings.Replace(base, "  max_header_bytes: 65536", "  max_header_bytes: 65536\n  max_heder_bytes: 1", 1),
			"    - {name: Title,        type: string, length: 64}", "    - {name: Title,        type: strng, length: 64}", 1),
			[]string{`bad.yaml:` + lineOf(base, "  max_header_bytes: 65536", 1) + `: "max_heder_bytes": unknown key in server`,
				"bad.yaml:" + lineOf(base, "    - {name: Title,", 1) + `: "Title": unknown type "strng"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, t.TempDir(), "bad.yaml", tc.text)
			code, out, errOut := runCLI(t, "check-config", "-config", cfg, "-data", data)
			all := out + errOut
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s", code, all)
			}
			for _, want := range tc.want {
				if strings.HasPrefix(want, "bad.yaml") {
					want = filepath.Join(filepath.Dir(cfg), want)
				}
				if !strings.Contains(all, want) {
					t.Errorf("output lacks %q:\n%s", want, all)
				}
			}
		})
	}
}

func mustReadFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// lineOf is the 1-based line of the line starting with prefix in text,
// plus add.
func lineOf(text, prefix string, add int) string {
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strconv.Itoa(i + 1 + add)
		}
	}
	return "?"
}

// TestCheckConfig_AsksTheRunningServer: while a server holds the data
// file, check-config has that server check the candidate against the
// schema the metadata API stored there: a conflict with it is exit 1
// naming it; with no server to ask it cannot check, says NOT CHECKED and
// exits 1 (the run contract has check-config exit 0 or 1), never 0.
func TestCheckConfig_AsksTheRunningServer(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, data) // holds the file's lock
	defer srv.Close()
	defer app.Close()
	if res, body := send(t, srv.URL, "POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("create extension: %d %s", res.StatusCode, body)
	}
	// The file is locked by the server: give up on it quickly.
	base := strings.Replace(string(mustReadFile(t, "config.yaml")), "open_timeout: 2s", "open_timeout: 100ms", 1)
	conflicting := writeFile(t, t.TempDir(), "config.yaml", strings.Replace(base,
		"    - {name: Title,        type: string, length: 64}", "    - {name: Title,        type: string, length: 64}\n    - {name: Loyalty,      type: string}", 1))
	addr := strings.TrimPrefix(srv.URL, "http://")
	start := time.Now()
	code, out, errOut := runCLI(t, "check-config", "-config", conflicting, "-data", data, "-addr", addr)
	if code != 1 || !strings.Contains(out, "checked by the running server") || !strings.Contains(out+errOut, `"Loyalty"`) {
		t.Errorf("a conflict with the stored schema: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("check through the server took %s", time.Since(start).Round(time.Millisecond))
	fine := writeFile(t, t.TempDir(), "config.yaml", base)
	if code, out, errOut := runCLI(t, "check-config", "-config", fine, "-data", data, "-addr", addr); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("the shipped config: exit %d\n%s%s", code, out, errOut)
	}
	// The server refuses what a start with the file would: an address
	// without a port (here -addr only says where to ask).
	noPort := writeFile(t, t.TempDir(), "config.yaml", strings.Replace(base, `  addr: ":8080"`, `  addr: "127.0.0.1"`, 1))
	if code, out, errOut := runCLI(t, "check-config", "-config", noPort, "-data", data, "-addr", addr); code != 1 || !strings.Contains(out, "server.addr") {
		t.Errorf("an address without a port, checked by the server: exit %d\n%s%s", code, out, errOut)
	}
	nobody := httptest.NewServer(http.NotFoundHandler())
	nobody.Close() // an address where no server answers
	if code, _, errOut := runCLI(t, "check-config", "-config", fine, "-data", data, "-addr", strings.TrimPrefix(nobody.URL, "http://")); code != 1 || !strings.Contains(errOut, "NOT CHECKED") {
		t.Errorf("no server to ask: exit %d, %q; want 1 and NOT CHECKED", code, errOut)
	}
}

// TestCheckConfig_UniqueKeyOverDuplicates: a config that makes a key
// unique over values two stored customers hold would fail the start or
// the reload; check-config says so on every path (the file, the running
// server, PostgreSQL) instead of OK, and changes nothing.
func TestCheckConfig_UniqueKeyOverDuplicates(t *testing.T) {
	t.Parallel()
	base := strings.Replace(string(mustReadFile(t, "config.yaml")), "open_timeout: 2s", "open_timeout: 100ms", 1)
	const key = "    - {name: name,         attributes: [LastName, FirstName]}"
	if !strings.Contains(base, key) {
		t.Fatal("config.yaml has no name key to make unique")
	}
	uniqueText := strings.Replace(base, key, "    - {name: name,         attributes: [LastName, FirstName], unique: true}", 1)
	unique := writeFile(t, t.TempDir(), "config.yaml", uniqueText)
	// Said as the schema's own problems are: at the key's line.
	at := fmt.Sprintf("%s:%d: \"name\": ", unique, strings.Count(uniqueText[:strings.Index(uniqueText, "unique: true}")], "\n")+1)
	fine := writeFile(t, t.TempDir(), "config.yaml", base)
	twins := func(t *testing.T, url string) {
		for _, email := range []string{"a@twin.dom", "b@twin.dom"} {
			if res, body := send(t, url, "POST", "/profiles", `{"FirstName":"Twin","LastName":"Same","EmailAddress":["`+email+`"]}`); res.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", res.StatusCode, body)
			}
		}
	}
	refused := func(t *testing.T, what string, args ...string) {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"check-config", "-config", unique}, args...)...)
		if code != 1 || !strings.Contains(out, at) || !strings.Contains(out, "cannot be indexed") {
			t.Errorf("%s: a unique key over duplicates: exit %d\n%s%s", what, code, out, errOut)
		}
		if code, out, errOut := runCLI(t, append([]string{"check-config", "-config", fine}, args...)...); code != 0 || !strings.Contains(out, "OK") {
			t.Errorf("%s: the shipped config: exit %d\n%s%s", what, code, out, errOut)
		}
	}

	data := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, data)
	twins(t, srv.URL)
	refused(t, "through the running server", "-data", data, "-addr", strings.TrimPrefix(srv.URL, "http://"))
	srv.Close()
	app.Close()
	// Checks only read the file: not a byte changes, refused or not.
	before := mustReadFile(t, data)
	refused(t, "the stopped file", "-data", data)
	if code, out, errOut := runCLI(t, "check-config", "-config", fine, "-data", data); code != 0 || !bytes.Equal(mustReadFile(t, data), before) {
		t.Errorf("check-config: exit %d, file changed: %v\n%s%s", code, !bytes.Equal(mustReadFile(t, data), before), out, errOut)
	}
	app, srv = serveOn(t, data) // the file was left as it was: the start builds nothing
	if res, body := send(t, srv.URL, "GET", "/profiles?LastName=Same&FirstName=Twin", ""); res.StatusCode != http.StatusOK || strings.Count(body, "customer_id") != 2 {
		t.Errorf("after the checks: %d %s, want both twins", res.StatusCode, body)
	}
	srv.Close()
	app.Close()

	pgURL := pgtest.URL(t)
	app, srv = serveOn(t, pgURL)
	twins(t, srv.URL)
	srv.Close()
	app.Close()
	refused(t, "PostgreSQL", "-store", pgURL)
}

// TestCheckConfig_AsksTheServerWithoutAProxy: check-config asks the local
// server directly, as healthcheck does, never through an HTTP_PROXY of the
// environment: server.addr 0.0.0.0:PORT (a common container setting) is no
// loopback address to net/http's proxy rules, and the request carries the
// admin token and the candidate config to the proxy.
func TestCheckConfig_AsksTheServerWithoutAProxy(t *testing.T) {
	if os.Getenv("PROFILED_TEST_PROXY_CHILD") == "1" {
		// The environment's proxy is read once per process: a child of
		// its own sees the HTTP_PROXY set for it.
		cfg, err := config.Load("config.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.Addr, cfg.Admin.Token = "0.0.0.0:9", "admin-s3cret"
		_, _, _ = checkOnServer(cfg, []byte("server: {}\n"))
		return
	}
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "proxy", http.StatusBadGateway)
	}))
	defer proxy.Close()
	child := exec.Command(os.Args[0], "-test.run=^TestCheckConfig_AsksTheServerWithoutAProxy$")
	child.Env = append(os.Environ(), "PROFILED_TEST_PROXY_CHILD=1", "PROFILED_TEST_STORE=bolt", "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		t.Errorf("check-config's request went through the environment's proxy: %s", s)
	}
}

// TestCheckConfig_SaysWhatTheStartBuilds: over a store indexed for other
// keys, check-config says which indexes a start (or reload) with the file
// builds, over how many profiles, and how long working out their entries
// took (docs/scale-out.md tells operators to run it to see how long the
// start will take); over a store indexed for the file's keys it says
// nothing of it.
func TestCheckConfig_SaysWhatTheStartBuilds(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, data)
	for _, body := range []string{`{"FirstName":"A","Title":"Dr"}`, `{"FirstName":"B","Title":"Mr"}`} {
		if res, out := send(t, srv.URL, "POST", "/profiles", body); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, out)
		}
	}
	srv.Close()
	app.Close()
	base := string(mustReadFile(t, "config.yaml"))
	keyed := writeFile(t, t.TempDir(), "config.yaml", strings.Replace(base, "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n", 1))
	code, out, errOut := runCLI(t, "check-config", "-config", keyed, "-data", data)
	if code != 0 || !strings.Contains(out, "builds the indexes of keys title over 2 profiles") {
		t.Errorf("a config with a new key: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "check-config", "-config", "config.yaml", "-data", data); code != 0 || strings.Contains(out, "builds the indexes") {
		t.Errorf("the config the store is indexed for: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckConfig_SaysWhatTheReloadBuildsOnTheRunningServer: the path
// docs/deploy.md prescribes (check-config in the container while the
// server holds the file) must say which indexes the reload or the next
// start builds, as the path over a stopped file does.
func TestCheckConfig_SaysWhatTheReloadBuildsOnTheRunningServer(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, data)
	defer srv.Close()
	defer app.Close()
	for _, body := range []string{`{"FirstName":"A","Title":"Dr"}`, `{"FirstName":"B","Title":"Mr"}`} {
		if res, out := send(t, srv.URL, "POST", "/profiles", body); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, out)
		}
	}
	base := strings.Replace(string(mustReadFile(t, "config.yaml")), "open_timeout: 2s", "open_timeout: 100ms", 1)
	keyed := writeFile(t, t.TempDir(), "config.yaml", strings.Replace(base, "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n", 1))
	code, out, errOut := runCLI(t, "check-config", "-config", keyed, "-data", data, "-addr", strings.TrimPrefix(srv.URL, "http://"))
	if code != 0 || !strings.Contains(out, "checked by the running server") || !strings.Contains(out, "builds the indexes of keys title") {
		t.Errorf("a config with a new key, checked by the running server: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckConfig_UnknownKeyInTheSchemaSection: unknown keys are errors
// "so a typo is never silently ignored" (docs/config.md), and that holds
// inside schema: as well. A misspelt identification_keys left the server
// without any identification key (identify finds nobody) while
// check-config said OK; a misspelt profile or a key beside file: was
// reported only through what it broke elsewhere, never by its name.
func TestCheckConfig_UnknownKeyInTheSchemaSection(t *testing.T) {
	t.Parallel()
	base := string(mustReadFile(t, "config.yaml"))
	noEGain := strings.Replace(base, "  # disabled: false", "  disabled: true", 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "schema.yaml"), []byte("profile:\n  - {name: FirstName, type: string}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, text, key string }{
		{"keys.yaml", strings.Replace(noEGain, "  identification_keys:\n", "  identification_key:\n", 1), "identification_key"},
		{"profile.yaml", strings.Replace(noEGain, "  profile:\n", "  profil:\n", 1), "profil"},
		{"file.yaml", noEGain[:strings.Index(noEGain, "schema:\n")] + "schema: {file: schema.yaml, extensionz: []}\n" + noEGain[strings.Index(noEGain, "\n# The eGain"):], "extensionz"},
	} {
		path := writeFile(t, dir, c.name, c.text)
		code, out, errOut := runCLI(t, "check-config", "-config", path, "-data", filepath.Join(dir, "none.db"))
		if code != 1 || !strings.Contains(out+errOut, `"`+c.key+`"`) {
			t.Errorf("%s, with %q in schema: exit %d, want 1 naming it:\n%s%s", c.name, c.key, code, out, errOut)
		}
	}
}

// TestCheckConfig_UnknownKeyInUnauthorizedStrings: a misspelt check_values
// (the switch that makes Context Services refuse keyword values) is an
// unknown key like any other, not a silent "off".
func TestCheckConfig_UnknownKeyInUnauthorizedStrings(t *testing.T) {
	t.Parallel()
	base := string(mustReadFile(t, "config.yaml"))
	const commented = "  # unauthorized_strings: [select, delete]\n"
	if !strings.Contains(base, commented) {
		t.Fatal("config.yaml no longer has the commented unauthorized_strings line")
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "config.yaml", strings.Replace(base, commented, "  unauthorized_strings: {words: [select], chek_values: true}\n", 1))
	code, out, errOut := runCLI(t, "check-config", "-config", path, "-data", filepath.Join(dir, "none.db"))
	if code != 1 || !strings.Contains(out+errOut, `"chek_values"`) {
		t.Errorf("exit %d, want 1 naming chek_values:\n%s%s", code, out, errOut)
	}
}

// TestCheckConfig_NotCheckedStillListsTheFilesOwnProblems: when neither
// the data file (a server holds it) nor a server (none at -addr, or one
// that refuses the file's admin token, as after a token rotation pending
// a restart) can be asked, check-config says NOT CHECKED; a problem the
// file has on its own (an unknown type) is still printed at its line, so
// the operator fixes it instead of chasing the server first.
func TestCheckConfig_NotCheckedStillListsTheFilesOwnProblems(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, data) // holds the file's lock
	defer srv.Close()
	defer app.Close()
	base := strings.Replace(string(mustReadFile(t, "config.yaml")), "open_timeout: 2s", "open_timeout: 100ms", 1)
	const dob = "    - {name: DOB,          type: date}"
	text := strings.Replace(base, dob, "    - {name: DOB,          type: dat}", 1)
	bad := writeFile(t, t.TempDir(), "config.yaml", text)
	nobody := httptest.NewServer(http.NotFoundHandler())
	nobody.Close() // an address where no server answers
	code, out, errOut := runCLI(t, "check-config", "-config", bad, "-data", data, "-addr", strings.TrimPrefix(nobody.URL, "http://"))
	want := bad + ":" + lineOf(text, "    - {name: DOB,", 0) + `: "DOB": unknown type "dat"`
	if code != 1 || !strings.Contains(out+errOut, want) {
		t.Errorf("exit %d, want 1 and %q:\n%s%s", code, want, out, errOut)
	}
}

// TestCheckConfig_OverlayClashNamesTheConfigLine: an extension the
// metadata API created, added to the config file as well (moving it into
// the file is the natural next step), is a problem at the line of the
// file that defines it: check-config prints every problem as
// file:line: "name": message, and the line is known here.
func TestCheckConfig_OverlayClashNamesTheConfigLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	loyaltyThroughAPI(t, data)
	base, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "  extensions:\n"
	const added = "    - {name: Loyalty, type: single-valued, attributes: [{name: tier, type: string}]}\n"
	edited := strings.Replace(string(base), anchor, anchor+added, 1)
	clash := writeFile(t, dir, "config.yaml", edited)
	code, out, errOut := runCLI(t, "check-config", "-config", clash, "-data", data)
	want := clash + ":" + lineOf(edited, strings.TrimSuffix(added, "\n"), 0) + `: "Loyalty"`
	if code != 1 || !strings.Contains(out+errOut, want) {
		t.Errorf("exit %d, want 1 and a problem starting %q:\n%s%s", code, want, out, errOut)
	}
}

// loyaltyThroughAPI creates the extension Loyalty through the metadata API
// of a server on store (a data file or a database URL), then stops it.
func loyaltyThroughAPI(t *testing.T, store string) {
	t.Helper()
	app, srv := serveOn(t, store)
	res, _ := send(t, srv.URL, "POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`)
	srv.Close()
	app.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("create extension: %d", res.StatusCode)
	}
}
