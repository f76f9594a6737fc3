// Package api is the Genesys UCS / Context Services style HTTP API over the
// profile domain: JSON in and out, errors as {"message","exception","code"}.
//
// Routes (relative to / and to genesys.base_path when set):
//
//	POST   /profiles                                        create a profile (201)
//	GET    /profiles?attr=v&ext.attr=v&id_key=&...          identify customers (200, [] when none)
//	GET    /profiles/:id?extensions=a,b                     read a profile (200, ETag)
//	PUT    /profiles/:id                                    replace a profile (200; If-Match → 412, as on every write of one profile)
//	DELETE /profiles/:id                                    delete a profile (200)
//	POST   /profiles/:id/extensions                         insert extension records (200)
//	PUT    /profiles/:id/extensions/:ext/by/unique          update one record (204)
//	PUT    /profiles/:id/extensions/:ext/delete/by/unique   delete one record (204)
//	PUT    /profiles/:id/merge/:source                      merge source into id (204)
//	GET    /metadata/profiles                               core attribute schema
//	GET    /metadata/profiles/extensions                    extension schemas
//	POST   /metadata/profiles/extensions                    create an extension schema (201)
//	GET    /metadata/profiles/extensions/:name              one extension schema
//	DELETE /metadata/profiles/extensions/:name              drop it and its records (204)
//	GET    /metadata/identification-keys                    identification keys
//	POST   /metadata/identification-keys                    create a key (201)
//	GET    /metadata/identification-keys/:key               one key
//	DELETE /metadata/identification-keys/:key               drop it and its index (204)
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// Profiles is what the handlers need of the profile domain
// (*profile.Service): the profile operations of spec §3–§4 and the schema
// administration of §5.
type Profiles interface {
	Schema() *schema.Compiled
	Create(ctx context.Context, tenant string, body map[string]any, opts profile.CreateOptions) (*profile.Profile, error)
	Get(ctx context.Context, tenant, id string, exts []string) (*profile.Document, error)
	Revision(ctx context.Context, tenant, id string) (uint64, error)
	Identify(ctx context.Context, tenant string, q profile.IdentifyQuery) (*profile.Identification, error)
	Replace(ctx context.Context, tenant, id string, body map[string]any, opts profile.ReplaceOptions) (*profile.Profile, error)
	Delete(ctx context.Context, tenant, id string, ifMatch uint64) error
	InsertRecords(ctx context.Context, tenant, id string, body map[string]any, ifMatch uint64) (*profile.Profile, error)
	UpdateRecordByUnique(ctx context.Context, tenant, id, ext string, body map[string]any, ifMatch uint64) (*profile.Profile, error)
	DeleteRecordByUnique(ctx context.Context, tenant, id, ext string, body map[string]any, ifMatch uint64) (*profile.Profile, error)
	Merge(ctx context.Context, tenant, destID, srcID string, opts profile.MergeOptions) (*profile.Profile, error)
	CreateExtension(ctx context.Context, doc schema.ExtensionDoc) (*schema.Extension, error)
	DeleteExtension(ctx context.Context, name string) error
	CreateKey(ctx context.Context, doc schema.KeyDoc) (*schema.IdentificationKey, error)
	DeleteKey(ctx context.Context, name string) error
}

// Handler serves the Genesys-style API.
type Handler struct {
	profiles Profiles
	auth     *authenticator
	dataGate echo.MiddlewareFunc // GateData's; nil: none
}

// NewHandler returns the API over the profile domain; auth says who may
// call it. failures is where failed basic-auth attempts are counted (nil:
// this process's memory; a store replicas share makes the throttle hold
// across them); log receives what the throttle cannot do.
func NewHandler(profiles Profiles, auth config.GenesysAuth, failures session.FailureLog, log zerolog.Logger) *Handler {
	return &Handler{profiles: profiles, auth: newAuthenticator(auth, failures, log)}
}

