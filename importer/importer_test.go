package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/importer"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
)

// newService builds the service exactly as server.New does, over a real
// store in a temporary directory and the shipped config.yaml.
func newService(t testing.TB) *profile.Service {
	t.Helper()
	s, _, _ := profiletest.New(t, "../config.yaml")
	return s
}

// line is a valid profile body with a known customer_id.
func line(id string) string {
	return fmt.Sprintf(`{"customer_id":%q,"FirstName":"Bruce","LastName":"Banner","DOB":"1962-05-10",`+
		`"EmailAddress":["%s@example.com"],"Phone":[{"PhoneType":0,"PhoneNumber":"%s-1"}]}`, id, id, id)
}

func ndjson(lines ...string) *strings.Reader {
	return strings.NewReader(strings.Join(lines, "\n") + "\n")
}

// stored reports which of ids exist in tenant.
func stored(t *testing.T, svc *profile.Service, tenant string, ids ...string) []string {
	t.Helper()
	var found []string
	for _, id := range ids {
		_, err := svc.Get(context.Background(), tenant, id, nil)
		switch {
		case err == nil:
			found = append(found, id)
		case errs.KindOf(err) != errs.KindNotFound:
			t.Fatalf("get %s: %v", id, err)
		}
	}
	return found
}

func TestImportCreatesEveryProfileInBatches(t *testing.T) {
	svc := newService(t)
	in := ndjson(line("a1"), "", line("a2"), "   ", line("a3"), line("a4"), line("a5"))
	res, err := importer.Import(context.Background(), svc, in, importer.Options{Batch: 2, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (importer.Result{Profiles: 5, Lines: 7, Batches: 3}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if got := stored(t, svc, "acme", "a1", "a2", "a3", "a4", "a5"); len(got) != 5 {
		t.Errorf("stored %v, want all five", got)
	}
	if got := stored(t, svc, "", "a1"); len(got) != 0 {
		t.Errorf("default tenant sees %v: tenants are not isolated", got)
	}
	p, err := svc.Get(context.Background(), "acme", "a2", []string{"Phone"})
	if err != nil {
		t.Fatal(err)
	}
	if recs := p.Extensions["Phone"]; len(recs) != 1 || profiletest.Record(t, recs[0])["PhoneNumber"] != "a2-1" {
		t.Errorf("a2's Phone records are %v", recs)
	}
}

func TestImportRejectsBadLineAndNothingOfItsBatch(t *testing.T) {
	tests := []struct {
		name     string
		bad      string
		wantLine int
		wantText string
	}{
		{"schema violation", `{"customer_id":"b6","DOB":"not a date"}`, 6, "DOB"},
		{"unknown attribute", `{"customer_id":"b6","Shoe":"42"}`, 6, "Shoe"},
		{"malformed JSON", `{"customer_id":"b6",`, 6, "JSON"},
		{"not an object", `["b6"]`, 6, "object"},
		{"two objects", `{"customer_id":"b6"} {}`, 6, "after"},
		{"duplicate customer_id", line("b4"), 6, "b4"},
		{"invalid UTF-8", "{\"FirstName\":\"\xff\"}", 6, "UTF-8"},
		{"huge exponent", `{"customer_id":"b6","Phone":[{"PhoneNumber":"9","PhoneType":1e1000000000}]}`, 6, "exponent"},
		{"long number", `{"customer_id":"b6","Title":` + strings.Repeat("9", 100000) + `}`, 6, "100000 characters"},
		{"lone surrogate", `{"customer_id":"b6","FirstName":"a\ud800"}`, 6, "surrogate"},
		{"escaped NUL", `{"customer_id":"b6","FirstName":"a\u0000"}`, 6, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t)
			// Batch 3: lines 1-3 commit; lines 4, 5 and the bad line 6 are
			// one batch, so neither 4 nor 5 may be stored.
			in := ndjson(line("b1"), line("b2"), line("b3"), line("b4"), line("b5"), tt.bad, line("b7"))
			res, err := importer.Import(context.Background(), svc, in, importer.Options{Batch: 3})
			var le *importer.LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want an *importer.LineError", err, err)
			}
			if le.Line != tt.wantLine || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q at line %d, want line %d mentioning %q", err, le.Line, tt.wantLine, tt.wantText)
			}
			if want := (importer.Result{Profiles: 3, Lines: 3, Batches: 1}); res != want {
				t.Errorf("result %+v, want %+v", res, want)
			}
			got := stored(t, svc, "", "b1", "b2", "b3", "b4", "b5", "b7")
			if strings.Join(got, ",") != "b1,b2,b3" {
				t.Errorf("stored %v, want exactly the first batch b1,b2,b3", got)
			}
		})
	}
}

