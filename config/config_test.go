package config_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad_DefaultConfigFile(t *testing.T) {
	cfg, err := config.Load("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != ":8080" || cfg.Store.Path != "data/profiles.db" || cfg.EGain.Departmentalization {
		t.Errorf("defaults: %+v", cfg)
	}
	if len(cfg.EGain.Users) != 1 || cfg.EGain.Users[0].Name != "demo" || cfg.EGain.Users[0].PasswordHash != config.DemoPasswordHash {
		t.Errorf("demo user: %+v", cfg.EGain.Users)
	}
	if _, problems := cfg.SchemaDocument(); len(problems) > 0 {
		t.Errorf("schema: %v", problems)
	}
	// reads: false is a YAML boolean; it reads as the string the switch knows.
	if cfg.Audit != (config.Audit{RetentionDays: 400, SweepEvery: time.Hour, Reads: config.AuditReadsOff}) || cfg.Admin.PrivacyRole != "" {
		t.Errorf("audit: %+v, privacy role %q", cfg.Audit, cfg.Admin.PrivacyRole)
	}
	for _, reads := range []string{"true", "every", "false"} {
		c, err := config.Load(write(t, "c.yaml", "audit:\n  reads: "+reads+"\n"))
		if err != nil || c.Audit.Reads != reads {
			t.Errorf("reads: %s -> %q, %v", reads, c.Audit.Reads, err)
		}
	}
}

func TestLoad_EmptyFileIsAllDefaults(t *testing.T) {
	cfg, err := config.Load(write(t, "c.yaml", ""))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.ShutdownTimeout != 20*time.Second || cfg.Server.MaxBodyBytes != 1<<20 {
		t.Errorf("got %+v", cfg.Server)
	}
	if _, problems := cfg.SchemaDocument(); len(problems) != 1 || !strings.Contains(problems[0].Message, "no schema section") {
		t.Errorf("problems = %v", problems)
	}
}

