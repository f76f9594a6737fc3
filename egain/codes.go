package egain

import (
	"net/http"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
)

// Symbolic error codes used in errs.Error.Code by this package. Clients see
// the WSError code they map to (see wsCatalogue), never these names.
const (
	CodeMalformedBody          = "MALFORMED_BODY"
	CodeDuplicateElement       = "DUPLICATE_ELEMENT"
	CodeUnknownParameter       = "UNKNOWN_PARAMETER"
	CodeRepeatedParameter      = "REPEATED_PARAMETER"
	CodeInvalidParameter       = "INVALID_PARAMETER"
	CodeInvalidValue           = "INVALID_VALUE"
	CodeUnknownCustomAttribute = "UNKNOWN_CUSTOM_ATTRIBUTE"
	CodeMissingElement         = "MISSING_ELEMENT"
	CodeMissingCriterion       = "MISSING_CRITERION"
	CodeLimitExceeded          = "LIMIT_EXCEEDED"
	CodeValueTooLong           = "VALUE_TOO_LONG"
	CodeUnknownElement         = "UNKNOWN_ELEMENT"
	CodeDuplicateEmail         = "DUPLICATE_EMAIL"
	CodeUnknownContactID       = "UNKNOWN_CONTACT_ID"
	CodeInvalidTenant          = httpin.CodeInvalidTenant
	CodeInvalidSession         = "INVALID_SESSION"
	CodeTooManySessions        = "TOO_MANY_SESSIONS"
	CodeBadCredentials         = "BAD_CREDENTIALS"
	CodeForbidden              = "FORBIDDEN"
	CodeNotFound               = "NOT_FOUND"
	CodeUnsupportedLanguage    = "UNSUPPORTED_LANGUAGE"
	CodeNotAcceptable          = "NOT_ACCEPTABLE"
	CodeBodyTooLarge           = httpin.CodeBodyTooLarge
	CodeUnsupportedMediaType   = "UNSUPPORTED_MEDIA_TYPE"
	CodeThrottled              = "THROTTLED"
	CodeInternal               = "INTERNAL"
)

// WSError is the eGain error body plus the HTTP status it is sent with.
type WSError struct {
	Status           int
	Code             string // "{status}-{n}", e.g. "400-101"
	DeveloperMessage string
}

type wsCode struct {
	status int
	code   string
}

type kindCode struct {
	kind errs.Kind
	code string
}

