// Package httpin is the request plumbing both HTTP APIs (and the importer)
// share, so that each rule is written once: the tenant header, the
// size-limited body read with its 413, bearer credentials, and password
// checks that take as long for an unknown user as for a known one.
package httpin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/internal/textenc"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/errs"
)

// Error codes both APIs answer with (in the operational endpoints too).
const (
	CodeInvalidTenant = "INVALID_TENANT"
	CodeBodyTooLarge  = "BODY_TOO_LARGE"
	CodeBadParameter  = "BAD_PARAMETER"
	// CodeUnsupportedMediaType: a body in a coding the APIs do not read.
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	// CodeRequestTimeout: a body still arriving when the read timeout ended.
	CodeRequestTimeout = "REQUEST_TIMEOUT"
)

// TenantHeader isolates tenants (Genesys spec §8); the eGain facade reads
// the same header.
const TenantHeader = "X-Genesys-TenantId"

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ContactCenterHeader is the tenant header of Context Services 8.5 clients;
// it means what TenantHeader means.
const ContactCenterHeader = "ContactCenterId"

// Tenant reads and checks the tenant header (TenantHeader or
// ContactCenterHeader); absent is the default tenant "".
func Tenant(h http.Header) (string, error) {
	var names []string
	var values []string
	for _, name := range []string{TenantHeader, ContactCenterHeader} {
		vs := h.Values(name)
		if len(vs) > 1 {
			return "", errs.Invalid(CodeInvalidTenant, name, "%s is given more than once", name)
		}
		if len(vs) == 1 {
			names, values = append(names, name), append(values, vs[0])
		}
	}
	if len(values) == 2 && values[0] != values[1] {
		return "", errs.Invalid(CodeInvalidTenant, names[1], "%s and %s name different tenants", names[0], names[1])
	}
	if len(values) == 0 {
		return "", nil
	}
	if values[0] == "" { // given but empty names no tenant: not the default one either
		return "", errs.Invalid(CodeInvalidTenant, names[0], "%s is empty; it must be 1 to 64 letters, digits, '_' or '-', or absent for the default tenant", names[0])
	}
	return values[0], CheckTenant(values[0])
}

// CheckTenant applies the tenant rule to a name from elsewhere (an import),
// so nothing creates a tenant the APIs could never address.
func CheckTenant(t string) error {
	if t != "" && !tenantPattern.MatchString(t) {
		return errs.Invalid(CodeInvalidTenant, TenantHeader, "%s must be 1 to 64 letters, digits, '_' or '-'", TenantHeader)
	}
	return nil
}

// ReadBody reads the request body whole. A body over the server's limit
// (http.MaxBytesReader, or Echo's body limit) is a KindTooLarge error (413);
// one sent with a content coding (gzip, ...) is KindUnsupportedMedia (415):
// neither API decodes one, and read as it is it was refused for its
// characters, which misled the client about its data. A body that cannot
// be read is KindInvalid with code malformed, the API's own.
func ReadBody(r *http.Request, malformed string) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var he *echo.HTTPError
		if errors.As(err, &tooLarge) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
			return nil, errs.E(errs.KindTooLarge, CodeBodyTooLarge, "request body is larger than the configured limit")
		}
		// A body still arriving when server.read_timeout ended: 408, which
		// a client may send again, not a malformed body, which it may not.
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return nil, &errs.Error{Kind: errs.KindTimeout, Code: CodeRequestTimeout, Message: "the request body did not arrive within server.read_timeout", Err: err}
		}
		// Broken chunked framing, or a client that stopped before its
		// Content-Length: the client's fault, not a 500 that alerts.
		return nil, &errs.Error{Kind: errs.KindInvalid, Code: malformed, Message: "request body could not be read", Err: err}
	}
	if coding := contentCoding(r.Header); coding != "" && len(data) > 0 {
		return nil, errs.E(errs.KindUnsupportedMedia, CodeUnsupportedMediaType, "Content-Encoding %q is not supported: send the body uncompressed", coding)
	}
	return data, nil
}

// contentCoding is the first coding other than identity that Content-Encoding
// names, over all its header lines, or "".
func contentCoding(h http.Header) string {
	for _, line := range h.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(line, ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				return coding
			}
		}
	}
	return ""
}

