// Package server assembles profiled: it opens the store, loads the schema,
// builds the profile service and mounts both HTTP APIs and the operational
// endpoints on one Echo instance. main only parses flags and calls it.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/docs"
	"github.com/contactcenter/profiled/egain"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/ops"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/api"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
)

// Backend is what the application needs of a store engine: bbolt
// (*store.DB) or PostgreSQL (*postgres.DB).
type Backend interface {
	profile.Store
	session.Store
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	Ping() error
	ProfileCount() (int, error)
	Close() error
}

// App is a running profiled: its store, schema, domain and HTTP handler.
type App struct {
	Config   *config.Config
	Log      zerolog.Logger
	Store    Backend
	Schema   *schema.Registry
	Profiles *profile.Service
	Echo     *echo.Echo
	Metrics  *ops.Metrics
	EGain    *egain.Facade

	schemaLoaded  *prometheus.GaugeVec
	nonconforming prometheus.Gauge
	reloadOK      prometheus.Gauge   // 1 after the start and a reload that succeeded, 0 after a refused one
	notApplied    prometheus.Gauge   // settings of the file last reloaded or followed that wait for a restart
	corrupt       prometheus.Counter // requests answered DATA_CORRUPT
	modes         modeCache

	// EraseScrubWait bounds how long an erase answer waits for the scrub
	// of free pages; a scrub held up longer (by a long hot backup)
	// completes in the background.
	EraseScrubWait time.Duration

	// scrubRequests holds at most one request for the background scrub
	// of free pages, left by erases that could not wait for it; one
	// worker, started with the first, takes them in turn (export.go).
	scrubRequests chan struct{}
	scrubWorker   sync.Once
	// erasures counts erases committed by this process (and the start,
	// whose scrub covers an earlier process's), scrubbedUpTo how many of
	// them a completed scrub of free pages covers: while some are not, a
	// hot backup scrubs first (scrubBeforeBackup), as its copy of the
	// file's free pages would carry the erased values.
	erasures, scrubbedUpTo atomic.Uint64

	conformanceMu sync.Mutex
	conformance   *profile.Conformance // of the live schema, once checked
	// conformanceCancel ends the check a newer reload superseded, so
	// reloads in a row run one scan, not one each (under conformanceMu).
	conformanceCancel context.CancelFunc

	stopWatch func() // ends the schema watch of a shared store and waits for it

	// background work (conformance checks after reloads) stops with bg and
	// is waited for on Close, so it never runs on a closed store.
	bg       context.Context
	stopBg   context.CancelFunc
	bgActive sync.WaitGroup
}

// OpenBackend opens the store cfg names: the PostgreSQL database of
// store.url, or else the bbolt file of store.path.
func OpenBackend(cfg *config.Config) (Backend, error) {
	if cfg.Store.IsPostgres() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.Open(ctx, cfg.Store.URL, postgres.Options{MaxConns: cfg.Store.MaxConns, StatementTimeout: cfg.Store.StatementTimeout})
	}
	return store.Open(cfg.Store.Path, store.Options{OpenTimeout: cfg.Store.OpenTimeout})
}

// New opens the store named by cfg and builds the whole application. The
// caller must Close it.
func New(cfg *config.Config, log zerolog.Logger) (app *App, err error) {
	db, err := OpenBackend(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File))
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	bg, stopBg := context.WithCancel(context.Background())
	a := &App{
		bg:       bg,
		stopBg:   stopBg,
		Config:   cfg,
		Log:      log,
		Store:    db,
		Schema:   registry,
		Profiles: profile.NewService(db, registry),
		Metrics:  ops.NewMetrics(),

		EraseScrubWait: DefaultEraseScrubWait,
		scrubRequests:  make(chan struct{}, 1),
	}
	a.Profiles.RecordLimit = cfg.Limits.MaxRecordsPerExtension
	if err := a.syncIndexes(); err != nil {
		return nil, fmt.Errorf("bring indexes in line with the schema: %w", err)
	}
	if !cfg.EGain.Disabled {
		if a.EGain, err = egain.NewFacade(a.Profiles, db, failureLog(db), cfg.EGain, log); err != nil {
			return nil, fmt.Errorf("egain facade (set egain.disabled to run without it): %w", err)
		}
		registry.AddGuard(a.EGain.CheckSchema)
		a.Profiles.BeforeMerge = a.EGain.RenumberForMerge
	}
	if err := a.registerMetrics(); err != nil {
		return nil, err
	}
	if err := a.auditReads(); err != nil {
		return nil, err
	}
	a.Echo = a.routes()
	a.noteSchema(registry.Current())
	a.Profiles.OnFollow = a.followed
	a.Profiles.OnChange = a.noteSchema
	a.watchSchema()
	a.sweepAudit()
	a.prewarm()
	a.scrubAtStart()
	a.restoreConformance(registry.Current())
	return a, nil
}