func TestImportNamesTheLineAfterBlankLines(t *testing.T) {
	svc := newService(t)
	// The conflict is found inside CreateMany's transaction; the blank
	// lines must not shift the line it reports.
	in := ndjson("", line("c1"), "", "", line("c1"))
	_, err := importer.Import(context.Background(), svc, in, importer.Options{})
	var le *importer.LineError
	if !errors.As(err, &le) || le.Line != 5 {
		t.Fatalf("error %v, want line 5", err)
	}
	if got := stored(t, svc, "", "c1"); len(got) != 0 {
		t.Errorf("stored %v from a failed batch", got)
	}
}

func TestImportRefusesTooLongLine(t *testing.T) {
	svc := newService(t)
	long := fmt.Sprintf(`{"FirstName":%q}`, strings.Repeat("x", 400))
	_, err := importer.Import(context.Background(), svc, ndjson(line("d1"), long), importer.Options{MaxLine: 300})
	var le *importer.LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("error %v, want line 2", err)
	}
}

func TestImportRefusesBadTenant(t *testing.T) {
	svc := newService(t)
	if _, err := importer.Import(context.Background(), svc, ndjson(line("e1")), importer.Options{Tenant: "no spaces"}); err == nil {
		t.Fatal("tenant with a space accepted")
	}
}

// failingStore refuses every batch as a store that is down would.
type failingStore struct{}

func (failingStore) CreateMany(context.Context, string, []map[string]any, profile.Mark) (int, error) {
	return 0, &errs.Error{Kind: errs.KindUnavailable, Code: "STORE_UNAVAILABLE", Message: "the store is down"}
}

// TestImportSkipBadStopsOnStoreFailure: -skip-bad sets aside lines at
// fault, not lines the store could not take: an outage stops the import.
func TestImportSkipBadStopsOnStoreFailure(t *testing.T) {
	var rejects bytes.Buffer
	res, err := importer.Import(context.Background(), failingStore{}, ndjson(line("a1"), line("a2"), line("a3")), importer.Options{Batch: 2, Rejects: &rejects})
	if errs.KindOf(err) != errs.KindUnavailable || res.Rejected != 0 || rejects.Len() != 0 {
		t.Errorf("err %v, result %+v, rejects %q; want the outage returned and nothing rejected", err, res, rejects.String())
	}
}

// TestImportSkipBadRejectsEveryBadLine: malformed lines are found on
// reading and schema faults when their batch is stored; the reject file
// holds each once. Records are written, in line order, before each try to
// store the batch (so a line recorded as done is in the file whatever
// happens next): a line found bad by a later try comes after them.
func TestImportSkipBadRejectsEveryBadLine(t *testing.T) {
	svc := newService(t)
	var rejects bytes.Buffer
	in := ndjson(line("o1"), `{"customer_id":"o2","DOB":"nope"}`, `{broken`, line("o4"), `{"customer_id":"o5","DOB":"nope"}`, `{broken`)
	res, err := importer.Import(context.Background(), svc, in, importer.Options{Batch: 10, Rejects: &rejects})
	if err != nil || res.Rejected != 4 {
		t.Fatalf("Import = %+v, %v; want 4 lines set aside", res, err)
	}
	if got := rejectedLines(t, rejects.String()); got != "[3 6 2 5]" {
		t.Errorf("reject file lines %v, want [3 6 2 5]: the malformed ones, then the schema faults the batch's try found", got)
	}
	// A conflict found only at commit has the batch stored line by line:
	// the malformed line 4, written before the batch's try, comes before
	// line 3, found by the tries one line at a time.
	rejects.Reset()
	in = ndjson(line("c1"), line("c2"), line("c3"), `{broken`, line("c5"))
	if _, err := importer.Import(context.Background(), conflictOn{"c3"}, in, importer.Options{Batch: 10, Rejects: &rejects}); err != nil {
		t.Fatal(err)
	}
	if got := rejectedLines(t, rejects.String()); got != "[4 3]" {
		t.Errorf("reject file lines %v, want [4 3]", got)
	}
}

// countingCreator counts the batches tried.
type countingCreator struct {
	importer.Creator
	tries *int
}

func (c countingCreator) CreateMany(ctx context.Context, tenant string, bodies []map[string]any, mark profile.Mark) (int, error) {
	*c.tries++
	return c.Creator.CreateMany(ctx, tenant, bodies, mark)
}

