// Command profiled is the customer-profile service: a Genesys UCS-style
// profile API and an eGain Interaction API v12 customer facade over one
// bbolt store. See README.md and docs/ for the run contract.
//
//	profiled [serve] [-config FILE] [-addr HOST:PORT] [-data FILE] [-store URL]
//	profiled check-config [-config FILE]
//	profiled backup -out FILE [-config FILE] [-data FILE]
//	profiled import -in FILE [-tenant T] [-batch N] [-config FILE] [-data FILE]
//	profiled healthcheck [-config FILE] [-addr HOST:PORT]
//	profiled copy-store -from FILE_OR_URL -to FILE_OR_URL
//	profiled hash-password < password   (bcrypt hash for config users)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/diode"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/egain"
	"github.com/contactcenter/profiled/importer"
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

// run dispatches a subcommand and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if cmd == "hash-password" { // needs no config
		if err := hashPassword(stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "profiled:", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("profiled "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", envOr("PROFILED_CONFIG", "config.yaml"), "config file (env PROFILED_CONFIG)")
	addr := fs.String("addr", "", "listen address, overrides server.addr (env PROFILED_ADDR)")
	data := fs.String("data", "", "bbolt data file, overrides store.path (env PROFILED_DATA)")
	storeURL := fs.String("store", "", "PostgreSQL URL (postgres://...), overrides store.url; replicas share it and -data is ignored (env PROFILED_STORE)")
	out := fs.String("out", "", "backup: file to write")
	in := fs.String("in", "", "import: NDJSON file of profiles, one JSON object per line (- for stdin)")
	tenant := fs.String("tenant", "", "import: tenant to import into (as X-Genesys-TenantId); default tenant when empty")
	batch := fs.Int("batch", importer.DefaultBatch, "import: profiles per transaction (one fsync each)")
	from := fs.String("from", "", "copy-store: the store to copy, a bbolt file or a postgres:// URL")
	to := fs.String("to", "", "copy-store: the empty store to fill, a bbolt file or a postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if cmd == "copy-store" { // stores named by flags; no config needed
		if err := copyStore(*from, *to, stdout); err != nil {
			fmt.Fprintln(stderr, "profiled:", err)
			return 1
		}
		return 0
	}
	cfg, err := loadConfig(*configPath, *addr, *data, *storeURL)
	if err != nil {
		fmt.Fprintln(stderr, "profiled:", err)
		return 1
	}
	switch cmd {
	case "serve":
		err = serve(cfg, stderr)
	case "check-config":
		err = checkConfig(cfg, stdout)
	case "backup":
		err = backup(cfg, *out, stdout)
	case "healthcheck":
		err = healthcheck(cfg)
	case "import":
		err = importProfiles(cfg, *in, *tenant, *batch, stdout)
	case "check":
		var ok bool
		if ok, err = checkStore(cfg, stdout); err == nil && !ok {
			return 1
		}
	default:
		fmt.Fprintf(stderr, "profiled: unknown command %q (serve, check-config, check, backup, healthcheck, import, copy-store, hash-password)\n", cmd)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "profiled:", err)
		return 1
	}
	return 0
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
	cfg.ApplyEnv(os.Getenv)
	if addr != "" {
		cfg.Server.Addr = addr
	}
	if data != "" {
		cfg.Store.Path = data
	}
	if storeURL != "" {
		cfg.Store.URL = storeURL
	}
	if err := cfg.Store.CheckURL(); err != nil { // the environment or a flag may have set it
		return nil, err
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Log.Level)
	if err != nil || cfg.Log.Level == "" {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// serve runs the service until SIGTERM or SIGINT; SIGHUP reloads the schema.
func serve(cfg *config.Config, logOut io.Writer) error {
	// Signals are taken over first: a SIGTERM that arrives while the store
	// opens, or just after /readyz first answers, must still shut down
	// gracefully instead of killing the process.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	// Log lines go through a lock-free ring buffer drained by its own
	// goroutine, so a slow log device never stalls requests; if it falls
	// 10000 lines behind, lines are dropped and the drop is counted.
	// (struct{ io.Writer } hides Close: closing the diode must not close stderr.)
	async := diode.NewWriter(struct{ io.Writer }{logOut}, 10000, 10*time.Millisecond, func(dropped int) {
		fmt.Fprintf(logOut, `{"level":"warn","message":"log writer fell behind; %d lines dropped"}`+"\n", dropped)
	})
	defer async.Close()
	log := newLogger(cfg, async)
	app, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	app.WarnInsecureDefaults()
	srv, err := ops.ListenAndServe(ops.ServerConfig{
		Addr:              cfg.Server.Addr,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
	}, app.Echo)
	if err != nil {
		return err
	}
	ev := log.Info().Str("addr", srv.Addr())
	if cfg.Store.IsPostgres() {
		ev = ev.Str("store", redactURL(cfg.Store.URL))
	} else {
		ev = ev.Str("data", cfg.Store.Path)
	}
	ev.Msg("profiled listening")
	for {
		select {
		case <-srv.Done():
			return srv.Err()
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				_ = app.Reload() // logged by Reload; the old schema stays live on failure
				continue
			}
			log.Info().Str("signal", sig.String()).Msg("shutting down")
			if err := srv.Shutdown(cfg.Server.ShutdownTimeout); err != nil {
				log.Error().Err(err).Msg("shutdown timed out; in-flight requests were cut")
			}
			return nil
		}
	}
}

// checkConfig loads config and schema exactly as serve would (including the
// overlay stored by the metadata API when the data file is readable) and
// prints every problem.
func checkConfig(cfg *config.Config, stdout io.Writer) error {
	var overlay schema.Document
	var err error
	if cfg.Store.IsPostgres() {
		overlay, err = postgres.ReadOverlay(context.Background(), cfg.Store.URL)
	} else {
		overlay, err = store.ReadOverlay(cfg.Store.Path, cfg.Store.OpenTimeout)
	}
	if err != nil {
		fmt.Fprintf(stdout, "note: schema stored by the metadata API not checked: %v\n", err)
	}
	compiled, err := cfg.LoadSchema(overlay)
	if err == nil && !cfg.EGain.Disabled {
		if err = egain.CheckMapping(cfg.EGain.Mapping, compiled); err != nil {
			err = schema.Problems{{File: cfg.File, Message: err.Error()}}
		}
	}
	var problems schema.Problems
	if err != nil && !errors.As(err, &problems) {
		problems = schema.Problems{{File: cfg.File, Message: err.Error()}}
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) in %s", len(problems), cfg.File)
	}
	fmt.Fprintf(stdout, "%s: OK\n", cfg.File)
	return nil
}

