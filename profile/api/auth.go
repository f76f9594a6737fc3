package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
)

// access is what a route needs from the caller's role.
type access uint8

const (
	accessRead   access = iota // GET: profiles, identify, metadata
	accessWrite                // profile and record writes
	accessSchema               // metadata writes
)

// roleAllows mirrors Genesys roles: administrators may do everything,
// agents read and write profiles, supervisors only read.
var roleAllows = map[string]map[access]bool{
	config.RoleAdministrator: {accessRead: true, accessWrite: true, accessSchema: true},
	config.RoleAgent:         {accessRead: true, accessWrite: true},
	config.RoleSupervisor:    {accessRead: true},
}

// Error codes of authentication.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeRoleForbidden   = "ROLE_FORBIDDEN"
	CodeForbidden       = "FORBIDDEN"         // the credential is not bound to the tenant named
	CodeThrottled       = "TOO_MANY_REQUESTS" // too many failed basic-auth attempts
)

// authenticator checks API keys and basic-auth users of the Genesys API.
type authenticator struct {
	enabled   bool
	keys      []apiKey
	users     map[string]config.GenesysUser
	passwords *httpin.Passwords
	throttle  *session.Logins
	verified  *verifiedCache
	log       zerolog.Logger
}

type apiKey struct {
	name    string
	digest  [sha256.Size]byte
	role    string
	tenants config.Tenants
}

// caller is who a request's credentials name.
type caller struct {
	name    string // API key or user name, for messages
	role    string
	tenants config.Tenants
}

func newAuthenticator(cfg config.GenesysAuth, failures session.FailureLog, log zerolog.Logger) *authenticator {
	a := &authenticator{
		log:      log,
		enabled:  cfg.Enabled,
		users:    map[string]config.GenesysUser{},
		throttle: session.NewLogins("genesys:", cfg.Throttle.MaxFailures, cfg.Throttle.PerAddress(), cfg.Throttle.Window, failures),
		verified: newVerifiedCache(),
	}
	// Unknown user names cost what known ones do (httpin.Passwords).
	cost := bcrypt.DefaultCost
	if !cfg.Enabled {
		cost = bcrypt.MinCost // never compared
	} else if len(cfg.Users) > 0 {
		if c, err := bcrypt.Cost([]byte(cfg.Users[0].PasswordHash)); err == nil {
			cost = c
		}
	}
	a.passwords, _ = httpin.NewPasswords(cost) // cost comes from a valid hash or is a constant
	for _, k := range cfg.APIKeys {
		var d [sha256.Size]byte
		if raw, err := hex.DecodeString(k.KeySHA256); err == nil && len(raw) == sha256.Size {
			copy(d[:], raw)
			a.keys = append(a.keys, apiKey{name: k.Name, digest: d, role: k.Role, tenants: k.Tenants})
		}
	}
	for _, u := range cfg.Users {
		a.users[u.Name] = u
	}
	return a
}

// identify returns the caller the credentials name; ok is false when they
// are missing or wrong. A basic-auth user blocked by the throttle is an
// error (429) before any password is compared.
func (a *authenticator) identify(c echo.Context) (who caller, ok bool, err error) {
	r := c.Request()
	// One credential, given once: with two, which one decides would be a
	// guess (a proxy that appends its own must not make the request act
	// as the first one's caller).
	if keys, auths := len(r.Header.Values("X-API-Key")), len(r.Header.Values(echo.HeaderAuthorization)); keys+auths > 1 {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="profiled", Bearer`)
		return caller{}, false, errs.E(errs.KindUnauthorized, CodeUnauthenticated, "give one credential: one X-API-Key or one Authorization header, not %d", keys+auths)
	}
	if key := apiKeyOf(r); key != "" {
		got := sha256.Sum256([]byte(key))
		for _, k := range a.keys { // no early exit: the time does not depend on which key matched
			if subtle.ConstantTimeCompare(got[:], k.digest[:]) == 1 {
				who, ok = caller{name: "api key " + strconv.Quote(k.name), role: k.role, tenants: k.tenants}, true
			}
		}
		return who, ok, nil
	}
	name, password, hasBasic := r.BasicAuth()
	if !hasBasic {
		return caller{}, false, nil
	}
	u, known := a.users[name]
	who = caller{name: "user " + strconv.Quote(name), role: u.Role, tenants: u.Tenants}
	// The throttle comes first, for cached credentials too: a blocked user
	// or address gets 429 whatever the password, so a guesser learns
	// nothing while blocked, not even from a cache hit.
	addr := httpin.ClientIP(c)
	wait, terr := a.throttle.RetryAfter(name, addr)
	if terr != nil { // not blocked: see session.Throttle for why
		// A warning of this request: when the store is down, the request's
		// own line is the error.
		a.log.Warn().Err(terr).Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Msg("genesys basic-auth throttle cannot read failures; not throttling")
	}
	if wait > 0 {
		a.log.Warn().Str("user", httpin.Shorten(name)).Str("addr", addr).Msg("genesys basic auth throttled")
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return caller{}, false, errs.E(errs.KindTooManyRequests, CodeThrottled, "too many failed logins from this client or for this user; retry later")
	}
	if a.verified.has(name, password) {
		return who, true, nil
	}
	var hash []byte
	if known {
		hash = []byte(u.PasswordHash)
	}
	// One check of the user's password at a time, after the failures of
	// those before it (session.Logins.Serialize); right passwords sent at
	// once find the first one's check in the cache.
	unlock := a.throttle.Serialize(name)
	defer unlock()
	if a.verified.has(name, password) {
		return who, true, nil
	}
	if wait, _ := a.throttle.RetryAfter(name, addr); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return caller{}, false, errs.E(errs.KindTooManyRequests, CodeThrottled, "too many failed logins from this client or for this user; retry later")
	}
	if !a.passwords.Match(hash, password) {
		if ferr := a.throttle.Fail(name, addr); ferr != nil {
			return caller{}, false, ferr // as the eGain login: no 401 that a right password would not get
		}
		return caller{}, false, nil
	}
	if rerr := a.throttle.Succeeded(name); rerr != nil {
		a.log.Warn().Err(rerr).Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Msg("genesys basic-auth throttle cannot clear failures")
	}
	a.verified.add(name, password)
	return who, true, nil
}

// apiKeyOf reads X-API-Key or "Authorization: Bearer <key>".
func apiKeyOf(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	return httpin.Bearer(r.Header)
}

// require is route middleware admitting callers whose role allows need and
// who may use the tenant the request names.
func (a *authenticator) require(need access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if !a.enabled {
			return next
		}
		return func(c echo.Context) error {
			who, ok, err := a.identify(c)
			if err != nil {
				return err
			}
			if !ok || who.role == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="profiled", Bearer`)
				return errs.E(errs.KindUnauthorized, CodeUnauthenticated, "valid credentials are required: an API key (X-API-Key or Bearer) or basic auth")
			}
			if !roleAllows[who.role][need] {
				return errs.E(errs.KindForbidden, CodeRoleForbidden, "role %s may not call this operation", who.role)
			}
			// The schema is every tenant's: an administrator bound to some
			// tenants would change, drop or probe the others' data with it.
			if need == accessSchema && len(who.tenants) > 0 {
				return errs.E(errs.KindForbidden, CodeRoleForbidden, "%s is bound to tenants %q, and the schema is every tenant's: schema changes need an administrator credential bound to no tenant", who.name, []string(who.tenants))
			}
			tenant, err := Tenant(c.Request())
			if err != nil {
				return err
			}
			if !who.tenants.Allow(tenant) {
				return errs.E(errs.KindForbidden, CodeForbidden, "%s may not use tenant %q", who.name, tenant)
			}
			profile.NameActor(c.Request().Context(), who.name)
			return next(c)
		}
	}
}

