package egain

// Routes, each under /ws/v12 and /system/ws/v12:
//
//	POST   /authentication/user/login[?forceLogin=yes]  open a session (204, X-egain-session)
//	DELETE /authentication/user/logout                  close it (204)
//	POST   /interaction/customer                        create a customer (201, Location)
//	PUT    /interaction/customer                        edit a customer, id in the body (204)
//	GET    /interaction/customer?criteria               search (200, or 204 when nothing matches)
//	GET    /interaction/customer/:ids                   read 1..75 customers (200, 404 when none exists)

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Header names of the facade.
const (
	SessionHeader = "X-egain-session"
	TenantHeader  = httpin.TenantHeader // the same tenant header as the Genesys API
)

// Route prefixes: the documented one and the /system context root every
// emitted href uses (spec §1).
var prefixes = []string{"/ws/v12", "/system/ws/v12"}

// Customers is what the facade needs of the profile domain
// (*profile.Service): eGain customers are profiles found by numeric id,
// identification keys and creation time.
type Customers interface {
	Schema() *schema.Compiled
	Create(ctx context.Context, tenant string, body map[string]any, opts profile.CreateOptions) (*profile.Profile, error)
	EditByNum(ctx context.Context, tenant string, num uint64, exts func(*schema.Compiled) []string, edit func(c *schema.Compiled, p *profile.Profile) (map[string]any, error), opts profile.ReplaceOptions) (*profile.Profile, error)
	// Read runs a request's lookups and loads in one snapshot.
	Read(ctx context.Context, tenant string, fn func(profile.Reader) error) error
}

// Facade serves the eGain customer API over the profile domain.
type Facade struct {
	profiles  Customers
	sessions  *sessions
	throttle  *session.Logins
	users     map[string]*user  // by lower-cased name
	passwords *httpin.Passwords // unknown users cost what known ones do
	cfg       config.EGain
	dataGate  func(echo.Context) error // GateData's; nil: none
	mapper    mapper                   // as configured; mappingFor resolves it against a schema
	mapped    atomic.Pointer[mappedSchema]
	validate  Options
	log       zerolog.Logger
	// lookupLimit caps each search lookup (profile.MaxIdentifyResults;
	// tests lower it).
	lookupLimit int
}

// user is a configured agent.
type user struct {
	name        string
	id          string // egain.users[].id, optional: createdBy of what the user creates
	hash        []byte
	permissions []string
	departments []string // home and foreign; "*" is every department
	tenants     config.Tenants
}

func (u *user) can(permission string) bool { return slices.Contains(u.permissions, permission) }

func (u *user) inDepartment(name string) bool {
	// A user without a home department ("" in departments) is in no
	// department by it; a customer shows no department name only when its
	// stored id is not configured, which only "*" reaches.
	return slices.Contains(u.departments, "*") || name != "" && slices.ContainsFunc(u.departments, func(d string) bool { return strings.EqualFold(d, name) })
}

// NewFacade checks cfg (the mapping against the live schema, users) and
// deletes the expired sessions of sessionStore. Sessions live in
// sessionStore only, so facades over one store (replicas) share them;
// failures is where the login throttle counts failed logins (nil: this
// process's memory, right when no other process shares sessionStore).
func NewFacade(profiles Customers, sessionStore session.Store, failures session.FailureLog, cfg config.EGain, log zerolog.Logger) (*Facade, error) {
	if cfg.SessionIdleTimeout <= 0 || cfg.MaxSessionsPerUser <= 0 {
		return nil, errors.New("egain: session_idle_timeout and max_sessions_per_user must be positive")
	}
	if err := CheckMapping(cfg.Mapping, profiles.Schema()); err != nil {
		return nil, err
	}
	f := &Facade{
		profiles: profiles,
		throttle: session.NewLogins("", cfg.LoginThrottle.MaxFailures, cfg.LoginThrottle.PerAddress(), cfg.LoginThrottle.Window, failures),
		users:    map[string]*user{},
		cfg:      cfg,
		mapper:   mapper{EGainMapping: cfg.Mapping, defaultDepartment: cfg.DefaultDepartment, departments: cfg.Departments},
		validate: Options{
			Departmentalization: cfg.Departmentalization,
			CustomAttributes: CustomAttributeNames{
				Customer:      cfg.CustomAttributes.Customer,
				ContactPerson: cfg.CustomAttributes.ContactPerson,
				ContactPoint:  cfg.CustomAttributes.ContactPoint,
			},
		},
		log:         log,
		lookupLimit: profile.MaxIdentifyResults,
	}
	cost := bcrypt.DefaultCost
	for i, u := range cfg.Users {
		c, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			return nil, fmt.Errorf("egain: user %q: password_hash: %w", u.Name, err)
		}
		if i == 0 {
			cost = c
		}
		if u.ID != "" {
			if f.validate.UserIDs == nil {
				f.validate.UserIDs = map[string]bool{}
			}
			f.validate.UserIDs[u.ID] = true
		}
		f.users[strings.ToLower(u.Name)] = &user{
			name: u.Name, id: u.ID, hash: []byte(u.PasswordHash), permissions: u.Permissions,
			departments: append([]string{u.HomeDepartment}, u.ForeignDepartments...),
			tenants:     u.Tenants,
		}
	}
	passwords, err := httpin.NewPasswords(cost)
	if err != nil {
		return nil, fmt.Errorf("egain: %w", err)
	}
	f.passwords = passwords
	if f.sessions, err = newSessions(sessionStore, cfg.SessionIdleTimeout, cfg.MaxSessionsPerUser); err != nil {
		return nil, fmt.Errorf("egain: deleting expired sessions: %w", err)
	}
	return f, nil
}

