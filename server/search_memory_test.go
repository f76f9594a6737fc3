package server_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// allocated is what the process allocated while f ran (this test runs
// alone: it is not parallel).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostile_EGainSearchLoadsOnlyItsPage: an eGain search read every
// candidate whole (all its contact points, persons, attributes and phone
// records) and held them all until it had picked its page: a search for
// an address 200 large customers share, asking for one customer, took
// 677 MB and 1 s, and eight at once 1.2 GB of RSS; up to 1000 candidates
// (2000 for phone) are read, so one request could exhaust memory. The
// Genesys identify bounds the data it loads (docs/api.md, rule 4); a
// search must cost about what it answers, not what its candidates hold.
// Genesys clients may give one address to many customers (only eGain
// writes keep addresses unique).
func TestHostile_EGainSearchLoadsOnlyItsPage(t *testing.T) {
	ts := mustStart(t)
	session := egLogin(t, ts)
	const candidates = 20
	points := make([]string, 1000)
	for i := range points {
		points[i] = fmt.Sprintf(`{"pointId":"%d","type":"web","url":"https://x.example/%s"}`, i+1, strings.Repeat("u", 500))
	}
	bodies := make([]string, candidates)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"FirstName":"Big%d","EmailAddress":["shared@x.example"],"ContactPoint":[%s]}`, i, strings.Join(points, ","))
	}
	ts.mustCreateAll(bodies)
	inJSON := []string{egSession, session, "Accept", "application/json"}
	var res response
	search := allocated(func() {
		res = ts.do("GET", "/ws/v12/interaction/customer?email=shared@x.example&$pagesize=1", nil, inJSON...)
	})
	if res.Status != http.StatusOK {
		t.Fatalf("search: %d %.300s", res.Status, res.Body)
	}
	var found struct {
		Customer []struct{ ID string }
	}
	res.JSON(t, &found)
	if len(found.Customer) != 1 {
		t.Fatalf("search answered %d customers, want 1 (a page of 1)", len(found.Customer))
	}
	get := allocated(func() {
		res = ts.do("GET", "/ws/v12/interaction/customer/"+found.Customer[0].ID, nil, inJSON...)
	})
	if res.Status != http.StatusOK {
		t.Fatalf("get: %d %.300s", res.Status, res.Body)
	}
	if search > 4*get {
		t.Errorf("a search answering one of %d large customers allocated %d MB, %.0f times the %d MB of a get of that customer: it loads every candidate whole",
			candidates, search>>20, float64(search)/float64(get), get>>20)
	}
}
