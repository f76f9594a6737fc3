package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/egain"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/api"
	"github.com/contactcenter/profiled/schema"
)

// Server modes (Genesys spec §6.4). In maintenance, profile data
// operations of both APIs answer 503; schema operations keep working.
const (
	ModeProduction  = "production"
	ModeMaintenance = "maintenance"
)

// settingMode is where the mode is stored, so it survives a restart and
// every replica of a shared store follows it.
const settingMode = "server_mode"

// CodeMaintenance is the code of data operations refused in maintenance.
const CodeMaintenance = "MAINTENANCE_MODE"

// modeCacheFor bounds how long a replica may serve in a mode another
// replica has left: the mode is read from the store at most this often.
const modeCacheFor = time.Second

// modeCache holds the mode this process last read or set.
type modeCache struct {
	mu   sync.Mutex
	mode string    // "" until read
	read time.Time // when; zero forces a read
	gen  uint64    // bumped by every set, so a read begun before it cannot undo it
}

// mode returns the server mode, read from the store at most once a
// modeCacheFor (the read happens outside the lock, so a slow store holds
// up only the requests that find the cache stale). A store that cannot say
// keeps the last known mode (production at first) until the next try: a
// failing store answers data operations 503 on its own.
func (a *App) mode(ctx context.Context) string {
	a.modes.mu.Lock()
	mode, gen, fresh := a.modes.mode, a.modes.gen, !a.modes.read.IsZero() && time.Since(a.modes.read) < modeCacheFor
	a.modes.mu.Unlock()
	if !fresh {
		m, err := a.Store.Setting(ctx, settingMode)
		a.modes.mu.Lock()
		switch {
		case a.modes.gen != gen: // set meanwhile: that value is newer
		case err != nil:
			a.modes.read = time.Now() // try again after modeCacheFor, not on every request
			a.Log.Warn().Err(err).Msg("cannot read the server mode; keeping the last known")
		default:
			a.modes.mode, a.modes.read = m, time.Now()
		}
		mode = a.modes.mode
		a.modes.mu.Unlock()
	}
	if mode == "" {
		return ModeProduction
	}
	return mode
}

// inMaintenance refuses a profile data operation while the server is in
// maintenance mode, with a body naming the mode. It runs once the caller
// is authenticated (the data routes of both APIs, and export and erase,
// call it after their guards), so a caller without credentials learns
// nothing of the mode.
func (a *App) inMaintenance(c echo.Context) error {
	if a.mode(c.Request().Context()) == ModeMaintenance {
		return errs.E(errs.KindUnavailable, CodeMaintenance, "the server is in maintenance mode: profile data operations are refused until POST /server/mode {\"mode\":\"production\"}")
	}
	return nil
}

// maintenanceGate is inMaintenance as route middleware.
func (a *App) maintenanceGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.inMaintenance(c); err != nil {
			return err
		}
		return next(c)
	}
}

// setModeHandler serves POST /server/mode {"mode": "maintenance"|"production"}
// (case-insensitive): 200, Location /server/status, {"server changed": mode}.
func (a *App) setModeHandler(c echo.Context) error {
	data, err := httpin.ReadBody(c.Request(), api.CodeMalformedJSON)
	if err != nil {
		return err
	}
	body, err := httpin.DecodeObject(data, c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return errs.Invalid("MALFORMED_JSON", "", "request body %v", err)
	}
	raw, _ := body["mode"].(string)
	mode := strings.ToLower(raw)
	if len(body) != 1 || (mode != ModeProduction && mode != ModeMaintenance) {
		return errs.Invalid("INVALID_MODE", "mode", `the body must be {"mode": "production"} or {"mode": "maintenance"}`)
	}
	err = a.Profiles.Record(c.Request().Context(), "", profile.OpServerMode+"."+mode, func(tx profile.Tx) error {
		return tx.PutSetting(settingMode, mode)
	})
	if err != nil {
		return err
	}
	a.modes.mu.Lock()
	a.modes.mode, a.modes.read = mode, time.Now()
	a.modes.gen++
	a.modes.mu.Unlock()
	a.Log.Info().Str("mode", mode).Msg("server mode changed")
	c.Response().Header().Set(echo.HeaderLocation, "/server/status")
	return c.JSON(http.StatusOK, map[string]string{"server changed": mode})
}

