package server_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkGetThroughMiddleware reads the example profile with its Phone
// records through the whole server (every middleware, the Genesys handler,
// bbolt), without a network: what a get costs profiled itself.
func BenchmarkGetThroughMiddleware(b *testing.B) {
	ts := mustStart(b)
	body, err := os.ReadFile("../testdata/examples/genesys-create-profile.json")
	if err != nil {
		b.Fatal(err)
	}
	res := ts.do("POST", "/profiles", string(body))
	var created struct {
		ID string `json:"customer_id"`
	}
	res.JSON(b, &created)
	id := created.ID
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			ts.App.Echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/profiles/"+id+"?extensions=Phone", nil))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
