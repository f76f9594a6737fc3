// Command profiled is the customer-profile service: a Genesys UCS-style
// profile API and an eGain Interaction API v12 customer facade over one
// bbolt store. See README.md and docs/ for the run contract.
//
//	profiled [serve] [-config FILE] [-addr HOST:PORT] [-data FILE] [-store URL]
//	profiled check-config [-config FILE]
//	profiled backup -out FILE [-config FILE] [-data FILE]
//	profiled import -in FILE [-tenant T] [-batch N] [-config FILE] [-data FILE]
//	profiled healthcheck [-config FILE] [-addr HOST:PORT]
//	profiled audit [-customer-id ID] [-actor A] [-op OP] [-from T] [-to T] [-config FILE] [-data FILE] [-store URL]
//	profiled copy-store -from FILE_OR_URL -to FILE_OR_URL
//	profiled hash-password < password   (bcrypt hash for config users)
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/diode"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/egain"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/importer"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/ops"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/check"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/transfer"
)

func main() {
	// zerolog's time format is process-wide: set once, before any logger.
	zerolog.TimeFieldFormat = time.RFC3339Nano
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand: its one-line summary, the flags it takes and
// what it does with them.
type command struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet, o *options)
	run                 func(o *options, io cmdIO) error
}

// options are every flag a subcommand may take; each registers its own.
type options struct {
	config, addr, data, store, out, in, tenant, from, to, rejects string
	customerID, actor, op                                         string
	batch, limit                                                  int
	skipBad, resume                                               bool
	given                                                         map[string]bool // the flags given, empty or not
}

type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// errProblems is a command's answer when it found problems it printed
// itself (profiled check): exit 1 without another line.
var errProblems = errors.New("problems found")

// errUsage marks a command's refusal of its flags, which the flag package
// cannot see (a missing -in, flags that do not go together): exit 2, as
// for any usage error.
var errUsage = errors.New("usage")

// usageError is a refusal of the flags given, in the words of format.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// checkTenantFlag applies the tenant rule of X-Genesys-TenantId to -tenant:
// a name no API could address reads nothing and must create nothing.
func checkTenantFlag(tenant string) error {
	if httpin.CheckTenant(tenant) != nil {
		return usageError("-tenant %q must be 1 to 64 letters, digits, '_' or '-' (as X-Genesys-TenantId), or empty for the default tenant", tenant)
	}
	return nil
}

func configFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.config, "config", envOr("PROFILED_CONFIG", "config.yaml"), "config file (env PROFILED_CONFIG)")
}

func storeFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.data, "data", "", "bbolt data file, overrides store.path (env PROFILED_DATA)")
	fs.StringVar(&o.store, "store", "", "PostgreSQL URL (postgres://...), overrides store.url; -data is then ignored (env PROFILED_STORE)")
}

func addrFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.addr, "addr", "", "listen address, overrides server.addr (env PROFILED_ADDR)")
}

// withConfig loads the config as the flags and environment say, then runs fn.
func withConfig(fn func(cfg *config.Config, o *options, io cmdIO) error) func(o *options, io cmdIO) error {
	return func(o *options, io cmdIO) error {
		cfg, err := loadConfig(o.config, o.addr, o.data, o.store)
		if err != nil {
			return err
		}
		return fn(cfg, o, io)
	}
}

