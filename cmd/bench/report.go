package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// cellResult is one workload at one concurrency on one data set.
type cellResult struct {
	workload string
	write    bool
	clients  int
	result
	perFsync float64            // creates per commit (writes only, bbolt)
	replicas int                // PostgreSQL: profiled processes the clients were split over; 0 on bbolt
	delta    map[string]float64 // counters over the measured part, summed over the servers
	ceiling  float64            // the HTTP ceiling (req/s) measured just before the cell; 0 when not
}

// walPerOp is the WAL PostgreSQL wrote per successful request.
func (c cellResult) walPerOp() float64 {
	if c.ok == 0 {
		return 0
	}
	return c.delta[walBytes] / float64(c.ok)
}

// poolWait is the mean time a request of the cell waited for a connection
// of profiled's PostgreSQL pool (per acquire).
func (c cellResult) poolWait() time.Duration {
	n := c.delta["profiled_store_pool_acquires_total"]
	if n <= 0 {
		return 0
	}
	return time.Duration(c.delta["profiled_store_pool_acquire_seconds_total"] / n * float64(time.Second))
}

// sizeRun is everything measured on one data set size.
type sizeRun struct {
	size                           int
	importTime                     time.Duration
	readyAfterImport, readyRestart time.Duration
	fileSize                       int64
	heapAlloc, heapInuse, rss      float64
	cells                          []cellResult
}

type report struct {
	machine        machine
	loadavg        [2]string // /proc/loadavg at the start and the end: others' work on the machine
	revision       string    // the commit profiled was built from, when stamped
	opts           options
	started        time.Time
	took           time.Duration
	ceilingPOST    map[int]result // by clients
	ceilingGET     map[int]result
	ceilingPOSTEnd map[int]result // at the most clients, measured again after the data sets
	ceilingGETEnd  map[int]result
	storage        map[int]storageResult
	recordSize     int // bytes per profile in the data file
	sizes          []sizeRun
	pg             *pgReport // nil: the PostgreSQL column was not set up
	problems       []string
}

type machine struct {
	cpus                       int
	cpu, memory, goVersion, os string
}

// describeMachine reads the CPU model and memory from /proc (Linux); other
// systems get "unknown".
func describeMachine() machine {
	m := machine{cpus: runtime.NumCPU(), cpu: "unknown", memory: "unknown", goVersion: runtime.Version(), os: runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				var kb float64
				fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
				m.memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.os += ", kernel " + strings.TrimSpace(string(data))
	}
	return m
}

// loadAverage is the first three fields of /proc/loadavg, "" elsewhere.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// Targets of the performance issue.
const (
	targetCreateShare   = 0.40 // of the HTTP POST ceiling, at the most clients
	targetCreatesFsync  = 20.0
	targetReadShare     = 0.60 // of the HTTP GET ceiling, at the most clients
	targetGetSmallShare = 0.75 // get by id on a data set of at most 10k profiles (issue #10)
	targetTailRatio     = 10.0 // p99 / p50
	targetIdentifyGrows = 1.5  // p50 largest / p50 smallest data set
	targetReady         = time.Second
	targetHeap          = 256 << 20
)

// verdict is one target checked against one measurement.
type verdict struct {
	met      bool
	measured bool // false: the run did not measure it
	what     string
	detail   string
}

func (r *report) topClients() int { return maxOf(r.opts.clients) }

func (r *report) largest() *sizeRun {
	var best *sizeRun
	for i := range r.sizes {
		if best == nil || r.sizes[i].size > best.size {
			best = &r.sizes[i]
		}
	}
	return best
}

func (r *report) smallest() *sizeRun {
	var best *sizeRun
	for i := range r.sizes {
		if best == nil || r.sizes[i].size < best.size {
			best = &r.sizes[i]
		}
	}
	return best
}

func (s *sizeRun) cell(workload string, clients int) (cellResult, bool) {
	for _, c := range s.cells {
		if c.workload == workload && c.clients == clients {
			return c, true
		}
	}
	return cellResult{}, false
}

