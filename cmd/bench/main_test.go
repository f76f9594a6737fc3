package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the harness binary when the
// HTTP ceiling re-executes itself with -bare.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-bare" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestGenesysTemplateMakesUniqueValidBodies(t *testing.T) {
	example, err := readExample("../../testdata/examples", "genesys-create-profile.json")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := newGenesysTemplate(example)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		CustomerID   string   `json:"customer_id"`
		EmailAddress []string `json:"EmailAddress"`
		Phone        []struct{ PhoneNumber string }
	}
	line := tpl.renderWithID(nil, 42)
	if err := json.Unmarshal(line, &body); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if body.CustomerID != customerID(42) || len(body.CustomerID) > 16 {
		t.Errorf("customer_id %q", body.CustomerID)
	}
	if strings.Join(body.EmailAddress, ",") != primaryEmail(42)+","+otherEmail(42) {
		t.Errorf("emails %v", body.EmailAddress)
	}
	if len(body.Phone) != 3 || body.Phone[0].PhoneNumber != phone(42, 1) || body.Phone[2].PhoneNumber != phone(42, 3) {
		t.Errorf("phones %+v", body.Phone)
	}
	if bytes.Equal(tpl.render(nil, 1), tpl.render(nil, 2)) {
		t.Error("bodies of different profiles are equal")
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(`# HELP go_memstats_heap_alloc_bytes x
# TYPE go_memstats_heap_alloc_bytes gauge
go_memstats_heap_alloc_bytes 4.194304e+06
profiled_http_requests_total{api="genesys",route="/profiles"} 7
profiled_store_commits_total 12
`))
	if err != nil {
		t.Fatal(err)
	}
	if m["go_memstats_heap_alloc_bytes"] != 4194304 || m["profiled_store_commits_total"] != 12 || len(m) != 2 {
		t.Errorf("parsed %v", m)
	}
}

func TestPercentile(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 100; i++ {
		xs = append(xs, time.Duration(i))
	}
	if p := percentile(xs, .5); p != 50 {
		t.Errorf("p50 %d", p)
	}
	if p := percentile(xs, .99); p != 99 {
		t.Errorf("p99 %d", p)
	}
	if p := percentile(nil, .5); p != 0 {
		t.Errorf("empty p50 %d", p)
	}
}

func TestWriteReportKeepsHandWrittenProse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "performance.md")
	prose := "# Performance\n\nHow it is measured.\n\n"
	old := prose + beginMarker + "\nold table\n" + endMarker + "\n\n## Analysis\n\nBy hand.\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &report{machine: describeMachine(), opts: options{sizes: []int{10}, clients: []int{1}}}
	if err := writeReport(path, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	if !strings.HasPrefix(text, prose) || !strings.HasSuffix(text, "## Analysis\n\nBy hand.\n") || strings.Contains(text, "old table") {
		t.Errorf("rewritten file:\n%s", text)
	}
}

// TestHarnessEndToEnd runs the whole harness on tiny data sets and short
// cells against a freshly built profiled.
func TestHarnessEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds profiled and runs servers")
	}
	dir := t.TempDir()
	bin := os.Getenv("PROFILED_TEST_BIN") // linked once by make test
	if bin == "" {
		bin = filepath.Join(dir, "profiled")
		if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	out := filepath.Join(dir, "performance.md")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-bin", bin, "-config", "../../config.yaml", "-examples", "../../testdata/examples",
		"-sizes", "400", "-clients", "1,4", "-duration", "60ms", "-warmup", "10ms", "-postgres-duration", "60ms", "-out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Ceilings", "| HTTP GET again, after the data sets | 4 |", "### Workloads on 400 profiles", "egain search e-mail", "### Targets", "start to ready on the 400 file", "### PostgreSQL"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("report lacks %q:\n%s", want, data)
		}
	}
	// The PostgreSQL column runs when the server of PROFILED_BENCH_POSTGRES
	// (or the local default) answers, and says it was skipped otherwise.
	if !bytes.Contains(data, []byte("The PostgreSQL column was skipped")) {
		for _, want := range []string{"### Workloads on 400 profiles, PostgreSQL", "| genesys create | 2 | 4 |", "PostgreSQL `INSERT` alone", "### Targets on PostgreSQL"} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("report lacks %q:\n%s", want, data)
			}
		}
		// and drops its databases.
		admin := envOr("PROFILED_BENCH_POSTGRES", defaultPostgres)
		if conn, err := pgConnect(context.Background(), admin); err == nil {
			var left int
			conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname LIKE $1", pgDatabaseName("%")).Scan(&left)
			conn.Close(context.Background())
			if left != 0 {
				t.Errorf("%d databases %s left behind", left, pgDatabaseName("*"))
			}
		}
	} else {
		t.Log("PostgreSQL not reachable: its column was skipped")
	}
	if bytes.Contains(data, []byte("| 0 | – |")) { // no request: rate 0, no p50
		t.Errorf("a cell measured nothing:\n%s", data)
	}
}

// TestCeilingForMeansBothMeasurements: where the ceiling was measured
// again after the data sets, a cell is compared with the mean of both,
// unless it was measured just before the cell.
func TestCeilingForMeansBothMeasurements(t *testing.T) {
	per := func(n int) result { return result{ok: n, elapsed: time.Second} }
	r := &report{
		ceilingGET:    map[int]result{1: per(100), 64: per(1000)},
		ceilingGETEnd: map[int]result{64: per(2000)},
		ceilingPOST:   map[int]result{64: per(500)},
	}
	for _, tc := range []struct {
		cell cellResult
		want float64
	}{
		{cellResult{clients: 64}, 1500},
		{cellResult{clients: 1}, 100},                  // measured once
		{cellResult{clients: 64, write: true}, 500},    // measured once
		{cellResult{clients: 64, ceiling: 1200}, 1200}, // measured just before the cell
	} {
		if got := r.ceilingFor(tc.cell); got != tc.want {
			t.Errorf("ceilingFor(%+v) = %v, want %v", tc.cell, got, tc.want)
		}
	}
}