var commands = []command{
	{"serve", "", "run the HTTP service (the default command)",
		func(fs *flag.FlagSet, o *options) { configFlag(fs, o); addrFlag(fs, o); storeFlags(fs, o) },
		withConfig(func(cfg *config.Config, _ *options, io cmdIO) error { return serve(cfg, io.stderr) })},
	{"check-config", "", "load the config and schema as serve would (with the schema the metadata API stored), and print every problem",
		func(fs *flag.FlagSet, o *options) { configFlag(fs, o); addrFlag(fs, o); storeFlags(fs, o) },
		checkConfig},
	{"check", "", "verify a store: bbolt structure, every checksum, index entries against the data",
		func(fs *flag.FlagSet, o *options) { configFlag(fs, o); storeFlags(fs, o) },
		withConfig(func(cfg *config.Config, _ *options, io cmdIO) error {
			ok, err := checkStore(cfg, io.stdout)
			if err == nil && !ok {
				return errProblems
			}
			return err
		})},
	{"audit", "", "print audit entries (who changed what), newest first, one JSON object per line",
		func(fs *flag.FlagSet, o *options) {
			configFlag(fs, o)
			storeFlags(fs, o)
			fs.StringVar(&o.tenant, "tenant", "", "the tenant whose trail to read; the default tenant when empty")
			fs.StringVar(&o.customerID, "customer-id", "", "only entries about this customer")
			fs.StringVar(&o.actor, "actor", "", `only entries by this actor (as printed, e.g. 'api key "crm"')`)
			fs.StringVar(&o.op, "op", "", "only entries of this operation (create, replace, erase, export, ...)")
			fs.StringVar(&o.from, "from", "", "only entries at or after this time (RFC 3339 or a date)")
			fs.StringVar(&o.to, "to", "", "only entries at or before this time (RFC 3339 or a date)")
			fs.IntVar(&o.limit, "limit", 0, "print at most this many (0: all)")
		},
		withConfig(func(cfg *config.Config, o *options, io cmdIO) error { return printAudit(cfg, o, io.stdout) })},
	{"backup", "", "copy a stopped bbolt data file consistently to -out",
		func(fs *flag.FlagSet, o *options) {
			configFlag(fs, o)
			fs.StringVar(&o.data, "data", "", "bbolt data file, overrides store.path (env PROFILED_DATA)")
			fs.StringVar(&o.out, "out", "", "file to write")
		},
		withConfig(func(cfg *config.Config, o *options, io cmdIO) error { return backup(cfg, o.out, io.stdout) })},
	{"import", "", "load NDJSON profiles (one JSON object per line) into the store",
		func(fs *flag.FlagSet, o *options) {
			configFlag(fs, o)
			storeFlags(fs, o)
			fs.StringVar(&o.in, "in", "", "NDJSON file of profiles (- for stdin)")
			fs.StringVar(&o.tenant, "tenant", "", "tenant to import into (as X-Genesys-TenantId); the default tenant when empty")
			fs.IntVar(&o.batch, "batch", importer.DefaultBatch, "profiles per transaction (one fsync each)")
			fs.BoolVar(&o.skipBad, "skip-bad", false, "set bad lines aside in a reject file (with line numbers and errors) and go on, instead of stopping at the first")
			fs.StringVar(&o.rejects, "rejects", "", "with -skip-bad: the reject file (default: the input's name with .rejects.ndjson)")
			fs.BoolVar(&o.resume, "resume", false, "skip the lines an earlier, interrupted import of this file committed (recorded in the store with each batch)")
		},
		withConfig(func(cfg *config.Config, o *options, io cmdIO) error { return importProfiles(cfg, o, io.stdout) })},
	{"copy-store", "", "copy everything of one store into another, empty one (bbolt file or postgres:// URL)",
		func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.config, "config", "", "ignored: the stores are named by -from and -to")
			fs.StringVar(&o.from, "from", "", "the store to copy, a bbolt file or a postgres:// URL")
			fs.StringVar(&o.to, "to", "", "the empty store to fill, a bbolt file or a postgres:// URL")
		},
		func(o *options, io cmdIO) error { return copyStore(o.from, o.to, io.stdout) }},
	{"healthcheck", "", "exit 0 when the local server answers /readyz (the image's HEALTHCHECK)",
		func(fs *flag.FlagSet, o *options) { configFlag(fs, o); addrFlag(fs, o) },
		func(o *options, _ cmdIO) error { return healthcheck(o) }},
	{"hash-password", "", "read a password on standard input and print its bcrypt hash for the config",
		func(*flag.FlagSet, *options) {},
		func(_ *options, io cmdIO) error { return hashPassword(io.stdin, io.stdout, io.stderr) }},
	{"version", "", "print the version, commit and Go version",
		func(*flag.FlagSet, *options) {},
		func(_ *options, io cmdIO) error { fmt.Fprintln(io.stdout, versionLine()); return nil }},
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the page `profiled help` prints.
func usage(w io.Writer) {
	fmt.Fprintln(w, "profiled: customer profiles for contact centers (Genesys Context Services and eGain v12 APIs)")
	fmt.Fprintln(w, "\nUsage: profiled [command] [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help           this page; profiled help COMMAND (or COMMAND -h) lists a command's flags")
	fmt.Fprintln(w, "\nWithout a command profiled serves. Docs: README.md and docs/ (docs/config.md lists every flag and setting).")
}

// versionLine is the module version, VCS revision and Go version from the
// build info, so a plain go build says something useful too.
func versionLine() string {
	version, commit, modified := "(devel)", "unknown", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	return fmt.Sprintf("profiled %s, commit %s%s, %s", version, commit, modified, runtime.Version())
}

// run dispatches a subcommand and returns the exit code: 0 done, 1 failed,
// 2 a usage error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name, explicit := "serve", false
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args, explicit = args[0], args[1:], true
	}
	switch {
	case name == "help":
		if len(args) == 0 {
			usage(stdout)
			return 0
		}
		name, args = args[0], []string{"-h"}
	case !explicit && len(args) > 0 && isHelp(args[0]):
		usage(stdout)
		return 0
	case !explicit && len(args) > 0 && (args[0] == "--version" || args[0] == "-version"):
		fmt.Fprintln(stdout, versionLine())
		return 0
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "profiled: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	var o options
	fs := flag.NewFlagSet("profiled "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr) // problems; asked-for help goes to stdout
	if slices.ContainsFunc(args, isHelp) {
		fs.SetOutput(stdout)
	}
	cmd.flags(fs, &o)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: profiled %s [flags]\n\n%s%s.\n", cmd.name, strings.ToUpper(cmd.summary[:1]), cmd.summary[1:])
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	usageExit := 2
	if cmd.name == "check-config" {
		usageExit = 1 // the run contract: check-config exits 0 when valid, 1 otherwise
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return usageExit // the flag package printed the problem and the usage
	}
	o.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "profiled %s: unexpected argument %q (flags start with -; see profiled help %s)\n", cmd.name, fs.Arg(0), cmd.name)
		return usageExit
	}
	err := cmd.run(&o, cmdIO{stdin, stdout, stderr})
	var problems schema.Problems
	switch {
	case errors.Is(err, errProblems):
		return 1
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "profiled %s: %s (see profiled help %s)\n", cmd.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "), cmd.name)
		return usageExit
	case errors.As(err, &problems):
		for _, p := range problems { // one per line, file:line first, as editors read them
			fmt.Fprintln(stderr, p.String())
		}
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "profiled:", err)
		return 1
	}
	return 0
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// loadConfig applies the contract's precedence: flag > env > file > default.
func loadConfig(path, addr, data, storeURL string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	applyOverrides(cfg, addr, data, storeURL)
	if err := cfg.Store.CheckURL(); err != nil { // the environment or a flag may have set it
		return nil, err
	}
	return cfg, nil
}