// wsCatalogue is the one table from (kind, symbolic code) to WSError code.
// Keying on the kind too keeps a same-named code from another package, raised
// with a different kind, from borrowing a status it was not meant to have.
var wsCatalogue = map[kindCode]wsCode{
	{errs.KindInvalid, CodeMalformedBody}:             {http.StatusBadRequest, "400-101"},
	{errs.KindInvalid, CodeDuplicateElement}:          {http.StatusBadRequest, "400-101"},
	{errs.KindInvalid, CodeUnknownParameter}:          {http.StatusBadRequest, "400-102"},
	{errs.KindInvalid, CodeRepeatedParameter}:         {http.StatusBadRequest, "400-102"},
	{errs.KindInvalid, CodeInvalidParameter}:          {http.StatusBadRequest, "400-103"},
	{errs.KindInvalid, CodeInvalidValue}:              {http.StatusBadRequest, "400-103"},
	{errs.KindInvalid, CodeUnknownCustomAttribute}:    {http.StatusBadRequest, "400-103"},
	{errs.KindInvalid, CodeMissingElement}:            {http.StatusBadRequest, "400-104"},
	{errs.KindInvalid, CodeMissingCriterion}:          {http.StatusBadRequest, "400-104"},
	{errs.KindInvalid, CodeLimitExceeded}:             {http.StatusBadRequest, "400-105"},
	{errs.KindInvalid, CodeValueTooLong}:              {http.StatusBadRequest, "400-105"},
	{errs.KindInvalid, profile.CodeTooManyRecords}:    {http.StatusBadRequest, "400-105"}, // limits.max_records_per_extension
	{errs.KindInvalid, profile.CodeIndexValueTooLong}: {http.StatusBadRequest, "400-105"},
	{errs.KindInvalid, CodeUnknownElement}:            {http.StatusBadRequest, "400-106"},
	{errs.KindInvalid, CodeDuplicateEmail}:            {http.StatusBadRequest, "400-107"},
	{errs.KindInvalid, CodeUnknownContactID}:          {http.StatusBadRequest, "400-108"},
	{errs.KindInvalid, CodeInvalidTenant}:             {http.StatusBadRequest, "400-109"},
	{errs.KindUnauthorized, CodeInvalidSession}:       {http.StatusUnauthorized, "401-101"},
	{errs.KindUnauthorized, CodeTooManySessions}:      {http.StatusUnauthorized, "401-102"},
	{errs.KindUnauthorized, CodeBadCredentials}:       {http.StatusUnauthorized, "401-103"},
	{errs.KindForbidden, CodeForbidden}:               {http.StatusForbidden, "403-101"},
	{errs.KindNotFound, CodeNotFound}:                 {http.StatusNotFound, "404-101"},
	{errs.KindInvalid, CodeUnsupportedLanguage}:       {http.StatusNotAcceptable, "406-101"},
	{errs.KindInvalid, CodeNotAcceptable}:             {http.StatusNotAcceptable, "406-102"},
	{errs.KindTooLarge, CodeBodyTooLarge}:             {http.StatusRequestEntityTooLarge, "413-101"},
	{errs.KindInvalid, CodeUnsupportedMediaType}:      {http.StatusUnsupportedMediaType, "415-101"},
	{errs.KindTooManyRequests, CodeThrottled}:         {http.StatusTooManyRequests, "429-101"},
	{errs.KindInternal, CodeInternal}:                 {http.StatusInternalServerError, "500-101"},
}

// kindDefaults covers errors raised elsewhere (domain, store) whose code is
// not in the catalogue. Conflicts (e.g. an e-mail address already in use)
// are 400 because eGain frames them as body validation (spec §10 Q13);
// eGain has no If-Match, so a failed precondition is an invalid request too.
var kindDefaults = map[errs.Kind]wsCode{
	errs.KindInvalid:            {http.StatusBadRequest, "400-103"},
	errs.KindConflict:           {http.StatusBadRequest, "400-103"},
	errs.KindPreconditionFailed: {http.StatusBadRequest, "400-103"},
	errs.KindNotFound:           {http.StatusNotFound, "404-101"},
	errs.KindForbidden:          {http.StatusForbidden, "403-101"},
	errs.KindUnauthorized:       {http.StatusUnauthorized, "401-101"},
	errs.KindTooLarge:           {http.StatusRequestEntityTooLarge, "413-101"},
	errs.KindUnavailable:        {http.StatusServiceUnavailable, "503-101"},
	errs.KindTooManyRequests:    {http.StatusTooManyRequests, "429-101"},
	errs.KindCorrupt:            {http.StatusInternalServerError, "500-102"},
	errs.KindUnsupportedMedia:   {http.StatusUnsupportedMediaType, "415-101"},
	errs.KindTimeout:            {http.StatusRequestTimeout, "408-101"},
}

const internalMessage = "Internal server error."

// ToWSError maps any error to the WSError the client sees, through
// wsCatalogue and then kindDefaults. Errors that are not *errs.Error, and
// internal ones, get a fixed message so nothing about the fault leaks.
func ToWSError(err error) WSError {
	e := errs.As(err)
	if e == nil {
		e = &errs.Error{Kind: errs.KindInternal, Code: CodeInternal}
	}
	c, ok := wsCatalogue[kindCode{e.Kind, e.Code}]
	if !ok {
		c, ok = kindDefaults[e.Kind]
	}
	if !ok || c.status == http.StatusInternalServerError && e.Kind != errs.KindCorrupt {
		return WSError{Status: http.StatusInternalServerError, Code: "500-101", DeveloperMessage: internalMessage}
	}
	return WSError{Status: c.status, Code: c.code, DeveloperMessage: e.Message}
}