// ceilingFor is the HTTP ceiling a cell is compared with: the one measured
// just before it, or else the mean of the measurements before and after
// the data sets where there are both.
func (r *report) ceilingFor(c cellResult) float64 {
	if c.ceiling > 0 {
		return c.ceiling
	}
	start, end := r.ceilingGET, r.ceilingGETEnd
	if c.write {
		start, end = r.ceilingPOST, r.ceilingPOSTEnd
	}
	if e, ok := end[c.clients]; ok && e.rate() > 0 {
		return (start[c.clients].rate() + e.rate()) / 2
	}
	return start[c.clients].rate()
}

// verdicts checks every target on what the run measured.
func (r *report) verdicts() []verdict {
	var out []verdict
	top := r.topClients()
	for i := range r.sizes {
		s := &r.sizes[i]
		for _, c := range s.cells {
			if c.clients != top {
				continue
			}
			ceiling := r.ceilingFor(c)
			share := c.rate() / ceiling
			label := fmt.Sprintf("%s, %s profiles, %d clients", c.workload, count(s.size), top)
			if c.write {
				out = append(out,
					verdict{share >= targetCreateShare, ceiling > 0, label + fmt.Sprintf(": ≥ %.0f%% of the POST ceiling", 100*targetCreateShare),
						fmt.Sprintf("%.0f%% (%.0f of %.0f req/s)", 100*share, c.rate(), ceiling)},
					verdict{c.perFsync >= targetCreatesFsync, c.perFsync > 0, label + fmt.Sprintf(": ≥ %.0f creates per fsync", targetCreatesFsync),
						fmt.Sprintf("%.1f", c.perFsync)})
				continue
			}
			p50, p99 := c.percentile(.5), c.percentile(.99)
			want := targetReadShare
			if c.workload == "get by id" && s.size <= 10_000 {
				want = targetGetSmallShare
			}
			out = append(out,
				verdict{share >= want, ceiling > 0, label + fmt.Sprintf(": ≥ %.0f%% of the GET ceiling", 100*want),
					fmt.Sprintf("%.0f%% (%.0f of %.0f req/s)", 100*share, c.rate(), ceiling)},
				verdict{float64(p99) <= targetTailRatio*float64(p50), p50 > 0, label + fmt.Sprintf(": p99 ≤ %.0f× p50", targetTailRatio),
					fmt.Sprintf("p99 %s = %.1f× p50 %s", ms(p99), float64(p99)/float64(p50), ms(p50))})
		}
	}
	small, large := r.smallest(), r.largest()
	if small != nil && large != nil {
		for _, w := range []string{"identify e-mail", "identify phone"} {
			a, okA := small.cell(w, 1)
			b, okB := large.cell(w, 1)
			v := verdict{what: fmt.Sprintf("%s p50 (1 client) at %s ≤ %.1f× at %s", w, count(large.size), targetIdentifyGrows, count(small.size)),
				measured: okA && okB && large.size > small.size}
			if v.measured {
				ratio := float64(b.percentile(.5)) / float64(a.percentile(.5))
				v.met = ratio <= targetIdentifyGrows
				v.detail = fmt.Sprintf("%.2f× (%s vs %s)", ratio, ms(b.percentile(.5)), ms(a.percentile(.5)))
			} else {
				v.detail = "needs two data set sizes with 1 client"
			}
			out = append(out, v)
		}
		out = append(out,
			verdict{large.readyAfterImport <= targetReady, large.readyAfterImport > 0,
				fmt.Sprintf("start to ready on the %s file ≤ %s", count(large.size), targetReady),
				fmt.Sprintf("%s after the import, %s on restart after the run", ms(large.readyAfterImport), ms(large.readyRestart))},
			verdict{large.heapAlloc <= targetHeap, large.heapAlloc > 0,
				fmt.Sprintf("Go heap after the %s run ≤ %d MiB", count(large.size), targetHeap>>20),
				fmt.Sprintf("%s allocated (%s in use, RSS %s)", mib(large.heapAlloc), mib(large.heapInuse), mib(large.rss))})
	}
	return out
}

// printReport writes the tables as plain Markdown, the same text that goes
// into the results file.
func printReport(w io.Writer, r *report) {
	fmt.Fprintln(w)
	io.WriteString(w, r.markdown())
}