// scrubAtStart overwrites the free pages of a bbolt data file once, in the
// background, at every start: an erase whose scrub was still waiting for a
// long reader when the process ended (a crash, a kill, a shutdown that
// outlived the reader) left the erased values in free pages, and nothing
// else would ever come back for them.
func (a *App) scrubAtStart() {
	s, ok := a.Store.(freePageScrubber)
	if !ok {
		return
	}
	owed := a.erasures.Add(1)
	a.bgActive.Go(func() {
		pages, err := s.ScrubFreePages(a.bg)
		if err == nil {
			a.scrubbed(owed)
		}
		switch {
		case err != nil && a.bg.Err() == nil:
			a.Log.Warn().Err(err).Msg("free pages not scrubbed at start; the next erase scrubs them")
		case err == nil && pages > 0:
			a.Log.Info().Int("pages", pages).Msg("free pages scrubbed at start")
		}
	})
}

// prewarm maps a bbolt data file into memory in the background, so the
// first requests after a start do not each wait on the disk (see
// store.DB.Prewarm); the server is ready meanwhile.
func (a *App) prewarm() {
	db, ok := a.Store.(*store.DB)
	if !ok {
		return
	}
	a.bgActive.Go(func() {
		start := time.Now()
		res, err := db.Prewarm(a.bg)
		switch {
		case err != nil && a.bg.Err() == nil:
			a.Log.Warn().Err(err).Int64("bytes", res.Bytes).Msg("data file not prewarmed; reads fault its pages in as they come")
		case res.Skipped != "":
			a.Log.Info().Str("reason", res.Skipped).Msg("data file not prewarmed")
		case err == nil:
			a.Log.Info().Int64("bytes", res.Bytes).Dur("took_ms", time.Since(start)).Msg("data file prewarmed")
		}
	})
}

// Close closes the store; call it after the HTTP server has stopped.
func (a *App) Close() error {
	if a.stopWatch != nil {
		a.stopWatch()
	}
	a.stopBg()
	a.bgActive.Wait()
	return a.Store.Close()
}

// failureLog is where failed eGain logins are counted: in the shared
// store, so the throttle holds across replicas; nil (in memory) for a
// store only this process uses.
func failureLog(db Backend) session.FailureLog {
	if log, shared := db.(*postgres.DB); shared {
		return log
	}
	return nil
}

// watchSchema follows schema changes other replicas make, on a store that
// several processes share.
func (a *App) watchSchema() {
	db, shared := a.Store.(*postgres.DB)
	if !shared {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.WatchSchema(ctx, a.Config.Store.SchemaPoll, func() { a.followSchema(ctx) })
	}()
	a.stopWatch = func() { cancel(); <-done }
}

// followSchema catches up with a schema change another replica stored
// (Profiles.OnFollow, set in New, says so).
func (a *App) followSchema(ctx context.Context) {
	_, err := a.Profiles.FollowSchema(ctx)
	switch {
	case err == nil || ctx.Err() != nil:
	case errs.Is(err, errs.KindUnavailable):
		// An outage, not a config that differs: requests say 503 anyway.
		a.Log.Warn().Err(err).Msg("cannot read the stored schema: the store is unavailable")
	default:
		a.Log.Error().Err(err).Msg("cannot follow the schema stored by another replica; writes answer 503 until this replica's config matches")
	}
}

// followed notes a schema another replica stored that this one caught up
// with, whichever path caught up.
func (a *App) followed(c *schema.Compiled) {
	a.Log.Info().Uint64("schema_version", c.Version).Msg("followed a schema change made by another replica")
	a.noteSchema(c)
	if file, err := config.Load(a.Config.File); err == nil { // the file the follow read the schema from
		a.noteNotApplied(file, "followed another replica's schema change")
	}
}

// followSchemaOnRefusal answers a request without a body again, once, when
// it was refused for naming what the live schema does not define and
// another replica has changed the stored schema since: an extension or
// key added through one replica is there at once on the others, not only
// when their watch catches up (writes do the same in the domain, which
// checks every refused write against the stored schema).
func (a *App) followSchemaOnRefusal(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		version := a.Schema.Current().Version
		err := next(c)
		if err == nil || c.Response().Committed || !profile.NamesWhatSchemaLacks(err) {
			return err
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodDelete:
		default:
			return err
		}
		if !a.Profiles.CatchUp(c.Request().Context(), version) {
			return err
		}
		return next(c)
	}
}

// syncIndexes builds the indexes the stored ones lack for the live
// schema's keys (profile.Service.SyncSchema), saying so before and after:
// over a large store it takes minutes, before the server listens.
func (a *App) syncIndexes() error {
	ctx := context.Background()
	keys, err := a.Profiles.KeysToSync(ctx)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		a.Log.Warn().Strs("keys", keys).Msg("building identification indexes before serving (the config's keys changed while stopped, or this release computes index entries otherwise): this reads every profile, and nothing answers until it ends")
	}
	start := time.Now()
	if err := a.Profiles.SyncSchema(ctx); err != nil {
		return err
	}
	if len(keys) > 0 {
		a.Log.Info().Strs("keys", keys).Dur("took_ms", time.Since(start)).Msg("identification indexes built")
	}
	return nil
}

