package ops

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/labstack/echo/v4"
)

// requestIDKey is the echo.Context key under which RequestID stores the id.
const requestIDKey = "ops.request_id"

// maxRequestIDLen bounds a client-supplied id so it cannot bloat log lines.
const maxRequestIDLen = 64

// RequestID is middleware that gives every request an id: the caller's
// X-Request-Id when it is a sane token (up to 64 characters of
// [A-Za-z0-9._-]), otherwise 16 random bytes in hex. The id is echoed in the
// X-Request-Id response header and kept in the context for RequestIDFrom.
//
// Accepting the caller's id lets a contact-center desktop correlate its own
// logs with ours; the check keeps log injection and oversized values out.
func RequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.Set(requestIDKey, id)
		return next(c)
	}
}

// RequestIDFrom returns the id RequestID assigned to the request, or "" when
// the middleware did not run.
func RequestIDFrom(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '.', ch == '_', ch == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
