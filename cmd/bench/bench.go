package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// bench holds what the measurements of one run share.
type bench struct {
	o         options
	dir       string // temporary: data files, NDJSON, server logs
	log       io.Writer
	client    *http.Client
	seq       *seqCounter
	genesys   *template
	egainBody []byte
	rep       *report
	pgErrs    []error  // problems of the PostgreSQL column
	bare      *process // the bare Echo server of the HTTP ceiling, up for the whole run
}

// all runs both ceilings and then each data set size. A failing size is
// reported and the next one still runs, so one problem does not cost the
// whole run.
func (b *bench) all(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if b.bare, err = startOnFreeAddr(self, func(addr string) []string { return []string{"-bare", addr} }, filepath.Join(b.dir, "bare.log")); err != nil {
		return fmt.Errorf("HTTP ceiling: %w", err)
	}
	defer b.bare.stop()
	if b.rep.ceilingPOST, b.rep.ceilingGET, err = b.httpCeiling(ctx, b.o.clients); err != nil {
		return fmt.Errorf("HTTP ceiling: %w", err)
	}
	if err := b.storageCeiling(ctx); err != nil {
		return fmt.Errorf("storage ceiling: %w", err)
	}
	b.pgSetup(ctx)
	if b.pgEnabled() {
		if err := b.pgCeiling(ctx); err != nil {
			b.pgFailed(fmt.Errorf("PostgreSQL ceiling: %w", err))
		}
	}
	var errs []error
	for _, size := range b.o.sizes {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := b.dataset(ctx, size); err != nil {
			errs = append(errs, fmt.Errorf("data set of %d: %w", size, err))
			b.rep.problems = append(b.rep.problems, fmt.Sprintf("data set of %d profiles: %v", size, err))
		}
	}
	// A shared machine's speed drifts during a run of minutes: the ceilings
	// at the most clients are measured again, and the PostgreSQL cells there
	// are compared with the mean of both measurements (the bbolt cells with
	// the ceiling measured just before each: ceilingBeside).
	if b.rep.ceilingPOSTEnd, b.rep.ceilingGETEnd, err = b.httpCeiling(ctx, []int{b.rep.topClients()}); err != nil {
		errs = append(errs, fmt.Errorf("HTTP ceiling after the data sets: %w", err))
	}
	return errors.Join(append(errs, b.pgErrs...)...)
}

// httpCeiling measures the bare Echo server at each client count: the
// POST rate with the Genesys create workload and the GET rate with get by
// id.
func (b *bench) httpCeiling(ctx context.Context, clients []int) (post, get map[int]result, err error) {
	post, get = map[int]result{}, map[int]result{}
	for _, write := range []bool{true, false} {
		for _, c := range clients {
			r, err := b.ceiling(ctx, write, c)
			if err != nil {
				return nil, nil, err
			}
			if write {
				post[c] = r
			} else {
				get[c] = r
			}
		}
	}
	return post, get, nil
}

// ceiling measures the bare Echo server at clients: the POST rate with the
// Genesys create workload (write) or the GET rate with get by id.
func (b *bench) ceiling(ctx context.Context, write bool, clients int) (result, error) {
	defer b.client.CloseIdleConnections()
	ws := workloads(b.genesys, b.egainBody, func() string { return "bare" })
	w := ws[1]
	if write {
		w = ws[0]
	}
	cr, err := b.measure(ctx, []string{b.bare.base}, w, 1, clients, nil, b.o.duration)
	if err != nil {
		return result{}, err
	}
	logf(b.log, "ceiling HTTP %-4s clients=%-3d %8.0f req/s  p50 %-8s p99 %s", map[bool]string{true: "POST", false: "GET"}[write], clients, cr.rate(), cr.percentile(.5), cr.percentile(.99))
	return cr.result, nil
}

// dataset imports size profiles into a fresh data file, starts profiled
// on it, runs every workload and records start time, file size and heap.
// With PostgreSQL, the imported file is copied into a database of its own
// before profiled first opens it (so both stores hold exactly the data
// set), and the PostgreSQL cells run after the bbolt ones. A PostgreSQL
// problem is reported and costs the PostgreSQL cells of this size only.
func (b *bench) dataset(ctx context.Context, size int) error {
	sub := filepath.Join(b.dir, fmt.Sprint(size))
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return err
	}
	var pgRun *pgSizeRun // set when the database holds the data set
	err := b.boltDataset(ctx, size, sub, func(data string) {
		if !b.pgEnabled() {
			return
		}
		run := &pgSizeRun{size: size}
		if err := b.pgLoad(ctx, run, data, sub); err != nil {
			b.pgFailed(fmt.Errorf("data set of %d profiles: loading PostgreSQL: %w", size, err))
			if run.db != "" && !b.o.keep {
				dropDatabase(b.o.postgres, run.db)
			}
			return
		}
		pgRun = run
	})
	if pgRun == nil {
		return err
	}
	if ctx.Err() != nil { // interrupted: no cells, but no database left behind either
		if !b.o.keep {
			dropDatabase(b.o.postgres, pgRun.db)
		}
		return err
	}
	perr := b.pgWorkloads(ctx, pgRun, sub)
	b.rep.pg.sizes = append(b.rep.pg.sizes, *pgRun)
	if perr != nil {
		b.pgFailed(fmt.Errorf("data set of %d profiles on PostgreSQL: %w", size, perr))
	}
	return err
}