// auditBackup records a hot backup in the audit trail before it streams:
// a copy of every customer is the largest disclosure there is. The entry
// is the default tenant's (a backup copies every tenant); a backup that
// cannot be recorded is not served.
func (a *App) auditBackup(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.Profiles.Record(c.Request().Context(), "", profile.OpBackup, nil); err != nil {
			return err
		}
		return next(c)
	}
}

// scrubBeforeBackup overwrites the free pages before a hot backup while
// an erase's scrub is still owed (it waited for a long reader, such as an
// earlier backup, or the start's scrub has not finished): the backup copies
// the file's free pages, and a backup taken after an erase must not carry
// the erased values. When the scrub cannot be done in EraseScrubWait, the
// backup is refused (503 ERASE_SCRUB_PENDING) rather than served with them.
func (a *App) scrubBeforeBackup(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, ok := a.Store.(freePageScrubber)
		owed := a.erasures.Load()
		if !ok || owed <= a.scrubbedUpTo.Load() {
			return next(c)
		}
		wait, cancel := context.WithTimeout(c.Request().Context(), a.EraseScrubWait)
		defer cancel()
		if _, err := s.ScrubFreePages(wait); err != nil {
			c.Response().Header().Set(echo.HeaderRetryAfter, "5")
			return errs.E(errs.KindUnavailable, CodeEraseScrubPending,
				"an erased customer's values are still in the data file's free pages, waiting for a long read (another backup) to end; retry later")
		}
		a.scrubbed(owed)
		return next(c)
	}
}

// CodeEraseScrubPending refuses a hot backup while an erase's free pages
// cannot be overwritten yet.
const CodeEraseScrubPending = "ERASE_SCRUB_PENDING"

// scrubbed notes that a scrub which listed the free pages after the first
// n erasures completed.
func (a *App) scrubbed(n uint64) {
	for {
		cur := a.scrubbedUpTo.Load()
		if n <= cur || a.scrubbedUpTo.CompareAndSwap(cur, n) {
			return
		}
	}
}

