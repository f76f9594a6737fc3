package egain

import (
	"fmt"
	"net/http"
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
