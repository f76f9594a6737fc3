// Package config loads profiled's configuration file and applies the
// environment and flag overrides of the run contract (flag > env > file >
// built-in default). The schema section is kept as a YAML node and handed
// to package schema, which re-reads it on every reload.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/schema"
)

// Config is the whole configuration file.
type Config struct {
	Server  Server    `yaml:"server"`
	Store   Store     `yaml:"store"`
	Log     Log       `yaml:"log"`
	Admin   Admin     `yaml:"admin"`
	Genesys Genesys   `yaml:"genesys"`
	EGain   EGain     `yaml:"egain"`
	Limits  Limits    `yaml:"limits"`
	Audit   Audit     `yaml:"audit"`
	Schema  yaml.Node `yaml:"schema"`

	File string     `yaml:"-"` // the file it was read from
	root *yaml.Node // the file's YAML, for the lines of problems
	// read is the settings as the file gave them, before the flags and
	// the environment overrode some (NotReloaded compares files).
	read *Config
}

// Audit configures the audit trail (docs/privacy.md).
type Audit struct {
	// RetentionDays is how long entries are kept; a background sweep
	// deletes older ones in small batches every SweepEvery.
	RetentionDays int           `yaml:"retention_days"` // 1..MaxAuditRetentionDays
	SweepEvery    time.Duration `yaml:"sweep_every"`
	// Reads: false (not audited), true (counted per actor in /metrics) or
	// every (an entry per read, which makes every read a write).
	Reads string `yaml:"reads"`
}

// Values of Audit.Reads.
const (
	AuditReadsOff   = "false"
	AuditReadsCount = "true"
	AuditReadsEvery = "every"
)

// Limits bound what one customer's data may grow to.
type Limits struct {
	// MaxRecordsPerExtension is how many records of one extension one
	// customer may hold; a write beyond it answers 400 TOO_MANY_RECORDS.
	MaxRecordsPerExtension int `yaml:"max_records_per_extension"`
}

