package egain

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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
	schema     *schema.Compiled // the live schema
	readSchema *schema.Compiled // the one reads and edits run under; nil: schema
	editByNum  func(num uint64, opts profile.ReplaceOptions) error
	idsByNum   func(nums []uint64) []string
	lookup     func(key string, values []string) []string
	getMany    func(ids []string) []*profile.Profile // nil: none found
	// editing, when set, is the profile EditByNum runs the edit on; edited
	// is given the body the edit made of it.
	editing func() *profile.Profile
	edited  func(body map[string]any, err error)
}

func (f *fakeCustomers) Schema() *schema.Compiled { return f.schema }

func (f *fakeCustomers) underSchema() *schema.Compiled {
	if f.readSchema != nil {
		return f.readSchema
	}
	return f.schema
}

func (f *fakeCustomers) EditByNum(_ context.Context, _ string, num uint64, exts func(*schema.Compiled) []string, edit func(*schema.Compiled, *profile.Profile) (map[string]any, error), opts profile.ReplaceOptions) (*profile.Profile, error) {
	if f.editing != nil {
		exts(f.underSchema())
		f.edited(edit(f.underSchema(), f.editing()))
	}
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
func (r fakeReader) GetMany(ids []string, _ []string) ([]*profile.Profile, error) {
	if r.f.getMany == nil {
		return nil, nil
	}
	return r.f.getMany(ids), nil
}
func (r fakeReader) Schema() *schema.Compiled { return r.f.underSchema() }
func (r fakeReader) Answered(...string)       {}

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

// A reload that renames a mapped attribute (keeping the old name as an
// alias) can land while a request runs: what a read loaded is in the
// names of the schema it ran under, and is mapped by those, not the live
// schema's, or the customer shows without the attribute once (and an edit
// would write it under a name its transaction's schema does not know).
func TestFacade_MapsInTheSchemaTheReadRanUnder(t *testing.T) {
	t.Parallel()
	ann := func() *profile.Profile {
		return &profile.Profile{ID: "0000000001abcdef", Num: 7, Attributes: map[string]any{
			"FirstName": "Ann", "LastName": "Lee", "EmailAddress": []any{"ann@x.dom"},
		}}
	}
	var body map[string]any
	f := &fakeCustomers{
		idsByNum:  func([]uint64) []string { return []string{"0000000001abcdef"} },
		lookup:    func(string, []string) []string { return []string{"0000000001abcdef"} },
		getMany:   func([]string) []*profile.Profile { return []*profile.Profile{ann()} },
		editByNum: func(uint64, profile.ReplaceOptions) error { return nil },
		editing:   ann,
		edited: func(b map[string]any, err error) {
			if err != nil {
				t.Errorf("edit: %v", err)
			}
			body = b
		},
	}
	url, session := serveFakeFacade(t, f)
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := "{name: FirstName,    type: string, length: 256}"
	text := strings.Replace(string(data), old, "{name: GivenName, type: string, length: 256, aliases: [FirstName]}", 1)
	if text == string(data) {
		t.Fatal("config.yaml has no FirstName attribute to rename")
	}
	f.readSchema = f.schema
	_, f.schema = mappedConfig(t, text) // the reload lands; the reads still run under the schema before it

	for _, path := range []string{"/ws/v12/interaction/customer?email=ann@x.dom", "/ws/v12/interaction/customer/7"} {
		res := send(t, "GET", url+path, session, "")
		if got := readAll(t, res); res.StatusCode != http.StatusOK || !strings.Contains(got, `"Ann"`) {
			t.Errorf("GET %s: %d %s, want the first name Ann", path, res.StatusCode, got)
		}
	}
	edit := `{"id":"7","contactPersons":{"contactPerson":[{"id":"7000001","lastName":"Lee-Smith"}]}}`
	if res := send(t, "PUT", url+"/ws/v12/interaction/customer", session, edit); res.StatusCode != http.StatusNoContent {
		t.Fatalf("edit: %d %s", res.StatusCode, readAll(t, res))
	}
	if body["FirstName"] != "Ann" || body["LastName"] != "Lee-Smith" {
		t.Errorf("the edit made %v, want FirstName Ann (the name its transaction's schema knows) and LastName Lee-Smith", body)
	}
}