// pgFailed records a problem of the PostgreSQL column: reported with the
// results and on the console, and the run goes on.
func (b *bench) pgFailed(err error) {
	b.rep.problems = append(b.rep.problems, err.Error())
	b.pgErrs = append(b.pgErrs, err)
	logf(b.log, "PostgreSQL: %v", err)
}

// boltDataset is the bbolt part of dataset; loaded runs on the imported
// file before the server opens it.
func (b *bench) boltDataset(ctx context.Context, size int, sub string, loaded func(data string)) error {
	run := sizeRun{size: size}
	defer func() { b.rep.sizes = append(b.rep.sizes, run) }()
	data := filepath.Join(sub, "profiles.db")
	ndjson := filepath.Join(sub, "profiles.ndjson")

	logf(b.log, "data set %d: writing NDJSON", size)
	if err := writeDataset(ndjson, b.genesys, size); err != nil {
		return err
	}
	settle()
	logf(b.log, "data set %d: profiled import -batch %d", size, b.o.batch)
	took, err := importDataset(b.o.bin, b.o.config, data, ndjson, b.o.batch, filepath.Join(sub, "import.log"))
	os.Remove(ndjson) // up to a GB for 1M profiles; the data file is what counts
	if err != nil {
		return err
	}
	run.importTime = took
	logf(b.log, "data set %d: imported in %s (%.0f profiles/s)", size, took.Round(time.Millisecond), float64(size)/took.Seconds())
	settle()
	loaded(data)

	p, err := b.startServer(data, filepath.Join(sub, "server.log"))
	if err != nil {
		return err
	}
	run.readyAfterImport = p.ready
	logf(b.log, "data set %d: server ready in %s", size, p.ready.Round(time.Microsecond))
	err = b.workloads(ctx, p, &run)
	if m, merr := metrics(ctx, b.client, p.base); merr == nil {
		run.heapAlloc, run.heapInuse, run.rss = m["go_memstats_heap_alloc_bytes"], m["go_memstats_heap_inuse_bytes"], m["process_resident_memory_bytes"]
	} else {
		err = errors.Join(err, merr)
	}
	b.client.CloseIdleConnections()
	if serr := p.stop(); serr != nil {
		return errors.Join(err, serr)
	}
	if err != nil {
		return err
	}
	if fi, err := os.Stat(data); err == nil {
		run.fileSize = fi.Size()
	}
	// A second start, on the file as the run left it: the restart an
	// operator sees, with the page cache warm.
	if p, err = b.startServer(data, filepath.Join(sub, "restart.log")); err != nil {
		return err
	}
	run.readyRestart = p.ready
	logf(b.log, "data set %d: restarted, ready in %s", size, p.ready.Round(time.Microsecond))
	return p.stop()
}

func (b *bench) startServer(data, logPath string) (*process, error) {
	return startOnFreeAddr(b.o.bin, func(addr string) []string {
		return []string{"serve", "-config", b.o.config, "-addr", addr, "-data", data}
	}, logPath)
}

// workloads runs reads first, so they see exactly size profiles, then
// the creates, measuring creates per fsync from the store's counters.
func (b *bench) workloads(ctx context.Context, p *process, run *sizeRun) error {
	session, err := login(ctx, b.client, p.base)
	if err != nil {
		return err
	}
	ws := workloads(b.genesys, b.egainBody, func() string { return session })
	snapshot := func() (map[string]float64, error) {
		m, err := metrics(ctx, b.client, p.base)
		if err == nil {
			addCPU(m, []*process{p}, nil)
		}
		return m, err
	}
	for _, w := range orderedWorkloads(ws) {
		for _, c := range b.o.clients {
			// The ceiling of the moment: a VM's speed has drifted by 40 %
			// within one run (docs/performance.md), more than the targets'
			// margins, so a cell at the most clients, where the targets are
			// checked, is compared with the bare server measured just before it.
			var beside result
			if c == b.rep.topClients() {
				if beside, err = b.ceiling(ctx, w.write, c); err != nil {
					return err
				}
			}
			cr, err := b.measure(ctx, []string{p.base}, w, run.size, c, snapshot, b.o.duration)
			if err != nil {
				return err
			}
			cr.ceiling = beside.rate()
			run.cells = append(run.cells, cr)
			b.logCell(fmt.Sprint(run.size), cr)
		}
	}
	return nil
}