// TestImportSkipBadTriesABatchTwice: however many lines of a batch fail
// validation, they are set aside together and the rest stored by a second
// try, not one try (and one validation of the whole batch) per bad line.
func TestImportSkipBadTriesABatchTwice(t *testing.T) {
	svc := newService(t)
	var lines, bad []string
	for i := range 50 {
		if i%2 == 1 {
			lines = append(lines, fmt.Sprintf(`{"customer_id":"b%d","DOB":"nope"}`, i))
			bad = append(bad, fmt.Sprint(i+1))
		} else {
			lines = append(lines, line(fmt.Sprintf("g%d", i)))
		}
	}
	var rejects bytes.Buffer
	tries := 0
	res, err := importer.Import(context.Background(), countingCreator{svc, &tries}, ndjson(lines...), importer.Options{Batch: 50, Rejects: &rejects})
	if err != nil || res.Rejected != 25 || res.Profiles != 25 {
		t.Fatalf("Import = %+v, %v; want 25 stored, 25 set aside", res, err)
	}
	if tries != 2 {
		t.Errorf("%d tries of the batch, want 2", tries)
	}
	if got, want := rejectedLines(t, rejects.String()), "["+strings.Join(bad, " ")+"]"; got != want {
		t.Errorf("reject file lines %v, want %v", got, want)
	}
}

// rejectedLines lists the line numbers of a reject file, in its order.
func rejectedLines(t *testing.T, file string) string {
	t.Helper()
	var order []int
	for _, rec := range strings.Split(strings.TrimSpace(file), "\n") {
		var r struct{ Line int }
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			t.Fatal(err)
		}
		order = append(order, r.Line)
	}
	return fmt.Sprint(order)
}

// conflictOn refuses, as a store would at commit (naming no line), every
// batch holding the customer_id it names.
type conflictOn struct{ id string }

func (c conflictOn) CreateMany(_ context.Context, _ string, bodies []map[string]any, _ profile.Mark) (int, error) {
	for _, b := range bodies {
		if b["customer_id"] == c.id {
			return 0, errs.Conflict(profile.CodeProfileExists, "customer_id %q is already used", c.id)
		}
	}
	return len(bodies), nil
}

// TestImportSkipBadSetsAsideTooLongLine: with -skip-bad a line over the
// limit is set aside like any bad line, and the lines around it are stored.
func TestImportSkipBadSetsAsideTooLongLine(t *testing.T) {
	svc := newService(t)
	var rejects bytes.Buffer
	long := fmt.Sprintf(`{"FirstName":%q}`, strings.Repeat("x", 400))
	in := ndjson(line("l1"), long, `{broken`, line("l4"), "\r", line("l6")+"\r")
	res, err := importer.Import(context.Background(), svc, in, importer.Options{Batch: 10, MaxLine: 300, Rejects: &rejects})
	if err != nil || res.Rejected != 2 || res.Profiles != 3 {
		t.Fatalf("Import = %+v, %v; want 3 profiles stored and 2 lines set aside", res, err)
	}
	if got := rejectedLines(t, rejects.String()); got != "[2 3]" {
		t.Errorf("reject file lines %v, want [2 3]", got)
	}
	if got := stored(t, svc, "", "l1", "l4", "l6"); len(got) != 3 {
		t.Errorf("stored %v, want l1 l4 l6", got)
	}
}

