package ops

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/labstack/echo/v4"
)

// AdminGuard is middleware for /admin/... (backup, reload).
//
// With a token configured it requires "Authorization: Bearer <token>", else
// 401. Without one it admits only loopback peers, else 403, judged by the
// connection's own remote address: X-Forwarded-For and X-Real-IP are written
// by the client and would let anyone claim to be 127.0.0.1. Note that in a
// container, requests through a published port arrive from the bridge
// gateway, not loopback, so there a token is required.
//
// proxies are server.trusted_proxies: a loopback peer that is one of them
// (a reverse proxy on the same host) and forwards for someone
// (X-Forwarded-For) is that someone, not the operator, and is refused.
func AdminGuard(token string, proxies ...*net.IPNet) echo.MiddlewareFunc {
	// Comparing digests keeps the comparison constant-time in the token's
	// length too, which subtle.ConstantTimeCompare alone does not.
	want := sha256.Sum256([]byte(token))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if token == "" {
				if !loopback(c.Request().RemoteAddr) {
					return adminError(c, http.StatusForbidden, "FORBIDDEN",
						"admin endpoints answer only loopback clients when no admin token is configured")
				}
				if len(c.Request().Header.Values(echo.HeaderXForwardedFor)) > 0 && proxied(c.Request().RemoteAddr, proxies) {
					return adminError(c, http.StatusForbidden, "FORBIDDEN",
						"admin endpoints answer no client forwarded by a trusted proxy when no admin token is configured")
				}
				if fromPage(c.Request()) {
					return adminError(c, http.StatusForbidden, "FORBIDDEN",
						"admin endpoints answer no browser page when no admin token is configured")
				}
				if !localName(c.Request().Host) {
					return adminError(c, http.StatusForbidden, "FORBIDDEN",
						"without an admin token, admin endpoints answer requests for localhost, a loopback address or this machine's own name only")
				}
				return next(c)
			}
			got := sha256.Sum256([]byte(httpin.Bearer(c.Request().Header)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
				return adminError(c, http.StatusUnauthorized, "UNAUTHORIZED", "a valid admin bearer token is required")
			}
			return next(c)
		}
	}
}

// fromPage reports whether a browser sent r on behalf of a page: browsers
// mark every cross-origin request, and every same-origin one but a GET or
// HEAD, with Origin, and (current ones) every request with Sec-Fetch-Site,
// "none" only for what the user typed or bookmarked. A browser on the host
// is a loopback peer like the operator's curl, but a page of any site can
// make it send a simple POST (no preflight), and a page whose name rebinds
// to 127.0.0.1 reads the answers as its own.
func fromPage(r *http.Request) bool {
	if r.Header.Get(echo.HeaderOrigin) != "" {
		return true
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site != "" && site != "none"
}

// localName reports whether host (a request's Host) names this machine
// as its own tools do: an IP address, localhost, or the machine's own
// name (which Debian maps to 127.0.1.1). A page of a site whose name
// rebinds to 127.0.0.1 sends its own name: an older browser sends no
// Sec-Fetch-Site for a same-origin GET, and it could read a backup.
func localName(host string) bool {
	if host == "" { // HTTP/1.0 without Host: no browser sends that
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	own, err := os.Hostname()
	return err == nil && own != "" && host == strings.ToLower(own)
}

// proxied reports whether the peer is one of proxies.
func proxied(remoteAddr string, proxies []*net.IPNet) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	return httpin.InNets(net.ParseIP(host), proxies)
}

func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// adminError answers in the {"message","exception","code"} shape of the
// Genesys-style errors. It writes the response itself so that the guard's
// answer does not depend on how the HTTPErrorHandler renders errors.
func adminError(c echo.Context, status int, code, message string) error {
	return c.JSON(status, map[string]string{"message": message, "exception": errs.GenesysException, "code": code})
}
