package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
)

// exceptionClass is the "exception" of every error body; the stable,
// finer-grained reason is in "code".
const exceptionClass = errs.GenesysException

// statusOf is the one table from error kinds to HTTP status for this API.
var statusOf = map[errs.Kind]int{
	errs.KindInvalid:            http.StatusBadRequest,
	errs.KindNotFound:           http.StatusNotFound,
	errs.KindConflict:           http.StatusConflict,
	errs.KindForbidden:          http.StatusForbidden,
	errs.KindUnauthorized:       http.StatusUnauthorized,
	errs.KindTooLarge:           http.StatusRequestEntityTooLarge,
	errs.KindUnavailable:        http.StatusServiceUnavailable,
	errs.KindPreconditionFailed: http.StatusPreconditionFailed,
	errs.KindTooManyRequests:    http.StatusTooManyRequests,
	errs.KindNotImplemented:     http.StatusNotImplemented,
	errs.KindInternal:           http.StatusInternalServerError,
	errs.KindCorrupt:            http.StatusInternalServerError,
	errs.KindUnsupportedMedia:   http.StatusUnsupportedMediaType,
	errs.KindTimeout:            http.StatusRequestTimeout,
}

// ErrorBody is the JSON error body of the Genesys-style API.
type ErrorBody struct {
	Message   string `json:"message"`
	Exception string `json:"exception"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
}

// codeOfStatus names errors Echo raises itself (no route, bad method, ...).
var codeOfStatus = map[int]string{
	http.StatusNotFound:                    "NOT_FOUND",
	http.StatusMethodNotAllowed:            "METHOD_NOT_ALLOWED",
	http.StatusRequestEntityTooLarge:       "BODY_TOO_LARGE",
	http.StatusUnsupportedMediaType:        "UNSUPPORTED_MEDIA_TYPE",
	http.StatusRequestHeaderFieldsTooLarge: "HEADERS_TOO_LARGE",
	http.StatusBadRequest:                  "BAD_REQUEST",
	http.StatusUnauthorized:                "UNAUTHORIZED",
	http.StatusForbidden:                   "FORBIDDEN",
	http.StatusServiceUnavailable:          "UNAVAILABLE",
}

// Describe returns the status and body for err. Errors that are neither
// *errs.Error nor *echo.HTTPError are internal and described generically so
// nothing leaks; the caller logs them.
func Describe(err error) (int, ErrorBody) {
	if e := errs.As(err); e != nil {
		status, ok := statusOf[e.Kind]
		if !ok || e.Kind == errs.KindInternal { // KindCorrupt's message names only the customer, or says the data file is damaged
			return http.StatusInternalServerError, ErrorBody{Message: "internal error", Exception: exceptionClass, Code: "INTERNAL"}
		}
		return status, ErrorBody{Message: e.Message, Exception: exceptionClass, Code: e.Code, Field: e.Field}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeOfStatus[he.Code]
		if !ok {
			code = "HTTP_" + http.StatusText(he.Code)
		}
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return he.Code, ErrorBody{Message: msg, Exception: exceptionClass, Code: code}
	}
	return http.StatusInternalServerError, ErrorBody{Message: "internal error", Exception: exceptionClass, Code: "INTERNAL"}
}