// applyOverrides applies the environment, then the flags, over the file.
func applyOverrides(cfg *config.Config, addr, data, storeURL string) {
	cfg.ApplyEnv(os.Getenv)
	if addr != "" {
		cfg.Server.Addr = addr
	}
	if data != "" {
		// An explicit -data names the bbolt file: it outranks a URL from
		// the environment or the file (flag > env > file); -store beats it.
		cfg.Store.Path, cfg.Store.URL = data, ""
	}
	if storeURL != "" {
		cfg.Store.URL = storeURL
	}
}

func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(strings.ToLower(cfg.Log.Level)) // config refuses the others
	if cfg.Log.Level == "" {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// serve runs the service until SIGTERM or SIGINT; SIGHUP reloads the schema.
func serve(cfg *config.Config, logOut io.Writer) (err error) {
	// Signals are taken over first: a SIGTERM that arrives while the store
	// opens, or just after /readyz first answers, must still shut down
	// gracefully instead of killing the process.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	gcPercent, memoryLimit := ops.TuneGC()
	// Log lines go through a lock-free ring buffer drained by its own
	// goroutine, so a slow log device never stalls requests; if it falls
	// 10000 lines behind, lines are dropped and the drop is counted.
	// The drain writes lines out in batches, at most 5 ms after the first
	// one waits (ops.BatchWriter). (struct{ io.Writer } hides Close: closing
	// the diode must not close stderr.)
	batch := ops.NewBatchWriter(logOut, 5*time.Millisecond)
	defer batch.Close()
	behind := newLogger(cfg, batch) // from the drain's own goroutine, past the ring
	async := diode.NewWriter(struct{ io.Writer }{batch}, 10000, 10*time.Millisecond, func(dropped int) {
		behind.Warn().Int("dropped", dropped).Msg("log writer fell behind; lines dropped")
	})
	defer async.Close()
	log := newLogger(cfg, async)
	// Why the process stops, as a JSON line too: log collectors read those
	// (the plain "profiled: ..." line after it is for a person at a shell).
	defer func() {
		if err != nil {
			log.Error().Err(err).Msg("profiled cannot serve; exiting")
		}
	}()
	// Bind first: a port already in use fails before the data file is
	// created or opened.
	ln, err := ops.Listen(ops.ServerConfig{
		Addr:              cfg.Server.Addr,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
	})
	if err != nil {
		return err
	}
	// Served from here on, so that a start that takes long (indexes built
	// over a large store) answers /livez, and a SIGTERM meanwhile stops it:
	// the unfinished start commits nothing, and the next one begins again.
	handler := ops.NewSwap(ops.Starting(log, cfg.Log.ProbesAtDebug, server.RenderError, httpin.ClientIPExtractor(cfg.Server.TrustedProxyNets())))
	srv := ln.Serve(handler)
	app, err := startApp(cfg, log, signals)
	if err != nil || app == nil {
		_, _ = srv.Shutdown(cfg.Server.ShutdownTimeout)
		return err
	}
	defer app.Close()
	app.WarnInsecureDefaults()
	handler.Set(app.Echo)
	ev := log.Info().Str("addr", srv.Addr()).Int("gc_percent", gcPercent)
	if memoryLimit != math.MaxInt64 {
		ev = ev.Int64("memory_limit_bytes", memoryLimit)
	}
	if cfg.Store.IsPostgres() {
		ev = ev.Str("store", config.RedactURL(cfg.Store.URL))
		if pg, ok := app.Store.(*postgres.DB); ok {
			ev = ev.Str("store_schema", pg.Schema())
		}
	} else {
		ev = ev.Str("data", cfg.Store.Path)
	}
	ev.Msg("profiled listening")
	// A reload runs beside this loop, one at a time, so that the loop
	// always takes the next signal: run here, a slow reload left the
	// one-signal channel full and a SIGTERM behind a second SIGHUP was
	// dropped. A shutdown cancels the reload (which then commits nothing)
	// and the store closes only once it has ended.
	var reloads sync.WaitGroup
	reloading := make(chan struct{}, 1)
	reloadCtx, cancelReload := context.WithCancel(profile.WithActor(context.Background(), &profile.Actor{Name: "operator (SIGHUP)"}))
	defer reloads.Wait() // before app.Close, deferred earlier
	defer cancelReload()
	for {
		select {
		case <-srv.Done():
			return srv.Err()
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				select {
				case reloading <- struct{}{}:
					reloads.Go(func() {
						defer func() { <-reloading }()
						// Logged by Reload; the old schema stays live on failure.
						_ = app.Reload(reloadCtx)
					})
				default:
					log.Warn().Msg("SIGHUP while a reload runs: not reloaded again; send it once that one has ended")
				}
				continue
			}
			log.Info().Str("signal", sig.String()).Msg("shutting down")
			start, inFlight := time.Now(), srv.InFlight()
			cut, err := srv.Shutdown(cfg.Server.ShutdownTimeout)
			if err != nil {
				log.Error().Err(err).Int64("requests_cut", cut).Msg("shutdown timed out; in-flight requests were cut")
			}
			log.Info().Dur("took_ms", time.Since(start)).Int64("requests_drained", max(0, inFlight-cut)).Msg("stopped")
			return nil
		}
	}
}