// backup writes a consistent copy of the data file (the service may be
// stopped; a running service holds the lock, so use GET /admin/backup then).
func backup(cfg *config.Config, out string, stdout io.Writer) error {
	if out == "" {
		return fmt.Errorf("backup needs -out FILE")
	}
	if cfg.Store.IsPostgres() {
		return errors.New("backup copies a bbolt data file; back up a PostgreSQL store with pg_dump (docs/deploy.md)")
	}
	db, err := store.Open(cfg.Store.Path, store.Options{OpenTimeout: cfg.Store.OpenTimeout})
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
func healthcheck(cfg *config.Config) error {
	url, err := ops.HealthcheckURL(cfg.Server.Addr)
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
func importProfiles(cfg *config.Config, in, tenant string, batch int, stdout io.Writer) error {
	if in == "" {
		return fmt.Errorf("import needs -in FILE (- for stdin)")
	}
	if batch <= 0 {
		return fmt.Errorf("import: -batch must be positive, not %d", batch)
	}
	src := io.Reader(os.Stdin)
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		src = f
	}
	db, err := server.OpenBackend(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	registry, err := profile.LoadRegistry(context.Background(), db, config.SchemaSource(cfg.File), cfg.Unauthorized())
	if err != nil {
		return fmt.Errorf("load schema: %w", err)
	}
	profiles := profile.NewService(db, registry)
	profiles.RecordLimit = cfg.Limits.MaxRecordsPerExtension
	if err := profiles.SyncSchema(context.Background()); err != nil {
		return err
	}
	start := time.Now()
	const reportEvery = 100_000 // a progress line every so many profiles
	next := reportEvery
	res, err := importer.Import(context.Background(), profiles, src, importer.Options{
		Tenant: tenant,
		Batch:  batch,
		Progress: func(r importer.Result) {
			if r.Profiles >= next {
				fmt.Fprintf(stdout, "imported %d profiles (%d lines) in %s\n", r.Profiles, r.Lines, time.Since(start).Round(time.Millisecond))
				next = r.Profiles + reportEvery
			}
		},
	})
	name := filepath.Base(in)
	if in == "-" {
		name = "stdin"
	}
	if err != nil {
		return fmt.Errorf("import %s: %w (committed before it: %d profiles, lines 1-%d)", name, err, res.Profiles, res.Lines)
	}
	fmt.Fprintf(stdout, "imported %d profiles from %s in %d batches in %s\n", res.Profiles, name, res.Batches, time.Since(start).Round(time.Millisecond))
	return nil
}

// hashPassword prints the bcrypt hash of the password read from stdin (its
// first line), for egain.users and genesys.auth.users in config.yaml.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
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

// redactURL hides a password in a store URL before it is printed or logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// copyStore copies every tenant's data, the numeric ids, the sessions and
// the stored schema from one store into another, empty one (bbolt file ↔
// PostgreSQL), then compares what both hold. Stop the servers of a bbolt
// file first (they hold its lock); stop writes to a PostgreSQL source.
func copyStore(from, to string, stdout io.Writer) error {
	if from == "" || to == "" {
		return errors.New("copy-store needs -from FILE_OR_URL and -to FILE_OR_URL")
	}
	if from == to {
		return errors.New("copy-store: -from and -to name the same store")
	}
	if !config.IsPostgresURL(from) {
		if _, err := os.Stat(from); err != nil {
			return fmt.Errorf("copy-store: no source data file: %w", err)
		}
	}
	ctx := context.Background()
	src, err := openTransferStore(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openTransferStore(ctx, to)
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
	fmt.Fprintf(stdout, "copied %d profiles, %d record sets, %d index entries, %d sessions and the schema in %s; counts match\n",
		profileTotal(verified), verified.Records, verified.IndexEntries, verified.Sessions, time.Since(start).Round(time.Millisecond))
	return nil
}

func profileTotal(c transfer.Counts) int {
	n := 0
	for _, p := range c.Profiles {
		n += p
	}
	return n
}

// transferStore is a store copy-store reads or fills.
type transferStore interface {
	transfer.Source
	transfer.Target
	Close() error
}

func openTransferStore(ctx context.Context, where string) (transferStore, error) {
	if config.IsPostgresURL(where) {
		return postgres.Open(ctx, where, postgres.Options{})
	}
	return store.Open(where, store.Options{})
}

// checkStore runs `profiled check`: bbolt's structural check of the data
// file (bbolt only), then every stored value against its checksum and
// every index entry against the profile data that yields it (store/check).
// It reports whether the store is sound; err is for a store it could not
// read at all.
func checkStore(cfg *config.Config, stdout io.Writer) (bool, error) {
	ctx := context.Background()
	var src interface {
		transfer.Source
		Close() error
	}
	sound := true
	if cfg.Store.URL != "" {
		db, err := postgres.Open(ctx, cfg.Store.URL, postgres.Options{})
		if err != nil {
			return false, err
		}
		src = db
		fmt.Fprintf(stdout, "checking the PostgreSQL store %s\n", redactURL(cfg.Store.URL))
	} else {
		path := cfg.Store.Path
		fmt.Fprintf(stdout, "checking the data file %s\n", path)
		if _, err := os.Stat(path); err != nil {
			return false, fmt.Errorf("no data file %s: %w", path, err)
		}
		if err := store.CheckFile(path); err != nil {
			if errors.Is(err, store.ErrDamagedFile) {
				return false, err
			}
			fmt.Fprintf(stdout, "structure: DAMAGED\n  %v\n", err)
			sound = false
		} else {
			fmt.Fprintln(stdout, "structure: ok (bbolt consistency check of every page)")
		}
		db, err := store.Open(path, store.Options{ReadOnly: true, OpenTimeout: cfg.Store.OpenTimeout})
		if err != nil {
			return false, err
		}
		src = db
	}
	defer src.Close()
	header, err := transfer.ReadHeader(ctx, src)
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
	r, err := check.Run(ctx, src, compiled)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(stdout, "checked %d profiles, %d record sets and %d index entries in %s\n",
		r.Profiles, r.Records, r.IndexEntries, time.Since(start).Round(time.Millisecond))
	if r.Unchecksummed > 0 {
		fmt.Fprintf(stdout, "%d values were written before checksums existed: they were decoded but cannot be verified until they are next written\n", r.Unchecksummed)
	}
	fmt.Fprintf(stdout, "damaged values: %d, orphans: %d, missing index entries: %d, stale index entries: %d\n", r.Damaged, r.Orphans, r.Missing, r.Stale)
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	if !r.OK() || !sound {
		fmt.Fprintln(stdout, "result: PROBLEMS FOUND (see docs/reliability.md, \"Checking a store\")")
		return false, nil
	}
	fmt.Fprintln(stdout, "result: ok")
	return true, nil
}