func (r *report) markdown() string {
	var b bytes.Buffer
	m := r.machine
	fmt.Fprintf(&b, "Measured %s by `make bench` (`go run ./cmd/bench`), %s in all.\n\n", r.started.Format("2006-01-02 15:04 MST"), r.took.Round(time.Second))
	fmt.Fprintf(&b, "Machine: %d CPUs (`nproc`), %s, %s memory, %s, %s. Server and load generator share these CPUs.",
		m.cpus, m.cpu, m.memory, m.os, m.goVersion)
	if r.loadavg[0] != "" {
		fmt.Fprintf(&b, " Load average (1, 5, 15 min) at the start: %s; at the end: %s.", r.loadavg[0], r.loadavg[1])
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Run: data sets of %s profiles; %s clients; %s measured per cell after %s of warm-up, at most %d requests per cell; import batches of %d.",
		joinCounts(r.opts.sizes), joinInts(r.opts.clients), r.opts.duration, r.opts.warmup, r.opts.maxRequests, r.opts.batch)
	if r.pg != nil && r.pg.skipped == "" {
		fmt.Fprintf(&b, " PostgreSQL cells: %s measured.", r.opts.pgDuration)
	}
	if r.revision != "" {
		fmt.Fprintf(&b, " profiled built from %s.", r.revision)
	}
	b.WriteString("\n\n")
	if len(r.problems) > 0 {
		b.WriteString("**Harness problems in this run:**\n\n")
		for _, p := range r.problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
		b.WriteString("\n")
	}
	r.ceilingTable(&b)
	r.datasetTable(&b)
	for i := range r.sizes {
		r.workloadTable(&b, &r.sizes[i])
	}
	r.pgMarkdown(&b)
	r.targetList(&b)
	r.pgTargetList(&b)
	return b.String()
}

func (r *report) ceilingTable(b *bytes.Buffer) {
	b.WriteString("### Ceilings\n\n| ceiling | clients | req/s | p50 | p99 | notes |\n|---|--:|--:|--:|--:|---|\n")
	for _, c := range r.opts.clients {
		if x, ok := r.ceilingPOST[c]; ok {
			fmt.Fprintf(b, "| HTTP POST (bare Echo, Genesys create body) | %d | %.0f | %s | %s | %s |\n", c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), failures(x))
		}
	}
	for _, c := range r.opts.clients {
		if x, ok := r.ceilingGET[c]; ok {
			fmt.Fprintf(b, "| HTTP GET (bare Echo, get by id URL) | %d | %.0f | %s | %s | %s |\n", c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), failures(x))
		}
	}
	for _, again := range []struct {
		what       string
		start, end map[int]result
	}{{"POST", r.ceilingPOST, r.ceilingPOSTEnd}, {"GET", r.ceilingGET, r.ceilingGETEnd}} {
		for _, c := range r.opts.clients {
			if x, ok := again.end[c]; ok {
				drift := ""
				if s := again.start[c].rate(); s > 0 {
					drift = fmt.Sprintf("%+.0f%% from the start; PostgreSQL cells at %d clients are compared with the mean, bbolt cells with the ceiling measured just before each (their HTTP ceiling column)", 100*(x.rate()/s-1), c)
				}
				fmt.Fprintf(b, "| HTTP %s again, after the data sets | %d | %.0f | %s | %s | %s |\n", again.what, c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), drift)
			}
		}
	}
	for _, c := range r.opts.clients {
		if x, ok := r.storage[c]; ok {
			fmt.Fprintf(b, "| bbolt `db.Batch`, %d-byte records, fsync on | %d | %.0f | %s | %s | %.1f writes/fsync, best MaxBatchDelay %s |\n",
				r.recordSize, c, x.rate(), ms(x.percentile(.5)), ms(x.percentile(.99)), x.perCommit, x.delay)
		}
	}
	r.pgCeilingRows(b)
	b.WriteString("\n")
}