// routes builds the Echo instance with every endpoint of the contract.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The admin guard judges the peer itself (ops.AdminGuard), whatever this says.
	e.IPExtractor = httpin.ClientIPExtractor(a.Config.Server.TrustedProxyNets())
	e.HTTPErrorHandler = a.handleError
	e.Pre(middleware.RemoveTrailingSlash()) // the vendor samples POST to /profiles/
	e.Pre(headAsGet)
	apiOf := ops.APIOf(a.Config.Genesys.BasePath)
	e.Use(headAgain, cacheHeaders, httpin.UnescapeParams, ops.RequestID, ops.RequestLogger(a.Log, apiOf, ops.ProbesAtDebug(a.Config.Log.ProbesAtDebug), ops.ChosenStates(CodeMaintenance, ops.CodeStarting)), a.Metrics.Middleware(apiOf), recoverer(a.Log), withActor)
	if origins := a.Config.Server.CORS.AllowOrigins; len(origins) > 0 {
		// Before the body limit, checks and authentication: a preflight
		// carries no credentials and is answered here.
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins: origins,
			AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete},
			AllowHeaders: []string{echo.HeaderContentType, echo.HeaderAccept, "Accept-Language", echo.HeaderAuthorization,
				"X-egain-session", httpin.TenantHeader, httpin.ContactCenterHeader, "X-API-Key", "If-Match", "If-None-Match", echo.HeaderXRequestID},
			// Every response header a client acts on that is not CORS-safelisted:
			// a page must see that an identify answer was cut, when to retry a
			// throttled call, and which scheme a 401 asks for.
			ExposeHeaders: []string{"X-egain-session", echo.HeaderLocation, "ETag", echo.HeaderXRequestID,
				"X-Result-Truncated", echo.HeaderRetryAfter, echo.HeaderWWWAuthenticate},
			MaxAge: 600,
		}))
	}
	e.Use(ops.HeaderLimit(a.Config.Server.MaxHeaderBytes), bodyLimit(a.Config.Server.MaxBodyBytes), queryCheck, schemaChangeAnswered)
	if _, shared := a.Store.(*postgres.DB); shared {
		e.Use(a.followSchemaOnRefusal)
	}

	e.GET("/livez", ops.Livez)
	e.GET("/readyz", ops.Readyz(a.ready, a.schemaInfo))
	e.GET("/metrics", a.Metrics.Handler())
	e.GET("/docs/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", docs.OpenAPI)
	})

	// The guard is per route: a Group with middleware answers every other
	// method on its paths 404 (Echo routes them to its catch-all), where a
	// client should get 405 with Allow.
	guard := adminActor(ops.AdminGuard(a.Config.Admin.Token, a.Config.Server.TrustedProxyNets()...), a.Config.Admin.Token != "")
	admin := adminRoutes{e.Group("/admin"), guard}
	if snap, ok := a.Store.(ops.Snapshotter); ok {
		admin.GET("/backup", ops.BackupHandler(snap), a.scrubBeforeBackup, a.auditBackup)
	} else {
		admin.GET("/backup", func(echo.Context) error {
			return errs.E(errs.KindNotImplemented, "BACKUP_NOT_SUPPORTED",
				"this store is a PostgreSQL database: back it up with pg_dump (see docs/deploy.md)")
		})
	}
	admin.POST("/reload", a.reloadHandler, api.NoParameters)
	admin.GET("/schema", a.schemaHandler, api.NoParameters)
	admin.POST("/check", a.checkHandler, api.NoParameters)
	admin.GET("/debug/pprof", ops.ProfilingHandler())
	admin.GET("/debug/pprof/:name", ops.ProfilingHandler())
	// A data subject's requests and the audit trail: admin-level, or a
	// Genesys credential of admin.privacy_role.
	genesys := api.NewHandler(a.Profiles, a.Config.Genesys.Auth, failureLog(a.Store), a.Log)
	privacy := genesys.RoleOrElse(a.Config.Admin.PrivacyRole, guard)
	e.GET("/admin/audit", a.auditHandler, privacy)
	e.GET("/admin/egain/customer/:num/export", a.egainExportHandler, privacy, a.maintenanceGate, api.NoParameters)
	e.POST("/admin/egain/customer/:num/erase", a.egainEraseHandler, privacy, a.maintenanceGate, api.NoParameters)
	e.GET("/profiles/:id/export", a.exportHandler, privacy, a.maintenanceGate, api.NoParameters)
	e.POST("/profiles/:id/erase", a.eraseHandler, privacy, a.maintenanceGate, api.NoParameters)
	server := adminRoutes{e.Group("/server"), guard} // Genesys server mode, admin-protected
	server.POST("/mode", a.setModeHandler, api.NoParameters)
	server.GET("/status", a.statusHandler, api.NoParameters)

	genesys.GateData(a.maintenanceGate)
	if a.EGain != nil {
		a.EGain.GateData(a.inMaintenance)
		a.EGain.Register(e)
	}
	genesys.Register(e.Group(""))
	if base := strings.TrimSuffix(a.Config.Genesys.BasePath, "/"); base != "" {
		genesys.Register(e.Group(base))
	}
	return e
}

// schemaChangeAnswered lifts server.write_timeout for the requests that
// change the schema (a reload, a /metadata write): they wait for writes on
// every replica and rebuild indexes over every profile, which may take
// minutes, and an operator whose connection was closed meanwhile cannot
// tell whether the change went through.
func schemaChangeAnswered(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodGet && r.Method != http.MethodHead &&
			(strings.Contains(c.Path(), "/metadata/") || c.Path() == "/admin/reload") {
			_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Time{})
		}
		return next(c)
	}
}

// ready reports whether the store answers and a schema is live.
func (a *App) ready() error {
	if a.Schema.Current() == nil {
		return errors.New("no schema compiled")
	}
	return a.Store.Ping()
}

// schemaInfo names the live schema in /readyz: replicas whose hashes
// differ run different configs.
func (a *App) schemaInfo() map[string]string {
	c := a.Schema.Current()
	if c == nil {
		return nil
	}
	return map[string]string{"schema_hash": c.Hash, "schema_version": strconv.FormatUint(c.Version, 10)}
}

// handleError renders errors in the format of the API the request was for
// and logs internal ones (the client only sees "internal error").
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	switch errs.KindOf(err) {
	case errs.KindCorrupt:
		a.corrupt.Inc()
	case errs.KindUnsupportedMedia: // a coded body: RFC 9110 §15.5.16
		c.Response().Header().Set("Accept-Encoding", "identity")
	case errs.KindUnavailable: // "retry later", said in the header clients back off by
		// Not for maintenance, which lasts as long as the operator needs:
		// a client told 5 s would ask again every 5 s for hours.
		if c.Response().Header().Get(echo.HeaderRetryAfter) == "" && errs.As(err).Code != CodeMaintenance {
			c.Response().Header().Set(echo.HeaderRetryAfter, "5")
		}
	}
	// The request log (ops.RequestLogger) writes the failed request's one
	// line, at error level with err: a line here as well would log every
	// 500 twice.
	RenderError(err, c)
}

