package egain

import (
	"net/http"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/session"
)

// Two facades over one store are two replicas: sessions live in the store
// only, so each sees what the other did at once.

func replicaSearch(h *harness, s string) response {
	return h.do("GET", "/ws/v12/interaction/customer?email=a@b.c", "", SessionHeader, s)
}

func TestReplicasShareSessions(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.replica()

	s := a.login("agent")
	replicaSearch(b, s).want(t, http.StatusNoContent)
	if na, nb := openSessions(t, a.f), openSessions(t, b.f); na != 1 || nb != 1 {
		t.Errorf("OpenSessions = %d on A, %d on B; want 1 on both", na, nb)
	}

	// Logout on B ends the session on A at once.
	b.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, s).want(t, http.StatusNoContent)
	replicaSearch(a, s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	a.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	if n := openSessions(t, a.f); n != 0 {
		t.Errorf("OpenSessions = %d after logout on B", n)
	}

	// Use on one replica keeps the session alive on the other: it persists
	// last_seen, which is all the other reads.
	s = b.login("agent")
	a.clock.Advance(a.cfg.SessionIdleTimeout - time.Second)
	replicaSearch(a, s).want(t, http.StatusNoContent)
	a.clock.Advance(a.cfg.SessionIdleTimeout - time.Second)
	replicaSearch(b, s).want(t, http.StatusNoContent)
	a.clock.Advance(a.cfg.SessionIdleTimeout + time.Second)
	replicaSearch(b, s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	replicaSearch(a, s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	if _, ok, err := a.db.GetSession(s); ok || err != nil {
		t.Errorf("expired session still stored (%v)", err)
	}
}

func TestReplicasShareSessionLimit(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.replica()
	login := func(h *harness, query string) response {
		return h.do("POST", "/ws/v12/authentication/user/login"+query, `{"userName":"admin","password":"`+testPassword+`"}`,
			"Content-Type", "application/json")
	}

	var open []string
	for range a.cfg.MaxSessionsPerUser {
		open = append(open, a.login("admin"))
	}
	// B counts A's sessions against the limit.
	login(b, "").wantError(t, http.StatusUnauthorized, "401-102", FormatXML)
	// forceLogin on B ends the oldest session, which A opened.
	s := login(b, "?forceLogin=yes").want(t, http.StatusNoContent).Header.Get(SessionHeader)
	replicaSearch(a, open[0]).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	replicaSearch(b, open[0]).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	for _, live := range append(open[1:], s) {
		replicaSearch(a, live).want(t, http.StatusNoContent)
	}
	// And A, in turn, sees B's new session in the count.
	login(a, "").wantError(t, http.StatusUnauthorized, "401-102", FormatXML)
}

func TestReplicasShareLoginThrottle(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	a.failures = session.NewMemoryFailures() // what a shared store's failure log is to both
	a.restart()
	b := a.replica()
	login := func(h *harness, name, password string) response {
		return h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"`+name+`","password":"`+password+`"}`, "Content-Type", "application/json")
	}

	max := a.cfg.LoginThrottle.MaxFailures
	for i := range max { // spread over both replicas
		login([]*harness{a, b}[i%2], "agent", "wrong").wantError(t, http.StatusUnauthorized, "401-103", FormatXML)
	}
	for _, h := range []*harness{a, b} {
		res := login(h, "agent", testPassword)
		res.wantError(t, http.StatusTooManyRequests, "429-101", FormatXML)
		if res.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
	a.clock.Advance(a.cfg.LoginThrottle.Window)
	login(b, "agent", testPassword).want(t, http.StatusNoContent)

	// A failure on one replica and a success on the other: the user's
	// failures are cleared for both, the address's are not.
	login(a, "viewer", "wrong").want(t, http.StatusUnauthorized)
	recent := func(key string) int {
		ts, err := a.failures.RecentFailures(key, time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	if n := recent("user:viewer"); n != 1 {
		t.Fatalf("viewer has %d failures, want 1", n)
	}
	login(b, "viewer", testPassword).want(t, http.StatusNoContent)
	if n := recent("user:viewer"); n != 0 {
		t.Errorf("viewer has %d failures after a success on the other replica", n)
	}
	if n := recent("addr:127.0.0.1"); n == 0 {
		t.Error("the success cleared the address's failures")
	}
}

// Without a shared failure log each facade counts its own failures, as
// the bbolt deployment (one process) wants.
func TestFacadesWithOwnFailureLogs(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.replica()
	login := func(h *harness, password string) response {
		return h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"agent","password":"`+password+`"}`, "Content-Type", "application/json")
	}
	for range a.cfg.LoginThrottle.MaxFailures {
		login(a, "wrong").want(t, http.StatusUnauthorized)
	}
	login(a, testPassword).want(t, http.StatusTooManyRequests)
	login(b, testPassword).want(t, http.StatusNoContent)
}

// downLog is a failure log whose store is down.
type downLog struct{}

var errDown = errs.E(errs.KindUnavailable, "STORE_UNAVAILABLE", "the store is down")

func (downLog) AddFailure([]string, time.Time, time.Time) error { return errDown }
func (downLog) RecentFailures(string, time.Time, int) ([]time.Time, error) {
	return nil, errDown
}
func (downLog) ClearFailures(string) error { return errDown }

// TestThrottleLogDown: a failure log that cannot be read blocks no one (a
// right password logs in while sessions can be opened), and a wrong
// password it cannot record answers the store's error, not 401.
func TestThrottleLogDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.failures = downLog{}
	h.restart()
	login := func(password string) response {
		return h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"agent","password":"`+password+`"}`, "Content-Type", "application/json")
	}
	for range h.cfg.LoginThrottle.MaxFailures + 1 {
		login("wrong").wantError(t, http.StatusServiceUnavailable, "503-101", FormatXML)
	}
	login(testPassword).want(t, http.StatusNoContent)
}

// openSessions is f's count of open sessions; the store must answer.
func openSessions(t *testing.T, f *Facade) int {
	t.Helper()
	n, err := f.OpenSessions()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
