package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDatabaseURL(t *testing.T) {
	got, err := databaseURL("postgres://postgres:secret@127.0.0.1:5432/test?sslmode=disable", "profiled_bench_1_10000")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://postgres:secret@127.0.0.1:5432/profiled_bench_1_10000?sslmode=disable"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := databaseURL("mysql://x/y", "z"); err == nil {
		t.Error("a mysql URL was accepted")
	}
}

func TestConfigValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("store:\n  path: x\n  max_conns: 24   # pool\n"), 0o644)
	if v := configValue(path, "max_conns", "16"); v != "24" {
		t.Errorf("max_conns %q", v)
	}
	if v := configValue(path, "absent", "16"); v != "16" {
		t.Errorf("absent %q", v)
	}
}

// cellOf makes a cell whose every latency is p50 and whose rate is rate.
func cellOf(workload string, write bool, clients, replicas int, rate float64, p50 time.Duration) cellResult {
	n := int(rate)
	lat := make([]time.Duration, n)
	for i := range lat {
		lat[i] = p50
	}
	return cellResult{workload: workload, write: write, clients: clients, replicas: replicas,
		result: result{ok: n, elapsed: time.Second, latencies: lat}}
}

func TestPGVerdicts(t *testing.T) {
	r := &report{opts: options{clients: []int{1, 64}, sizes: []int{10, 20}}, pg: &pgReport{}}
	r.pg.sizes = []pgSizeRun{
		{size: 10, cells: []cellResult{cellOf("get by id", false, 1, 1, 100, 3*time.Millisecond)}},
		{size: 20, cells: []cellResult{
			cellOf("get by id", false, 1, 1, 100, time.Millisecond),
			cellOf("identify e-mail", false, 1, 1, 100, 3*time.Millisecond),
			cellOf("genesys create", true, 64, 2, 2500, 20*time.Millisecond),
			cellOf("egain create", true, 64, 2, 500, 20*time.Millisecond),
		}},
	}
	got := map[string]verdict{}
	for _, v := range r.pgVerdicts() {
		got[v.what] = v
	}
	for what, want := range map[string]struct{ met, measured bool }{
		"get by id p50 on PostgreSQL, 20 profiles, 1 client ≤ 2.00 ms":                     {true, true},
		"identify e-mail p50 on PostgreSQL, 20 profiles, 1 client ≤ 2.00 ms":               {false, true},
		"identify phone p50 on PostgreSQL, 20 profiles, 1 client ≤ 2.00 ms":                {false, false},
		"genesys create on PostgreSQL, 20 profiles, 64 clients across 2 replicas ≥ 2000/s": {true, true},
		"egain create on PostgreSQL, 20 profiles, 64 clients across 2 replicas ≥ 2000/s":   {false, true},
		"genesys create on PostgreSQL, 10 profiles, 64 clients across 2 replicas ≥ 2000/s": {false, false},
	} {
		v, ok := got[what]
		if !ok {
			t.Errorf("no verdict %q; have %v", what, got)
			continue
		}
		if v.met != want.met || v.measured != want.measured {
			t.Errorf("%s: met %v measured %v, want %v %v (%s)", what, v.met, v.measured, want.met, want.measured, v.detail)
		}
	}
	r.pg.skipped = "-postgres off"
	if vs := r.pgVerdicts(); len(vs) != 0 {
		t.Errorf("verdicts of a skipped column: %v", vs)
	}
	var b strings.Builder
	b.WriteString(r.markdown())
	if !strings.Contains(b.String(), "The PostgreSQL column was skipped: -postgres off.") {
		t.Errorf("skipped column not said:\n%s", b.String())
	}
}

func TestCPUAccounting(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; { // burn some CPU
	}
	if s := procCPU(os.Getpid()); s <= 0 {
		t.Errorf("own CPU time %v", s)
	}
	if busy, total := machineCPU(); busy <= 0 || total < busy {
		t.Errorf("machine busy %v of %v", busy, total)
	}
	c := cellOf("get by id", false, 1, 1, 100, time.Millisecond)
	c.delta = map[string]float64{cpuServer: 0.05, cpuPG: 0.02, cpuSelf: 0.01, cpuBusy: 1.0, cpuMachine: 2.0}
	perRequest, machine := c.cpuColumns(true)
	if perRequest != "0.50 / 0.20 / 0.10" || machine != "50% (46%)" {
		t.Errorf("columns %q, %q", perRequest, machine)
	}
}