// Server configures the HTTP listener.
type Server struct {
	Addr              string        `yaml:"addr"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	CORS              CORS          `yaml:"cors"`
	// TrustedProxies are the addresses (IPs or CIDR ranges) of the load
	// balancers or proxies in front of the server: a request whose peer is
	// one of them is the client's that X-Forwarded-For names, for the
	// login throttle, the audit trail and the request log. Empty: the peer
	// is the client, whatever headers say.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TrustedProxyNets is TrustedProxies as networks (an IP is one address's
// network); validate has refused what does not parse.
func (s Server) TrustedProxyNets() []*net.IPNet {
	var nets []*net.IPNet
	for _, p := range s.TrustedProxies {
		if n, ok := proxyNet(p); ok {
			nets = append(nets, n)
		}
	}
	return nets
}

func proxyNet(s string) (*net.IPNet, bool) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, true
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, false
	}
	bits := 8 * net.IPv6len
	if v4 := ip.To4(); v4 != nil {
		ip, bits = v4, 8*net.IPv4len
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, true
}

// CORS lets browser pages of other origins call the APIs (the eGain guide
// says its API supports CORS; the public clients are browser pages).
type CORS struct {
	// AllowOrigins are the origins (scheme://host[:port]) whose pages may
	// call; empty sends no CORS headers at all.
	AllowOrigins []string `yaml:"allow_origins"`
}

// Store selects and configures the store: a PostgreSQL database when URL
// is a postgres:// or postgresql:// URL (replicas share it), otherwise the
// bbolt data file at Path.
type Store struct {
	URL              string        `yaml:"url"`
	Path             string        `yaml:"path"`
	OpenTimeout      time.Duration `yaml:"open_timeout"`
	MaxConns         int32         `yaml:"max_conns"`         // PostgreSQL connection pool size
	StatementTimeout time.Duration `yaml:"statement_timeout"` // PostgreSQL: bound on every statement
	SchemaPoll       time.Duration `yaml:"schema_poll"`       // PostgreSQL: re-check of the stored schema, should a notification be lost
}

// IsPostgresURL reports whether s names a PostgreSQL database (postgres://
// or postgresql://) rather than a bbolt file.
func IsPostgresURL(s string) bool {
	u := strings.ToLower(s)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// IsPostgres reports whether the store is a PostgreSQL database.
func (s Store) IsPostgres() bool { return IsPostgresURL(s.URL) }

// RedactURL is a store URL fit for a log line or a message: a password in
// its user part or among its parameters (pgx reads password= and
// sslpassword= there too) is replaced by xxxxx.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, secret := range []string{"password", "sslpassword"} {
			if q.Has(secret) {
				q.Set(secret, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// CheckURL refuses a store URL that is set but names no PostgreSQL
// database, wherever it came from (file, environment, flag). The URL is
// not repeated: it may hold a password.
func (s Store) CheckURL() error {
	if s.URL != "" && !s.IsPostgres() {
		return errors.New("store.url (-store, PROFILED_STORE) must be a postgres:// or postgresql:// URL; leave it empty for the bbolt file of store.path")
	}
	return nil
}

// CheckAddr refuses a listen address without a port, wherever it came
// from (file, environment, flag): serve would fail to listen on it.
func (s Server) CheckAddr() error {
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("server.addr (-addr, PROFILED_ADDR) must be host:port or :port, not %q", s.Addr)
	}
	return nil
}

// Log configures zerolog.
type Log struct {
	Level string `yaml:"level"`
	// ProbesAtDebug logs /livez, /readyz and /metrics requests at debug
	// level: monitors poll them every few seconds. Off by default, so that
	// every request has its info line (the run contract).
	ProbesAtDebug bool `yaml:"probes_at_debug"`
}

// Admin protects /admin/... endpoints.
type Admin struct {
	Token string `yaml:"token"`
	// PrivacyRole, when set, lets Genesys credentials of that role call
	// the admin-level privacy endpoints (export, erase, audit) as well as
	// the admin token; tenant bindings apply.
	PrivacyRole string `yaml:"privacy_role"`
}

// UnauthorizedStrings configures the keywords of spec §7. Written as a
// list it is the words (the form before check_values existed).
type UnauthorizedStrings struct {
	// Words replaces the built-in list when not empty.
	Words []string `yaml:"words"`
	// CheckValues refuses attribute values that are a keyword, as Context
	// Services does; off by default because whole-value matching refuses
	// real surnames (Long, Null, Left, Right, Money, Date). Names in schemas
	// are always checked.
	CheckValues bool `yaml:"check_values"`
}

// UnmarshalYAML accepts the mapping or a bare list of words.
func (u *UnauthorizedStrings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		return n.Decode(&u.Words)
	}
	for _, k := range schema.YAMLKeys(n) {
		if k.Value != "words" && k.Value != "check_values" {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: field %s not found in type config.UnauthorizedStrings", k.Line, k.Value)}}
		}
	}
	type plain UnauthorizedStrings
	return n.Decode((*plain)(u))
}

// DefaultGenesysBasePath is where UCS 8.5 clients call the API
// (/genesys/1/cs/profiles); it is served there as well as at the root.
const DefaultGenesysBasePath = "/genesys/1/cs"

// Genesys configures the Genesys-style profile API.
type Genesys struct {
	BasePath            string              `yaml:"base_path"`                                 // "" serves the API at the root only
	UnauthorizedStrings UnauthorizedStrings `yaml:"unauthorized_strings" reload:"with-schema"` // they bound the schema's names
	Auth                GenesysAuth         `yaml:"auth"`
}

// GenesysAuth protects the Genesys-style API. UCS itself has none, so it is
// off by default (the server logs a warning); on, every request needs an
// API key or basic-auth credentials whose role allows the call.
type GenesysAuth struct {
	Enabled bool            `yaml:"enabled"`
	APIKeys []GenesysAPIKey `yaml:"api_keys"`
	Users   []GenesysUser   `yaml:"users"`
	// Throttle bounds basic-auth password guessing per user name and per
	// client address (429 with Retry-After), as egain.login_throttle does.
	Throttle LoginThrottle `yaml:"throttle"`
}

// GenesysAPIKey is a client key, stored as the hex SHA-256 of the key so the
// config file holds no usable secret.
type GenesysAPIKey struct {
	Name      string  `yaml:"name"`
	KeySHA256 string  `yaml:"key_sha256"`
	Role      string  `yaml:"role"`
	Tenants   Tenants `yaml:"tenants"`
}

// GenesysUser is a basic-auth account with a bcrypt password hash.
type GenesysUser struct {
	Name         string  `yaml:"name"`
	PasswordHash string  `yaml:"password_hash"`
	Role         string  `yaml:"role"`
	Tenants      Tenants `yaml:"tenants"`
}

// Tenants are the tenants a credential may name in X-Genesys-TenantId;
// "" is the default tenant (no header). A credential without a list may
// use every tenant. A request naming another answers 403 whether or not
// that tenant holds anything.
type Tenants []string

// Allow reports whether tenant is one of ts (any tenant when ts is empty).
func (ts Tenants) Allow(tenant string) bool {
	return len(ts) == 0 || slices.Contains(ts, tenant)
}

// checkTenants refuses names no request could send.
func checkTenants(what string, ts []string) []error {
	var problems []error
	if ts != nil && len(ts) == 0 { // "tenants: []": no tenant, not every one (leave the key out for that)
		problems = append(problems, fmt.Errorf("%s: tenants is an empty list, which would allow every tenant: list the tenants (\"\" is the default tenant) or leave tenants out", what))
	}
	for _, t := range ts {
		if err := httpin.CheckTenant(t); err != nil {
			problems = append(problems, fmt.Errorf("%s: tenant %q: must be \"\" (the default tenant) or 1 to 64 letters, digits, '_' or '-'", what, t))
		}
	}
	return problems
}

// Roles of the Genesys-style API, mirroring Genesys: administrators change
// schemas and write everything, agents read and write profiles, supervisors read.
const (
	RoleAdministrator = "administrator"
	RoleSupervisor    = "supervisor"
	RoleAgent         = "agent"
)

func (g *GenesysAuth) validate() []error {
	var problems []error
	checkRole := func(what, name, role string) {
		switch role {
		case RoleAdministrator, RoleSupervisor, RoleAgent:
		default:
			problems = append(problems, fmt.Errorf("genesys.auth: %s %q: role %q must be administrator, supervisor or agent", what, name, role))
		}
	}
	for _, k := range g.APIKeys {
		if len(k.KeySHA256) != 64 || strings.Trim(strings.ToLower(k.KeySHA256), "0123456789abcdef") != "" {
			problems = append(problems, fmt.Errorf("genesys.auth: api key %q: key_sha256 must be 64 hex digits (sha256sum of the key)", k.Name))
		}
		checkRole("api key", k.Name, k.Role)
		problems = append(problems, checkTenants("genesys.auth: api key "+strconv.Quote(k.Name), k.Tenants)...)
	}
	for _, u := range g.Users {
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			problems = append(problems, fmt.Errorf("genesys.auth: user %q: password_hash must be a bcrypt hash (profiled hash-password makes one): %v", u.Name, err))
		}
		checkRole("user", u.Name, u.Role)
		problems = append(problems, checkTenants("genesys.auth: user "+strconv.Quote(u.Name), u.Tenants)...)
	}
	problems = append(problems, g.Throttle.check("genesys.auth.throttle")...)
	if g.Enabled && len(g.APIKeys) == 0 && len(g.Users) == 0 {
		problems = append(problems, fmt.Errorf("genesys.auth.enabled is true but no api_keys or users are configured"))
	}
	return problems
}

// MaxAuditRetentionDays bounds audit.retention_days (100 years).
const MaxAuditRetentionDays = 36500

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		Server: Server{
			Addr:              ":8080",
			MaxBodyBytes:      1 << 20,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
		Store: Store{Path: "data/profiles.db", OpenTimeout: 2 * time.Second,
			MaxConns: 16, StatementTimeout: 5 * time.Second, SchemaPoll: 5 * time.Second},
		Log:     Log{Level: "info"},
		EGain:   defaultEGain(),
		Limits:  Limits{MaxRecordsPerExtension: 1000}, // profile.DefaultRecordLimit
		Audit:   Audit{RetentionDays: 400, SweepEvery: time.Hour, Reads: AuditReadsOff},
		Genesys: Genesys{BasePath: DefaultGenesysBasePath, Auth: GenesysAuth{Throttle: LoginThrottle{MaxFailures: 5, Window: time.Minute}}},
	}
}

// Load reads path over the defaults. Unknown keys are errors: a typo in a
// config file must not be silently ignored. Problems are schema.Problems
// at their lines; when only settings are wrong the config read is returned
// with them.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// ReadFile reads the config file at path. One that is not there is named
// with the way to give another: the default, config.yaml, is relative to
// the working directory, so a first run outside the repository meets it.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read config: %w (name the config file with -config FILE or PROFILED_CONFIG)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// Parse is Load of data read from path (the name problems carry, and the
// base of relative schema file names).
func Parse(path string, data []byte) (*Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var problems schema.Problems
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // empty file: all defaults
		// Unknown keys and values of the wrong type leave the rest decoded:
		// the checks below still run, so check-config reports every
		// problem at once. YAML that cannot be read at all stops here.
		if _, decoded := errors.AsType[*yaml.TypeError](err); !decoded {
			return nil, yamlProblems(path, data, err)
		}
		problems = yamlProblems(path, data, err)
	}
	// One document: what follows a second "---" would be ignored without
	// a word (a file starting "---\n---" read as all defaults).
	// Empty documents (comments only, "---" twice) are skipped: what comes
	// after them is ignored just the same. YAML that cannot be read there
	// is a problem too.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, yamlProblems(path, data, err)...)
			break
		}
		if len(next.Content) > 0 && next.Content[0].Tag != "!!null" {
			problems = append(problems, schema.Problem{File: path, Line: next.Line, Message: "a second YAML document starts here: a config file holds one (remove the extra ---)"})
			break
		}
	}
	cfg.File = path
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil && root.Kind != 0 {
		cfg.root = &root
	}
	if cfg.root != nil && len(cfg.root.Content) > 0 {
		problems = append(problems, valueProblems(path, cfg.root.Content[0], reflect.TypeOf(cfg), "")...)
	}
	if err := cfg.validate(); err != nil {
		problems = append(problems, cfg.Problems(err)...)
	}
	read := cfg
	read.Schema, read.root = yaml.Node{}, nil
	cfg.read = &read
	if len(problems) > 0 {
		// The config is returned too: check-config goes on to report the
		// schema's problems as well; everything else stops here.
		return &cfg, problems
	}
	return &cfg, nil
}

// NotReloaded names, as dotted keys (admin.token, egain.users), the
// settings whose value in next differs from c's, both as their files give
// them (a flag or the environment overriding one at start is no edit). A
// reload applies the schema, and the settings tagged reload:"with-schema"
// (the unauthorized strings that bound its names): these take effect at
// the next start.
// Lists are named whole (egain.users), never with their values.
func (c *Config) NotReloaded(next *Config) []string {
	from, to := c, next
	if c.read != nil {
		from = c.read
	}
	if next.read != nil {
		to = next.read
	}
	return changedSettings(reflect.ValueOf(*from), reflect.ValueOf(*to), "")
}

func changedSettings(a, b reflect.Value, prefix string) []string {
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if !f.IsExported() || name == "" || name == "-" || f.Type == reflect.TypeOf(yaml.Node{}) || f.Tag.Get("reload") == "with-schema" {
			continue // the schema, and what goes with it, is what a reload applies
		}
		key := strings.TrimPrefix(prefix+"."+name, ".")
		x, y := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, changedSettings(x, y, key)...)
			continue
		}
		if !sameSetting(x, y) {
			out = append(out, key)
		}
	}
	return out
}

// sameSetting is reflect.DeepEqual where a list or map left out equals an
// empty one ([] or left out), at any depth: within a list's entries too
// (foreign_departments: [] of an eGain user is none, as absent).
func sameSetting(x, y reflect.Value) bool {
	switch x.Kind() {
	case reflect.Slice, reflect.Array:
		if x.Len() != y.Len() {
			return false
		}
		for i := range x.Len() {
			if !sameSetting(x.Index(i), y.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if x.Len() == 0 && y.Len() == 0 {
			return true
		}
		return x.Len() == y.Len() && reflect.DeepEqual(x.Interface(), y.Interface())
	case reflect.Struct:
		for i := range x.NumField() {
			if !sameSetting(x.Field(i), y.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if x.IsNil() || y.IsNil() {
			return x.IsNil() == y.IsNil()
		}
		if x.Elem().Type() != y.Elem().Type() {
			return false
		}
		return sameSetting(x.Elem(), y.Elem())
	default:
		return x.Equal(y)
	}
}

// valueProblems finds what decoding hides: numbers with a fraction given
// for integer settings (YAML drops the fraction: retention_days: 1.5 is
// 1), and a credential's tenants given as null ("tenants:" with nothing
// after it, a template that rendered none), which decodes as the key left
// out and would allow every tenant, as "tenants: []" would.
func valueProblems(path string, n *yaml.Node, t reflect.Type, name string) schema.Problems {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil { // the walk follows types, so it ends
		n = n.Alias
	}
	var out schema.Problems
	switch {
	case t == reflect.TypeOf(yaml.Node{}) || t == reflect.TypeOf(time.Duration(0)):
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if n.Content[i].Tag == "!!merge" { // <<: a mapping (or a list of them) merged here
				v := n.Content[i+1]
				if v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, m := range merged {
					out = append(out, valueProblems(path, m, t, name)...)
				}
				continue
			}
			for j := 0; j < t.NumField(); j++ {
				if f := t.Field(j); f.IsExported() && strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
					out = append(out, valueProblems(path, n.Content[i+1], f.Type, strings.TrimPrefix(name+"."+key, "."))...)
				}
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, valueProblems(path, c, t.Elem(), name)...)
		}
	case t == reflect.TypeOf(Tenants(nil)) && n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		out = append(out, schema.Problem{File: path, Line: n.Line, Name: "tenants", Message: fmt.Sprintf("%s is null, which would allow every tenant: list the tenants (\"\" is the default tenant) or leave tenants out", name)})
	case n.Kind == yaml.ScalarNode && n.Tag == "!!float" && t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && f != math.Trunc(f) {
			out = append(out, schema.Problem{File: path, Line: n.Line, Message: fmt.Sprintf("%s must be a whole number, not %s", name, n.Value)})
		}
	}
	return out
}

// ApplyEnv applies the PROFILED_* environment overrides.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv("PROFILED_ADDR"); v != "" {
		c.Server.Addr = v
	}
	if v := getenv("PROFILED_DATA"); v != "" {
		c.Store.Path = v
	}
	if v := getenv("PROFILED_STORE"); v != "" {
		c.Store.URL = v
	}
	if v := getenv("PROFILED_ADMIN_TOKEN"); v != "" { // keeps the secret out of the file
		c.Admin.Token = v
	}
}

func (c *Config) validate() error {
	var problems []error
	for _, o := range c.Server.CORS.AllowOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "") {
			problems = append(problems, fmt.Errorf("server.cors.allow_origins: %q must be an origin such as https://agent.example.com (scheme, host, optional port; no path)", o))
		}
	}
	for _, p := range c.Server.TrustedProxies {
		if _, ok := proxyNet(p); !ok {
			problems = append(problems, fmt.Errorf("server.trusted_proxies: %q must be an IP address or a CIDR range such as 10.0.0.0/8", p))
		}
	}
	if c.Server.MaxBodyBytes <= 0 {
		problems = append(problems, fmt.Errorf("server.max_body_bytes must be positive"))
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"read_header_timeout", c.Server.ReadHeaderTimeout}, {"read_timeout", c.Server.ReadTimeout}, {"write_timeout", c.Server.WriteTimeout}, {"idle_timeout", c.Server.IdleTimeout}} {
		if t.d < 0 {
			problems = append(problems, fmt.Errorf("server.%s must not be negative (0: none)", t.key))
		}
	}
	if c.Server.MaxHeaderBytes > MaxHeaderBytesLimit {
		// net/http reads 4 times it plus 4096 bytes: far beyond this the sum
		// overflows (every request 431), and well before, one connection's
		// headers may take any memory.
		problems = append(problems, fmt.Errorf("server.max_header_bytes must be at most %d (0 or less: net/http's 1 MiB), not %d", MaxHeaderBytesLimit, c.Server.MaxHeaderBytes))
	}
	if c.Server.ShutdownTimeout <= 0 {
		problems = append(problems, fmt.Errorf("server.shutdown_timeout must be positive"))
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "trace", "debug", "info", "warn", "error", "disabled":
	default: // zerolog also takes fatal, panic and numbers, which would hide refusals
		problems = append(problems, fmt.Errorf("log.level must be debug, info, warn or error (or trace, disabled), not %q", c.Log.Level))
	}
	if c.Store.Path == "" {
		problems = append(problems, fmt.Errorf("store.path must be set"))
	}
	if c.Store.OpenTimeout <= 0 {
		problems = append(problems, fmt.Errorf("store.open_timeout must be positive"))
	}
	if err := c.Store.CheckURL(); err != nil {
		problems = append(problems, err)
	}
	if c.Store.MaxConns <= 0 {
		problems = append(problems, fmt.Errorf("store.max_conns must be positive"))
	}
	if c.Store.StatementTimeout <= 0 {
		problems = append(problems, fmt.Errorf("store.statement_timeout must be positive"))
	} else if c.Store.StatementTimeout < time.Millisecond || c.Store.StatementTimeout > MaxStatementTimeout {
		// PostgreSQL takes whole milliseconds up to 2^31-1: less than one
		// would be sent as 0 (no timeout), more refuses every connection.
		problems = append(problems, fmt.Errorf("store.statement_timeout must be from 1ms to %s (PostgreSQL's limit), not %s", MaxStatementTimeout, c.Store.StatementTimeout))
	}
	if c.Store.SchemaPoll <= 0 {
		problems = append(problems, fmt.Errorf("store.schema_poll must be positive"))
	} else if c.Store.SchemaPoll < minBackgroundPeriod {
		problems = append(problems, fmt.Errorf("store.schema_poll must be at least %s, not %s: shorter runs it back to back", minBackgroundPeriod, c.Store.SchemaPoll))
	}
	if c.Limits.MaxRecordsPerExtension <= 0 {
		problems = append(problems, fmt.Errorf("limits.max_records_per_extension must be positive"))
	}
	switch c.Admin.PrivacyRole {
	case "", RoleAdministrator, RoleSupervisor, RoleAgent:
	default:
		problems = append(problems, fmt.Errorf("admin.privacy_role must be empty, administrator, supervisor or agent, not %q", c.Admin.PrivacyRole))
	}
	if c.Audit.RetentionDays <= 0 {
		problems = append(problems, fmt.Errorf("audit.retention_days must be positive"))
	} else if c.Audit.RetentionDays > MaxAuditRetentionDays {
		// Days past 106,751 overflow a time.Duration and put the sweep's
		// cutoff in the future: "keep for good" would delete every entry.
		problems = append(problems, fmt.Errorf("audit.retention_days must be at most %d (100 years), not %d", MaxAuditRetentionDays, c.Audit.RetentionDays))
	}
	if c.Audit.SweepEvery <= 0 {
		problems = append(problems, fmt.Errorf("audit.sweep_every must be positive"))
	} else if c.Audit.SweepEvery < minBackgroundPeriod {
		problems = append(problems, fmt.Errorf("audit.sweep_every must be at least %s, not %s: shorter runs it back to back", minBackgroundPeriod, c.Audit.SweepEvery))
	}
	switch c.Audit.Reads {
	case AuditReadsOff, AuditReadsCount, AuditReadsEvery:
	default:
		problems = append(problems, fmt.Errorf("audit.reads must be false, true or every, not %q", c.Audit.Reads))
	}
	problems = append(problems, c.EGain.validate()...)
	problems = append(problems, c.Genesys.Auth.validate()...)
	return errors.Join(problems...)
}

// MaxStatementTimeout is the longest statement_timeout PostgreSQL takes
// (2^31-1 ms, about 24.8 days).
const MaxStatementTimeout = (1<<31 - 1) * time.Millisecond

// MaxHeaderBytesLimit bounds server.max_header_bytes (16 MiB of request
// line and headers).
const MaxHeaderBytesLimit = 16 << 20

// minBackgroundPeriod bounds the period of background work (the audit
// sweep, the schema poll): below it, the work runs back to back.
const minBackgroundPeriod = 10 * time.Millisecond

// Unauthorized returns the configured unauthorized strings (spec §7).
func (c *Config) Unauthorized() schema.Unauthorized {
	words := schema.DefaultUnauthorizedStrings
	if len(c.Genesys.UnauthorizedStrings.Words) > 0 {
		words = c.Genesys.UnauthorizedStrings.Words
	}
	u := schema.NewUnauthorized(words)
	u.Values = c.Genesys.UnauthorizedStrings.CheckValues
	return u
}

// SchemaSource returns a schema.Source that re-reads the config file (or the
// schema file it names) on every call, which is what a reload needs.
func SchemaSource(path string) schema.Source {
	return func() (schema.Document, schema.Unauthorized, schema.Problems) {
		cfg, err := Load(path)
		var problems schema.Problems
		switch {
		case errors.As(err, &problems):
			return schema.Document{}, schema.Unauthorized{}, problems // already file:line; no second path
		case err != nil:
			return schema.Document{}, schema.Unauthorized{}, schema.Problems{{File: path, Message: err.Error()}}
		}
		doc, problems := cfg.SchemaDocument()
		return doc, cfg.Unauthorized(), problems
	}
}

// LoadSchema reads the schema section and compiles it with overlay (the
// schema stored by the metadata API), as the server does at start.
func (c *Config) LoadSchema(overlay schema.Document) (*schema.Compiled, error) {
	doc, problems := c.SchemaDocument()
	if len(problems) > 0 {
		return nil, problems
	}
	return schema.Load(doc, overlay, c.Unauthorized(), time.Now())
}

// SchemaFile names the file the schema section refers to (`schema: {file:
// X}`), when it does.
func (c *Config) SchemaFile() (string, bool) { return fileReference(&c.Schema) }

// SchemaDocument decodes the schema section, following `schema: {file: X}`
// (relative to the config file) when it names a separate file.
func (c *Config) SchemaDocument() (schema.Document, schema.Problems) {
	node, file := &c.Schema, c.File
	if node.Kind == 0 {
		return schema.Document{File: file}, schema.Problems{{File: file, Message: "no schema section: a profile schema is required"}}
	}
	if name, ok := fileReference(node); ok {
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(c.File), name)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return schema.Document{File: name}, schema.Problems{{File: name, Message: err.Error()}}
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return schema.Document{File: name}, schema.Problems{{File: name, Message: err.Error()}}
		}
		if len(root.Content) == 0 {
			return schema.Document{File: name}, schema.Problems{{File: name, Message: "empty schema file"}}
		}
		node, file = root.Content[0], name
	}
	return schema.DecodeYAML(node, file)
}

// fileReference reports whether the schema node is just `{file: name}`.
func fileReference(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "file" {
		return "", false
	}
	return n.Content[1].Value, true
}

// CheckSchema compiles cfg's schema with overlay (the schema the metadata
// API stored) and runs checkMapping (the eGain facade's mapping check, nil
// for none) against it, as serve does at start, returning every problem
// with its place.
func CheckSchema(cfg *Config, overlay schema.Document, checkMapping func(EGainMapping, *schema.Compiled) error) schema.Problems {
	compiled, err := cfg.LoadSchema(overlay)
	if err != nil {
		return cfg.Problems(err)
	}
	if cfg.EGain.Disabled || checkMapping == nil {
		return nil
	}
	if err := checkMapping(cfg.EGain.Mapping, compiled); err != nil {
		return cfg.Problems(err)
	}
	return nil
}
