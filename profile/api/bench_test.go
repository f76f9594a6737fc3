package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
)

// compiledDefault compiles the schema of the repository's config.yaml.
func compiledDefault(tb testing.TB) *schema.Compiled {
	tb.Helper()
	cfg, err := config.Load("../../config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cfg.LoadSchema(schema.Document{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// benchProfile is the Genesys example as stored: core attributes and three
// Phone records, values in their stored types.
func benchProfile() *profile.Profile {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	phone := func(typ, number, desc string) schema.Record {
		return schema.Record{"PhoneType": json.Number(typ), "prefix": "+33", "PhoneNumber": number, "description": desc,
			"start_availabilty": "2009-12-18T18:30:00.000Z", "end_availabilty": "2009-12-18T21:40:00.000Z"}
	}
	return &profile.Profile{
		ID: "0004Va58A92T0017", Num: 17, Created: now, Updated: now, Rev: 1,
		Attributes: map[string]any{
			"FirstName": "Bruce", "LastName": "Banner", "DOB": "1962-05-10",
			"EmailAddress": []any{"bruce.banner@marvelous.com", "b.banner@hulk.dom"},
		},
		Extensions: map[string][]schema.Record{"Phone": {
			phone("0", "3145926535", "family phone"),
			phone("2", "6543210", "businness calls only, no sales"),
			phone("5", "951357456", ""),
		}},
	}
}

// BenchmarkAppendProfile encodes a profile with three Phone records, the
// body of GET /profiles/{id}?extensions=Phone.
func BenchmarkAppendProfile(b *testing.B) {
	c := compiledDefault(b)
	p := profiletest.DocumentOf(b, benchProfile())
	out := appendProfile(nil, c, p, true)
	if !json.Valid(out) {
		b.Fatalf("invalid JSON: %s", out)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	buf := make([]byte, 0, 2*len(out))
	for b.Loop() {
		buf = appendProfile(buf[:0], c, p, true)
	}
}

// BenchmarkCreateParallel sends the Genesys create example, with a unique
// e-mail address and phone numbers per request, through the Echo handler,
// the service and a real store (fsync on) from about 64 goroutines:
// the server side of the harness's create cell without the network.
// calls/commit is how many creates share one fsync.
func BenchmarkCreateParallel(b *testing.B) {
	e, db := newTestAPI(b)
	example := exampleBody(b)
	var next atomic.Uint64
	body := func() []byte {
		n := strconv.FormatUint(next.Add(1), 10)
		return []byte(strings.NewReplacer(
			"bruce.banner@marvelous.com", "u"+n+"@bench.example", "b.banner@hulk.dom", "u"+n+"@alt.example",
			"3145926535", "1"+n, "6543210", "2"+n, "951357456", "3"+n).Replace(string(example)))
	}
	before := db.Stats()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/profiles", bytes.NewReader(body()))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	s := db.Stats()
	b.ReportMetric(float64(s.BatchedCalls-before.BatchedCalls)/float64(max(1, s.Commits-before.Commits)), "calls/commit")
}

// BenchmarkGetProfile reads the example profile with its Phone records, as
// routing strategies do on every interaction.
func BenchmarkGetProfile(b *testing.B) {
	e, _ := newTestAPI(b)
	id := mustCreate(b, e, exampleBody(b))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/profiles/"+id+"?extensions=Phone", nil))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
