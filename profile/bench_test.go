package profile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/profile"
)

// BenchmarkCreate_AuditCost measures a create of the vendor's example
// profile through the domain on a real bbolt file, with and without the
// audit trail, from 16 goroutines (so that commits batch as in service).
// Issue #14 allows the trail at most 15 % of a create; docs/privacy.md
// reports the figures.
func BenchmarkCreate_AuditCost(b *testing.B) {
	data, err := os.ReadFile("../testdata/examples/genesys-create-profile.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"audit", "no-audit"} {
		b.Run(mode, func(b *testing.B) {
			s, _ := newService(b)
			if mode == "no-audit" {
				profile.WithoutAudit(s)
			}
			ctx := profile.WithActor(context.Background(), &profile.Actor{Name: `api key "bench"`, Client: "192.0.2.1", RequestID: "0123456789abcdef"})
			var n atomic.Int64
			b.SetParallelism(8) // 16 writers on 2 cores
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var body map[string]any
					if err := json.Unmarshal(data, &body); err != nil {
						b.Error(err)
						return
					}
					i := n.Add(1)
					body["EmailAddress"] = []any{fmt.Sprintf("bench%d@x.dom", i)}
					delete(body, "customer_id")
					if _, err := s.Create(ctx, "", body, profile.CreateOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