// RenderError writes err in the format of the API the request is for: a
// WSError on the eGain facade's paths, the Genesys JSON body elsewhere.
// It is also the starting server's (ops.Starting), so clients see one
// format from the first answer on.
func RenderError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if egain.IsFacadePath(c.Request().URL.Path) {
		egain.RenderError(c, err)
		return
	}
	status, body := api.Describe(err)
	c.JSON(status, body) // for HEAD, net/http sends no body
}

// headAsGet and headAgain serve HEAD wherever GET is served (RFC 9110
// §9.3.2: a server MUST): Echo routes a HEAD as a GET (headAsGet, before
// routing), then the request is HEAD again (headAgain, the first middleware
// after routing), so logs say HEAD and net/http sends the GET's headers
// without its body.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			r.Method = http.MethodGet
			c.Set(headKey, true)
		}
		return next(c)
	}
}

func headAgain(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Get(headKey) != nil {
			c.Request().Method = http.MethodHead
			if headless[c.Path()] {
				c.Response().Header().Set(echo.HeaderAllow, "OPTIONS, GET")
				return echo.ErrMethodNotAllowed
			}
		}
		// The router's Allow (a 405, an OPTIONS answer) lists the methods
		// registered, which HEAD is not.
		if c.Get(echo.ContextKeyHeaderAllow) != nil && !headless[c.Path()] {
			c.Response().Before(func() {
				h := c.Response().Header()
				if allow := h.Get(echo.HeaderAllow); strings.Contains(allow, http.MethodGet) && !strings.Contains(allow, http.MethodHead) {
					h.Set(echo.HeaderAllow, strings.Replace(allow, http.MethodGet, "GET, HEAD", 1))
				}
			})
		}
		return next(c)
	}
}

const headKey = "profiled.head"

// cacheHeaders tells caches what every answer of the two APIs depends on
// besides its URL (RFC 9110 §12.5.5; a 304 says it too, §15.4.5): the
// tenant and credential headers, and in the eGain facade the negotiated
// format and language and the session. The answers carry customer data, so
// no shared cache may keep them, and a browser revalidates what it keeps
// (the ETag of a profile read stays usable). The probes, metrics and the
// API description are the same for every caller.
//
// They are set before the handler runs, which may replace Cache-Control
// (an export, a backup): no hook per request.
func cacheHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch path := c.Request().URL.Path; path {
		case "/livez", "/readyz", "/metrics", "/docs/openapi.yaml":
		default:
			h := c.Response().Header()
			h["Cache-Control"] = privateNoCache
			if egain.IsFacadePath(path) {
				h["Vary"] = varyEGain
			} else {
				h["Vary"] = varyGenesys
			}
		}
		return next(c)
	}
}

// The values cacheHeaders sets, shared read-only by every answer (the
// header map's values are replaced, never appended to, by Set).
var (
	privateNoCache = []string{"private, no-cache"}
	varyGenesys    = []string{httpin.TenantHeader + ", " + httpin.ContactCenterHeader + ", Authorization, X-API-Key"}
	varyEGain      = []string{varyGenesys[0] + ", Accept, Accept-Language, X-egain-session"}
)

// headless are the GET routes whose GET does more than read, so HEAD is
// 405 there: an export is audited, a backup streams the whole data file.
var headless = map[string]bool{
	"/profiles/:id/export":              true,
	"/admin/egain/customer/:num/export": true,
	"/admin/backup":                     true,
	"/admin/debug/pprof/:name":          true, // a CPU profile samples for seconds
}

// recoverer turns a handler panic into a 500 and a log line; the process
// and other requests are unaffected.
func recoverer(log zerolog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					// The stack says where: the request line that follows
					// has only the panic's value.
					log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).
						Str("request_id", ops.RequestIDFrom(c)).Msg("handler panicked")
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}

// bodyLimit caps request bodies: a declared length over the limit is refused
// at once, and reading past the limit fails (413 either way).
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return errs.E(errs.KindTooLarge, api.CodeBodyTooLarge, "request body is larger than %d bytes", limit)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}

// queryCheck refuses a query string net/url cannot parse (bad escapes,
// more than 10000 parameters): Echo would silently read it as empty, and
// a request whose parameters were dropped must not succeed as if it had none.
func queryCheck(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if raw := c.Request().URL.RawQuery; raw != "" {
			if _, err := url.ParseQuery(raw); err != nil {
				return errs.Invalid(api.CodeBadParameter, "", "the query string cannot be parsed: %v", err)
			}
		}
		return next(c)
	}
}

// noteSchema records the live schema version for metrics and logs.
func (a *App) noteSchema(c *schema.Compiled) {
	a.schemaLoaded.Reset()
	a.schemaLoaded.WithLabelValues(c.Hash).Set(float64(c.LoadedAt.Unix()))
	a.Log.Info().Str("schema_hash", c.Hash).Uint64("schema_version", c.Version).Int("extensions", len(c.Def.Extensions)).
		Int("identification_keys", len(c.Def.Keys)).Msg("schema live")
}

