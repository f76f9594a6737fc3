package egain

import (
	"errors"
	"testing"

	"github.com/contactcenter/profiled/errs"
)

func TestToWSError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"malformed", errs.E(errs.KindInvalid, CodeMalformedBody, "bad"), 400, "400-101", "bad"},
		{"unknown parameter", errs.Invalid(CodeUnknownParameter, "x", "no x"), 400, "400-102", "no x"},
		{"missing element", errs.Invalid(CodeMissingElement, "id", "id is required"), 400, "400-104", "id is required"},
		{"too long", errs.Invalid(CodeValueTooLong, "pin", "long"), 400, "400-105", "long"},
		{"unknown element", errs.Invalid(CodeUnknownElement, "x", "unknown"), 400, "400-106", "unknown"},
		{"session", errs.E(errs.KindUnauthorized, CodeInvalidSession, "expired"), 401, "401-101", "expired"},
		{"too many sessions", errs.E(errs.KindUnauthorized, CodeTooManySessions, "six"), 401, "401-102", "six"},
		{"language", errs.Invalid(CodeUnsupportedLanguage, "Accept-Language", "xx"), 406, "406-101", "xx"},
		{"accept", errs.Invalid(CodeNotAcceptable, "Accept", "html"), 406, "406-102", "html"},
		{"content type", errs.Invalid(CodeUnsupportedMediaType, "Content-Type", "csv"), 415, "415-101", "csv"},
		{"too large", errs.E(errs.KindTooLarge, CodeBodyTooLarge, "big"), 413, "413-101", "big"},
		{"foreign invalid code", errs.Invalid("UNKNOWN_ATTRIBUTE", "x", "schema says no"), 400, "400-103", "schema says no"},
		{"conflict is 400", errs.Conflict("DUPLICATE_EMAIL", "taken"), 400, "400-103", "taken"},
		{"not found", errs.NotFound("PROFILE_NOT_FOUND", "gone"), 404, "404-101", "gone"},
		{"code with other kind", errs.E(errs.KindForbidden, CodeMalformedBody, "denied"), 403, "403-101", "denied"},
		{"throttled", errs.E(errs.KindTooManyRequests, CodeThrottled, "slow down"), 429, "429-101", "slow down"},
		{"unavailable", errs.E(errs.KindUnavailable, "STORE_DOWN", "later"), 503, "503-101", "later"},
		{"internal hides message", errs.E(errs.KindInternal, "BUG", "nil map at store.go:12"), 500, "500-101", internalMessage},
		{"plain error hides message", errors.New("secret path"), 500, "500-101", internalMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToWSError(tt.err)
			want := WSError{Status: tt.wantStatus, Code: tt.wantCode, DeveloperMessage: tt.wantMsg}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestIsFacadePath: the facade's prefixes, in any ASCII case, and nothing
// that merely starts like them.
func TestIsFacadePath(t *testing.T) {
	for path, want := range map[string]bool{
		"/ws/v12/interaction/customer":       true,
		"/WS/V12/interaction/customer/1":     true,
		"/System/WS/v12/authentication/user": true,
		"/ws/v12":                            true,
		"/ws/v120/interaction":               false,
		"/profiles/ws":                       false,
		"/ws":                                false,
	} {
		if got := IsFacadePath(path); got != want {
			t.Errorf("IsFacadePath(%q) = %v, want %v", path, got, want)
		}
	}
}