// verifiedCache remembers basic-auth credentials that passed bcrypt for a
// short while, so a client sending them on every request pays one bcrypt
// per minute instead of one per request. It is consulted after the
// throttle, never instead of it. Entries are keyed by an HMAC of
// name and password under a key made at start, so the cache holds nothing
// a password could be recovered from faster than from the bcrypt hashes.
type verifiedCache struct {
	mu      sync.Mutex
	key     []byte
	entries map[[sha256.Size]byte]time.Time // expiry
	now     func() time.Time
}

const (
	verifiedTTL     = time.Minute
	verifiedEntries = 4096 // beyond it the cache starts over: a flood of good credentials is rare
)

func newVerifiedCache() *verifiedCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return &verifiedCache{key: key, entries: map[[sha256.Size]byte]time.Time{}, now: time.Now}
}

func (v *verifiedCache) digest(name, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var d [sha256.Size]byte
	copy(d[:], m.Sum(nil))
	return d
}

func (v *verifiedCache) has(name, password string) bool {
	d := v.digest(name, password)
	v.mu.Lock()
	defer v.mu.Unlock()
	exp, ok := v.entries[d]
	return ok && v.now().Before(exp)
}

func (v *verifiedCache) add(name, password string) {
	d := v.digest(name, password)
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= verifiedEntries {
		clear(v.entries)
	}
	v.entries[d] = v.now().Add(verifiedTTL)
}

// RoleOrElse is middleware for the admin-level routes of data subjects'
// requests (export, erase, audit): a Genesys credential with role role
// that may use the request's tenant is admitted and named as the actor;
// every other request is left to fallback (the admin guard). With role
// empty, or Genesys auth off, fallback alone decides.
func (h *Handler) RoleOrElse(role string, fallback echo.MiddlewareFunc) echo.MiddlewareFunc {
	a := h.auth
	if role == "" || !a.enabled {
		return fallback
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		guarded := fallback(next)
		return func(c echo.Context) error {
			hdr := c.Request().Header
			if len(hdr.Values("X-API-Key")) == 1 && len(hdr.Values(echo.HeaderAuthorization)) == 1 && httpin.Bearer(hdr) != "" {
				// A key beside a bearer credential: the bearer is the admin
				// token's, which admits whatever the key is bound to (and a
				// wrong one is the admin guard's 401).
				return guarded(c)
			}
			who, ok, err := a.identify(c)
			if err != nil {
				return err
			}
			tenant, terr := httpin.Tenant(hdr)
			if ok && who.role == role && terr != nil {
				return terr // the credential is right, the header is not: say so, not 403
			}
			if ok && who.role == role && !who.tenants.Allow(tenant) {
				// The right credential for another tenant: 403, as on every
				// other route, not the admin guard's 401.
				return errs.E(errs.KindForbidden, CodeForbidden, "%s may not use tenant %q", who.name, tenant)
			}
			if !ok || who.role != role || terr != nil || !who.tenants.Allow(tenant) {
				return guarded(c) // the admin token travels as a bearer credential too
			}
			profile.NameActor(c.Request().Context(), who.name)
			return next(c)
		}
	}
}