// GateData has every profile data route (not the metadata ones) pass gate
// once its caller is authenticated, so that a refusal the gate makes (the
// server's maintenance mode) tells nothing to a caller without credentials.
func (h *Handler) GateData(gate echo.MiddlewareFunc) { h.dataGate = gate }

// Register mounts every route on g, each guarded by the access it needs.
func (h *Handler) Register(g *echo.Group) {
	read, write, schema := h.auth.require(accessRead), h.auth.require(accessWrite), h.auth.require(accessSchema)
	gated := func(access echo.MiddlewareFunc, more ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
		if h.dataGate != nil {
			return append([]echo.MiddlewareFunc{access, h.dataGate}, more...)
		}
		return append([]echo.MiddlewareFunc{access}, more...)
	}
	g.POST("/profiles", h.create, gated(write, NoParameters)...)
	g.GET("/profiles", h.identify, gated(read)...)
	g.GET("/profiles/:id", h.get, gated(read)...)
	g.PUT("/profiles/:id", h.replace, gated(write, NoParameters)...)
	g.DELETE("/profiles/:id", h.delete, gated(write, NoParameters)...)
	g.POST("/profiles/:id/extensions", h.insertRecords, gated(write, NoParameters)...)
	g.PUT("/profiles/:id/extensions/:ext/by/unique", h.updateRecord, gated(write, NoParameters)...)
	g.PUT("/profiles/:id/extensions/:ext/delete/by/unique", h.deleteRecord, gated(write, NoParameters)...)
	g.PUT("/profiles/:id/merge/:source", h.merge, gated(write, NoParameters)...)
	g.GET("/metadata/profiles", h.profileSchema, read, NoParameters)
	g.GET("/metadata/profiles/extensions", h.listExtensions, read, NoParameters)
	g.POST("/metadata/profiles/extensions", h.createExtension, schema, NoParameters)
	g.GET("/metadata/profiles/extensions/:name", h.getExtension, read, NoParameters)
	g.DELETE("/metadata/profiles/extensions/:name", h.deleteExtension, schema, NoParameters)
	g.GET("/metadata/identification-keys", h.listKeys, read, NoParameters)
	g.POST("/metadata/identification-keys", h.createKey, schema, NoParameters)
	g.GET("/metadata/identification-keys/:key", h.getKey, read, NoParameters)
	g.DELETE("/metadata/identification-keys/:key", h.deleteKey, schema, NoParameters)
}

// NoParameters refuses a query string on a route that takes none: a write
// sent with ?dryRun=true must not be done for real, and a read must not
// ignore what the client asked for.
func NoParameters(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := singleValues(c.QueryParams()); err != nil {
			return err
		}
		return next(c)
	}
}

// Error codes of request parsing.
const (
	CodeMalformedJSON = "MALFORMED_JSON"
	CodeInvalidUTF8   = "INVALID_UTF8"
	CodeBadParameter  = httpin.CodeBadParameter
	CodeInvalidTenant = httpin.CodeInvalidTenant
	CodeBodyTooLarge  = httpin.CodeBodyTooLarge
)

// TenantHeader isolates tenants (spec §8).
const TenantHeader = httpin.TenantHeader

// Tenant reads and checks the tenant header; "" is the default tenant.
func Tenant(r *http.Request) (string, error) { return httpin.Tenant(r.Header) }

// readObject reads the request body as one JSON object. Numbers stay
// json.Number so integers are never rounded through float64.
func readObject(c echo.Context) (map[string]any, error) {
	data, err := httpin.ReadBody(c.Request(), CodeMalformedJSON)
	if err != nil {
		return nil, err
	}
	obj, err := httpin.DecodeObject(data, c.Request().Header.Get(echo.HeaderContentType))
	switch {
	case errors.Is(err, httpin.ErrNotUTF8), errors.Is(err, jsonw.ErrEscape):
		return nil, errs.Invalid(CodeInvalidUTF8, "", "request body %v", err)
	case errors.Is(err, jsonw.ErrNumber):
		return nil, errs.Invalid(schema.CodeInvalidType, "", "request body %v", err)
	case errors.Is(err, jsonw.ErrDuplicate):
		return nil, errs.Invalid(schema.CodeInvalidBody, "", "request body %v", err)
	case err != nil:
		return nil, errs.Invalid(CodeMalformedJSON, "", "request body %v", err)
	}
	return obj, nil
}

