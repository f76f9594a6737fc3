package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL column: the same workloads against profiled on
// PostgreSQL (serve -store URL), at the same data set sizes. The harness
// creates a database of its own per data set on the server named by
// -postgres (an admin URL), fills it from the bbolt file it has just
// imported (profiled copy-store, COPY), and drops it at the end.

// defaultPostgres is the admin URL when neither -postgres nor
// PROFILED_BENCH_POSTGRES names one.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pgReplicas is how many profiled processes share the database in the
// create cells of the PostgreSQL targets.
const pgReplicas = 2

// pgReport is what the run measured on PostgreSQL.
type pgReport struct {
	admin    string // redacted
	skipped  string // why the PostgreSQL column was not measured; empty when it was
	server   string // version and the settings that matter for the numbers
	duration time.Duration
	maxConns string // the pool size per replica, from the config

	ceilingInsert, ceilingSelect map[int]result // PostgreSQL alone, by connections
	sizes                        []pgSizeRun
}

// pgSizeRun is one data set on PostgreSQL.
type pgSizeRun struct {
	size                      int
	db                        string
	copyTime, vacuumTime      time.Duration
	readyFirst, readySecond   time.Duration // replica 1 after the load; replica 2 while replica 1 serves
	dbSize                    int64
	heapAlloc, heapInuse, rss float64
	cells                     []cellResult
	records, indexEntries     int64
	verifyTimedOut            bool // copy-store's own count comparison hit the statement timeout
}

func (s *pgSizeRun) cell(workload string, clients, replicas int) (cellResult, bool) {
	for _, c := range s.cells {
		if c.workload == workload && c.clients == clients && c.replicas == replicas {
			return c, true
		}
	}
	return cellResult{}, false
}