// statusHandler serves GET /server/status: {"mode": …}.
func (a *App) statusHandler(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"mode": a.mode(c.Request().Context())})
}

// checkHandler serves POST /admin/check: the body is a candidate config
// file; the answer lists every problem it would have here — its settings,
// its schema compiled with the schema this server's store holds (the
// metadata API's), and the eGain mapping — so check-config can tell the
// truth while this server holds the data file. A schema file the candidate
// names is read relative to this server's config file.
func (a *App) checkHandler(c echo.Context) error {
	data, err := httpin.ReadBody(c.Request(), api.CodeMalformedJSON)
	if err != nil {
		return err
	}
	cfg, err := config.Parse(a.Config.File, data)
	problems := schema.Problems{}
	if err != nil {
		if cfg == nil {
			if !errors.As(err, &problems) {
				problems = schema.Problems{{Message: err.Error()}}
			}
			for i := range problems {
				if problems[i].File == a.Config.File {
					problems[i].File = ""
				}
			}
			return c.JSON(http.StatusOK, map[string]any{"ok": false, "problems": problems})
		}
		problems = cfg.Problems(err)
	}
	if err := cfg.Server.CheckAddr(); err != nil { // a start with this file would not listen
		problems = append(problems, cfg.Problems(err)...)
	}
	if name, external := cfg.SchemaFile(); external {
		// The file would be this server's to read, which a request must
		// not choose (its text would come back in problems); check-config
		// does not send such a config.
		problems = append(problems, schema.Problem{Message: fmt.Sprintf("the schema is in a separate file (%q): the server checks a config with its schema inline only", name)})
		return c.JSON(http.StatusOK, map[string]any{"ok": false, "problems": problems})
	}
	overlay, err := a.storedOverlay(c.Request().Context())
	if err != nil {
		return err
	}
	problems = append(problems, config.CheckSchema(cfg, overlay, egain.CheckMapping)...)
	var builds *IndexBuild
	if len(problems) == 0 {
		// The keys as the store's data would take them, as a reload would
		// build them (in a transaction rolled back).
		compiled, err := cfg.LoadSchema(overlay)
		if err != nil {
			return err
		}
		start := time.Now()
		indexed, err := a.Profiles.CheckIndexes(c.Request().Context(), compiled, "")
		if err != nil {
			return err
		}
		problems = append(problems, cfg.AtKeys(indexed)...)
		// What the reload will build, for check-config to say (as it does
		// when it checks a stopped store itself).
		keys, err := a.Profiles.IndexesToBuild(c.Request().Context(), compiled)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			n, err := a.Store.ProfileCount()
			if err != nil {
				return err
			}
			builds = &IndexBuild{Keys: keys, Profiles: n, TookMillis: time.Since(start).Milliseconds()}
		}
	}
	for i := range problems {
		if problems[i].File == a.Config.File {
			problems[i].File = "" // the candidate itself: the caller knows it by its own name
		}
	}
	dataFile := "" // which store this answer is about, for the caller to compare
	if !a.Config.Store.IsPostgres() {
		dataFile, _ = filepath.Abs(a.Config.Store.Path)
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": len(problems) == 0, "problems": problems, "data_file": dataFile, "builds": builds})
}

// IndexBuild is what a reload with a checked config builds (POST
// /admin/check's "builds"): the keys, over how many profiles, and how long
// working out their entries took, about what the build will take.
type IndexBuild struct {
	Keys       []string `json:"keys"`
	Profiles   int      `json:"profiles"`
	TookMillis int64    `json:"took_ms"`
}

// Note is the line check-config prints of it.
func (b *IndexBuild) Note() string {
	return fmt.Sprintf("a start (or reload) with this config builds the indexes of keys %s over %d profiles first; working out their entries took %v, and the build takes about as long",
		strings.Join(b.Keys, ", "), b.Profiles, time.Duration(b.TookMillis)*time.Millisecond)
}