func (a *App) registerMetrics() error {
	a.schemaLoaded = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "profiled_schema_loaded_timestamp_seconds",
		Help: "When the live schema was loaded, labelled by its hash.",
	}, []string{"hash"})
	if err := a.Metrics.RegisterCountFunc("profiled_profiles", "Stored profiles, all tenants.", func() (float64, error) {
		n, err := a.Store.ProfileCount()
		return float64(n), err
	}); err != nil {
		return err
	}
	if a.EGain != nil {
		if err := a.Metrics.RegisterCountFunc("profiled_egain_sessions_open", "eGain sessions open.", func() (float64, error) {
			n, err := a.EGain.OpenSessions()
			return float64(n), err
		}); err != nil {
			return err
		}
	}
	a.corrupt = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "profiled_data_corrupt_total",
		Help: "Requests answered 500 DATA_CORRUPT: stored data failed its checksum or could not be decoded, or a page of the data file could not be read.",
	})
	a.nonconforming = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "profiled_schema_nonconforming_profiles",
		Help: "Stored profiles that do not conform to the live schema (checked after each reload).",
	})
	a.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "profiled_schema_last_reload_successful",
		Help: "1 when the last schema reload (SIGHUP, POST /admin/reload) succeeded or none was asked since the start; 0 after a refused one, whose file the next start would refuse too.",
	})
	a.reloadOK.Set(1)
	a.notApplied = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "profiled_config_settings_not_applied",
		Help: "Settings (other than the schema) that the config file, as the last reload or schema follow read it, changes since the start: a reload does not apply them, a restart does.",
	})
	for _, c := range []prometheus.Collector{a.corrupt, a.nonconforming, a.schemaLoaded, a.reloadOK, a.notApplied, ops.NewStoreCollector(a.storeStats)} {
		if err := a.Metrics.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Reload re-reads the schema config and swaps it in; on failure the old
// schema stays live. Stored profiles are then checked against the new
// schema in the background: they are counted, never dropped.
// ctx carries the actor the audit entry names. Settings other than the
// schema that the file changed are not applied: they are logged at warn
// level (see reload).
func (a *App) Reload(ctx context.Context) error {
	_, err := a.reload(ctx)
	return err
}

// reload is Reload, returning the settings the file changed that the
// reload did not apply (they wait for a restart).
func (a *App) reload(ctx context.Context) ([]string, error) {
	// The file is checked as the next start would check it, as check-config
	// does: a reload applies its schema but not its eGain mapping (the
	// facade keeps the one it started with), so a mapping that does not
	// fit the new schema would pass the reload and then stop the next start.
	file, problems, err := a.checkFile(ctx)
	if err != nil || len(problems) > 0 {
		if err == nil {
			err = problems
		}
		a.Log.Error().Err(err).Msg("schema reload refused; the previous schema stays live")
		a.noteRefusedReload(err)
		return nil, err
	}
	c, err := a.Profiles.ReloadSchema(ctx)
	if err != nil {
		a.Log.Error().Err(err).Msg("schema reload refused; the previous schema stays live")
		a.noteRefusedReload(err)
		return nil, err
	}
	a.reloadOK.Set(1)
	notApplied := a.noteNotApplied(file, "reloaded the schema and unauthorized strings only")
	a.startConformanceCheck(c)
	return notApplied, nil
}

// startConformanceCheck counts, in the background, the stored profiles
// schema c no longer fits, ending the check a previous one started.
func (a *App) startConformanceCheck(c *schema.Compiled) {
	a.conformanceMu.Lock()
	if a.conformanceCancel != nil {
		a.conformanceCancel()
	}
	ctx, cancel := context.WithCancel(a.bg)
	a.conformanceCancel = cancel
	a.conformanceMu.Unlock()
	a.bgActive.Go(func() { defer cancel(); a.checkConformance(ctx, c) })
}

// settingConformance keeps the last conformance count (JSON, with the
// schema hash it is of), so a restart shows it instead of 0.
const settingConformance = "schema_conformance"

// restoreConformance shows, at a start, the count the last check made for
// the live schema c. When that count is of another schema (the file was
// edited while the server was stopped), it counts anew in the background.
// A store no check ever ran on (new, imported, or of an earlier release)
// is not read at the start: only a reload counts, as before.
func (a *App) restoreConformance(c *schema.Compiled) {
	stored, err := a.Store.Setting(context.Background(), settingConformance)
	var last profile.Conformance
	if err != nil || stored == "" || json.Unmarshal([]byte(stored), &last) != nil {
		return
	}
	if last.SchemaHash != c.Hash {
		a.startConformanceCheck(c)
		return
	}
	a.conformanceMu.Lock()
	a.conformance = &last
	a.conformanceMu.Unlock()
	a.nonconforming.Set(float64(last.Nonconforming))
}

// noteNotApplied compares the settings of file (the config file as a
// reload or a follow just read it) with those the server started with:
// only the schema goes live without a restart, so an operator who rotated
// admin.token or removed an eGain user and reloaded must not read a plain
// success. The keys that differ are logged at warn level and counted in
// profiled_config_settings_not_applied, and returned.
func (a *App) noteNotApplied(file *config.Config, what string) []string {
	if file == nil {
		return nil
	}
	keys := a.Config.NotReloaded(file)
	a.notApplied.Set(float64(len(keys)))
	if len(keys) > 0 {
		a.Log.Warn().Strs("not_applied", keys).Msg(what + ": the config file changes settings that only a restart applies; until then the server runs on the settings it started with")
	}
	return keys
}

// noteRefusedReload sets profiled_schema_last_reload_successful to 0 when
// the reload was refused for its file, which the next start would refuse
// too; a store that could not answer or commit now (503, or 409 when other
// replicas kept changing the schema) says nothing about the file.
func (a *App) noteRefusedReload(err error) {
	// Only a concurrent schema change is a conflict of the moment; a unique
	// key over stored duplicates (also 409) stops the next start as well.
	if k := errs.KindOf(err); k != errs.KindUnavailable && !(k == errs.KindConflict && errs.As(err).Code == profile.CodeSchemaChangedConcurrently) {
		a.reloadOK.Set(0)
	}
}

// checkFile checks the config file with the schema stored by the metadata
// API, as a start would, and returns it as read.
func (a *App) checkFile(ctx context.Context) (*config.Config, schema.Problems, error) {
	file, err := config.Load(a.Config.File)
	var problems schema.Problems
	if err != nil {
		if file == nil { // not readable as YAML: nothing more to check
			return nil, nil, err
		}
		problems = file.Problems(err) // settings: the schema is checked too, as check-config does
	}
	overlay, err := a.storedOverlay(ctx)
	if err != nil {
		return nil, nil, err
	}
	return file, append(problems, config.CheckSchema(file, overlay, egain.CheckMapping)...), nil
}

// storedOverlay is the schema the metadata API stored.
func (a *App) storedOverlay(ctx context.Context) (schema.Document, error) {
	var overlay schema.Document
	st, err := a.Store.SchemaState(ctx)
	if err != nil || len(st.Overlay) == 0 {
		return overlay, err
	}
	if err := json.Unmarshal(st.Overlay, &overlay); err != nil {
		return overlay, fmt.Errorf("decode schema overlay stored by the metadata API: %w", err)
	}
	return overlay, nil
}

// checkConformance counts stored profiles that do not fit schema c.
func (a *App) checkConformance(ctx context.Context, c *schema.Compiled) {
	result, err := a.Profiles.CheckConformance(ctx, c)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Error().Err(err).Msg("conformance check failed")
		}
		return
	}
	if a.Schema.Current().Hash != c.Hash {
		return // a newer reload won; its own check will report
	}
	// Kept for the next start (restoreConformance) before it is shown, so
	// that a restart after /admin/schema shows the count still finds it;
	// outside the lock, as a store write must not hold the readers of
	// /admin/schema. (Should a newer reload win meanwhile, the count kept
	// is of another schema, which a start does not restore.)
	if data, err := json.Marshal(result); err == nil {
		if err := a.Store.SetSetting(ctx, settingConformance, string(data)); err != nil && ctx.Err() == nil {
			a.Log.Warn().Err(err).Msg("conformance count not kept for the next start")
		}
	}
	a.conformanceMu.Lock()
	if a.Schema.Current().Hash != c.Hash {
		a.conformanceMu.Unlock()
		return
	}
	a.conformance = &result
	a.nonconforming.Set(float64(result.Nonconforming))
	a.conformanceMu.Unlock()
	ev := a.Log.Info()
	if result.Nonconforming > 0 {
		ev = a.Log.Warn()
	}
	ev.Str("schema_hash", c.Hash).Int("checked", result.Checked).Int("nonconforming", result.Nonconforming).
		Strs("examples", result.Examples).Msg("stored profiles checked against the schema; nothing was dropped")
}