// tenantAndBody reads what every write needs: the tenant and the JSON body.
func tenantAndBody(c echo.Context) (string, map[string]any, error) {
	tenant, err := Tenant(c.Request())
	if err != nil {
		return "", nil, err
	}
	body, err := readObject(c)
	return tenant, body, err
}

func (h *Handler) create(c echo.Context) error {
	tenant, body, err := tenantAndBody(c)
	if err != nil {
		return err
	}
	p, err := h.profiles.Create(c.Request().Context(), tenant, body, profile.CreateOptions{})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, childLocation(c, p.ID))
	c.Response().Header().Set("ETag", etag(p.Rev))
	return c.JSON(http.StatusCreated, map[string]string{"customer_id": p.ID})
}

func (h *Handler) get(c echo.Context) error {
	tenant, err := Tenant(c.Request())
	if err != nil {
		return err
	}
	q, err := singleValues(c.QueryParams(), "extensions")
	if err != nil {
		return err
	}
	p, err := h.profiles.Get(c.Request().Context(), tenant, c.Param("id"), splitList(q["extensions"]))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(p.Rev))
	if same, err := notModified(c.Request(), p.Rev); err != nil || same {
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNotModified)
	}
	sc := h.profiles.Schema()
	return writeJSONWith(c, http.StatusOK, func(b []byte) []byte { return appendProfile(b, sc, p, true) })
}

func (h *Handler) replace(c echo.Context) error {
	tenant, body, err := tenantAndBody(c)
	if err != nil {
		return err
	}
	ifMatch, err := h.precondition(c, tenant, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.profiles.Replace(c.Request().Context(), tenant, c.Param("id"), body, profile.ReplaceOptions{IfMatch: ifMatch})
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(p.Rev))
	return c.JSON(http.StatusOK, map[string]string{"customer_id": p.ID})
}

func (h *Handler) delete(c echo.Context) error {
	tenant, err := Tenant(c.Request())
	if err != nil {
		return err
	}
	id := c.Param("id")
	ifMatch, err := h.precondition(c, tenant, id)
	if err != nil {
		return err
	}
	if err := h.profiles.Delete(c.Request().Context(), tenant, id, ifMatch); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"customer_id": id})
}

func (h *Handler) insertRecords(c echo.Context) error {
	tenant, body, err := tenantAndBody(c)
	if err != nil {
		return err
	}
	ifMatch, err := h.precondition(c, tenant, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.profiles.InsertRecords(c.Request().Context(), tenant, c.Param("id"), body, ifMatch)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(p.Rev))
	return c.JSON(http.StatusOK, map[string]string{"customer_id": p.ID})
}

func (h *Handler) updateRecord(c echo.Context) error {
	return h.recordByUnique(c, h.profiles.UpdateRecordByUnique)
}

func (h *Handler) deleteRecord(c echo.Context) error {
	return h.recordByUnique(c, h.profiles.DeleteRecordByUnique)
}

type recordOp func(ctx context.Context, tenant, id, ext string, body map[string]any, ifMatch uint64) (*profile.Profile, error)

func (h *Handler) recordByUnique(c echo.Context, op recordOp) error {
	tenant, body, err := tenantAndBody(c)
	if err != nil {
		return err
	}
	ifMatch, err := h.precondition(c, tenant, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := op(c.Request().Context(), tenant, c.Param("id"), c.Param("ext"), body, ifMatch)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(p.Rev))
	return c.NoContent(http.StatusNoContent)
}