func TestLoad_Errors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"UnknownKey", "server:\n  adress: :80\n", `"adress": unknown key in server`},
		{"BadDuration", "server:\n  read_timeout: soon\n", `c.yaml:2: "read_timeout": "soon" is not a duration such as 30s, 5m or 1h`},
		{"BadInteger", "store:\n  max_conns: lots # per replica\n", `c.yaml:2: "max_conns": "lots" is not a whole number`},
		{"BadBoolean", "egain:\n  disabled: perhaps\n", `c.yaml:2: "disabled": "perhaps" is not true or false`},
		{"BadIntegerInFlowMapping", "store: {max_conns: lots}\n", `c.yaml:1: "max_conns": "lots" is not a whole number`},
		{"BadDurationInFlowMapping", "egain:\n  login_throttle: {max_failures: 5, window: soon}\n", `c.yaml:2: "window": "soon" is not a duration`},
		// The value is named by its own key, not by a later one whose
		// value starts with the same text.
		{"BadIntegerBeforeALongerValue", "server: {max_body_bytes: lots, read_timeout: lotsmore}\n", `c.yaml:1: "max_body_bytes": "lots" is not a whole number`},
		{"NonPositiveLimit", "server:\n  max_body_bytes: 0\n", "max_body_bytes must be positive"},
		{"NegativeTimeout", "server:\n  shutdown_timeout: -1s\n", "server.shutdown_timeout must be positive"},
		{"UnknownLogLevel", "log:\n  level: verbose\n", `log.level must be debug, info, warn or error (or trace, disabled), not "verbose"`},
		{"UserWithoutBcrypt", "egain:\n  users: [{name: a, password_hash: secret}]\n", "must be a bcrypt hash"},
		{"UserWithMalformedBcrypt", "egain:\n  users: [{name: a, password_hash: \"$2a$10$bogus\"}]\n", "must be a bcrypt hash"},
		{"UserIDNotANumber", "egain:\n  users: [{id: abc, name: a, password_hash: \"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG\"}]\n", `id "abc" must be a number`},
		{"UserIDTwice", "egain:\n  users: [{id: \"7\", name: a, password_hash: \"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG\"}, {id: \"7\", name: b, password_hash: \"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG\"}]\n", "id 7 is given twice"},
		{"UnknownPermission", "egain:\n  users: [{name: a, password_hash: \"$2a$10$x\", permissions: [fly]}]\n", `unknown permission "fly"`},
		{"AuthWithoutCredentials", "genesys:\n  auth: {enabled: true}\n", "no api_keys or users"},
		{"ThrottleWithoutWindow", "egain:\n  login_throttle: {max_failures: 5, window: 0s}\n", "egain.login_throttle: max_failures must be 0 (off) or positive with a positive window"},
		{"AddressBoundBelowUsers", "genesys:\n  auth:\n    throttle: {max_failures: 5, max_failures_per_address: 2, window: 1m}\n", "genesys.auth.throttle: max_failures_per_address must be 0 (10 times max_failures) or at least max_failures"},
		{"AuthBadKeyHash", "genesys:\n  auth: {api_keys: [{name: k, key_sha256: abc, role: agent}]}\n", "64 hex digits"},
		{"TrustedProxyNotAnAddress", "server:\n  trusted_proxies: [10.0.0.0/8, lb.example.com]\n", `server.trusted_proxies: "lb.example.com" must be an IP address or a CIDR range`},
		{"StoreURLNotPostgres", "store:\n  url: mysql://u:secret@db/x\n", "must be a postgres:// or postgresql:// URL"},
		{"NonPositivePool", "store:\n  max_conns: 0\n", "store.max_conns"},
		{"AuthBadRole", "genesys:\n  auth: {users: [{name: u, password_hash: \"$2a$10$x\", role: boss}]}\n", `role "boss"`},
		{"AuditReadsUnknown", "audit:\n  reads: sometimes\n", `c.yaml:2: audit.reads must be false, true or every, not "sometimes"`},
		{"AuditRetentionZero", "audit:\n  retention_days: 0\n", "c.yaml:2: audit.retention_days must be positive"},
		{"AuditRetentionPastDuration", "audit:\n  retention_days: 1000000\n", "c.yaml:2: audit.retention_days must be at most 36500"},
		// The run contract: check-config names the offending setting at its line,
		// not a sibling that holds a valid value.
		{"StatementTimeoutZero", "store:\n  max_conns: 16\n  statement_timeout: 0s\n", "c.yaml:3: store.statement_timeout must be positive"},
		{"SweepEveryZero", "audit:\n  retention_days: 400\n  sweep_every: 0s\n", "c.yaml:3: audit.sweep_every must be positive"},
		{"PrivacyRoleUnknown", "admin:\n  privacy_role: dpo\n", `c.yaml:2: admin.privacy_role must be empty, administrator, supervisor or agent, not "dpo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(write(t, "c.yaml", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	cfg := config.Default()
	env := map[string]string{"PROFILED_ADDR": "127.0.0.1:9", "PROFILED_DATA": "/tmp/x.db", "PROFILED_ADMIN_TOKEN": "t",
		"PROFILED_STORE": "postgresql://db/profiled"}
	cfg.ApplyEnv(func(k string) string { return env[k] })
	if cfg.Server.Addr != "127.0.0.1:9" || cfg.Store.Path != "/tmp/x.db" || cfg.Admin.Token != "t" || !cfg.Store.IsPostgres() {
		t.Errorf("got %+v %+v %+v %+v", cfg.Server.Addr, cfg.Store.Path, cfg.Admin.Token, cfg.Store.URL)
	}
}

func TestSchemaDocument_SeparateFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "schema.yaml"), []byte("profile:\n  - {name: A, type: string}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("schema: {file: schema.yaml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, problems := cfg.SchemaDocument()
	if len(problems) > 0 || len(doc.Profile) != 1 || doc.File != filepath.Join(dir, "schema.yaml") {
		t.Fatalf("doc = %+v, problems = %v", doc, problems)
	}
	if doc.Profile[0].Line != 2 {
		t.Errorf("line = %d, want 2 (lines are those of the schema file)", doc.Profile[0].Line)
	}
}

// TestLoad_LogLevelIgnoresCase: the levels zerolog names, in any case, as
// configs written before the check used them.
func TestLoad_LogLevelIgnoresCase(t *testing.T) {
	for _, level := range []string{"INFO", "Warn", "debug", "trace", "disabled"} {
		if _, err := config.Load(write(t, "c.yaml", "log:\n  level: "+level+"\n")); err != nil {
			t.Errorf("log.level %s: %v", level, err)
		}
	}
	// zerolog's fatal, panic and numbers would silence refusals' logs.
	for _, level := range []string{"fatal", "panic", "6", "99"} {
		if _, err := config.Load(write(t, "c.yaml", "log:\n  level: "+level+"\n")); err == nil {
			t.Errorf("log.level %s accepted", level)
		}
	}
}

// TestRedactURL: a password is hidden wherever a store URL may carry one
// (the user part, and the password= and sslpassword= parameters pgx reads),
// and everything else is kept.
func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://u:secret@h/db":                                 "postgres://u:xxxxx@h/db",
		"postgres://u@h/db?sslmode=disable&password=secret":        "postgres://u@h/db?password=xxxxx&sslmode=disable",
		"postgresql://h/db?sslpassword=secret&search_path=staging": "postgresql://h/db?search_path=staging&sslpassword=xxxxx",
		"postgres://u@h/db?sslmode=disable":                        "postgres://u@h/db?sslmode=disable",
		"postgres://u:a@h/db?password=b":                           "postgres://u:xxxxx@h/db?password=xxxxx",
	} {
		if got := config.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestLoad_StatementTimeoutPostgreSQLCanHold: PostgreSQL takes
// statement_timeout in whole milliseconds up to 2^31-1 (24.8 days). Under a
// millisecond became 0, PostgreSQL's "no timeout" (the bound silently off);
// 720h passed check-config and then every connection failed at start
// (FATAL: invalid value for parameter "statement_timeout": "2592000000").
func TestLoad_StatementTimeoutPostgreSQLCanHold(t *testing.T) {
	for _, v := range []string{"500us", "1ns", "720h", "2562047h"} {
		t.Run(v, func(t *testing.T) {
			_, err := config.Load(write(t, "c.yaml", "store:\n  statement_timeout: "+v+"\n"))
			if err == nil || !strings.Contains(err.Error(), "c.yaml:2: store.statement_timeout") {
				t.Fatalf("statement_timeout %s: err = %v, want a problem at c.yaml:2 naming store.statement_timeout", v, err)
			}
		})
	}
	for _, v := range []string{"1ms", "5s", "596h"} {
		if _, err := config.Load(write(t, "c.yaml", "store:\n  statement_timeout: "+v+"\n")); err != nil {
			t.Errorf("statement_timeout %s: %v", v, err)
		}
	}
}

// TestLoad_MaxHeaderBytesBounded: net/http reads up to 4 times
// max_header_bytes plus 4096 bytes; past about 2^61 that sum overflows and
// every request, however small, was answered 431 in plain text (with
// check-config OK), and a value like 1e18 let one connection's headers take
// any amount of memory.
func TestLoad_MaxHeaderBytesBounded(t *testing.T) {
	for _, v := range []string{"2305843009213693951", "9223372036854775807", "1e18"} {
		_, err := config.Load(write(t, "c.yaml", "server:\n  max_header_bytes: "+v+"\n"))
		if err == nil || !strings.Contains(err.Error(), "c.yaml:2: server.max_header_bytes") {
			t.Errorf("max_header_bytes %s: err = %v, want a problem at c.yaml:2 naming server.max_header_bytes", v, err)
		}
	}
	for _, v := range []string{"0", "-1", "65536", "1048576"} {
		if _, err := config.Load(write(t, "c.yaml", "server:\n  max_header_bytes: "+v+"\n")); err != nil {
			t.Errorf("max_header_bytes %s: %v", v, err)
		}
	}
}

// TestLoad_DurationsTooShortToMeanAnything: a unit typed one letter too
// long (30ms for 30m, 1ms for 1m) passed check-config and then every eGain
// session expired before its next call (401-101 right after the login), or
// the audit sweep ran back to back (sweep_every: 1ns kept a core busy on an
// idle server; on PostgreSQL every replica sends DELETEs without pause),
// as would the schema poll against the database.
func TestLoad_DurationsTooShortToMeanAnything(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"egain:\n  session_idle_timeout: 30ms\n", "c.yaml:2: egain.session_idle_timeout"},
		{"egain:\n  session_idle_timeout: 1ns\n", "c.yaml:2: egain.session_idle_timeout"},
		{"audit:\n  sweep_every: 1ns\n", "c.yaml:2: audit.sweep_every"},
		{"audit:\n  sweep_every: 1ms\n", "c.yaml:2: audit.sweep_every"},
		{"store:\n  schema_poll: 1ns\n", "c.yaml:2: store.schema_poll"},
	} {
		_, err := config.Load(write(t, "c.yaml", tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want a problem naming %q", tc.content, err, tc.want)
		}
	}
	for _, ok := range []string{"egain:\n  session_idle_timeout: 1m\n", "audit:\n  sweep_every: 20ms\n", "store:\n  schema_poll: 1s\n"} {
		if _, err := config.Load(write(t, "c.yaml", ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestLoad_FractionalCountRefused: YAML reads 1.5 into an integer setting
// by dropping the fraction, so retention_days: 1.5 kept one day of audit
// trail, max_body_bytes: 1048576.5 was accepted as written and
// max_conns: 0.5 was reported as "must be positive" although it was not 0.
func TestLoad_FractionalCountRefused(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"audit:\n  retention_days: 1.5\n", "c.yaml:2"},
		{"server:\n  max_body_bytes: 1048576.5\n", "c.yaml:2"},
		{"store:\n  max_conns: 16.5\n", "c.yaml:2"},
		{"egain:\n  max_sessions_per_user: 2.9\n", "c.yaml:2"},
		{"audit:\n  <<: {retention_days: 1.5}\n", "c.yaml:2"}, // a YAML merge key
	} {
		_, err := config.Load(write(t, "c.yaml", tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want a problem at %s (a count is a whole number)", tc.content, err, tc.want)
		}
	}
}

// TestLoginThrottle_PerAddressNeverWraps: the per-address limit a
// throttle derives from a huge max_failures (10 times it) stays huge; it
// wrapped to a negative number, which turned the address throttle off.
func TestLoginThrottle_PerAddressNeverWraps(t *testing.T) {
	for _, max := range []int{5, math.MaxInt / 10, math.MaxInt/10 + 1, math.MaxInt} {
		got := config.LoginThrottle{MaxFailures: max, Window: time.Minute}.PerAddress()
		if got < max {
			t.Errorf("PerAddress of max_failures %d = %d", max, got)
		}
	}
}

// TestLoad_OneDocument: a config file holds one YAML document; a second
// (an extra "---") was ignored without a word, so a file starting
// "---\n---" read as all defaults.
func TestLoad_OneDocument(t *testing.T) {
	for _, text := range []string{"---\n---\naudit:\n  retention_days: 7\n", "audit:\n  retention_days: 7\n---\nlog:\n  level: debug\n"} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "second YAML document") {
			t.Errorf("%q: %v, want the second document named", text, err)
		}
	}
	// A "---" with nothing after it ends the one document.
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("audit:\n  retention_days: 7\n---\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := config.Load(path); err != nil || cfg.Audit.RetentionDays != 7 {
		t.Errorf("a trailing ---: %v", err)
	}
}

// TestLoad_OneDocumentPastAnEmptyOne: the one-document check looked at the
// next document only: past an empty one ("---" twice), or past a second
// document YAML cannot read, the rest was ignored without a word again
// (a file starting "---\n---\n---" read as all defaults).
func TestLoad_OneDocumentPastAnEmptyOne(t *testing.T) {
	for _, text := range []string{
		"---\n---\n---\naudit:\n  retention_days: 7\n",
		"audit:\n  retention_days: 7\n---\n---\nlog:\n  level: debug\n",
		"audit:\n  retention_days: 7\n---\nlog: [debug\n",
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path); err == nil {
			t.Errorf("%q: loaded, want what follows the first document named", text)
		}
	}
	// Comments, "..." or an empty document after it are nothing.
	for _, text := range []string{"audit:\n  retention_days: 7\n---\n# old settings removed\n", "audit:\n  retention_days: 7\n...\n", "audit:\n  retention_days: 7\n---\n...\n---\n"} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if cfg, err := config.Load(path); err != nil || cfg.Audit.RetentionDays != 7 {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestLoad_EmptyTenantListIsRefused: no list binds a credential to every
// tenant; an explicitly empty one (a template that rendered none) would
// too, failing open, so it is refused, naming the credential.
func TestLoad_EmptyTenantListIsRefused(t *testing.T) {
	const hash = `"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG"`
	for name, content := range map[string]string{
		"APIKey":    "genesys:\n  auth:\n    enabled: true\n    api_keys: [{name: k, key_sha256: " + strings.Repeat("a", 64) + ", role: agent, tenants: []}]\n",
		"BasicUser": "genesys:\n  auth:\n    enabled: true\n    users: [{name: u, password_hash: " + hash + ", role: agent, tenants: []}]\n",
		"EGainUser": "egain:\n  users: [{name: a, password_hash: " + hash + ", home_department: Service, tenants: []}]\n",
	} {
		if _, err := config.Load(write(t, "c.yaml", content)); err == nil || !strings.Contains(err.Error(), "tenants is an empty list") {
			t.Errorf("%s with tenants: []: %v, want it refused", name, err)
		}
	}
}

// TestLoad_NullTenantListIsRefused: a template that renders no tenant
// under a block list ("tenants:" and nothing after it) gives YAML null,
// not []: it fails open exactly as "tenants: []" did and must be refused
// the same way; only leaving the key out means every tenant.
func TestLoad_NullTenantListIsRefused(t *testing.T) {
	const hash = `"$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG"`
	for name, content := range map[string]string{
		"APIKeyBlock": "genesys:\n  auth:\n    enabled: true\n    api_keys:\n      - name: k\n        key_sha256: " + strings.Repeat("a", 64) + "\n        role: agent\n        tenants:\n",
		"APIKeyNull":  "genesys:\n  auth:\n    enabled: true\n    api_keys: [{name: k, key_sha256: " + strings.Repeat("a", 64) + ", role: agent, tenants: null}]\n",
		"BasicUser":   "genesys:\n  auth:\n    enabled: true\n    users:\n      - name: u\n        password_hash: " + hash + "\n        role: agent\n        tenants:\n",
	} {
		if _, err := config.Load(write(t, "c.yaml", content)); err == nil || !strings.Contains(err.Error(), "tenants") {
			t.Errorf("%s with tenants given but null: %v, want it refused", name, err)
		}
	}
}

// TestLoad_MergeKeyInUnauthorizedStrings: a YAML merge key (<<) is no
// unknown key of genesys.unauthorized_strings; the keys it merges in are
// checked instead, and an unknown one is named in the file's words.
func TestLoad_MergeKeyInUnauthorizedStrings(t *testing.T) {
	const schema = "schema:\n  profile: [{name: FirstName, type: string}]\n"
	if _, err := config.Load(write(t, "c.yaml", "genesys:\n  unauthorized_strings: {<<: {words: [select]}, check_values: true}\n"+schema)); err != nil {
		t.Errorf("words merged in: %v", err)
	}
	_, err := config.Load(write(t, "c.yaml", "genesys:\n  unauthorized_strings: {<<: {chek_values: true}}\n"+schema))
	if err == nil || !strings.Contains(err.Error(), `"chek_values": unknown key in genesys.unauthorized_strings`) {
		t.Errorf("a misspelt key merged in: %v, want it named as unknown in genesys.unauthorized_strings", err)
	}
}
