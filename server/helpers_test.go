package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/postgres/postgrestest"
)

// testBackend is the store engine the HTTP tests run on in this process:
// the bbolt file by default, a migrated PostgreSQL schema of its own per
// server with PROFILED_TEST_STORE=postgres. TestMain runs the suite both
// ways unless the variable is set.
var testBackend = os.Getenv(pgtest.EnvStore)

func onPostgres() bool { return testBackend == "postgres" }

// boltOnly skips a test that is about the bbolt file itself when the suite
// runs on PostgreSQL (which has its own tests for the same concern).
func boltOnly(tb testing.TB, why string) {
	tb.Helper()
	if onPostgres() {
		tb.Skip("bbolt only: " + why)
	}
}

// storeIndependent skips tb in the PostgreSQL pass: it tests what no store
// reaches (HTTP timeouts, CORS in a browser, files of the repository), and
// the bbolt pass runs it.
func storeIndependent(tb testing.TB) {
	tb.Helper()
	if onPostgres() {
		tb.Skip("does not depend on the store: the bbolt pass runs it")
	}
}

// testServer is a real profiled on a real store (a bbolt file in
// t.TempDir(), or a PostgreSQL database of its own), served by httptest.
type testServer struct {
	tb       testing.TB
	URL      string // where requests go
	App      *server.App
	HTTP     *httptest.Server
	config   string // the config file used
	data     string // the bbolt file
	storeURL string // the PostgreSQL database, when on PostgreSQL
}

// mustStart starts profiled with the repository's default config.yaml.
func mustStart(tb testing.TB) *testServer {
	tb.Helper()
	return mustStartWith(tb, configWith(tb), filepath.Join(tb.TempDir(), "profiles.db"))
}

// mustStartWith starts profiled with configPath on data file dataPath, or
// on a new PostgreSQL database when the suite runs there.
func mustStartWith(tb testing.TB, configPath, dataPath string) *testServer {
	tb.Helper()
	url := ""
	if onPostgres() {
		url = postgrestest.URL(tb)
	}
	return startOn(tb, configPath, dataPath, url)
}

func startOn(tb testing.TB, configPath, dataPath, storeURL string) *testServer {
	tb.Helper()
	return startLoggingTo(tb, configPath, dataPath, storeURL, io.Discard)
}

// startLoggingTo is startOn with the app's log written to log.
func startLoggingTo(tb testing.TB, configPath, dataPath, storeURL string, log io.Writer) *testServer {
	tb.Helper()
	cfg, err := config.Load(configPath)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Store.Path = dataPath
	cfg.Store.URL = storeURL
	cfg.Store.MaxConns = testMaxConns
	app, err := server.New(cfg, zerolog.New(log))
	if err != nil {
		tb.Fatal(err)
	}
	ts := &testServer{tb: tb, App: app, HTTP: httptest.NewServer(app.Echo), config: configPath, data: dataPath, storeURL: storeURL}
	ts.URL = ts.HTTP.URL
	tb.Cleanup(ts.stop)
	return ts
}

// readStats returns the store's counts of index entries visited and
// profiles read, whichever the engine.
func (ts *testServer) readStats() (indexVisited, profileReads uint64) {
	switch db := ts.App.Store.(type) {
	case *store.DB:
		s := db.Stats()
		return s.IndexEntriesVisited, s.ProfileReads
	case *postgres.DB:
		s := db.Stats()
		return s.IndexEntriesVisited, s.ProfileReads
	}
	ts.tb.Fatalf("unknown store %T", ts.App.Store)
	return 0, 0
}

// clientOf is a testServer that only sends requests, to a profiled
// started elsewhere (a binary) at base.
func clientOf(tb testing.TB, base string) *testServer {
	return &testServer{tb: tb, URL: base}
}

func (ts *testServer) stop() {
	if ts.HTTP != nil {
		ts.HTTP.Close()
		ts.App.Close()
		ts.HTTP = nil
	}
}

// restart closes the store and opens the same one again.
func (ts *testServer) restart() *testServer {
	ts.tb.Helper()
	ts.stop()
	return startOn(ts.tb, ts.config, ts.data, ts.storeURL)
}

// writeConfig writes a config file whose schema section is schemaYAML; the
// eGain facade is off because its mapping needs the default schema.
func writeConfig(tb testing.TB, schemaYAML string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("egain: {disabled: true}\nschema:\n"+schemaYAML), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r response) JSON(tb testing.TB, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %q: %v", r.Body, err)
	}
}

// do sends a request; body may be nil, a string, []byte or an io.Reader
// (streamed without a length when it is not a bytes or strings reader). headers are
// name, value pairs.
func (ts *testServer) do(method, path string, body any, headers ...string) response {
	ts.tb.Helper()
	res, err := ts.send(method, path, body, headers...)
	if err != nil {
		ts.tb.Fatal(err)
	}
	return res
}

// send is do for any goroutine: it returns the error do fails the test with.
func (ts *testServer) send(method, path string, body any, headers ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := testClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}, nil
}