// orderedWorkloads puts the reads first, so they see exactly the data set.
func orderedWorkloads(ws []workload) []workload {
	ordered := make([]workload, 0, len(ws))
	for _, w := range ws {
		if !w.write {
			ordered = append(ordered, w)
		}
	}
	for _, w := range ws {
		if w.write {
			ordered = append(ordered, w)
		}
	}
	return ordered
}

func (b *bench) logCell(size string, cr cellResult) {
	replicas := ""
	if cr.replicas > 1 {
		replicas = fmt.Sprintf(" on %d replicas", cr.replicas)
	}
	logf(b.log, "size %-10s %-20s clients=%-3d %8.0f req/s  p50 %-8s p99 %-8s%s%s", size, cr.workload, cr.clients, cr.rate(),
		cr.percentile(.5), cr.percentile(.99), counterNote(cr), replicas)
}

func counterNote(c cellResult) string {
	switch {
	case c.replicas > 0 && c.write:
		return fmt.Sprintf(" %.1f KiB WAL/create, %.0f retries, pool wait %s", c.walPerOp()/1024, c.delta["profiled_store_retries_total"], ms(c.poolWait()))
	case c.replicas > 0:
		return fmt.Sprintf(" pool wait %s", ms(c.poolWait()))
	case c.write:
		return fmt.Sprintf(" %.1f creates/fsync", c.perFsync)
	}
	return ""
}

// measure warms the servers at bases up with the workload, then measures
// one cell, client i talking to bases[i % len(bases)]. With a snapshot it
// reads counters around the measured part (profiled's /metrics; the bare
// server has none) and keeps their deltas.
func (b *bench) measure(ctx context.Context, bases []string, w workload, size, clients int, snapshot func() (map[string]float64, error), duration time.Duration) (cellResult, error) {
	cr := cellResult{workload: w.name, write: w.write, clients: clients}
	next := make([]requestFunc, len(bases))
	for i, base := range bases {
		next[i] = w.build(base, uint64(size))
	}
	if b.o.warmup > 0 {
		runLoad(ctx, b.client, load{clients: clients, duration: b.o.warmup, maxRequests: b.o.maxRequests, expect: w.expect}, b.seq, next)
	}
	var before map[string]float64
	if snapshot != nil {
		var err error
		if before, err = snapshot(); err != nil {
			return cr, err
		}
	}
	cr.result = runLoad(ctx, b.client, load{clients: clients, duration: duration, maxRequests: b.o.maxRequests, expect: w.expect}, b.seq, next)
	if err := ctx.Err(); err != nil {
		return cr, err
	}
	if snapshot != nil {
		after, err := snapshot()
		if err != nil {
			return cr, err
		}
		cr.delta = map[string]float64{}
		for k, v := range after {
			cr.delta[k] = v - before[k]
		}
		if commits := cr.delta["profiled_store_commits_total"]; commits > 0 {
			cr.perFsync = cr.delta["profiled_store_writes_total"] / commits
		}
	}
	if cr.ok == 0 {
		return cr, fmt.Errorf("%s with %d clients: no request succeeded: %s", w.name, clients, cr.firstError)
	}
	return cr, nil
}

// settle flushes dirty pages to disk. After writing a GB of NDJSON or of
// imported data the kernel writes it back for seconds, and meanwhile
// fsyncs slow down and plain writes (profiled's request log) get
// throttled: without this the first cells after an import measure the
// writeback, not the server.
func settle() { syscall.Sync() }

// probeSize imports a few profiles shaped like the data sets into a
// scratch file and measures how many bytes one occupies there.
func (b *bench) probeSize() (int, error) {
	const n = 1000
	sub := filepath.Join(b.dir, "probe")
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return 0, err
	}
	defer os.RemoveAll(sub)
	ndjson, data := filepath.Join(sub, "profiles.ndjson"), filepath.Join(sub, "profiles.db")
	if err := writeDataset(ndjson, b.genesys, n); err != nil {
		return 0, err
	}
	if _, err := importDataset(b.o.bin, b.o.config, data, ndjson, b.o.batch, filepath.Join(sub, "import.log")); err != nil {
		return 0, err
	}
	size, _, err := encodedSize(data)
	return size, err
}

// storageCeiling runs bbolt alone with records of the size a profile
// occupies in profiled's file.
func (b *bench) storageCeiling(ctx context.Context) error {
	var err error
	if b.rep.recordSize, err = b.probeSize(); err != nil {
		return fmt.Errorf("measuring the encoded profile size: %w", err)
	}
	settle()
	b.rep.storage = map[int]storageResult{}
	for _, c := range b.o.clients {
		r, err := storageCeiling(ctx, b.dir, c, b.rep.recordSize, b.o.duration/2)
		if err != nil {
			return err
		}
		b.rep.storage[c] = r
		logf(b.log, "ceiling bbolt clients=%-3d %8.0f writes/s  p50 %-8s p99 %-8s %.1f writes/fsync (MaxBatchDelay %s)",
			c, r.rate(), r.percentile(.5), r.percentile(.99), r.perCommit, r.delay)
	}
	return nil
}