func (r *report) datasetTable(b *bytes.Buffer) {
	if len(r.sizes) == 0 {
		return
	}
	b.WriteString("### Data sets\n\n| profiles | import | import rate | start → ready after import | restart → ready after the run | data file after the run | Go heap after the run | heap in use | RSS |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.sizes {
		rate := 0.0
		if s.importTime > 0 {
			rate = float64(s.size) / s.importTime.Seconds()
		}
		fmt.Fprintf(b, "| %s | %s | %.0f/s | %s | %s | %s | %s | %s | %s |\n", count(s.size), s.importTime.Round(100*time.Millisecond),
			rate, ms(s.readyAfterImport), ms(s.readyRestart), mib(float64(s.fileSize)), mib(s.heapAlloc), mib(s.heapInuse), mib(s.rss))
	}
	b.WriteString("\n")
}

func (r *report) workloadTable(b *bytes.Buffer, s *sizeRun) {
	fmt.Fprintf(b, "### Workloads on %s profiles\n\n", count(s.size))
	b.WriteString("| workload | clients | req/s | p50 | p99 | p99/p50 | HTTP ceiling | of ceiling | creates/fsync | of bbolt | CPU ms/request (profiled / load gen) | machine busy (others) | failed |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range s.cells {
		ceiling := r.ceilingFor(c)
		kind := "GET"
		perFsync, ofBolt := "", ""
		if c.write {
			kind = "POST"
			perFsync = fmt.Sprintf("%.1f", c.perFsync)
			if st, ok := r.storage[c.clients]; ok && st.rate() > 0 {
				ofBolt = fmt.Sprintf("%.0f%%", 100*c.rate()/st.rate())
			}
		}
		tail := "–"
		if p50 := c.percentile(.5); p50 > 0 {
			tail = fmt.Sprintf("%.1f", float64(c.percentile(.99))/float64(p50))
		}
		cpu, busy := c.cpuColumns(false)
		fmt.Fprintf(b, "| %s | %d | %.0f | %s | %s | %s | %s %.0f | %s | %s | %s | %s | %s | %d |\n", c.workload, c.clients, c.rate(),
			ms(c.percentile(.5)), ms(c.percentile(.99)), tail, kind, ceiling, pct(c.rate(), ceiling), perFsync, ofBolt, cpu, busy, c.failed)
	}
	b.WriteString("\n")
}

func (r *report) targetList(b *bytes.Buffer) {
	b.WriteString("### Targets\n\n")
	writeVerdicts(b, r.verdicts())
}

func writeVerdicts(b *bytes.Buffer, vs []verdict) {
	met := 0
	for _, v := range vs {
		if v.met && v.measured {
			met++
		}
	}
	fmt.Fprintf(b, "%d of %d met.\n\n", met, len(vs))
	for _, v := range vs {
		mark := "MISSED"
		switch {
		case !v.measured:
			mark = "NOT MEASURED"
		case v.met:
			mark = "met"
		}
		fmt.Fprintf(b, "- **%s** — %s: %s\n", mark, v.what, v.detail)
	}
	b.WriteString("\n")
}

func failures(x result) string {
	if x.failed == 0 {
		return ""
	}
	return fmt.Sprintf("%d failed: %s", x.failed, x.firstError)
}

func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}

func mib(bytes float64) string {
	if bytes <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", bytes/(1<<20))
}

func pct(x, of float64) string {
	if of <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*x/of)
}

// count writes 10000 as 10k and 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func joinCounts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = count(n)
	}
	return strings.Join(s, ", ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// Markers delimit the generated part of the results file; the prose
// around them is maintained by hand.
const (
	beginMarker = "<!-- bench:results:begin (generated by cmd/bench; do not edit by hand) -->"
	endMarker   = "<!-- bench:results:end -->"
)

// writeReport replaces the generated part of path (or appends it when the
// file has no markers yet).
func writeReport(path string, r *report) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	generated := beginMarker + "\n\n" + r.markdown() + endMarker
	text := string(old)
	i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + generated + text[j+len(endMarker):]
	case len(text) == 0:
		text = "# Performance\n\n" + generated + "\n"
	default:
		text = strings.TrimRight(text, "\n") + "\n\n## Results\n\n" + generated + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