// mappedSchema is the mapper resolved against one schema.
type mappedSchema struct {
	schema *schema.Compiled
	mapper mapper
}

// mapping returns the mapper resolved against the live schema.
func (f *Facade) mapping() mapper { return f.mappingFor(f.profiles.Schema()) }

// mappingFor returns the mapper resolved against schema c: the live one,
// or the one a read or edit runs under, whose names what it loads is in
// while a reload lands. It is worked out once per schema version.
func (f *Facade) mappingFor(c *schema.Compiled) mapper {
	if m := f.mapped.Load(); m != nil && m.schema == c {
		return m.mapper
	}
	m := &mappedSchema{schema: c, mapper: f.mapper.resolved(c)}
	f.mapped.Store(m)
	return m.mapper
}

// CheckSchema reports whether schema c still has everything the mapping
// needs; the server refuses schema reloads that fail it.
func (f *Facade) CheckSchema(c *schema.Compiled) error { return CheckMapping(f.cfg.Mapping, c) }

// Register mounts every route under both prefixes. e must decode path
// parameters with httpin.UnescapeParams, once (as the server does for
// every route): the id list of a get by ids arrives as 7%2C8.
func (f *Facade) Register(e *echo.Echo) {
	for _, p := range prefixes {
		e.POST(p+"/authentication/user/login", f.login)
		e.DELETE(p+"/authentication/user/logout", f.logout)
		e.POST(p+"/interaction/customer", f.create)
		e.PUT(p+"/interaction/customer", f.edit)
		e.GET(p+"/interaction/customer", f.search)
		e.GET(p+"/interaction/customer/:ids", f.getByIDs)
		e.GET(p+"/interaction/customer/attributes", f.attributes) // a static route wins over :ids
		e.GET(p+"/interaction/case", f.caseSearch)
	}
}

// GateData has every customer and case request pass gate once its session
// is authenticated, so that a refusal the gate makes (the server's
// maintenance mode) tells nothing to a caller without a session.
func (f *Facade) GateData(gate func(echo.Context) error) { f.dataGate = gate }

// OpenSessions is the number of live sessions in the store (those of every
// process sharing it), for a metric.
func (f *Facade) OpenSessions() (int, error) { return f.sessions.count() }

// IsFacadePath reports whether path belongs to the facade, whose errors
// must be WSError bodies. The prefix is matched ignoring ASCII case: routes
// do not (/WS/V12/... is 404), but the 404 is the facade's.
func IsFacadePath(path string) bool {
	for _, p := range prefixes {
		if len(path) >= len(p) && schema.SameName(path[:len(p)], p) && (len(path) == len(p) || path[len(p)] == '/') {
			return true
		}
	}
	return false
}

// formatKey holds the negotiated response format in the echo context.
const formatKey = "egain.format"

// RenderError writes err as a WSError in the negotiated format (XML when
// the failure is the Accept header itself). Echo's own errors (no route,
// method not allowed, body too large) are mapped by status. It does not
// log: the server's error handler logs internal errors.
func RenderError(c echo.Context, err error) {
	if c.Response().Committed {
		return
	}
	format, ok := c.Get(formatKey).(Format)
	if !ok {
		format, _ = ResponseFormat(listHeader(c.Request().Header, echo.HeaderAccept))
	}
	ws := describe(err)
	c.Response().Header().Set(echo.HeaderContentType, format.ContentType())
	c.Response().WriteHeader(ws.Status)
	if c.Request().Method != http.MethodHead {
		_ = WriteError(c.Response(), format, ws) // the client is gone if this fails
	}
}

