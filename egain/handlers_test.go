package egain

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
)

// fakeCustomers stands in for the profile domain: the embedded interface
// panics on a call a test did not expect; each test sets what it needs.
// These tests check the facade's own work (parameters, mapping of answers
// to WSErrors); the domain and the whole server have their own tests.
type fakeCustomers struct {
	Customers
	schema    *schema.Compiled
	editByNum func(num uint64, opts profile.ReplaceOptions) error
	idsByNum  func(nums []uint64) []string
	lookup    func(key string, values []string) []string
}

func (f *fakeCustomers) Schema() *schema.Compiled { return f.schema }
func (f *fakeCustomers) EditByNum(_ context.Context, _ string, num uint64, _ []string, _ func(*profile.Profile) (map[string]any, error), opts profile.ReplaceOptions) (*profile.Profile, error) {
	return nil, f.editByNum(num, opts)
}
func (f *fakeCustomers) Read(_ context.Context, _ string, fn func(profile.Reader) error) error {
	return fn(fakeReader{f: f})
}

// fakeReader answers a Read from its fakeCustomers; the embedded
// interface panics on a call no test expects.
type fakeReader struct {
	profile.Reader
	f *fakeCustomers
}

func (r fakeReader) IDsByNum(nums []uint64) ([]string, error) { return r.f.idsByNum(nums), nil }
func (r fakeReader) Lookup(key string, values []string, _ int) ([]string, bool, error) {
	return r.f.lookup(key, values), true, nil
}
func (r fakeReader) GetMany([]string, []string) ([]*profile.Profile, error) { return nil, nil }

// serveFakeFacade runs the facade over f, with real sessions in a bbolt
// file, and returns its URL and a session of the test agent.
func serveFakeFacade(t *testing.T, f *fakeCustomers) (string, string) {
	t.Helper()
	all, eg := testEGainConfig(t)
	registry, err := schema.NewRegistry(config.SchemaSource(all.File), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.schema = registry.Current()
	db, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"), store.Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	facade, err := NewFacade(f, db, nil, eg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { RenderError(c, err) }
	facade.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	res, err := http.Post(srv.URL+"/ws/v12/authentication/user/login", "application/json",
		strings.NewReader(`{"userName":"agent","password":"`+testPassword+`"}`))
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()
	return srv.URL, res.Header.Get(SessionHeader)
}

func send(t *testing.T, method, url, session, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set(SessionHeader, session)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestFacade_EditIsOneDomainCallWithTheEmailKeyUnique(t *testing.T) {
	t.Parallel()
	var gotNum uint64
	var gotOpts profile.ReplaceOptions
	domainErr := error(nil)
	f := &fakeCustomers{editByNum: func(num uint64, opts profile.ReplaceOptions) error {
		gotNum, gotOpts = num, opts
		return domainErr
	}}
	url, session := serveFakeFacade(t, f)
	edit := `{"id":"7","contactPersons":{"contactPerson":[{"firstName":"New"}]}}`
	if res := send(t, "PUT", url+"/ws/v12/interaction/customer", session, edit); res.StatusCode != http.StatusNoContent {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	if gotNum != 7 || !slices.Contains(gotOpts.UniqueKeys, "email") || gotOpts.IfMatch != 0 {
		t.Errorf("the domain got customer %d with %+v, want 7 with the email key unique and no If-Match", gotNum, gotOpts)
	}
	// The domain's answers become the vendor's codes.
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{errs.NotFound(profile.CodeProfileNotFound, "customer 7 not found"), 404, "404-101"},
		{errs.Conflict(profile.CodeUniqueKeyViolation, "customer 0000000001abcdef has it"), 400, "400-107"},
		{errs.E(errs.KindUnavailable, profile.CodeStoreUnavailable, "down"), 503, "503-101"},
	} {
		domainErr = c.err
		res := send(t, "PUT", url+"/ws/v12/interaction/customer", session, edit)
		body := readAll(t, res)
		if res.StatusCode != c.status || !strings.Contains(body, c.code) || strings.Contains(body, "0000000001abcdef") {
			t.Errorf("domain error %v: %d %s, want %d %s without the Genesys id", c.err, res.StatusCode, body, c.status, c.code)
		}
	}
}

func TestFacade_IDListAndSearchReachTheDomainParsed(t *testing.T) {
	t.Parallel()
	var nums []uint64
	var key string
	var values []string
	f := &fakeCustomers{
		idsByNum: func(n []uint64) []string { nums = n; return nil },
		lookup:   func(k string, v []string) []string { key, values = k, v; return nil },
	}
	url, session := serveFakeFacade(t, f)
	if res := send(t, "GET", url+"/ws/v12/interaction/customer/7,8", session, ""); res.StatusCode != http.StatusNotFound || !slices.Equal(nums, []uint64{7, 8}) {
		t.Errorf("get 7,8: %d, the domain got %v", res.StatusCode, nums)
	}
	if res := send(t, "GET", url+"/ws/v12/interaction/customer?email=Ann@X.dom", session, ""); res.StatusCode != http.StatusNoContent || key != "email" || len(values) != 1 {
		t.Errorf("search by e-mail: %d, the domain got %s %q", res.StatusCode, key, values)
	}
	if res := send(t, "GET", url+"/ws/v12/interaction/customer/abc", session, ""); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a non-numeric id: %d, want 400 before the domain", res.StatusCode)
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