func (a *App) reloadHandler(c echo.Context) error {
	// A client (or a proxy's timeout) going away must not cut a reload
	// that is rebuilding indexes: it completes, or fails whole.
	notApplied, err := a.reload(context.WithoutCancel(c.Request().Context()))
	if err != nil {
		if errs.Is(err, errs.KindUnavailable) {
			return err // the store, not the config: 503, worth retrying
		}
		return c.JSON(http.StatusBadRequest, map[string]any{
			"message":   "schema reload refused, the previous schema stays live: " + err.Error(),
			"exception": errs.GenesysException,
			"code":      "SCHEMA_RELOAD_REFUSED",
			"problems":  problemList(err),
		})
	}
	return a.schemaAnswer(c, notApplied)
}

// schemaHandler shows the live schema, its version and, once checked after
// a reload, how many stored profiles do not conform to it.
func (a *App) schemaHandler(c echo.Context) error { return a.schemaAnswer(c, nil) }

// schemaAnswer is schemaHandler's answer; after a reload, notApplied names
// the settings the file changed that wait for a restart.
func (a *App) schemaAnswer(c echo.Context, notApplied []string) error {
	s := a.Schema.Current()
	a.conformanceMu.Lock()
	conformance := a.conformance
	a.conformanceMu.Unlock()
	if conformance != nil && conformance.SchemaHash != s.Hash {
		conformance = nil
	}
	body := map[string]any{
		"hash":        s.Hash,
		"loaded_at":   s.LoadedAt.UTC().Format(time.RFC3339Nano),
		"schema":      s.Def,
		"conformance": conformance,
	}
	if len(notApplied) > 0 {
		body["not_applied"] = notApplied
		body["message"] = "schema reloaded; the config file also changes settings a reload does not apply (only the schema and genesys.unauthorized_strings are reloaded): they take effect at the next start"
	}
	return c.JSON(http.StatusOK, body)
}