// fullDisk is a reject file on a full disk: every write fails.
type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestImportSkipBadRejectLostToResume: a bad line whose reject record could
// not be written (the disk filled up after its batch committed) must be
// reported by the -resume that follows: the import stopped on that write,
// so the operator resumes, and the line must not be skipped as done
// without ever reaching a reject file (docs/import.md: fix the text of
// each reject and import them as a new file).
func TestImportSkipBadRejectLostToResume(t *testing.T) {
	svc, db, _ := profiletest.New(t, "../config.yaml")
	input := func() *strings.Reader { return ndjson(line("r1"), `{broken`, line("r3")) }
	opts := importer.Options{Batch: 10, Track: "/imports/r.ndjson", Committed: db.Setting}

	opts.Rejects = fullDisk{}
	if _, err := importer.Import(context.Background(), svc, input(), opts); err == nil || !strings.Contains(err.Error(), "reject file") {
		t.Fatalf("first run = %v, want it stopped on the reject file", err)
	}
	var rejects bytes.Buffer
	opts.Rejects, opts.Resume = &rejects, true
	res, err := importer.Import(context.Background(), svc, input(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Len() == 0 || rejectedLines(t, rejects.String()) != "[2]" {
		t.Errorf("resumed run: result %+v, reject file %q; want line 2 set aside: it never reached a reject file", res, rejects.String())
	}
}

// TestImportSkipBadResume_RejectFile: a batch's rejects reach the reject
// file before it commits; when the commit then fails (the store went
// away), the resumed import redoes the batch, appending to the same file.
// It reports none of the lines the file holds already, and every line it
// sets aside that the file does not hold: the file is not in line order
// (a batch's malformed lines are written before its try, a schema fault
// the try finds after them), so the greatest line it holds does not mean
// every line before it is there.
func TestImportSkipBadResume_RejectFile(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lines       []string
		stored      int
		afterResume string
	}{
		{"NoLineTwice", []string{line("n1"), `{broken`, line("n3")}, 2, "[2]"},
		{"ALineFoundAfterALaterOne", []string{`{"customer_id":"m1","DOB":"nope"}`, `{broken`, line("m3")}, 1, "[2 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, db, _ := profiletest.New(t, "../config.yaml")
			var rejects bytes.Buffer
			if _, err := importer.Import(context.Background(), failingStore{}, ndjson(tc.lines...), importer.Options{Batch: 10, Rejects: &rejects}); errs.KindOf(err) != errs.KindUnavailable {
				t.Fatalf("first run = %v, want the outage", err)
			}
			if got := rejectedLines(t, rejects.String()); got != "[2]" {
				t.Fatalf("after the failed commit the reject file holds lines %v, want [2]", got)
			}
			held, err := importer.ReopenRejects(bytes.NewBufferString(rejects.String()))
			if err != nil || len(held) != 1 || !held[2] {
				t.Fatalf("ReopenRejects = %v, %v; want line 2", held, err)
			}
			opts := importer.Options{Batch: 10, Rejects: &rejects, Rejected: held, Track: "/imports/" + tc.name, Resume: true, Committed: db.Setting}
			if res, err := importer.Import(context.Background(), svc, ndjson(tc.lines...), opts); err != nil || res.Profiles != tc.stored {
				t.Fatalf("resumed run = %+v, %v; want %d lines stored", res, err, tc.stored)
			}
			if got := rejectedLines(t, rejects.String()); got != tc.afterResume {
				t.Errorf("after the resumed run the reject file holds lines %v, want %s", got, tc.afterResume)
			}
		})
	}
}

// TestImportHugeBatchAllocatesForTheInputNotTheBatch: -batch bounds how
// many profiles one transaction takes, not how much memory the import
// reserves before reading a line. A batch of 2^63-1 panicked (makeslice:
// cap out of range), and -batch 100000000 (an extra zero or two) took
// 3.9 GB for a one-line file.
func TestImportHugeBatchAllocatesForTheInputNotTheBatch(t *testing.T) {
	svc := newService(t)
	for _, batch := range []int{int(^uint(0) >> 1), 1 << 40} {
		res, err := func() (res importer.Result, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return importer.Import(context.Background(), svc, ndjson(line(fmt.Sprintf("h%d", batch%97))), importer.Options{Batch: batch})
		}()
		if err != nil {
			t.Fatalf("-batch %d: %v", batch, err)
		}
		if res.Profiles != 1 || res.Batches != 1 {
			t.Errorf("-batch %d: result %+v, want one profile in one batch", batch, res)
		}
	}
}

// TestImportSkipBadKeepsTheBytesOfALineNotUTF8: a line that is not UTF-8
// is set aside with its bytes in base64 too, which JSON text cannot carry.
func TestImportSkipBadKeepsTheBytesOfALineNotUTF8(t *testing.T) {
	svc := newService(t)
	var rejects bytes.Buffer
	latin1 := "{\"FirstName\":\"Jos\xe9\"}"
	res, err := importer.Import(context.Background(), svc, ndjson(line("u1"), latin1), importer.Options{Batch: 10, Rejects: &rejects})
	if err != nil || res.Rejected != 1 || res.Profiles != 1 {
		t.Fatalf("Import = %+v, %v; want 1 stored, 1 set aside", res, err)
	}
	var rej struct {
		Line       int    `json:"line"`
		TextBase64 []byte `json:"text_base64"`
	}
	if err := json.Unmarshal(rejects.Bytes(), &rej); err != nil {
		t.Fatal(err)
	}
	if rej.Line != 2 || string(rej.TextBase64) != latin1 {
		t.Errorf("reject %s: want line 2 with its bytes", rejects.String())
	}
}