// databaseURL is admin with its database replaced by name.
func databaseURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("%q is not a postgres:// URL", config.RedactURL(admin))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// pgConnect opens one connection, failing fast when nobody listens.
func pgConnect(ctx context.Context, dbURL string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// pgProbe checks that the admin URL answers and describes the server.
func pgProbe(ctx context.Context, admin string) (string, error) {
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var version, fsync, syncCommit, shared, walSync, commitDelay string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'),
		current_setting('shared_buffers'), current_setting('wal_sync_method'), current_setting('commit_delay')`).
		Scan(&version, &fsync, &syncCommit, &shared, &walSync, &commitDelay)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("PostgreSQL %s on the same machine, fsync %s, synchronous_commit %s, wal_sync_method %s, shared_buffers %s, commit_delay %s",
		version, fsync, syncCommit, walSync, shared, commitDelay), nil
}

// createDatabase (re)creates the database name on the admin server.
func createDatabase(ctx context.Context, admin, name string) error {
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+ident)
	return err
}

// dropDatabase drops the database name, disconnecting whoever is left.
func dropDatabase(admin, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// pgExec runs statements on the database, one connection.
func pgExec(ctx context.Context, dbURL string, statements ...string) error {
	conn, err := pgConnect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// pgDatabaseName is the database of one data set: unique per run, so two
// runs on one server do not meet.
func pgDatabaseName(what string) string {
	return fmt.Sprintf("profiled_bench_%d_%s", os.Getpid(), what)
}

// pgSetup probes the server named by -postgres. Unreachable, the column is
// skipped (said in the report and on the console) and the run goes on.
func (b *bench) pgSetup(ctx context.Context) {
	b.rep.pg = &pgReport{admin: config.RedactURL(b.o.postgres), duration: b.o.pgDuration, maxConns: configValue(b.o.config, "max_conns", "16")}
	if b.o.postgres == "" || b.o.postgres == "off" {
		b.rep.pg.skipped = "-postgres off"
		logf(b.log, "PostgreSQL column skipped: -postgres off")
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := pgProbe(pctx, b.o.postgres)
	if err != nil {
		b.rep.pg.skipped = fmt.Sprintf("%s did not answer: %v", b.rep.pg.admin, err)
		logf(b.log, "PostgreSQL column skipped: %s", b.rep.pg.skipped)
		return
	}
	b.rep.pg.server = info
	logf(b.log, "PostgreSQL: %s", info)
}

func (b *bench) pgEnabled() bool { return b.rep.pg != nil && b.rep.pg.skipped == "" }

// configValue reads a scalar "key: value" of the config file, for the
// report only (the pool size); fallback when absent.
func configValue(path, key, fallback string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fallback
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && k == key {
			v, _, _ = strings.Cut(v, "#")
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return fallback
}

// pgCeiling measures PostgreSQL alone, through pgx from the harness
// process like bbolt's ceiling: an INSERT of a row of the size a profile
// occupies, one transaction (one WAL flush, fsync on) each, from as many
// connections as clients; then a SELECT by primary key, one round trip
// each, the least any read of profiled on PostgreSQL costs per statement.
func (b *bench) pgCeiling(ctx context.Context) error {
	name := pgDatabaseName("ceiling")
	if err := createDatabase(ctx, b.o.postgres, name); err != nil {
		return err
	}
	defer dropDatabase(b.o.postgres, name)
	dbURL, err := databaseURL(b.o.postgres, name)
	if err != nil {
		return err
	}
	if err := pgExec(ctx, dbURL, "CREATE TABLE ceiling (k bytea PRIMARY KEY, v bytea NOT NULL)"); err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(maxOf(b.o.clients))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	pg := b.rep.pg
	pg.ceilingInsert, pg.ceilingSelect = map[int]result{}, map[int]result{}
	var keys sync.Map // int -> []byte, the rows written, for the reads
	var written atomic.Int64
	value := make([]byte, max(b.rep.recordSize, 1))
	rand.Read(value)
	insert := func(ctx context.Context, conn *pgxpool.Pool) error {
		k := make([]byte, 16)
		rand.Read(k)
		_, err := conn.Exec(ctx, "INSERT INTO ceiling (k, v) VALUES ($1, $2)", k, value)
		if err == nil {
			keys.Store(written.Add(1)-1, k)
		}
		return err
	}
	// cells measures op at every client count into the map given. The warm-up opens
	// the connections, as the cells of profiled have theirs open when
	// measured.
	cells := func(what string, op func(context.Context, *pgxpool.Pool) error, into map[int]result) error {
		for _, c := range b.o.clients {
			pgCell(ctx, pool, c, b.o.warmup, op)
			r := pgCell(ctx, pool, c, b.o.duration/2, op)
			if r.ok == 0 {
				return fmt.Errorf("PostgreSQL %s ceiling: nothing succeeded: %s", what, r.firstError)
			}
			into[c] = r
			logf(b.log, "ceiling PostgreSQL %-6s connections=%-3d %8.0f/s  p50 %-8s p99 %s", what, c, r.rate(), r.percentile(.5), r.percentile(.99))
		}
		return nil
	}
	if err := cells("INSERT", insert, pg.ceilingInsert); err != nil {
		return err
	}
	n := written.Load()
	if err := pgExec(ctx, dbURL, "VACUUM ANALYZE ceiling"); err != nil {
		return err
	}
	read := func(ctx context.Context, conn *pgxpool.Pool) error {
		k, _ := keys.Load(randN(n))
		var v []byte
		return conn.QueryRow(ctx, "SELECT v FROM ceiling WHERE k = $1", k).Scan(&v)
	}
	return cells("SELECT", read, pg.ceilingSelect)
}

func randN(n int64) int64 {
	var x [8]byte
	rand.Read(x[:])
	u := uint64(x[0]) | uint64(x[1])<<8 | uint64(x[2])<<16 | uint64(x[3])<<24 | uint64(x[4])<<32 | uint64(x[5])<<40 | uint64(x[6])<<48 | uint64(x[7]&0x7f)<<56
	return int64(u % uint64(n))
}

// pgCell runs op from clients goroutines for duration; like runLoad, it
// cancels nothing in flight at the end (a cancelled query costs pgx its
// connection).
func pgCell(ctx context.Context, pool *pgxpool.Pool, clients int, duration time.Duration, op func(context.Context, *pgxpool.Pool) error) result {
	var (
		wg      sync.WaitGroup
		failed  atomic.Int64
		errOnce sync.Once
		first   string
		perConn = make([][]time.Duration, clients)
	)
	start := time.Now()
	end := start.Add(duration)
	for c := range clients {
		wg.Go(func() {
			var lat []time.Duration
			for ctx.Err() == nil && time.Now().Before(end) {
				t := time.Now()
				err := op(ctx, pool)
				switch {
				case err == nil:
					lat = append(lat, time.Since(t))
				case ctx.Err() != nil:
				default:
					failed.Add(1)
					errOnce.Do(func() { first = err.Error() })
				}
			}
			perConn[c] = lat
		})
	}
	wg.Wait()
	all := slices.Concat(perConn...)
	slices.Sort(all)
	return result{ok: len(all), failed: int(failed.Load()), elapsed: time.Since(start), latencies: all, firstError: first}
}

// pgLoad creates the data set's database and fills it from the bbolt file
// just imported (copy-store: COPY, then a comparison of the counts), then
// VACUUM ANALYZE (statistics and visibility for the planner, as after any
// bulk load) and a CHECKPOINT, so the cells measure neither autovacuum
// nor the write-back of the load.
func (b *bench) pgLoad(ctx context.Context, run *pgSizeRun, data, sub string) error {
	run.db = pgDatabaseName(fmt.Sprint(run.size))
	if err := createDatabase(ctx, b.o.postgres, run.db); err != nil {
		return err
	}
	dbURL, err := databaseURL(b.o.postgres, run.db)
	if err != nil {
		return err
	}
	logf(b.log, "data set %d: profiled copy-store into PostgreSQL database %s", run.size, run.db)
	logPath := filepath.Join(sub, "copy-store.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, b.o.bin, "copy-store", "-config", b.o.config, "-from", data, "-to", dbURL)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Run(); err != nil {
		// copy-store copies everything, then compares the counts by
		// reading both stores whole; on PostgreSQL each table is one
		// statement under the store's statement timeout (5 s), which a
		// large table outlasts. The copy itself is complete then (its
		// last step, the header, precedes the comparison): count here,
		// without the timeout, and report the failure.
		logText, _ := os.ReadFile(logPath)
		if !bytes.Contains(logText, []byte("the copy differs from the source")) || !bytes.Contains(logText, []byte("SQLSTATE 57014")) {
			return fmt.Errorf("%s copy-store: %w\n%s", b.o.bin, err, tail(logPath, 20))
		}
		run.verifyTimedOut = true
		logf(b.log, "data set %d: copy-store's count comparison hit the statement timeout; counting here", run.size)
	}
	run.copyTime = time.Since(start)
	if err := pgCheckCounts(ctx, dbURL, run); err != nil {
		return err
	}
	logf(b.log, "data set %d: copied in %s (%.0f profiles/s): %d profiles, %d record sets, %d index entries", run.size, run.copyTime.Round(time.Millisecond),
		float64(run.size)/run.copyTime.Seconds(), run.size, run.records, run.indexEntries)
	start = time.Now()
	if err := pgExec(ctx, dbURL, "VACUUM ANALYZE", "CHECKPOINT"); err != nil {
		return err
	}
	settle()
	run.vacuumTime = time.Since(start)
	logf(b.log, "data set %d: VACUUM ANALYZE and CHECKPOINT in %s", run.size, run.vacuumTime.Round(time.Millisecond))
	return nil
}

// pgWorkloads runs every workload on one replica at every client count
// (reads first, so they see exactly the data set), then the creates at
// the most clients across two replicas, clients split between them. The
// database is dropped at the end unless -keep.
func (b *bench) pgWorkloads(ctx context.Context, run *pgSizeRun, sub string) (err error) {
	dbURL, err := databaseURL(b.o.postgres, run.db)
	if err != nil {
		return err
	}
	if !b.o.keep {
		defer func() {
			if derr := dropDatabase(b.o.postgres, run.db); derr != nil {
				err = errors.Join(err, fmt.Errorf("dropping %s: %w", run.db, derr))
			}
		}()
	} else {
		logf(b.log, "keeping PostgreSQL database %s", run.db)
	}
	first, err := b.startPGServer(dbURL, filepath.Join(sub, "pg-server-1.log"))
	if err != nil {
		return err
	}
	defer first.stop()
	run.readyFirst = first.ready
	logf(b.log, "data set %d on PostgreSQL: replica 1 ready in %s", run.size, first.ready.Round(time.Microsecond))
	defer b.client.CloseIdleConnections()

	session, err := login(ctx, b.client, first.base)
	if err != nil {
		return err
	}
	ws := workloads(b.genesys, b.egainBody, func() string { return session })
	one := []*process{first}
	for _, w := range orderedWorkloads(ws) {
		for _, c := range b.o.clients {
			cr, err := b.measurePG(ctx, one, run.db, w, run.size, c)
			if err != nil {
				return err
			}
			run.cells = append(run.cells, cr)
			b.logCell("PG "+fmt.Sprint(run.size), cr)
		}
	}

	second, err := b.startPGServer(dbURL, filepath.Join(sub, "pg-server-2.log"))
	if err != nil {
		return err
	}
	defer second.stop()
	run.readySecond = second.ready
	logf(b.log, "data set %d on PostgreSQL: replica 2 ready in %s", run.size, second.ready.Round(time.Microsecond))
	both := []*process{first, second}
	top := maxOf(b.o.clients)
	for _, w := range ws {
		if !w.write {
			continue
		}
		cr, err := b.measurePG(ctx, both, run.db, w, run.size, top)
		if err != nil {
			return err
		}
		run.cells = append(run.cells, cr)
		b.logCell("PG "+fmt.Sprint(run.size), cr)
	}

	if m, merr := metrics(ctx, b.client, first.base); merr == nil {
		run.heapAlloc, run.heapInuse, run.rss = m["go_memstats_heap_alloc_bytes"], m["go_memstats_heap_inuse_bytes"], m["process_resident_memory_bytes"]
	} else {
		err = errors.Join(err, merr)
	}
	b.client.CloseIdleConnections()
	err = errors.Join(err, second.stop(), first.stop())
	if n, serr := pgDatabaseSize(ctx, b.o.postgres, run.db); serr == nil {
		run.dbSize = n
	}
	return err
}

// pgCheckCounts checks that the database holds the data set: exactly
// run.size profiles, and the records and index entries the copy brought.
func pgCheckCounts(ctx context.Context, dbURL string, run *pgSizeRun) error {
	conn, err := pgConnect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var profiles int64
	err = conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM profiles), (SELECT count(*) FROM records), (SELECT count(*) FROM index_entries)").
		Scan(&profiles, &run.records, &run.indexEntries)
	if err != nil {
		return err
	}
	if profiles != int64(run.size) || run.records == 0 || run.indexEntries == 0 {
		return fmt.Errorf("the database holds %d profiles, %d record sets and %d index entries after copy-store; want %d profiles", profiles, run.records, run.indexEntries, run.size)
	}
	return nil
}

func (b *bench) startPGServer(dbURL, logPath string) (*process, error) {
	return startOnFreeAddr(b.o.bin, func(addr string) []string {
		return []string{"serve", "-config", b.o.config, "-addr", addr, "-store", dbURL}
	}, logPath)
}

// measurePG is measure with the counters of every replica summed, the WAL
// written meanwhile (cluster-wide: anything else running on the server
// counts too) and the CPU time of the replicas and of PostgreSQL (the
// database's backends and its writers; on this machine only).
func (b *bench) measurePG(ctx context.Context, replicas []*process, db string, w workload, size, clients int) (cellResult, error) {
	snapshot := func() (map[string]float64, error) {
		sum := map[string]float64{}
		for _, p := range replicas {
			m, err := metrics(ctx, b.client, p.base)
			if err != nil {
				return nil, err
			}
			for k, v := range m {
				sum[k] += v
			}
		}
		v, err := pgWALBytes(ctx, b.o.postgres)
		if err != nil {
			return nil, err
		}
		sum[walBytes] = v
		pids, err := pgServerPIDs(ctx, b.o.postgres, db)
		if err != nil {
			return nil, err
		}
		addCPU(sum, replicas, pids)
		return sum, nil
	}
	bases := make([]string, len(replicas))
	for i, p := range replicas {
		bases[i] = p.base
	}
	cr, err := b.measure(ctx, bases, w, size, clients, snapshot, b.o.pgDuration)
	cr.replicas = len(replicas)
	return cr, err
}

// walBytes is the key of the WAL position in a counter snapshot.
const walBytes = "pg_current_wal_lsn_bytes"

// pgWALBytes is the server's WAL position, read through the admin URL
// (not a connection to the data set's database, whose backends' CPU time
// the cell counts).
func pgWALBytes(ctx context.Context, admin string) (float64, error) {
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n float64
	err = conn.QueryRow(ctx, "SELECT (pg_current_wal_lsn() - '0/0')::float8").Scan(&n)
	return n, err
}

func pgDatabaseSize(ctx context.Context, admin, name string) (int64, error) {
	conn, err := pgConnect(ctx, admin)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	err = conn.QueryRow(ctx, "SELECT pg_database_size($1)", name).Scan(&n)
	return n, err
}