// Shorten is s for a log line: at most 128 bytes (cut at a character),
// marked when cut. Clients choose some logged values, such as a login's
// user name, up to a whole request body.
func Shorten(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Bearer returns the credentials of an "Authorization: Bearer ..." header,
// or "".
func Bearer(h http.Header) string {
	scheme, cred, ok := strings.Cut(h.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// Passwords checks passwords against bcrypt hashes. An unknown user is
// checked against a dummy hash of the same cost, so a response time does
// not tell which user names exist.
type Passwords struct{ dummy []byte }

// NewPasswords makes the dummy hash at cost (that of the configured users).
// It is not computed: a bcrypt hash costs the same to compare whatever its
// salt and digest, so the dummy is a fixed salt and digest (of a password
// no one is told) under cost. Computing one cost what a login does at
// every start (a quarter of a second at cost 12).
func NewPasswords(cost int) (*Passwords, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d-%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Passwords{dummy: fmt.Appendf(nil, "$2a$%02d$%s", cost, dummySaltAndDigest)}, nil
}

// dummySaltAndDigest is the tail of a real bcrypt hash: 22 characters of
// salt, 31 of digest.
const dummySaltAndDigest = "eymVVrMT5BLkRsxH3VaIYOlHB6mZiCr2NalQKKdgLWj11zfv8OsVy"

// Match reports whether password matches hash; a nil hash (unknown user)
// never matches but costs the same.
func (p *Passwords) Match(hash []byte, password string) bool {
	known := hash != nil
	if !known {
		hash = p.dummy
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && known
}

// ErrNotUTF8 is DecodeObject's answer for bytes that are not UTF-8.
var ErrNotUTF8 = errors.New("is not valid UTF-8")

// notInCharset is DecodeObject's answer for bytes that mean nothing in the
// charset Content-Type names; it is an ErrNotUTF8.
type notInCharset struct{ label string }

func (e notInCharset) Error() string {
	return "is not valid UTF-8, nor " + e.label + ", the charset its Content-Type names"
}
func (e notInCharset) Is(target error) bool { return target == ErrNotUTF8 }

// jsonInUTF8 is a JSON body in UTF-8, read in the charset contentType
// names where it is not (textenc.JSON).
func jsonInUTF8(data []byte, contentType string) ([]byte, error) {
	label := ""
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		label = params["charset"]
	}
	text, ok := textenc.JSON(data, label)
	if !ok {
		if _, name, _ := textenc.UTF16BOM(data); name != "" {
			label = name
		}
		return nil, notInCharset{label}
	}
	return text, nil
}

// DecodeObject reads data as exactly one JSON object, numbers kept as
// json.Number so integers are never rounded through float64: a request
// body, or a line of an import. Its errors complete a sentence whose subject
// is the body or the line ("… is not valid JSON: …"); those of
// jsonw.CheckInput (a number out of bounds, a lone surrogate or NUL
// escaped) wrap jsonw.ErrNumber or jsonw.ErrEscape, and a member named
// twice in one object wraps jsonw.ErrDuplicate (encoding/json would keep
// the last silently). It parses with jsonw, which reads as encoding/json
// does (FuzzParse compares them) without reflection. A leading byte order
// mark, which .NET's default UTF-8 encoder and Windows editors write, is
// skipped, as RFC 8259 allows and the eGain facade does. contentType, the
// request's Content-Type ("" for a line of an import), may name the
// charset of a body that is not UTF-8 (jsonInUTF8).
func DecodeObject(data []byte, contentType string) (map[string]any, error) {
	data, err := jsonInUTF8(data, contentType)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, ErrNotUTF8
	}
	if err := jsonw.CheckInput(data); err != nil {
		return nil, fmt.Errorf("holds a value that is refused: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("is not valid JSON: it is empty")
	}
	v, err := jsonw.ParseUnique(data)
	switch {
	case errors.Is(err, jsonw.ErrDuplicate):
		return nil, fmt.Errorf("names a member twice: %w", err)
	case errors.Is(err, jsonw.ErrTrailing):
		return nil, errors.New("has data after the JSON object")
	case err != nil:
		return nil, fmt.Errorf("is not valid JSON: %s", strings.TrimPrefix(err.Error(), jsonw.ErrSyntax.Error()+": "))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("must be a JSON object")
	}
	return obj, nil
}

// ClientIPExtractor tells a request's client address: the connection's
// peer, or, when the peer is one of the trusted proxies (the load balancer
// in front of replicas), the nearest X-Forwarded-For address that is not
// one. Nothing else is trusted (Echo's defaults would trust every private
// and loopback address), so a client elsewhere cannot choose its address
// by sending the header.
func ClientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	isTrusted := func(ip net.IP) bool { return InNets(ip, trusted) }
	direct := echo.ExtractIPDirect()
	return func(r *http.Request) string {
		peer := direct(r)
		client := net.ParseIP(peer)
		if client == nil || !isTrusted(client) {
			return peer
		}
		hops := strings.Split(strings.Join(r.Header.Values(echo.HeaderXForwardedFor), ","), ",")
		for i := len(hops) - 1; i >= 0 && isTrusted(client); i-- {
			ip := forwardedIP(hops[i])
			if ip == nil { // nothing to the left of it can be trusted
				break
			}
			client = ip
		}
		return client.String()
	}
}

// InNets reports whether ip (nil: none) is in one of nets.
func InNets(ip net.IP, nets []*net.IPNet) bool {
	for _, n := range nets {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedIP reads one X-Forwarded-For element: an address, an IPv6
// address in brackets, or either with the client's port, as some balancers
// write it (203.0.113.7:51234, [2001:db8::7]:443); nil when it is none.
func forwardedIP(s string) net.IP {
	s = strings.TrimSpace(s)
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); ip != nil {
		return ip
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		return net.ParseIP(host)
	}
	return nil
}

// ClientIP is the client's address as the server's IPExtractor says;
// without one, the connection's peer: forwarding headers are not trusted
// unless the deployment says so, so a client cannot dodge a throttle by
// inventing them.
func ClientIP(c echo.Context) string {
	if x := c.Echo().IPExtractor; x != nil {
		return x(c.Request())
	}
	return echo.ExtractIPDirect()(c.Request())
}

// UnescapeParams decodes percent-escapes in path parameters, once, for
// every route of both APIs: Echo routes on the escaped path (URL.RawPath)
// when the request's differs from the default escaping, and then leaves
// its parameters escaped, so /profiles/%41%31 named customer "%41%31", not
// A1, and an eGain id list sent as 7%2C8 (encodeURIComponent) was not 7,8.
// Otherwise they are decoded already (/profiles/%25 is customer "%").
func UnescapeParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.RawPath == "" {
			return next(c)
		}
		values := c.ParamValues()
		for i, v := range values {
			if !strings.Contains(v, "%") {
				continue
			}
			u, err := url.PathUnescape(v)
			if err != nil {
				return errs.Invalid(CodeBadParameter, c.ParamNames()[i], "path segment %q has a malformed escape", v)
			}
			values[i] = u
		}
		c.SetParamValues(values...)
		return next(c)
	}
}