// startApp makes the service (server.New) while watching signals: a
// SIGTERM or SIGINT before it is ready ends the start, answered nil app
// and nil error (the store opens in its own goroutine, which the exit
// abandons: bbolt and PostgreSQL commit nothing of a transaction that did
// not finish). A SIGHUP then has nothing to reload yet.
func startApp(cfg *config.Config, log zerolog.Logger, signals <-chan os.Signal) (*server.App, error) {
	type started struct {
		app *server.App
		err error
	}
	done := make(chan started, 1)
	go func() {
		app, err := server.New(cfg, log)
		done <- started{app, err}
	}()
	for {
		select {
		case s := <-done:
			return s.app, s.err
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				log.Warn().Msg("SIGHUP while starting: nothing to reload yet, the start reads the config as it is")
				continue
			}
			log.Info().Str("signal", sig.String()).Msg("stopping before the start finished; it committed nothing, and the next start begins again")
			return nil, nil
		}
	}
}

// checkConfig runs check-config: the file's settings, its schema with the
// schema the metadata API stored (read from the store, or, when a running
// server holds the data file, checked by that server through POST
// /admin/check), and the eGain mapping; every problem is printed on
// stdout. It never says OK for a config the running server would refuse:
// when the stored schema can be read neither way it says NOT CHECKED and
// fails (exit 1, as the run contract has it).
func checkConfig(o *options, io cmdIO) error {
	data, err := config.ReadFile(o.config)
	if err != nil {
		return err
	}
	cfg, err := config.Parse(o.config, data)
	var problems schema.Problems
	if err != nil {
		if cfg == nil { // YAML that cannot be read: nothing more can be checked
			if errors.As(err, &problems) {
				printProblems(io.stdout, problems)
				return fmt.Errorf("%d problem(s) in %s", len(problems), o.config)
			}
			return err
		}
		problems = cfg.Problems(err)
	}
	applyOverrides(cfg, o.addr, o.data, o.store)
	if err := cfg.Server.CheckAddr(); err != nil {
		problems = append(problems, cfg.Problems(err)...)
	}
	if err := cfg.Store.CheckURL(); err != nil {
		// No store to read the stored schema from: the file alone is
		// checked, and every problem of it reported.
		if !slices.ContainsFunc(problems, func(p schema.Problem) bool { return p.Message == err.Error() }) { // a flag or the environment set it
			problems = append(problems, cfg.Problems(err)...)
		}
		problems = append(problems, config.CheckSchema(cfg, schema.Document{}, egain.CheckMapping)...)
		printProblems(io.stdout, problems)
		return fmt.Errorf("%d problem(s) in %s", len(problems), cfg.File)
	}
	var overlay schema.Document
	if cfg.Store.IsPostgres() {
		overlay, err = postgres.ReadOverlay(context.Background(), cfg.Store.URL)
	} else {
		overlay, err = store.ReadOverlay(cfg.Store.Path, cfg.Store.OpenTimeout)
	}
	switch {
	case errors.Is(err, store.ErrInUse):
		// A running server holds the file: let it check against its store.
		// Its verdict covers the settings too, so it replaces the local one.
		// It reads schema files next to its own config, not this one's, so
		// a schema in a separate file cannot be checked that way.
		var remote schema.Problems
		var note string
		rerr := errors.New("the schema is in a separate file, which the server would read next to its own config")
		if _, external := cfg.SchemaFile(); !external {
			remote, note, rerr = checkOnServer(cfg, data)
		}
		if rerr != nil {
			printNotChecked(io, cfg, problems)
			return fmt.Errorf("NOT CHECKED: the schema stored by the metadata API could not be read (%v), and the server at %s could not check the file (%v)", err, cfg.Server.Addr, rerr)
		}
		fmt.Fprintf(io.stdout, "checked by the running server at %s (it holds %s)\n", cfg.Server.Addr, cfg.Store.Path)
		if note != "" {
			fmt.Fprintln(io.stdout, note)
		}
		problems = remote
	case err != nil:
		printNotChecked(io, cfg, problems)
		return fmt.Errorf("NOT CHECKED: the schema stored in the database could not be read: %w", err)
	default:
		problems = append(problems, config.CheckSchema(cfg, overlay, egain.CheckMapping)...)
		if len(problems) == 0 {
			indexed, note, err := checkIndexes(context.Background(), cfg)
			if err != nil {
				return fmt.Errorf("NOT CHECKED: the identification keys could not be tried on the stored data: %w", err)
			}
			if note != "" {
				fmt.Fprintln(io.stdout, note)
			}
			problems = append(problems, indexed...)
		}
	}
	printProblems(io.stdout, problems)
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) in %s", len(problems), cfg.File)
	}
	fmt.Fprintf(io.stdout, "%s: OK\n", cfg.File)
	return nil
}