// describe maps err to its WSError, including Echo's HTTP errors.
func describe(err error) WSError {
	var he *echo.HTTPError
	if errs.As(err) == nil && errors.As(err, &he) && he.Code < http.StatusInternalServerError {
		msg, ok := he.Message.(string)
		if !ok {
			msg = http.StatusText(he.Code)
		}
		return WSError{Status: he.Code, Code: fmt.Sprintf("%d-101", he.Code), DeveloperMessage: msg}
	}
	return ToWSError(err)
}

// request is an authenticated call.
type request struct {
	format  Format
	user    *user
	session string
	tenant  string
}

// negotiate checks Accept and Accept-Language (406) and remembers the
// response format for RenderError.
func negotiate(c echo.Context) (Format, error) {
	h := c.Request().Header
	format, err := ResponseFormat(listHeader(h, echo.HeaderAccept))
	if err != nil {
		return format, err
	}
	c.Set(formatKey, format)
	if _, err := NegotiateLanguage(listHeader(h, "Accept-Language")); err != nil {
		return format, err
	}
	return format, nil
}

// listHeader is the list header name as one value: its field lines joined
// by commas, which means the same list (RFC 9110 §5.3).
func listHeader(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// sessionID is the request's session header; "" (no session) when it is
// given more than once: a proxy that appends headers must not make a
// request act as whichever user's session comes first.
func sessionID(r *http.Request) string {
	if ids := r.Header.Values(SessionHeader); len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// authenticate runs the checks of every customer call in the documented
// order: 406, 401, 403, then the tenant header (400).
func (f *Facade) authenticate(c echo.Context, permission string) (*request, error) {
	format, err := negotiate(c)
	if err != nil {
		return nil, err
	}
	id := sessionID(c.Request())
	name, err := f.sessions.touch(id)
	if err != nil {
		return nil, err
	}
	u := f.users[strings.ToLower(name)]
	if u == nil { // removed from the config since the login
		return nil, invalidSession()
	}
	if !u.can(permission) {
		return nil, errs.E(errs.KindForbidden, CodeForbidden, "user %q lacks the %s permission", u.name, permission)
	}
	tenant, err := httpin.Tenant(c.Request().Header)
	if err != nil {
		return nil, err
	}
	if !u.tenants.Allow(tenant) { // before any read: the answer says nothing about the tenant's data
		return nil, errs.E(errs.KindForbidden, CodeForbidden, "user %q may not use tenant %q", u.name, tenant)
	}
	profile.NameActor(c.Request().Context(), "egain user "+strconv.Quote(u.name))
	if f.dataGate != nil {
		if err := f.dataGate(c); err != nil {
			return nil, err
		}
	}
	return &request{format: format, user: u, session: id, tenant: tenant}, nil
}

// mayAccess applies departmentalization: with it off every customer is
// accessible.
func (f *Facade) mayAccess(r *request, c *Customer) bool {
	return !f.cfg.Departmentalization || r.user.inDepartment(val(c.Department, func(d *Department) *string { return d.Name }))
}

func departmentDenied(c *Customer) *errs.Error {
	if d := c.Department; d != nil && str(d.Name) == "" && str(d.ID) != "" { // not configured
		return errs.E(errs.KindForbidden, CodeForbidden, "no access to department id %s", str(d.ID))
	}
	return errs.E(errs.KindForbidden, CodeForbidden, "no access to department %q", val(c.Department, func(d *Department) *string { return d.Name }))
}

// requestBody reads the request body: over the server's body limit is 413
// and a coded body 415, rather than a malformed body.
func requestBody(c echo.Context) (io.Reader, error) {
	data, err := httpin.ReadBody(c.Request(), CodeMalformedBody)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(data), nil
}

// requestFormat reads the body's format, and the charset named, from
// Content-Type (415).
func requestFormat(c echo.Context) (Format, string, error) {
	return RequestFormat(c.Request().Header.Get(echo.HeaderContentType))
}

// noContent answers a successful call without a body.
func noContent(c echo.Context, format Format, session string, status int) error {
	h := c.Response().Header()
	h.Set(SessionHeader, session)
	h.Set(echo.HeaderContentType, format.ContentType())
	return c.NoContent(status)
}
