package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Targets on PostgreSQL (2 cores, fsync on), from the issue.
const (
	targetPGReadP50 = 2 * time.Millisecond // get and identify p50 on the largest data set, 1 client
	targetPGCreates = 2000.0               // creates/s at the most clients, across pgReplicas replicas
)

// pgReadTargets are the workloads the p50 target is about.
var pgReadTargets = []string{"get by id", "identify e-mail", "identify phone"}

func (r *report) pgLargest() *pgSizeRun {
	if r.pg == nil {
		return nil
	}
	var best *pgSizeRun
	for i := range r.pg.sizes {
		if best == nil || r.pg.sizes[i].size > best.size {
			best = &r.pg.sizes[i]
		}
	}
	return best
}

func (r *report) boltCell(size int, workload string, clients int) (cellResult, bool) {
	for i := range r.sizes {
		if r.sizes[i].size == size {
			return r.sizes[i].cell(workload, clients)
		}
	}
	return cellResult{}, false
}

// pgVerdicts checks the PostgreSQL targets on what the run measured.
func (r *report) pgVerdicts() []verdict {
	if r.pg == nil || r.pg.skipped != "" {
		return nil
	}
	var out []verdict
	top := r.topClients()
	if large := r.pgLargest(); large != nil {
		for _, w := range pgReadTargets {
			v := verdict{what: fmt.Sprintf("%s p50 on PostgreSQL, %s profiles, 1 client ≤ %s", w, count(large.size), ms(targetPGReadP50))}
			c, ok := large.cell(w, 1, 1)
			v.measured = ok && c.percentile(.5) > 0
			if !v.measured {
				v.detail = "needs a cell with 1 client"
				out = append(out, v)
				continue
			}
			v.met = c.percentile(.5) <= targetPGReadP50
			var more []string
			for _, n := range r.opts.clients {
				if o, ok := large.cell(w, n, 1); ok && n != 1 {
					more = append(more, fmt.Sprintf("%s at %d clients", ms(o.percentile(.5)), n))
				}
			}
			v.detail = ms(c.percentile(.5))
			if len(more) > 0 {
				v.detail += " (" + strings.Join(more, ", ") + ")"
			}
			out = append(out, v)
		}
	}
	for i := range r.pg.sizes {
		s := &r.pg.sizes[i]
		for _, w := range []string{"genesys create", "egain create"} {
			v := verdict{what: fmt.Sprintf("%s on PostgreSQL, %s profiles, %d clients across %d replicas ≥ %.0f/s", w, count(s.size), top, pgReplicas, targetPGCreates)}
			c, ok := s.cell(w, top, pgReplicas)
			v.measured = ok
			if !ok {
				v.detail = "not measured"
			} else {
				v.met = c.rate() >= targetPGCreates
				v.detail = fmt.Sprintf("%.0f/s, p50 %s, p99 %s", c.rate(), ms(c.percentile(.5)), ms(c.percentile(.99)))
				if one, ok := s.cell(w, top, 1); ok {
					v.detail += fmt.Sprintf(" (one replica: %.0f/s)", one.rate())
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// pgMarkdown is the PostgreSQL part of the results.
func (r *report) pgMarkdown(b *bytes.Buffer) {
	pg := r.pg
	if pg == nil {
		return
	}
	b.WriteString("### PostgreSQL\n\n")
	if pg.skipped != "" {
		fmt.Fprintf(b, "The PostgreSQL column was skipped: %s.\n\n", pg.skipped)
		return
	}
	fmt.Fprintf(b, "Server: %s (`%s`). profiled runs with the same config (pool of %s connections per replica) and `-store` naming a database of its own per data set, filled from the imported bbolt file with `profiled copy-store`, then `VACUUM ANALYZE` and `CHECKPOINT`. Cells measure %s after %s of warm-up. Every workload runs on one replica; the creates run again with %d clients split over %d replicas (two profiled processes on the database). PostgreSQL, the replicas and the load generator share the same CPUs.\n\n",
		pg.server, pg.admin, pg.maxConns, pg.duration, r.opts.warmup, r.topClients(), pgReplicas)
	if len(pg.sizes) > 0 {
		b.WriteString("| profiles | copy-store (COPY, count check) | copy rate | VACUUM ANALYZE, CHECKPOINT | replica 1 start → ready | replica 2 start → ready | database after the run | Go heap after the run (replica 1) | heap in use | RSS |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range pg.sizes {
			rate := 0.0
			if s.copyTime > 0 {
				rate = float64(s.size) / s.copyTime.Seconds()
			}
			fmt.Fprintf(b, "| %s | %s | %.0f/s | %s | %s | %s | %s | %s | %s | %s |\n", count(s.size), s.copyTime.Round(100*time.Millisecond), rate,
				s.vacuumTime.Round(100*time.Millisecond), ms(s.readyFirst), ms(s.readySecond), mib(float64(s.dbSize)), mib(s.heapAlloc), mib(s.heapInuse), mib(s.rss))
		}
		b.WriteString("\n")
		for _, s := range pg.sizes {
			if s.verifyTimedOut {
				fmt.Fprintf(b, "On %s profiles `profiled copy-store` copied everything but then failed: its count comparison reads each table in one statement, which outlasted the store's 5 s `statement_timeout` (SQLSTATE 57014). The harness counted instead: %d profiles, %d record sets, %d index entries.\n\n",
					count(s.size), s.size, s.records, s.indexEntries)
			}
		}
	}
	for i := range pg.sizes {
		r.pgWorkloadTable(b, &pg.sizes[i])
	}
}

func (r *report) pgWorkloadTable(b *bytes.Buffer, s *pgSizeRun) {
	if len(s.cells) == 0 {
		return
	}
	fmt.Fprintf(b, "### Workloads on %s profiles, PostgreSQL\n\n", count(s.size))
	b.WriteString("| workload | replicas | clients | req/s | p50 | p99 | p99/p50 | HTTP ceiling | of ceiling | of bbolt | pool wait | WAL/create | retries | CPU ms/request (profiled / PostgreSQL / load gen) | machine busy (others) | failed |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range s.cells {
		ceiling := r.ceilingFor(c)
		kind := "GET"
		walPer, retries := "", ""
		if c.write {
			kind = "POST"
			walPer = fmt.Sprintf("%.1f KiB", c.walPerOp()/1024)
			retries = fmt.Sprintf("%.0f", c.delta["profiled_store_retries_total"])
		}
		ofBolt := "–"
		if bc, ok := r.boltCell(s.size, c.workload, c.clients); ok {
			ofBolt = pct(c.rate(), bc.rate())
		}
		tail := "–"
		if p50 := c.percentile(.5); p50 > 0 {
			tail = fmt.Sprintf("%.1f", float64(c.percentile(.99))/float64(p50))
		}
		cpu, busy := c.cpuColumns(true)
		fmt.Fprintf(b, "| %s | %d | %d | %.0f | %s | %s | %s | %s %.0f | %s | %s | %s | %s | %s | %s | %s | %d |\n", c.workload, c.replicas, c.clients, c.rate(),
			ms(c.percentile(.5)), ms(c.percentile(.99)), tail, kind, ceiling, pct(c.rate(), ceiling), ofBolt, msOrZero(c.poolWait()), walPer, retries, cpu, busy, c.failed)
	}
	b.WriteString("\n")
}

// msOrZero is ms, but a measured zero reads 0 rather than "not measured".
func msOrZero(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	if d < 10*time.Microsecond {
		return "< 0.01 ms"
	}
	return ms(d)
}

func (r *report) pgCeilingRows(b *bytes.Buffer) {
	if r.pg == nil {
		return
	}
	for _, c := range r.opts.clients {
		if x, ok := r.pg.ceilingInsert[c]; ok {
			fmt.Fprintf(b, "| PostgreSQL `INSERT` alone, %d-byte rows, one transaction each, fsync on | %d | %.0f | %s | %s | %s |\n",
				r.recordSize, c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), pgNotes(c, x))
		}
	}
	for _, c := range r.opts.clients {
		if x, ok := r.pg.ceilingSelect[c]; ok {
			fmt.Fprintf(b, "| PostgreSQL `SELECT` by primary key alone, one round trip | %d | %.0f | %s | %s | %s |\n",
				c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), pgNotes(c, x))
		}
	}
}

func pgNotes(connections int, x result) string {
	notes := fmt.Sprintf("pgx in the harness, %d connections", connections)
	if connections == 1 {
		notes = "pgx in the harness, 1 connection"
	}
	if f := failures(x); f != "" {
		notes += "; " + f
	}
	return notes
}

func (r *report) pgTargetList(b *bytes.Buffer) {
	vs := r.pgVerdicts()
	if len(vs) == 0 {
		return
	}
	b.WriteString("### Targets on PostgreSQL\n\n")
	writeVerdicts(b, vs)
}
