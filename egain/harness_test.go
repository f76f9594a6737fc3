package egain

import (
	"context"
	"encoding/json"
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
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/api"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/postgres/postgrestest"
	"github.com/contactcenter/profiled/store/storetest"
	"github.com/contactcenter/profiled/store/transfer"
)

const testPassword = "secret"

// testHash is a cheap bcrypt hash of testPassword, shared by test users.
var testHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// fakeClock drives session expiry and the login throttle.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond) // strictly increasing, so "oldest" is well defined
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a real server: bbolt store in a temp dir, both APIs on one Echo.
type harness struct {
	t      testing.TB
	all    *config.Config
	cfg    config.EGain
	dbPath string
	// storeURL is the PostgreSQL database when the suite runs there
	// (PROFILED_TEST_STORE=postgres; TestMain runs both stores).
	storeURL string
	db       storetest.Store
	svc      *profile.Service
	f        *Facade
	srv      *httptest.Server
	clock    *fakeClock
	// failures, when set before start, is the facade's failure log
	// (nil: NewFacade's own, in memory).
	failures session.FailureLog
	// lookupLimit, when set, replaces the facade's search lookup limit
	// (applied on start, before the server runs).
	lookupLimit int
}

// testEGainConfig is config.yaml's egain section with test users: agent
// may do everything, viewer nothing.
func testEGainConfig(t testing.TB) (*config.Config, config.EGain) {
	t.Helper()
	cfg, err := config.Load("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eg := cfg.EGain
	eg.Users = []config.EGainUser{
		{ID: "2001", Name: "agent", PasswordHash: testHash(), HomeDepartment: "Service", ForeignDepartments: []string{"Sales"},
			Permissions: []string{config.PermViewAgentConsole, config.PermCreateCustomer, config.PermEditCustomer}},
		{Name: "viewer", PasswordHash: testHash(), HomeDepartment: "Service"},
		{Name: "admin", PasswordHash: testHash(), HomeDepartment: "Service", ForeignDepartments: []string{"*"},
			Permissions: []string{config.PermViewAgentConsole, config.PermCreateCustomer, config.PermEditCustomer}},
	}
	eg.LoginThrottle = config.LoginThrottle{MaxFailures: 3, MaxFailuresPerAddress: 7, Window: time.Minute}
	return cfg, eg
}

func newHarness(t testing.TB, adjust ...func(*config.EGain)) *harness {
	t.Helper()
	h := unstartedHarness(t, adjust...)
	h.start()
	t.Cleanup(h.stop)
	return h
}

func unstartedHarness(t testing.TB, adjust ...func(*config.EGain)) *harness {
	t.Helper()
	all, eg := testEGainConfig(t)
	for _, a := range adjust {
		a(&eg)
	}
	h := &harness{t: t, all: all, cfg: eg, dbPath: filepath.Join(t.TempDir(), "profiles.db"), clock: &fakeClock{t: time.Now()}}
	if os.Getenv(pgtest.EnvStore) == "postgres" {
		h.storeURL = postgrestest.URL(t)
	}
	return h
}

// newHarnessFrom is newHarness over the data of the bbolt file seed: a copy
// of the file, or its content copied into PostgreSQL when the suite runs
// there.
func newHarnessFrom(t testing.TB, seed string, adjust ...func(*config.EGain)) *harness {
	t.Helper()
	h := unstartedHarness(t, adjust...)
	data, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.dbPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if h.storeURL != "" {
		src, err := store.Open(h.dbPath, store.Options{OpenTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		dst, err := postgres.Open(t.Context(), h.storeURL, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		if _, err := transfer.Copy(t.Context(), src, dst, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start() {
	t := h.t
	t.Helper()
	var db storetest.Store
	var err error
	if h.storeURL != "" {
		db, err = postgres.Open(context.Background(), h.storeURL, postgres.Options{MaxConns: 4})
	} else {
		db, err = store.Open(h.dbPath, store.Options{OpenTimeout: time.Second})
	}
	if err != nil {
		t.Fatal(err)
	}
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource("../config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h.db, h.svc = db, profile.NewService(db, registry)
	h.f, err = NewFacade(h.svc, db, h.failures, h.cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	h.f.sessions.now = h.clock.Now
	h.f.throttle.SetClock(h.clock.Now)
	if h.lookupLimit > 0 {
		h.f.lookupLimit = h.lookupLimit
	}
	e := echo.New()
	e.Use(httpin.UnescapeParams) // as the server does
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if IsFacadePath(c.Request().URL.Path) {
			RenderError(c, err)
			return
		}
		status, body := api.Describe(err)
		_ = c.JSON(status, body)
	}
	h.f.Register(e)
	api.NewHandler(h.svc, config.GenesysAuth{}, nil, zerolog.Nop()).Register(e.Group(""))
	h.srv = httptest.NewServer(e)
}

// replica starts a second facade and server over h's store, with its own
// schema registry and profile service, as another replica sharing the
// store would run: they share nothing in memory but h.failures (and the
// clock). It stops before h.
func (h *harness) replica() *harness {
	t := h.t
	t.Helper()
	registry, err := profile.LoadRegistry(context.Background(), h.db, config.SchemaSource("../config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := &harness{t: t, all: h.all, cfg: h.cfg, dbPath: h.dbPath, storeURL: h.storeURL, db: h.db, clock: h.clock, failures: h.failures}
	r.svc = profile.NewService(h.db, registry)
	if r.f, err = NewFacade(r.svc, h.db, h.failures, h.cfg, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	r.f.sessions.now = h.clock.Now
	r.f.throttle.SetClock(h.clock.Now)
	e := echo.New()
	e.Use(httpin.UnescapeParams)
	e.HTTPErrorHandler = func(err error, c echo.Context) { RenderError(c, err) }
	r.f.Register(e)
	r.srv = httptest.NewServer(e)
	t.Cleanup(r.srv.Close) // runs before h.stop, registered earlier
	return r
}

func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	h.srv.Close()
	if err := h.db.Close(); err != nil {
		h.t.Error(err)
	}
	h.srv = nil
}

// restart closes the server and store and opens them again on the same file.
// view reads customer num with every attribute, as JSON.
func (h *harness) view(t testing.TB, session, num string) map[string]any {
	t.Helper()
	var view map[string]any
	res := h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, session, "Accept", "application/json").want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(res.Body), &view); err != nil {
		t.Fatal(err)
	}
	return customerAt(view, 0)
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends a request; hdr holds header name/value pairs.
func (h *harness) do(method, path, body string, hdr ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1]) // a name twice is sent twice
	}
	res, err := testClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}

func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// wantError checks a WSError answer: status, code, and a body in format.
func (r response) wantError(t *testing.T, status int, code string, format Format) {
	t.Helper()
	r.want(t, status)
	if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, format.ContentType()) {
		t.Errorf("Content-Type = %q, want %s", got, format.ContentType())
	}
	var got string
	if format == FormatJSON {
		var e struct{ Code, DeveloperMessage string }
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil || e.DeveloperMessage == "" {
			t.Fatalf("not a JSON WSError (%v): %s", err, r.Body)
		}
		got = e.Code
	} else {
		m := regexp.MustCompile(`^<\?xml[^>]*\?><error xmlns="` + regexp.QuoteMeta(NSCommon) + `"><code>([^<]*)</code><developerMessage>[^<]+</developerMessage></error>$`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("not an XML WSError: %s", r.Body)
		}
		got = m[1]
	}
	if got != code {
		t.Errorf("code = %s, want %s (%s)", got, code, r.Body)
	}
}

func (h *harness) login(name string) string {
	h.t.Helper()
	res := h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"`+name+`","password":"`+testPassword+`"}`,
		"Content-Type", "application/json").want(h.t, http.StatusNoContent)
	id := res.Header.Get(SessionHeader)
	if !wellFormedID(id) {
		h.t.Fatalf("session id %q is not GUID-like", id)
	}
	return id
}

var locationPattern = regexp.MustCompile(`^/system/ws/v12/interaction/customer/([0-9]+)$`)

// create posts a customer and returns its eGain id.
func (h *harness) create(session, body string, hdr ...string) string {
	h.t.Helper()
	ct := "application/json"
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		ct = "application/xml"
	}
	hdr = append([]string{"Content-Type", ct, SessionHeader, session}, hdr...)
	res := h.do("POST", "/ws/v12/interaction/customer", body, hdr...).want(h.t, http.StatusCreated)
	m := locationPattern.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		h.t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if got := res.Header.Get(SessionHeader); got != session {
		h.t.Errorf("%s = %q, want the session %q", SessionHeader, got, session)
	}
	return m[1]
}

// customerID maps an eGain id to the Genesys customer_id.
func (h *harness) customerID(tenant, num string) string {
	h.t.Helper()
	n, _ := strconv.ParseUint(num, 10, 64)
	id, err := h.svc.IDByNum(h.t.Context(), tenant, n)
	if err != nil || id == "" {
		h.t.Fatalf("IDByNum(%s) = %q, %v", num, id, err)
	}
	return id
}

// storedProfile reads customer num, with the records of exts, as the
// store holds it.
func (h *harness) storedProfile(t testing.TB, num uint64, exts ...string) *profile.Profile {
	t.Helper()
	var found []*profile.Profile
	err := h.svc.Read(t.Context(), "", func(r profile.Reader) error {
		ids, err := r.IDsByNum([]uint64{num})
		if err == nil {
			found, err = r.GetMany(ids, exts)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("customer %d: %v, %d found", num, err, len(found))
	}
	return found[0]
}

func (h *harness) profileCount() int {
	h.t.Helper()
	n, err := h.db.ProfileCount()
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// jsonCustomers decodes a JSON collection loosely, for assertions.
type jsonCustomers struct {
	Customer []jsonCustomer `json:"customer"`
}

type jsonCustomer struct {
	ID             string `json:"id"`
	CustomerName   string `json:"customerName"`
	ContactPersons struct {
		ContactPerson []struct {
			ID            string `json:"id"`
			FirstName     string `json:"firstName"`
			LastName      string `json:"lastName"`
			DateOfBirth   string `json:"dateOfBirth"`
			ContactPoints struct {
				ContactPoint []struct {
					ID   string `json:"id"`
					Type struct {
						Value string `json:"value"`
						Email *struct {
							EmailAddress string `json:"emailAddress"`
						} `json:"email"`
						Phone *struct {
							PhoneNo string `json:"phoneNo"`
						} `json:"phone"`
					} `json:"type"`
				} `json:"contactPoint"`
			} `json:"contactPoints"`
		} `json:"contactPerson"`
	} `json:"contactPersons"`
}

// getJSON reads customers by eGain ids as JSON.
func (h *harness) getJSON(session, ids string, hdr ...string) jsonCustomers {
	h.t.Helper()
	hdr = append([]string{SessionHeader, session, "Accept", "application/json"}, hdr...)
	res := h.do("GET", "/ws/v12/interaction/customer/"+ids+"?$attribute=all", "", hdr...).want(h.t, http.StatusOK)
	var out jsonCustomers
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		h.t.Fatalf("%v: %s", err, res.Body)
	}
	return out
}

// ids lists the customer ids of a JSON search answer (none for 204).
func ids(t *testing.T, r response) []string {
	t.Helper()
	if r.Status == http.StatusNoContent {
		return nil
	}
	r.want(t, http.StatusOK)
	var out jsonCustomers
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	var list []string
	for _, c := range out.Customer {
		list = append(list, c.ID)
	}
	return list
}

// individual is a JSON create body for one person with optional points.
func individual(first, last, email, phone string, custom ...string) string {
	var points []string
	if email != "" {
		points = append(points, `{"type":{"value":"email","email":{"emailAddress":"`+email+`"}}}`)
	}
	if phone != "" {
		points = append(points, `{"type":{"value":"phone","phone":{"type":{"value":"office"},"phoneNo":"`+phone+`"}}}`)
	}
	var attrs []string
	for i := 0; i+1 < len(custom); i += 2 {
		attrs = append(attrs, `{"attribName":"`+custom[i]+`","attribValues":{"attribValue":[{"value":"`+custom[i+1]+`"}]}}`)
	}
	body := `{"type":{"value":"individual"},`
	if len(attrs) > 0 {
		body += `"customAttributes":{"customAttribute":[` + strings.Join(attrs, ",") + `]},`
	}
	return body + `"contactPersons":{"contactPerson":[{"firstName":"` + first + `","lastName":"` + last +
		`","contactPoints":{"contactPoint":[` + strings.Join(points, ",") + `]}}]}}`
}

// TestMain runs the suite on both stores (see pgtest.RunOnBothStores).
func TestMain(m *testing.M) {
	code := pgtest.RunOnBothStores(m)
	pgtest.DropShared()
	os.Exit(code)
}

// testClient is the tests' HTTP client, with a transport of its own:
// httptest.Server.Close closes the idle connections of
// http.DefaultTransport, and a request of a parallel test that had just
// taken one failed ("CloseIdleConnections called").
var testClient = &http.Client{Transport: &http.Transport{}}
