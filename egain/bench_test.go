package egain

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSearchByEmail is an eGain search by e-mail through the real
// facade, store and HTTP stack, as contact-center tools run it per contact.
func BenchmarkSearchByEmail(b *testing.B) {
	h := newHarness(b)
	session := h.login("agent")
	for i := 0; i < 100; i++ {
		h.create(session, individual("Ann", fmt.Sprint("Zed", i), fmt.Sprintf("ann%d@x.com", i), fmt.Sprint(5550000+i), "loyaltyId", "L1"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := h.do("GET", fmt.Sprintf("/ws/v12/interaction/customer?email=ann%d@x.com", i%100), "", SessionHeader, session, "Accept", "application/json")
		if res.Status != http.StatusOK {
			b.Fatalf("status %d: %s", res.Status, res.Body)
		}
	}
}

// BenchmarkReadsInProcess is a search by e-mail and a get by id handed to
// the facade's handler without a network, in each format: profiled's own
// work (handler, store, mapping, encoding), which is about a third of
// BenchmarkSearchByEmail's time, the rest being the loopback HTTP client,
// server and kernel, and its noise.
func BenchmarkReadsInProcess(b *testing.B) {
	h := newHarness(b)
	session := h.login("agent")
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = h.create(session, individual("Ann", fmt.Sprint("Zed", i), fmt.Sprintf("ann%d@x.com", i), fmt.Sprint(5550000+i), "loyaltyId", "L1"))
	}
	handler := h.srv.Config.Handler
	for _, read := range []struct {
		name string
		path func(i int) string
	}{
		{"search", func(i int) string { return fmt.Sprintf("/ws/v12/interaction/customer?email=ann%d@x.com", i) }},
		{"get", func(i int) string { return "/ws/v12/interaction/customer/" + ids[i] }},
	} {
		for _, accept := range []string{"application/json", "application/xml"} {
			b.Run(read.name+"/"+accept[len("application/"):], func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					req := httptest.NewRequest("GET", read.path(i%len(ids)), nil)
					req.Header.Set(SessionHeader, session)
					req.Header.Set("Accept", accept)
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// BenchmarkEncodeCustomers encodes the vendor's full example with an id
// (so with its links), in each format, into a reused buffer as the
// handlers do: the encoding share of a search or get.
func BenchmarkEncodeCustomers(b *testing.B) {
	c, err := DecodeCustomerJSON(bytes.NewReader(readExample(b, "egain-create-full.json")), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	c.ID = Str("1012")
	for _, f := range []Format{FormatJSON, FormatXML} {
		b.Run(f.ContentType()[len("application/"):], func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = appendCustomers(buf[:0], f, "/system/ws/v12/interaction/customer?email=a%40b.com", []Customer{*c})
			}
		})
	}
}
