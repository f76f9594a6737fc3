// Package errs defines the one error type every layer of profiled returns.
//
// Domain, schema and store code return *Error values with a Kind; each HTTP
// API maps Kind to a status code in one table and renders the error in its own
// format. Errors that are not *Error are internal: the APIs log them and show
// the client only "internal error", so nothing leaks.
package errs

import (
	"errors"
	"fmt"
)

// GenesysException is the "exception" of every Genesys-style error body
// (the profile API's and the admin endpoints'): the class name UCS uses
// (spec §6.3), kept so clients that match on it keep working.
const GenesysException = "com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource"

// Kind classifies an error. The APIs map kinds to HTTP status codes.
type Kind uint8

const (
	KindInternal           Kind = iota // a bug or an unexpected fault
	KindInvalid                        // the request is malformed or breaks a schema rule
	KindNotFound                       // the addressed resource does not exist
	KindConflict                       // the request clashes with stored data (ids, unique keys)
	KindForbidden                      // the operation is not allowed in this state or for this caller
	KindUnauthorized                   // credentials are missing or wrong
	KindTooLarge                       // the request body is over the configured limit
	KindUnavailable                    // the store cannot serve the request right now
	KindPreconditionFailed             // an If-Match precondition does not hold
	KindTooManyRequests                // the caller is throttled
	KindNotImplemented                 // the operation does not exist on this configuration (e.g. this store engine)
	KindCorrupt                        // stored data fails its checksum, or a page of it cannot be read: a 500 the client may be told about
	KindUnsupportedMedia               // the request body comes in a coding the API does not read
	KindTimeout                        // the request (its body) did not arrive in time: the client may send it again
)

var kindNames = [...]string{
	KindInternal:           "internal",
	KindInvalid:            "invalid",
	KindNotFound:           "not_found",
	KindConflict:           "conflict",
	KindForbidden:          "forbidden",
	KindUnauthorized:       "unauthorized",
	KindTooLarge:           "too_large",
	KindUnavailable:        "unavailable",
	KindPreconditionFailed: "precondition_failed",
	KindTooManyRequests:    "too_many_requests",
	KindNotImplemented:     "not_implemented",
	KindCorrupt:            "corrupt",
	KindUnsupportedMedia:   "unsupported_media",
	KindTimeout:            "timeout",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is a classified error with a stable machine-readable Code (for
// example "UNKNOWN_ATTRIBUTE") and a message fit for the client.
type Error struct {
	Kind    Kind
	Code    string // stable, upper snake case; clients may switch on it
	Message string // human readable, safe to show to the client
	Field   string // the attribute, parameter or element at fault, when known
	Err     error  // an underlying cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a formatted message.
func E(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for a KindInvalid error naming the offending field.
func Invalid(code, field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is shorthand for a KindNotFound error.
func NotFound(code, format string, args ...any) *Error {
	return E(KindNotFound, code, format, args...)
}

// Conflict is shorthand for a KindConflict error.
func Conflict(code, format string, args ...any) *Error {
	return E(KindConflict, code, format, args...)
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err; errors that are not *Error are internal.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err carries the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
