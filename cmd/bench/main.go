// Command bench is the end-to-end benchmark harness of profiled (`make
// bench`). It starts the real bin/profiled on loopback with the default
// config.yaml (fsync on) and a fresh data file, loads data sets through
// `profiled import`, and drives six workloads with 1, 16 and 64 concurrent
// clients from an in-process net/http load generator. In the same run it
// measures two ceilings with the same generator: a bare Echo server (HTTP
// only) and bbolt alone (storage only). It prints the tables and writes
// them into docs/performance.md with the machine description and the
// verdict on each target.
//
// The PostgreSQL column runs the same workloads against profiled on
// PostgreSQL (serve -store): per data set the harness creates a database
// on the server named by -postgres, fills it from the imported bbolt file
// with `profiled copy-store`, runs the creates a second time across two
// replicas, and drops the database. A server that does not answer skips
// the column, saying so.
//
//	go run ./cmd/bench [-sizes 10000,1000000] [-clients 1,16,64] [-duration 3s] [-postgres URL|off] [-out docs/performance.md]
//
// Missed targets are reported, not failures: the exit code is non-zero
// only when the harness itself could not measure something.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin, config, examples, out string
	sizes, clients             []int
	duration, warmup           time.Duration
	maxRequests, batch         int
	keep                       bool
	postgres                   string        // admin URL of the PostgreSQL column; "off" skips it
	pgDuration                 time.Duration // measured time per PostgreSQL cell
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bin", "bin/profiled", "profiled binary (make build)")
	fs.StringVar(&o.config, "config", "config.yaml", "config file the server runs with (its addr and store path are overridden)")
	fs.StringVar(&o.examples, "examples", "testdata/examples", "directory of the example bodies")
	fs.StringVar(&o.out, "out", "", "Markdown file to write the results into (between its bench markers); none when empty")
	sizes := fs.String("sizes", "10000,1000000", "data set sizes in profiles, comma-separated")
	clients := fs.String("clients", "1,16,64", "concurrent clients per cell, comma-separated")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured time per cell")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured load before each cell")
	fs.IntVar(&o.maxRequests, "max-requests", 200_000, "request bound per cell (0: time only)")
	fs.IntVar(&o.batch, "batch", 2000, "profiles per import transaction")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (data files, server logs) and the PostgreSQL databases")
	fs.StringVar(&o.postgres, "postgres", "",
		"admin URL of a PostgreSQL server for the PostgreSQL column: the harness creates and drops a database per data set there; off skips the column, as does a server that does not answer (default $PROFILED_BENCH_POSTGRES, else "+defaultPostgres+")")
	fs.DurationVar(&o.pgDuration, "postgres-duration", 2*time.Second, "measured time per PostgreSQL cell (0: as -duration)")
	bare := fs.String("bare", "", "internal: serve the bare HTTP ceiling on this address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bare != "" {
		if err := serveBare(*bare); err != nil {
			fmt.Fprintln(stderr, "bench -bare:", err)
			return 1
		}
		return 0
	}
	if o.postgres == "" {
		o.postgres = envOr("PROFILED_BENCH_POSTGRES", defaultPostgres)
	}
	if o.pgDuration <= 0 {
		o.pgDuration = o.duration
	}
	var err error
	if o.sizes, err = intList(*sizes); err != nil {
		fmt.Fprintln(stderr, "bench: -sizes:", err)
		return 2
	}
	if o.clients, err = intList(*clients); err != nil {
		fmt.Fprintln(stderr, "bench: -clients:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := benchmark(ctx, o, stdout)
	if rep != nil {
		printReport(stdout, rep)
		if o.out != "" {
			if werr := writeReport(o.out, rep); werr != nil {
				err = errors.Join(err, werr)
			} else {
				fmt.Fprintf(stdout, "\nwrote the results into %s\n", o.out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "\nbench: HARNESS ERROR (the results above are incomplete):", err)
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

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchmark runs every measurement and returns the report, partial when an
// error stopped it.
func benchmark(ctx context.Context, o options, progress io.Writer) (*report, error) {
	for _, p := range []string{o.bin, o.config, o.examples} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w (run from the module root after `make build`)", err)
		}
	}
	genesysExample, err := readExample(o.examples, "genesys-create-profile.json")
	if err != nil {
		return nil, err
	}
	egainBody, err := readExample(o.examples, "egain-create-minimal.json")
	if err != nil {
		return nil, err
	}
	genesys, err := newGenesysTemplate(genesysExample)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "profiled-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(progress, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	b := &bench{o: o, dir: dir, log: progress, genesys: genesys, egainBody: egainBody, seq: &seqCounter{},
		client: newClient(maxOf(o.clients))}
	b.rep = &report{machine: describeMachine(), opts: o, started: time.Now()}
	b.rep.loadavg[0] = loadAverage()
	b.rep.revision = binaryRevision(o.bin)
	err = b.all(ctx)
	b.rep.took = time.Since(b.rep.started)
	b.rep.loadavg[1] = loadAverage()
	return b.rep, err
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