// mustCreateAll creates one profile per body, 8 at a time, and returns their
// customer_ids in the order of bodies. Concurrent creates share fsyncs, so a
// test that needs many customers does not wait for one fsync each.
func (ts *testServer) mustCreateAll(bodies []string) []string {
	ts.tb.Helper()
	ids := make([]string, len(bodies))
	errs := make([]error, len(bodies))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				res, err := ts.send("POST", "/profiles", bodies[i])
				var out map[string]string
				switch {
				case err != nil:
				case res.Status != http.StatusCreated:
					err = fmt.Errorf("create %d: status %d: %s", i, res.Status, res.Body)
				default:
					err = json.Unmarshal(res.Body, &out)
				}
				ids[i], errs[i] = out["customer_id"], err
			}
		})
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		ts.tb.Fatal(err)
	}
	return ids
}

// mustCreate posts body and returns the new customer_id.
func (ts *testServer) mustCreate(body string, headers ...string) string {
	ts.tb.Helper()
	res := ts.do("POST", "/profiles", body, headers...)
	if res.Status != http.StatusCreated {
		ts.tb.Fatalf("create: status %d: %s", res.Status, res.Body)
	}
	var out map[string]string
	res.JSON(ts.tb, &out)
	return out["customer_id"]
}

// profileCount is the number of stored profiles, all tenants.
func (ts *testServer) profileCount() int {
	ts.tb.Helper()
	n, err := ts.App.Store.ProfileCount()
	if err != nil {
		ts.tb.Fatal(err)
	}
	return n
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// exampleProfile is the Genesys example body, unchanged.
func exampleProfile(tb testing.TB) string {
	return string(mustRead(tb, "../testdata/examples/genesys-create-profile.json"))
}

// wantError checks status and the Genesys error body.
func wantError(tb testing.TB, res response, status int, code string) {
	tb.Helper()
	if res.Status != status {
		tb.Fatalf("status = %d, want %d; body %s", res.Status, status, res.Body)
	}
	var body struct{ Message, Exception, Code string }
	res.JSON(tb, &body)
	if body.Message == "" || body.Exception == "" {
		tb.Fatalf("error body lacks message or exception: %s", res.Body)
	}
	if body.Code != code {
		tb.Fatalf("code = %q, want %q; body %s", body.Code, code, res.Body)
	}
}

// configWith writes a copy of the default config.yaml with each old
// replaced by its new (old, new, old, new, ...; each old must occur), for
// tests that change a few settings.
func configWith(tb testing.TB, oldNew ...string) string {
	tb.Helper()
	base := string(mustRead(tb, "../config.yaml"))
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(base, oldNew[i]) {
			tb.Fatalf("config.yaml does not contain %q", oldNew[i])
		}
		base = strings.Replace(base, oldNew[i], oldNew[i+1], 1)
	}
	// Tests share one PostgreSQL server (100 connections by default).
	base = strings.Replace(base, "max_conns: 16", "max_conns: "+strconv.Itoa(testMaxConns), 1)
	// The demo user's password stays demo, at the cheapest bcrypt cost:
	// the shipped cost made logins a tenth of the suite's CPU.
	base = demoHash.ReplaceAllString(base, "${1}"+strings.ReplaceAll(cheapDemoHash(), "$", "$$")+`"`)
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// keyHash is an API key as config.yaml holds it (hex SHA-256).
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// basicAuth is an Authorization header value for user and password.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// testMaxConns bounds each test server's PostgreSQL pool: many run at
// once against one server, whose connections are limited.
const testMaxConns = 4

var demoHash = regexp.MustCompile(`(name: demo\n(?:.*\n)*?\s*password_hash: ")[^"]*"`)

var cheapDemoHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("demo"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// testPassword is the password of every user authConfig declares.
const testPassword = "s3cret"

// testPasswordHash is a cheap bcrypt hash of testPassword.
var testPasswordHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// authConfig writes the default config with Genesys auth on: keys and
// users are YAML list items for api_keys and users, in which KEY(x) stands
// for x's key_sha256 and PW for testPasswordHash; more are further
// configWith replacements.
func authConfig(tb testing.TB, keys, users string, more ...string) string {
	tb.Helper()
	expand := func(s string) string {
		s = regexp.MustCompile(`KEY\(([^)]*)\)`).ReplaceAllStringFunc(s, func(m string) string { return keyHash(m[4 : len(m)-1]) })
		return strings.ReplaceAll(s, "PW", testPasswordHash())
	}
	for i := range more {
		more[i] = expand(more[i])
	}
	block := "  base_path: /genesys/1/cs       # the API is served here as well as at / (\"\" = at / only)\n  auth:\n    enabled: true\n    api_keys:\n" + expand(keys) + "\n    users:\n" + expand(users)
	return configWith(tb, append([]string{`  base_path: /genesys/1/cs       # the API is served here as well as at / ("" = at / only)`, block}, more...)...)
}

// testClient is the tests' HTTP client, with a transport of its own:
// httptest.Server.Close closes the idle connections of
// http.DefaultTransport, and a request of a parallel test that had just
// taken one failed ("CloseIdleConnections called").
var testClient = &http.Client{Transport: &http.Transport{}}