func problemList(err error) []string {
	var problems schema.Problems
	if errors.As(err, &problems) {
		out := make([]string, len(problems))
		for i, p := range problems {
			out[i] = p.String()
		}
		return out
	}
	return []string{err.Error()}
}

// WarnInsecureDefaults logs a warning for each shipped default that must
// not reach production.
func (a *App) WarnInsecureDefaults() {
	if !a.Config.Genesys.Auth.Enabled {
		a.Log.Warn().Msg("the Genesys-style API accepts unauthenticated calls, as UCS does; set genesys.auth to require API keys or basic auth")
	}
	for _, u := range a.Config.EGain.Users {
		if u.PasswordHash == config.DemoPasswordHash {
			a.Log.Warn().Str("user", u.Name).Msg("eGain user has the shipped demo password; replace its password_hash (see README)")
		}
	}
}

// storeStats adapts the store's counters for the metrics collector.
func (a *App) storeStats() ops.StoreStats {
	switch db := a.Store.(type) {
	case *store.DB:
		s := db.Stats()
		return ops.StoreStats{
			Commits:             s.Commits,
			BatchedCalls:        s.BatchedCalls,
			IndexEntriesVisited: s.IndexEntriesVisited,
			ProfileReads:        s.ProfileReads,
			SizeBytes:           s.Size,
			ReadTx:              uint64(s.Bolt.TxN),
			OpenReadTx:          uint64(s.Bolt.OpenTxN),
			FreePages:           uint64(s.Bolt.FreePageN),
			PendingPages:        uint64(s.Bolt.PendingPageN),
			PageWrites:          uint64(s.Bolt.TxStats.GetWrite()),
			WriteSeconds:        s.Bolt.TxStats.GetWriteTime().Seconds(),
		}
	case *postgres.DB:
		s := db.Stats()
		return ops.StoreStats{
			Commits:             s.Commits,
			BatchedCalls:        s.Commits,
			Retries:             s.Retries,
			IndexEntriesVisited: s.IndexEntriesVisited,
			ProfileReads:        s.ProfileReads,
			Pool: &ops.PoolStats{
				MaxConns:        uint64(s.Pool.MaxConns()),
				TotalConns:      uint64(s.Pool.TotalConns()),
				AcquiredConns:   uint64(s.Pool.AcquiredConns()),
				IdleConns:       uint64(s.Pool.IdleConns()),
				Acquires:        uint64(s.Pool.AcquireCount()),
				EmptyAcquires:   uint64(s.Pool.EmptyAcquireCount()),
				AcquireSeconds:  s.Pool.AcquireDuration().Seconds(),
				CanceledAcquire: uint64(s.Pool.CanceledAcquireCount()),
			},
		}
	}
	return ops.StoreStats{}
}

// withActor gives every request the actor its audit entries name:
// anonymous, at the client's address, until authentication names it.
func withActor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		actor := &profile.Actor{Client: httpin.ClientIP(c), RequestID: ops.RequestIDFrom(c)}
		c.SetRequest(r.WithContext(profile.WithActor(r.Context(), actor)))
		return next(c)
	}
}

// adminActor names the actor of requests the admin guard admitted.
func adminActor(guard echo.MiddlewareFunc, token bool) echo.MiddlewareFunc {
	name := "admin (loopback)"
	if token {
		name = "admin (token)"
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return guard(func(c echo.Context) error {
			profile.NameActor(c.Request().Context(), name)
			return next(c)
		})
	}
}

// adminRoutes registers /admin routes behind the admin guard.
type adminRoutes struct {
	g     *echo.Group
	guard echo.MiddlewareFunc
}

func (r adminRoutes) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.g.GET(path, h, append([]echo.MiddlewareFunc{r.guard}, m...)...)
}

func (r adminRoutes) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.g.POST(path, h, append([]echo.MiddlewareFunc{r.guard}, m...)...)
}