// mergeBody accepts the merge fields of both vendor families (spec §3.6),
// as loosely typed as the rest of the API; only the flags matter here.
type mergeBody struct {
	AgentID               json.RawMessage  `json:"agent_id"`
	ForceMerge            schema.LooseBool `json:"force_merge"`
	Reason                json.RawMessage  `json:"reason"`
	Description           json.RawMessage  `json:"description"`
	KeepUniqFromSrc       schema.LooseBool `json:"keep_uniq_from_src"`
	KeepActiveServiceOnly schema.LooseBool `json:"keep_active_service_only"`
}

func (h *Handler) merge(c echo.Context) error {
	tenant, err := Tenant(c.Request())
	if err != nil {
		return err
	}
	ifMatch, err := h.precondition(c, tenant, c.Param("id"))
	if err != nil {
		return err
	}
	// The body is optional (spec §3.6): an empty one, whether sent with
	// Content-Length: 0 or chunked (Content-Length unknown, -1), is {}.
	var body mergeBody
	data, err := httpin.ReadBody(c.Request(), CodeMalformedJSON)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		c.Request().Body = io.NopCloser(bytes.NewReader(data))
		if err := decodeStrict(c, &body, CodeMalformedJSON); err != nil {
			return err
		}
	}
	opts := profile.MergeOptions{PreferSource: body.ForceMerge.Value || body.KeepUniqFromSrc.Value, IfMatch: ifMatch}
	p, err := h.profiles.Merge(c.Request().Context(), tenant, c.Param("id"), c.Param("source"), opts)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(p.Rev))
	return c.NoContent(http.StatusNoContent)
}

// decodeStrict reads a JSON body into a struct, refusing unknown fields;
// problems are reported with code.
func decodeStrict(c echo.Context, v any, code string) error {
	obj, err := readObject(c)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(obj)
	// Schema's decoder says a member of the wrong type in JSON's words,
	// not in the Go types it is decoded into.
	if err := schema.DecodeDocumentJSON(data, v); err != nil {
		return errs.Invalid(code, "", "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// childLocation is the Location of a resource created under the request's
// path, so it carries genesys.base_path when the request came through it.
func childLocation(c echo.Context, name string) string {
	return c.Request().URL.Path + "/" + url.PathEscape(name)
}

func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// precondition is WritePrecondition of a write of profile id, which it
// reads when the headers need its revision.
func (h *Handler) precondition(c echo.Context, tenant, id string) (uint64, error) {
	return WritePrecondition(c.Request(), Revision(c.Request().Context(), h.profiles, tenant, id))
}

// singleValues checks that only the named parameters are present, each at most once.
func singleValues(q url.Values, allowed ...string) (map[string]string, error) {
	out := make(map[string]string, len(q))
	for _, name := range slices.Sorted(maps.Keys(q)) { // the same parameter is named every time
		values := q[name]
		// Reserved names ignore ASCII case, as in identify.
		i := slices.IndexFunc(allowed, func(a string) bool { return schema.SameName(a, name) })
		if i < 0 {
			return nil, errs.Invalid(CodeBadParameter, name, "unknown query parameter %q", name)
		}
		if _, twice := out[allowed[i]]; twice || len(values) > 1 {
			return nil, errs.Invalid(CodeBadParameter, name, "query parameter %q is given more than once", name)
		}
		out[allowed[i]] = values[0]
	}
	return out, nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func writeJSON(c echo.Context, status int, body []byte) error {
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// bodies are buffers that get and identify answers are written into,
// reused once sent: growing a new one cost a get 4 allocations.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept: a rare large answer (an identify
// with many profiles) is not held for every later one.
const maxPooledBody = 64 << 10

// writeJSONWith sends the body write appends to a pooled buffer.
func writeJSONWith(c echo.Context, status int, write func(b []byte) []byte) error {
	buf := bodies.Get().(*[]byte)
	*buf = write((*buf)[:0])
	err := writeJSON(c, status, *buf)
	if cap(*buf) <= maxPooledBody {
		bodies.Put(buf)
	}
	return err
}
