package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
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
)

// authenticator checks API keys and basic-auth users of the Genesys API.
type authenticator struct {
	enabled   bool
	keys      []apiKey
	users     map[string]config.GenesysUser
	passwords *httpin.Passwords
}

type apiKey struct {
	digest [sha256.Size]byte
	role   string
}

func newAuthenticator(cfg config.GenesysAuth) *authenticator {
	a := &authenticator{enabled: cfg.Enabled, users: map[string]config.GenesysUser{}}
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
			a.keys = append(a.keys, apiKey{digest: d, role: k.Role})
		}
	}
	for _, u := range cfg.Users {
		a.users[u.Name] = u
	}
	return a
}

// role returns the caller's role, or "" when the credentials are missing or wrong.
func (a *authenticator) role(r *http.Request) string {
	if key := apiKeyOf(r); key != "" {
		got := sha256.Sum256([]byte(key))
		role := ""
		for _, k := range a.keys { // no early exit: the time does not depend on which key matched
			if subtle.ConstantTimeCompare(got[:], k.digest[:]) == 1 {
				role = k.role
			}
		}
		return role
	}
	name, password, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	u, known := a.users[name]
	var hash []byte
	if known {
		hash = []byte(u.PasswordHash)
	}
	if !a.passwords.Match(hash, password) {
		return ""
	}
	return u.Role
}

// apiKeyOf reads X-API-Key or "Authorization: Bearer <key>".
func apiKeyOf(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	return httpin.Bearer(r.Header)
}

// require is route middleware admitting callers whose role allows need.
func (a *authenticator) require(need access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if !a.enabled {
			return next
		}
		return func(c echo.Context) error {
			role := a.role(c.Request())
			if role == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="profiled", Bearer`)
				return errs.E(errs.KindUnauthorized, CodeUnauthenticated, "valid credentials are required: an API key (X-API-Key or Bearer) or basic auth")
			}
			if !roleAllows[role][need] {
				return errs.E(errs.KindForbidden, CodeRoleForbidden, "role %s may not call this operation", role)
			}
			return next(c)
		}
	}
}
