package store

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/storetest"
)

// BenchmarkUpdateParallel creates profiles from about 64 concurrent clients
// with fsync on; calls/commit shows how many creates share one fsync.
func BenchmarkUpdateParallel(b *testing.B) {
	db, _ := openTest(b)
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	var next atomic.Uint64
	before := db.Stats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("c%d", next.Add(1))
			err := db.Update(b.Context(), "", func(tx profile.Tx) error {
				num, err := tx.NextNum()
				if err != nil {
					return err
				}
				if err := tx.PutProfile(storetest.NewProfile(id, num, t0)); err != nil {
					return err
				}
				return tx.AddIndexEntry("email", []string{id + "@example.com"}, id, false)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	s := db.Stats()
	b.ReportMetric(float64(s.BatchedCalls-before.BatchedCalls)/float64(s.Commits-before.Commits), "calls/commit")
}

// BenchmarkScanIndex identifies one customer by a full key: the cost stays
// flat as the index grows tenfold.
func BenchmarkScanIndex(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			db, _ := openTest(b)
			for start := 0; start < n; start += 10_000 {
				storetest.MustUpdate(b, db, "", func(tx profile.Tx) error {
					for i := start; i < start+10_000; i++ {
						if err := tx.AddIndexEntry("email", []string{fmt.Sprintf("user%d@example.com", i)}, fmt.Sprintf("c%d", i), false); err != nil {
							return err
						}
					}
					return nil
				})
			}
			for i := 0; b.Loop(); i++ {
				key := []string{fmt.Sprintf("user%d@example.com", i*7919%n)}
				found := 0
				err := db.View(b.Context(), "", func(tx profile.Tx) error {
					return tx.ScanIndex("email", key, func(string) bool { found++; return true })
				})
				if err != nil || found != 1 {
					b.Fatalf("found %d, %v", found, err)
				}
			}
		})
	}
}