// printNotChecked prints, when the stored schema cannot be read, the
// settings' problems and those the file's schema has on its own, so that
// an operator fixes what the file says before chasing the server or the
// database. The stored schema may define what some of the latter name.
func printNotChecked(io cmdIO, cfg *config.Config, problems schema.Problems) {
	printProblems(io.stdout, problems)
	if alone := config.CheckSchema(cfg, schema.Document{}, egain.CheckMapping); len(alone) > 0 {
		fmt.Fprintln(io.stdout, "in the file's schema alone (the schema stored by the metadata API may define what some of these name):")
		printProblems(io.stdout, alone)
	}
}

// checkIndexes works out, over the stored data, the index entries cfg's
// identification keys need, as a reload or a start would, writing nothing:
// a unique key over values two customers hold is a problem here, not a
// failed start. note says when there was nothing to try.
func checkIndexes(ctx context.Context, cfg *config.Config) (problems schema.Problems, note string, err error) {
	if !cfg.Store.IsPostgres() {
		if _, err := os.Stat(cfg.Store.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil // no data to index
		}
	}
	db, err := openForReading(ctx, storeOf(cfg), cfg.Store.OpenTimeout)
	if errors.Is(err, postgres.ErrNotMigrated) {
		return nil, "identification keys not tried on the stored data: the database is not at this release's tables (new, of an older release, or migrating now); this release's first start makes them", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	registry, err := profile.LoadRegistry(ctx, db, config.SchemaSource(cfg.File))
	if err != nil {
		return nil, "", err
	}
	profiles := profile.NewService(db, registry)
	start := time.Now()
	problems, err = profiles.CheckIndexes(ctx, registry.Current(), cfg.File)
	if err != nil {
		return nil, "", err
	}
	problems = cfg.AtKeys(problems)
	// What a start (or a reload) with this config will build: it reads
	// every profile as the check just did, so the check's time is the
	// build's, give or take the writes.
	keys, err := profiles.IndexesToBuild(ctx, registry.Current())
	if err != nil || len(keys) == 0 {
		return problems, "", err
	}
	n, err := db.ProfileCount()
	if err != nil {
		return nil, "", err
	}
	build := server.IndexBuild{Keys: keys, Profiles: n, TookMillis: time.Since(start).Milliseconds()}
	return problems, build.Note(), nil
}

func printProblems(w io.Writer, problems schema.Problems) {
	for _, p := range problems {
		fmt.Fprintln(w, p.String())
	}
}

// checkOnServer asks the server at cfg.Server.Addr to check the config
// text data against its stored schema (POST /admin/check); note says what
// a reload with it builds.
func checkOnServer(cfg *config.Config, data []byte) (problems schema.Problems, note string, err error) {
	// The address as healthcheck reaches it: an unspecified host is the
	// loopback address.
	readyz, err := ops.HealthcheckURL(cfg.Server.Addr)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(readyz, "/readyz")+"/admin/check", bytes.NewReader(data))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/yaml")
	if cfg.Admin.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Admin.Token)
	}
	// Never through an HTTP_PROXY of the environment: the request carries
	// the admin token and the candidate config to our own server.
	res, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	var answer struct {
		Problems []schema.Problem   `json:"problems"`
		DataFile string             `json:"data_file"`
		Builds   *server.IndexBuild `json:"builds"`
		Message  string             `json:"message"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("POST /admin/check answered %d %s", res.StatusCode, answer.Message)
	}
	if want, _ := filepath.Abs(cfg.Store.Path); answer.DataFile != want {
		return nil, "", fmt.Errorf("that server holds %q, not %s", answer.DataFile, want)
	}
	for i := range answer.Problems {
		if answer.Problems[i].File == "" { // in the config itself; a schema file keeps its name
			answer.Problems[i].File = cfg.File
		}
	}
	if answer.Builds != nil {
		note = answer.Builds.Note()
	}
	return answer.Problems, note, nil
}

// backup writes a consistent copy of the data file (the service may be
// stopped; a running service holds the lock, so use GET /admin/backup then).
func backup(cfg *config.Config, out string, stdout io.Writer) error {
	if out == "" {
		return usageError("backup needs -out FILE")
	}
	if cfg.Store.IsPostgres() {
		return errors.New("backup copies a bbolt data file; back up a PostgreSQL store with pg_dump (docs/deploy.md)")
	}
	if _, err := os.Stat(cfg.Store.Path); err != nil {
		return fmt.Errorf("no such data file %s: nothing to back up (-data or store.path names it)", cfg.Store.Path)
	}
	// Read-only: a backup only reads (a read-only file or mount too), and
	// still fails fast on a file a running server holds.
	db, err := store.Open(cfg.Store.Path, store.Options{ReadOnly: true, OpenTimeout: cfg.Store.OpenTimeout})
	if errors.Is(err, store.ErrInUse) {
		return fmt.Errorf("%w (while a server runs on it, ask it: GET /admin/backup)", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := ops.BackupToFile(db, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d bytes to %s\n", n, out)
	return nil
}

// healthcheck is the Docker HEALTHCHECK (the image has no shell or curl).
// The address comes from -addr or PROFILED_ADDR (the image sets it) when
// given, without reading the config file: an edit in progress, or one a
// reload refused, must not make a server that serves on the old config
// look unhealthy. Only without either is server.addr read from the file.
func healthcheck(o *options) error {
	addr := cmp.Or(o.addr, os.Getenv("PROFILED_ADDR"))
	if addr == "" {
		cfg, err := loadConfig(o.config, "", "", "")
		if err != nil {
			return err
		}
		addr = cfg.Server.Addr
	}
	url, err := ops.HealthcheckURL(addr)
	if err != nil {
		return err
	}
	return ops.Healthcheck(url, 3*time.Second)
}

// importProfiles bulk-loads NDJSON profiles into the store (for a bbolt
// file the server must be stopped: it holds the file lock; a PostgreSQL
// store takes imports while replicas serve). Every line is validated like a
// POST /profiles body; each batch is one transaction, so a bad line leaves
// nothing of its batch behind.
func importProfiles(cfg *config.Config, o *options, stdout io.Writer) error {
	if o.in == "" {
		return usageError("import needs -in FILE (- for stdin)")
	}
	if err := checkTenantFlag(o.tenant); err != nil {
		return err
	}
	if o.batch <= 0 {
		return usageError("-batch must be positive, not %d", o.batch)
	}
	if o.resume && o.in == "-" {
		return usageError("-resume needs -in FILE: standard input cannot be read again")
	}
	if o.rejects != "" && !o.skipBad {
		return usageError("-rejects names the file -skip-bad writes bad lines to; give -skip-bad too")
	}
	rejects := o.rejects
	if o.skipBad && rejects == "" {
		rejects = strings.TrimSuffix(o.in, filepath.Ext(o.in)) + ".rejects.ndjson"
		if o.in == "-" {
			rejects = "import.rejects.ndjson"
		}
	}
	// The reject file is emptied when opened: naming the input, the data
	// file or the config would destroy it.
	for _, other := range []struct{ flag, path string }{{"-in", o.in}, {"-data", cfg.Store.Path}, {"-config", cfg.File}} {
		if rejects != "" && other.path != "" && other.path != "-" && sameStore(rejects, other.path) {
			return usageError("-rejects %s is the file %s names: the reject file is written over; name another", rejects, other.flag)
		}
	}
	src := io.Reader(os.Stdin)
	var size int64 = -1
	name := "stdin"
	if o.in != "-" {
		f, err := os.Open(o.in)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if info, err := f.Stat(); err == nil {
			size = info.Size()
		}
		src, name = f, filepath.Base(o.in)
	}
	db, err := server.OpenBackend(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File))
	if err != nil {
		return fmt.Errorf("load schema: %w", err)
	}
	profiles := profile.NewService(db, registry)
	profiles.RecordLimit = cfg.Limits.MaxRecordsPerExtension
	if cfg.Store.IsPostgres() {
		// Replicas may be serving this database: bringing its indexes in
		// line with another config would rebuild them under the replicas.
		differ, err := profiles.KeysDiffer(context.Background())
		if err != nil {
			return err
		}
		if other, err := profiles.OtherIndexText(context.Background()); err != nil {
			return err
		} else if other {
			return fmt.Errorf("import: the database's identification indexes were built by another release of profiled (index text %q is this one's): import with the release the replicas run, or once every replica runs this one (docs/scale-out.md, \"Upgrades and migrations\")", schema.IndexTextVersion)
		}
		if differ {
			return fmt.Errorf("import: the identification keys of %s differ from those the database's indexes were built for; import with the config the replicas run with (or start a replica with this one first)", cfg.File)
		}
	}
	if err := profiles.SyncSchema(context.Background()); err != nil {
		return err
	}
	opts := importer.Options{Tenant: o.tenant, Batch: o.batch}
	if o.skipBad {
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if o.resume { // the lines rejected before the interruption are not read again: keep them
			flags = os.O_CREATE | os.O_RDWR | os.O_APPEND // read for the last line it holds
		}
		f, err := os.OpenFile(rejects, flags, 0o600) // customers' data: readable by the importer only
		if err != nil {
			return fmt.Errorf("import: reject file: %w", err)
		}
		defer f.Close()
		if o.resume { // a batch redone reports no line the file holds already
			if opts.Rejected, err = importer.ReopenRejects(f); err != nil {
				return fmt.Errorf("import: reject file: %w", err)
			}
		}
		opts.Rejects = f
		defer fmt.Fprintf(stdout, "bad lines, with their numbers and errors: %s\n", rejects)
	}
	if o.in != "-" {
		// Every import of a file records its progress, so that a rerun
		// with -resume after any interruption skips what is done.
		abs, err := filepath.Abs(o.in)
		if err != nil {
			return err
		}
		opts.Track, opts.Resume, opts.Committed = abs, o.resume, db.Setting
	}
	// On a terminal a progress bar with rate and ETA; otherwise a line
	// every few seconds, which a log collector keeps.
	start := time.Now()
	var bar *progressbar.ProgressBar
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.DefaultBytes(size, "importing "+name)
		defer bar.Finish()
		reader := progressbar.NewReader(src, bar) // the bar counts what is read
		src = &reader
	}
	last := time.Now()
	opts.Progress = func(r importer.Result) {
		if bar != nil {
			return
		}
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			rate := float64(r.Profiles) / time.Since(start).Seconds()
			fmt.Fprintf(stdout, "imported %d profiles (%d lines, %d rejected) in %s, %.0f profiles/s\n",
				r.Profiles, r.Lines, r.Rejected, time.Since(start).Round(time.Second), rate)
		}
	}
	// The audit trail names the import and who ran it.
	actor := "import"
	if u, err := user.Current(); err == nil {
		actor += " (os user " + strconv.Quote(u.Username) + ")"
	}
	ctx := profile.WithActor(context.Background(), &profile.Actor{Name: actor})
	res, err := importer.Import(ctx, profiles, src, opts)
	if res.NoRecord {
		fmt.Fprintf(stdout, "resume: no earlier import of %s is recorded in this store; imported from line 1\n", name)
	}
	if res.Resumed > 0 {
		fmt.Fprintf(stdout, "resumed: skipped lines 1-%d, imported by an earlier run\n", res.Resumed)
	}
	if err != nil {
		committed := "nothing was committed"
		if res.Profiles > 0 {
			committed = fmt.Sprintf("committed before it: %d profiles, through line %d", res.Profiles, res.Lines)
		}
		return fmt.Errorf("import %s: %w (%s)", name, err, committed)
	}
	fmt.Fprintf(stdout, "imported %d profiles from %s in %d batches in %s", res.Profiles, name, res.Batches, time.Since(start).Round(time.Millisecond))
	if res.Rejected > 0 {
		fmt.Fprintf(stdout, "; %d bad lines set aside", res.Rejected)
	}
	fmt.Fprintln(stdout)
	return nil
}

// hashPassword prints the bcrypt hash of the password read from stdin (its
// first line), for egain.users and genesys.auth.users in config.yaml.
func hashPassword(stdin io.Reader, stdout, stderr io.Writer) error {
	var line string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// Typed at a terminal: not echoed, so it is not on the screen or
		// in a screen recording.
		fmt.Fprint(stderr, "password (not shown): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		line = string(b)
	} else {
		var err error
		line, err = bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("hash-password reads the password from standard input; it was empty")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(hash))
	return err
}

// copyStore copies every tenant's data, the numeric ids, the sessions and
// the stored schema from one store into another, empty one (bbolt file ↔
// PostgreSQL), then compares what both hold. Stop the servers of a bbolt
// file first (they hold its lock); stop writes to a PostgreSQL source.
func copyStore(from, to string, stdout io.Writer) error {
	if from == "" || to == "" {
		return usageError("copy-store needs -from FILE_OR_URL and -to FILE_OR_URL")
	}
	if sameStore(from, to) {
		return errors.New("copy-store: -from and -to name the same store")
	}
	if !config.IsPostgresURL(from) {
		if _, err := os.Stat(from); err != nil {
			return fmt.Errorf("copy-store: no source data file: %w", err)
		}
	}
	ctx := context.Background()
	src, err := openForReading(ctx, from, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openTarget(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	start, last := time.Now(), time.Now()
	counts, err := transfer.Copy(ctx, src, dst, func(c transfer.Counts) {
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			fmt.Fprintf(stdout, "copied %d items (%d profiles) in %s\n", c.Total(), profileTotal(c), time.Since(start).Round(time.Second))
		}
	})
	if errors.Is(err, transfer.ErrTargetNotEmpty) {
		return fmt.Errorf("copy-store: %w", err)
	}
	if err != nil {
		return fmt.Errorf("copy-store: %w (copied before it: %d items; the target is partly filled: empty it before a new try)", err, counts.Total())
	}
	verified, err := transfer.Verify(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("copy-store: the copy differs from the source:\n%w", err)
	}
	for _, tenant := range slices.Sorted(maps.Keys(verified.Profiles)) {
		name := tenant
		if name == "" {
			name = "(default tenant)"
		}
		fmt.Fprintf(stdout, "tenant %s: %d profiles\n", name, verified.Profiles[tenant])
	}
	fmt.Fprintf(stdout, "copied %d profiles, %d record sets, %d index entries, %d sessions, %d server settings, %d audit entries and the schema in %s; counts match\n",
		profileTotal(verified), verified.Records, verified.IndexEntries, verified.Sessions, verified.Settings, verified.AuditEntries, time.Since(start).Round(time.Millisecond))
	return nil
}

// sameStore reports whether from and to name one store: equal URLs, or
// paths of one file however spelled (./a.db, a.db, a link to it).
func sameStore(from, to string) bool {
	if from == to {
		return true
	}
	if config.IsPostgresURL(from) || config.IsPostgresURL(to) {
		return false
	}
	a, errA := os.Stat(from)
	b, errB := os.Stat(to)
	if errA == nil && errB == nil {
		return os.SameFile(a, b)
	}
	absFrom, errA := filepath.Abs(from)
	absTo, errB := filepath.Abs(to)
	return errA == nil && errB == nil && absFrom == absTo
}

func profileTotal(c transfer.Counts) int {
	n := 0
	for _, p := range c.Profiles {
		n += p
	}
	return n
}

// target is a store copy-store fills.
type target interface {
	transfer.Target
	transfer.Source // read back to verify the copy
	Close() error
}

// openTarget opens the store at where (a bbolt file, made if missing, or
// a PostgreSQL database, migrated) for copy-store to fill.
func openTarget(ctx context.Context, where string) (target, error) {
	if config.IsPostgresURL(where) {
		return postgres.Open(ctx, where, postgres.Options{})
	}
	return store.Open(where, store.Options{})
}

// checkProblemsFound is the last line of a check that found the store unsound.
const checkProblemsFound = "result: PROBLEMS FOUND (see docs/reliability.md, \"Checksums and profiled check\")"

// checkStore runs `profiled check`: bbolt's structural check of the data
// file (bbolt only), then every stored value against its checksum and
// every index entry against the profile data that yields it (store/check).
// It reports whether the store is sound; err is for a store it could not
// read at all.
func checkStore(cfg *config.Config, stdout io.Writer) (bool, error) {
	ctx := context.Background()
	sound := true
	if cfg.Store.IsPostgres() {
		fmt.Fprintf(stdout, "checking the PostgreSQL store %s\n", config.RedactURL(cfg.Store.URL))
	} else {
		path := cfg.Store.Path
		fmt.Fprintf(stdout, "checking the data file %s\n", path)
		if _, err := os.Stat(path); err != nil {
			return false, fmt.Errorf("no data file %s: %w", path, err)
		}
		if err := store.CheckFile(path); err != nil {
			if !errors.Is(err, store.ErrStructure) { // not checked: in use, not a file, a damaged header
				return false, err
			}
			fmt.Fprintf(stdout, "structure: DAMAGED\n  %v\n", err)
			sound = false
		} else {
			fmt.Fprintln(stdout, "structure: ok (bbolt consistency check of every page)")
		}
	}
	src, err := openForReading(ctx, storeOf(cfg), cfg.Store.OpenTimeout)
	if err != nil {
		return false, err
	}
	defer src.Close()
	header, err := transfer.ReadHeader(ctx, src)
	if errs.Is(err, errs.KindCorrupt) { // a page bbolt cannot read; the structure pass named it
		fmt.Fprintf(stdout, "values: NOT CHECKED: %v\n%s\n", errs.As(err).Err, checkProblemsFound)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var overlay schema.Document
	if len(header.Schema.Overlay) > 0 {
		if err := json.Unmarshal(header.Schema.Overlay, &overlay); err != nil {
			return false, fmt.Errorf("the stored schema overlay cannot be read: %w", err)
		}
	}
	compiled, err := cfg.LoadSchema(overlay)
	if err != nil {
		return false, err
	}
	start := time.Now()
	otherwise := profile.KeysIndexedOtherwise(header.Schema.Manifest, compiled)
	r, err := check.Run(ctx, src, compiled, otherwise...)
	// A page bbolt cannot read ends the walk: what was read before it is
	// reported, and the store is not sound.
	stopped := errs.Is(err, errs.KindCorrupt)
	if err != nil && !stopped {
		return false, err
	}
	fmt.Fprintf(stdout, "checked %d profiles, %d record sets, %d index entries and %d audit entries in %s\n",
		r.Profiles, r.Records, r.IndexEntries, r.AuditEntries, time.Since(start).Round(time.Millisecond))
	if stopped {
		fmt.Fprintf(stdout, "values: the check stopped there: %v\n", errs.As(err).Err)
		sound = false
	}
	if r.Unchecksummed > 0 {
		fmt.Fprintf(stdout, "%d values were written before checksums existed: they were decoded but cannot be verified until they are next written\n", r.Unchecksummed)
	}
	if stopped && r.Missing+r.Stale == 0 { // the walk ended before the entries were tallied
		fmt.Fprintf(stdout, "damaged values: %d, orphans: %d (in what was read); index entries not judged\n", r.Damaged, r.Orphans)
	} else {
		fmt.Fprintf(stdout, "damaged values: %d, orphans: %d, missing index entries: %d, stale index entries: %d\n", r.Damaged, r.Orphans, r.Missing, r.Stale)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	switch {
	case len(otherwise) > 0 && profile.IndexedWithOtherText(header.Schema.Manifest):
		fmt.Fprintf(stdout, "note: indexes of keys %s not checked: an earlier release built them, which computed index text otherwise, and this release's first start rebuilds them (docs/scale-out.md, \"The release that folds case\"); check with the release that built them to judge them\n", strings.Join(otherwise, ", "))
	case len(otherwise) > 0:
		fmt.Fprintf(stdout, "note: indexes of keys %s not checked: the store built them for other definitions than this config's (or not at all), and a start or reload with it rebuilds them; check with the config the store runs to judge them\n", strings.Join(otherwise, ", "))
	}
	if !r.OK() || !sound {
		fmt.Fprintln(stdout, checkProblemsFound)
		return false, nil
	}
	fmt.Fprintln(stdout, "result: ok")
	return true, nil
}
