package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/internal/pgtest"
)

// These tests run several profiled binaries on one PostgreSQL database, as
// replicas behind a load balancer would.

// replicaConfig is the default config with the e-mail identification key
// unique, so replicas racing for an address meet the database's index.
func replicaConfig(t *testing.T) string {
	t.Helper()
	return configWith(t, "{name: email,        attributes: [EmailAddress]}", "{name: email, attributes: [EmailAddress], unique: true}")
}

// startReplicas starts n profiled binaries on one new database.
func startReplicas(t *testing.T, n int) ([]*process, string) {
	t.Helper()
	bin := buildProfiled(t)
	url, cfg := pgtest.SchemaURL(t), replicaConfig(t)
	replicas := make([]*process, n)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { replicas[i] = startProfiled(t, bin, "-config", cfg, "-store", url) })
	}
	wg.Wait()
	if slices.Contains(replicas, nil) { // startProfiled failed the test in its goroutine
		t.FailNow()
	}
	// The start log names the schema the tables are in.
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range replicas {
		if want := `"store_schema":"` + u.Query().Get("search_path") + `"`; !strings.Contains(p.logs.String(), want) {
			t.Errorf("replica %s: the start log lacks %s:\n%s", p.addr, want, p.logs)
		}
	}
	return replicas, url
}

func TestReplicas_SessionsAcrossReplicas(t *testing.T) {
	t.Parallel()
	r, _ := startReplicas(t, 2)
	a, b := clientOf(t, r[0].base()), clientOf(t, r[1].base())
	search := func(ts *testServer, session string) int {
		return ts.do("GET", "/ws/v12/interaction/customer?email=nobody@x.dom", nil, egSession, session, "Accept", "application/json").Status
	}

	// A session opened on A works on B.
	first := egLogin(t, a)
	if got := search(b, first); got != http.StatusNoContent {
		t.Fatalf("session from A used on B: %d, want 204", got)
	}
	// The user's limit (5) holds across replicas: four more on A, then
	// B refuses a sixth without forceLogin.
	sessions := []string{first}
	for range 4 {
		sessions = append(sessions, egLogin(t, a))
	}
	if res := b.do("POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`); res.Status != http.StatusUnauthorized {
		t.Fatalf("sixth login on B: %d %s, want 401", res.Status, res.Body)
	}
	// forceLogin on B ends the oldest session, opened on A, at once.
	res := b.do("POST", "/ws/v12/authentication/user/login?forceLogin=yes", `{"userName":"demo","password":"demo"}`)
	if res.Status != http.StatusNoContent {
		t.Fatalf("forced login on B: %d %s", res.Status, res.Body)
	}
	if got := search(a, first); got != http.StatusUnauthorized {
		t.Errorf("A's oldest session after forceLogin on B: %d, want 401", got)
	}
	if got := search(a, sessions[1]); got != http.StatusNoContent {
		t.Errorf("A's second session after forceLogin on B: %d, want 204", got)
	}
	// Logout on B ends a session at once on A.
	if res := b.do("DELETE", "/ws/v12/authentication/user/logout", nil, egSession, sessions[2]); res.Status != http.StatusNoContent {
		t.Fatalf("logout on B: %d %s", res.Status, res.Body)
	}
	if got := search(a, sessions[2]); got != http.StatusUnauthorized {
		t.Errorf("session logged out on B, used on A: %d, want 401", got)
	}
}

func TestReplicas_LoginThrottleCountsEveryReplica(t *testing.T) {
	t.Parallel()
	r, _ := startReplicas(t, 2)
	// config.yaml allows 5 failures a minute; spread them over both.
	for i := range 5 {
		ts := clientOf(t, r[i%2].base())
		if res := ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"wrong"}`); res.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, res.Status, res.Body)
		}
	}
	for _, p := range r {
		res := clientOf(t, p.base()).do("POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`)
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("login after 5 failures spread over replicas: %d %s, want 429 with Retry-After", res.Status, res.Body)
		}
	}
}

func TestReplicas_MetadataChangeLiveEverywhereBeforeThePoll(t *testing.T) {
	t.Parallel()
	r, _ := startReplicas(t, 3)
	a := clientOf(t, r[0].base())
	id := a.mustCreate(`{"FirstName":"Meta","EmailAddress":["meta@x.dom"]}`)
	res := a.do("POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`)
	if res.Status != http.StatusOK && res.Status != http.StatusCreated {
		t.Fatalf("create extension on A: %d %s", res.Status, res.Body)
	}
	created := time.Now()
	for _, p := range r[1:] {
		ts := clientOf(t, p.base())
		for {
			res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Loyalty":{"tier":"gold"}}`)
			if res.Status < 300 {
				break
			}
			// Under the 5 s schema poll: the change notice, not the poll,
			// carried it (with room for a loaded machine).
			if time.Since(created) > 3*time.Second {
				t.Fatalf("replica %s: the extension created on A is not writable after 3 s: %d %s", p.addr, res.Status, res.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("the extension was writable on every replica %v after it was created", time.Since(created).Round(time.Millisecond))
	var got map[string]any
	clientOf(t, r[2].base()).do("GET", "/profiles/"+id+"?extensions=Loyalty", nil).JSON(t, &got)
	if fmt.Sprint(got["Loyalty"]) != "map[tier:gold]" {
		t.Errorf("record written on B, C read on C: %v", got["Loyalty"])
	}

	// ETag / If-Match mean the same on every replica: a version read on A
	// updates on B once; the same stale version on C is refused.
	etag := a.do("GET", "/profiles/"+id, nil).Header.Get("ETag")
	b, c := clientOf(t, r[1].base()), clientOf(t, r[2].base())
	if res := b.do("PUT", "/profiles/"+id, `{"FirstName":"FromB"}`, "If-Match", etag); res.Status != http.StatusOK && res.Status != http.StatusNoContent {
		t.Fatalf("PUT on B with A's ETag: %d %s", res.Status, res.Body)
	}
	if res := c.do("PUT", "/profiles/"+id, `{"FirstName":"FromC"}`, "If-Match", etag); res.Status != http.StatusPreconditionFailed {
		t.Errorf("PUT on C with the stale ETag: %d %s, want 412", res.Status, res.Body)
	}
	if newTag := c.do("GET", "/profiles/"+id, nil).Header.Get("ETag"); newTag == etag || newTag == "" {
		t.Errorf("ETag on C after B's change = %q, was %q", newTag, etag)
	}
}

// TestReplicas_ConcurrentCreatesOneWinnerPerEmail: 200 creates through
// both APIs and three replicas for 20 addresses leave 20 profiles and 180
// conflicts.
func TestReplicas_ConcurrentCreatesOneWinnerPerEmail(t *testing.T) {
	t.Parallel()
	r, _ := startReplicas(t, 3)
	sessions := make([]string, len(r))
	for i, p := range r {
		sessions[i] = egLogin(t, clientOf(t, p.base()))
	}
	var created, conflicts, other atomic.Int32
	var unexpected sync.Map
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			replica := i % len(r)
			ts := clientOf(t, r[replica].base())
			email := fmt.Sprintf("race%d@x.dom", i%20)
			var res response
			if i%2 == 0 {
				res = ts.do("POST", "/profiles", fmt.Sprintf(`{"FirstName":"R%d","EmailAddress":[%q]}`, i, email))
			} else {
				res = ts.do("POST", "/ws/v12/interaction/customer", egIndividual("R", fmt.Sprint(i), email, ""),
					egSession, sessions[replica], "Accept", "application/json")
			}
			switch {
			case res.Status == http.StatusCreated:
				created.Add(1)
			case res.Status == http.StatusConflict, res.Status == http.StatusBadRequest && strings.Contains(string(res.Body), "400-107"):
				conflicts.Add(1)
			default:
				other.Add(1)
				unexpected.Store(res.Status, string(res.Body))
			}
		})
	}
	wg.Wait()
	unexpected.Range(func(k, v any) bool { t.Errorf("unexpected answer %v: %v", k, v); return true })
	if created.Load() != 20 || conflicts.Load() != 180 || other.Load() != 0 {
		t.Fatalf("created %d, conflicts %d, other %d; want 20, 180, 0", created.Load(), conflicts.Load(), other.Load())
	}
	a := clientOf(t, r[0].base())
	for e := range 20 {
		var ids []map[string]any
		a.do("GET", fmt.Sprintf("/profiles?EmailAddress=race%d@x.dom", e), nil).JSON(t, &ids)
		if len(ids) != 1 {
			t.Errorf("race%d@x.dom identifies %d customers, want 1", e, len(ids))
		}
	}
}

// TestReplicas_SIGKILLUnderLoad kills one replica while all take writes:
// every acknowledged write is stored, and the others keep answering.
func TestReplicas_SIGKILLUnderLoad(t *testing.T) {
	t.Parallel()
	r, _ := startReplicas(t, 3)
	const writers = 6
	var mu sync.Mutex
	var acked []string
	ackedBy := make([]atomic.Int64, len(r))
	failedOnSurvivors := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters() // also when a wait below fails the test
	for w := range writers {
		wg.Go(func() {
			p := r[w%len(r)]
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"FirstName":"W%d","EmailAddress":["w%d-%d@kill.dom"]}`, w, w, i)
				res, err := client.Post(p.base()+"/profiles", "application/json", strings.NewReader(body))
				if err != nil {
					if p != r[0] {
						mu.Lock()
						failedOnSurvivors++
						mu.Unlock()
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				var out struct {
					ID string `json:"customer_id"`
				}
				decoded := json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				switch {
				case res.StatusCode == http.StatusCreated && decoded == nil:
					mu.Lock()
					acked = append(acked, out.ID)
					mu.Unlock()
					ackedBy[w%len(r)].Add(1)
				case p != r[0]:
					mu.Lock()
					failedOnSurvivors++
					mu.Unlock()
					t.Logf("a survivor answered %d", res.StatusCode)
				}
			}
		})
	}
	// Conditions, not durations: a loaded machine may take seconds to get
	// the load going.
	waitFor(t, 60*time.Second, "every replica to acknowledge 5 writes", func() bool {
		for i := range ackedBy {
			if ackedBy[i].Load() < 5 {
				return false
			}
		}
		return true
	})
	r[0].kill()
	before := []int64{ackedBy[1].Load(), ackedBy[2].Load()}
	waitFor(t, 60*time.Second, "each survivor to acknowledge 10 writes after the kill", func() bool {
		return ackedBy[1].Load() >= before[0]+10 && ackedBy[2].Load() >= before[1]+10
	})
	stopWriters()
	if failedOnSurvivors > 0 {
		t.Errorf("the surviving replicas failed %d writes", failedOnSurvivors)
	}
	b := clientOf(t, r[1].base())
	for _, id := range acked {
		if res := b.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
			t.Errorf("acknowledged %s: GET on a survivor = %d", id, res.Status)
		}
	}
	t.Logf("%d acknowledged writes, all stored", len(acked))
}

// TestReplicas_SchemaChangeUsableAtOnceOnAnother: what one replica adds to
// the schema (an extension, an identification key) the next request to
// another replica may use, whether its watch has caught up or not: a
// provisioning script behind a load balancer adds an extension, then
// writes profiles with it.
func TestReplicas_SchemaChangeUsableAtOnceOnAnother(t *testing.T) {
	t.Parallel()
	a, b := twoInProcessReplicas(t)
	id := a.mustCreate(`{"FirstName":"Prov","EmailAddress":["prov@x.dom"]}`)
	for i := range 8 {
		ext := fmt.Sprintf("Loyal%d", i)
		if res := a.do("POST", "/metadata/profiles/extensions", `{"name":"`+ext+`","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`); res.Status != http.StatusCreated {
			t.Fatalf("create extension %s on A: %d %s", ext, res.Status, res.Body)
		}
		if res := b.do("POST", "/profiles", `{"FirstName":"X`+ext+`","`+ext+`":{"tier":"gold"}}`); res.Status != http.StatusCreated {
			t.Fatalf("create with %s on B right after A added it: %d %s", ext, res.Status, res.Body)
		}
		if res := b.do("GET", "/metadata/profiles/extensions/"+ext, nil); res.Status != http.StatusOK {
			t.Fatalf("metadata of %s on B: %d %s", ext, res.Status, res.Body)
		}
		tags := fmt.Sprintf("Tags%d", i)
		if res := a.do("POST", "/metadata/profiles/extensions", `{"name":"`+tags+`","type":"multi-valued","unique":["tag"],"attributes":[{"name":"tag","type":"string"}]}`); res.Status != http.StatusCreated {
			t.Fatalf("create extension %s on A: %d %s", tags, res.Status, res.Body)
		}
		// The customer has no such record: 404 for the record, not the extension.
		if res := b.do("PUT", "/profiles/"+id+"/extensions/"+tags+"/delete/by/unique", `{"tag":"a"}`); res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), "RECORD_NOT_FOUND") {
			t.Fatalf("delete by unique in %s on B right after A added it: %d %s, want 404 RECORD_NOT_FOUND", tags, res.Status, res.Body)
		}
		key := fmt.Sprintf("first%d", i)
		if res := a.do("POST", "/metadata/identification-keys", `{"name":"`+key+`","attributes":["FirstName"]}`); res.Status != http.StatusCreated {
			t.Fatalf("create key %s on A: %d %s", key, res.Status, res.Body)
		}
		if res := b.do("GET", "/profiles?id_key="+key+"&FirstName=Prov", nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), id) {
			t.Fatalf("identify by %s on B right after A added it: %d %s", key, res.Status, res.Body)
		}
		if res := a.do("DELETE", "/metadata/identification-keys/"+key, nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete key %s on A: %d %s", key, res.Status, res.Body)
		}
		// Not [] from the emptied index: a client would create a duplicate.
		if res := b.do("GET", "/profiles?id_key="+key+"&FirstName=Prov", nil); res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "UNKNOWN_IDENTIFICATION_KEY") {
			t.Fatalf("identify by %s on B right after A deleted it: %d %s, want 400 UNKNOWN_IDENTIFICATION_KEY", key, res.Status, res.Body)
		}
		// Attributes no key of B's covered until A added one.
		titled := fmt.Sprintf("title%d", i)
		if res := a.do("POST", "/metadata/identification-keys", `{"name":"`+titled+`","attributes":["Title"]}`); res.Status != http.StatusCreated {
			t.Fatalf("create key %s on A: %d %s", titled, res.Status, res.Body)
		}
		if res := b.do("GET", "/profiles?Title=Dr", nil); res.Status != http.StatusOK {
			t.Fatalf("identify by Title on B right after A added %s: %d %s", titled, res.Status, res.Body)
		}
		if res := a.do("DELETE", "/metadata/identification-keys/"+titled, nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete key %s on A: %d %s", titled, res.Status, res.Body)
		}
	}
}

// TestReplicas_ReadsAndReadinessWhileASchemaChangeHoldsWrites: a schema
// change on one replica (a reload or /metadata call rebuilding indexes)
// holds every write of every replica (docs/scale-out.md). Writes waiting
// for it must not take every pooled connection of the other replicas:
// their reads, and their /readyz, must go on, or the load balancer takes
// every replica out for as long as the rebuild lasts.
func TestReplicas_ReadsAndReadinessWhileASchemaChangeHoldsWrites(t *testing.T) {
	t.Parallel()
	bin := buildProfiled(t)
	url := pgtest.URL(t) // the schema public: the schema lock is (1, 0)
	const maxConns = 4
	cfg := configWith(t, "max_conns: 16", fmt.Sprintf("max_conns: %d", maxConns))
	p := startProfiled(t, bin, "-config", cfg, "-store", url)
	ts := clientOf(t, p.base())
	id := ts.mustCreate(`{"FirstName":"Reader","EmailAddress":["reader@x.dom"]}`)

	// Another replica's schema change, as far as this one can tell: the
	// schema lock held exclusively for a few seconds.
	ctx := context.Background()
	lock := holdSchemaLock(t, url, "pg_advisory_xact_lock")
	// Writers, as many as a busy replica has at once.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 3 * maxConns {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Post(p.base()+"/profiles", "application/json", strings.NewReader(`{"FirstName":"Writer"}`))
				if err == nil {
					res.Body.Close()
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	// Before the fix, a read waited for a writer's statement_timeout (5 s)
	// to free a connection; 4 s tells that from a slow machine.
	probe := &http.Client{Timeout: 4 * time.Second}
	var slowReads, unready int
	for range 4 {
		start := time.Now()
		res, err := probe.Get(p.base() + "/profiles/" + id)
		if err == nil {
			res.Body.Close()
		}
		if err != nil || res.StatusCode != http.StatusOK {
			slowReads++
			t.Logf("a read while writes wait for the schema change: %v after %v", statusOrErr(res, err), time.Since(start).Round(time.Millisecond))
		}
		res, err = probe.Get(p.base() + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		if err != nil || res.StatusCode != http.StatusOK {
			unready++
			t.Logf("/readyz while writes wait for the schema change: %v", statusOrErr(res, err))
		}
	}
	lock.Rollback(ctx)
	close(stop)
	wg.Wait()
	if slowReads > 0 || unready > 0 {
		t.Errorf("while writes waited for a schema change: %d of 4 reads failed or took over 4 s, /readyz not 200 %d of 4 times", slowReads, unready)
	}
}

func statusOrErr(res *http.Response, err error) any {
	if err != nil {
		return err
	}
	return res.StatusCode
}

// TestReplicas_SchemaChangeLongerThanWriteTimeoutIsAnswered: a schema
// change waits for the writes in flight on every replica and rebuilds
// indexes over every profile (minutes on a large store). Its answer must
// reach the operator: not a connection closed by server.write_timeout
// while the change went through, which reads as a failure.
func TestReplicas_SchemaChangeLongerThanWriteTimeoutIsAnswered(t *testing.T) {
	t.Parallel()
	bin := buildProfiled(t)
	url := pgtest.URL(t) // the schema public: the schema lock is (1, 0)
	cfg := configWith(t, "write_timeout: 30s", "write_timeout: 1s")
	p := startProfiled(t, bin, "-config", cfg, "-store", url)
	ts := clientOf(t, p.base())

	// A change that takes 2 s, as far as its client can tell: the schema
	// lock is held shared (as another replica's long write would) for 2 s.
	lock := holdSchemaLock(t, url, "pg_advisory_xact_lock_shared")
	time.AfterFunc(2*time.Second, func() { lock.Rollback(context.Background()) })

	res, err := ts.send("POST", "/metadata/identification-keys", `{"name":"title","attributes":["Title"]}`)
	switch {
	case err != nil:
		t.Errorf("a schema change that took longer than write_timeout: no answer (%v)", err)
	case res.Status != http.StatusCreated:
		t.Errorf("a schema change that took longer than write_timeout: %d %s, want 201", res.Status, res.Body)
	}
	if res := ts.do("GET", "/metadata/identification-keys/title", nil); res.Status != http.StatusOK {
		t.Errorf("the key after the change: %d %s", res.Status, res.Body)
	} else if err != nil {
		t.Logf("the key was created all the same")
	}
}

// TestReplicas_SIGTERMDuringAReloadCommitsNothing: docs/deploy.md says a
// SIGTERM during a reload "cancels it (nothing of it is committed) and
// stops the server as usual". A reload waiting for the schema lock (writes
// of other replicas in flight, or building indexes) must not hold the exit
// and must not commit after the SIGTERM.
func TestReplicas_SIGTERMDuringAReloadCommitsNothing(t *testing.T) {
	t.Parallel()
	bin := buildProfiled(t)
	url := pgtest.URL(t) // the schema public: the schema lock is (1, 0)
	cfg := configWith(t)
	p := startProfiled(t, bin, "-config", cfg, "-store", url)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var before int64
	if err := conn.QueryRow(ctx, "SELECT version FROM schema_state").Scan(&before); err != nil {
		t.Fatal(err)
	}
	// Another replica's write in flight: the reload's schema change waits.
	lock := holdSchemaLock(t, url, "pg_advisory_xact_lock_shared")
	text := string(mustRead(t, cfg))
	text = strings.Replace(text, "  identification_keys:\n", "  identification_keys:\n    - {name: first_only, attributes: [FirstName]}\n", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload waits for the lock.
	waitForSessions(t, conn, "wait_event = 'advisory'", func(n int) bool { return n > 0 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	writeEnds := time.AfterFunc(8*time.Second, func() { lock.Rollback(context.Background()) })
	<-p.done
	if took := time.Since(sent); took > 7*time.Second { // the write holding the reload ends at 8 s
		t.Errorf("profiled exited %v after SIGTERM: it waited for the reload", took.Round(100*time.Millisecond))
	}
	if writeEnds.Stop() {
		lock.Rollback(ctx)
	}
	// Once profiled's last session is gone, nothing of the reload can
	// commit any more.
	waitForSessions(t, conn, "true", func(n int) bool { return n == 0 })
	var after int64
	if err := conn.QueryRow(ctx, "SELECT version FROM schema_state").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("schema version %d -> %d: the reload cancelled by SIGTERM was committed", before, after)
	}
}

// waitForSessions waits up to 10 s until ok holds for the number of
// profiled's sessions on conn's database that match the SQL condition where.
func waitForSessions(t *testing.T, conn *pgx.Conn, where string, ok func(int) bool) {
	t.Helper()
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'profiled' AND "+where).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if ok(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("profiled's sessions where %s: %d after 10 s", where, n)
		}
	}
}

// holdSchemaLock takes the schema lock of the store at url (the schema
// public: lock (1, 0)) with fn, pg_advisory_xact_lock as a schema change on
// another replica holds it or pg_advisory_xact_lock_shared as a write does,
// in a transaction the caller ends (Rollback) or the test's end closes.
func holdSchemaLock(t *testing.T, url, fn string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	lock, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "SELECT "+fn+"(1, 0)"); err != nil {
		t.Fatal(err)
	}
	return lock
}

// TestReplicas_FollowAppliesTheUnauthorizedStrings: a replica that follows
// another's reload re-reads its own file (docs/scale-out.md step 4), and
// with it the unauthorized strings that bound the schema's names: the
// attribute the reloaded list allows is usable on it, and check_values
// switched on goes live there too.
func TestReplicas_FollowAppliesTheUnauthorizedStrings(t *testing.T) {
	t.Parallel()
	a, b := twoInProcessReplicas(t)
	base := string(mustRead(t, a.config))
	withOrder := strings.Replace(base, "    - {name: Title,        type: string, length: 64}\n",
		"    - {name: Title,        type: string, length: 64}\n    - {name: Order,        type: string, length: 64}\n", 1)
	edited := strings.Replace(withOrder, "genesys:\n", "genesys:\n  unauthorized_strings: {words: [long], check_values: true}\n", 1)
	if err := os.WriteFile(a.config, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := a.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
		t.Fatalf("reload on A: %d %s", res.Status, res.Body)
	}
	if res := b.do("POST", "/profiles", `{"LastName":"Bond","Order":"7"}`); res.Status != http.StatusCreated {
		t.Errorf("B, with the attribute A's reload added: %d %s", res.Status, res.Body)
	}
	wantError(t, b.do("POST", "/profiles", `{"LastName":"Long"}`), http.StatusBadRequest, "UNAUTHORIZED_STRING")
	if res := b.do("POST", "/profiles", `{"LastName":"Select"}`); res.Status != http.StatusCreated {
		t.Errorf("B, a value only the old list names: %d %s", res.Status, res.Body)
	}
}

// twoInProcessReplicas starts two in-process servers on one PostgreSQL
// database, b with a's config; it skips on bbolt, whose file has one
// process.
func twoInProcessReplicas(t *testing.T) (a, b *testServer) {
	t.Helper()
	if !onPostgres() {
		t.Skip("replicas share a PostgreSQL store; a bbolt file has one process")
	}
	a = mustStart(t)
	return a, startOn(t, a.config, filepath.Join(t.TempDir(), "unused.db"), a.storeURL)
}

// TestReplicas_FollowerWhoseFileLaggedCatchesUp: in a rolling config
// change the new file may reach one replica after another has been
// reloaded (a Kubernetes ConfigMap reaches pods at different times). The
// late replica follows the stored version with its old file; once its
// file has the new schema too it must catch up (docs/scale-out.md, step 4:
// "It then catches up by itself within store.schema_poll"), not serve the
// old schema under the new version until the next restart or change:
// writes of the added attribute answered 400 there and reads left it out.
func TestReplicas_FollowerWhoseFileLaggedCatchesUp(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("replicas share a PostgreSQL store; a bbolt file has one process")
	}
	a := mustStart(t)
	base := strings.Replace(string(mustRead(t, a.config)), "schema_poll: 5s", "schema_poll: 50ms", 1)
	bConfig := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(bConfig, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startOn(t, bConfig, filepath.Join(t.TempDir(), "unused.db"), a.storeURL)

	const title = "    - {name: Title,        type: string, length: 64}\n"
	edited := strings.Replace(base, title, title+"    - {name: Segment,      type: string, length: 64}\n", 1)
	if err := os.WriteFile(a.config, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := a.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
		t.Fatalf("reload on A: %d %s", res.Status, res.Body)
	}
	// B follows A's change with the file it has, then the file reaches B.
	version := func(ts *testServer) string {
		body := string(ts.do("GET", "/readyz", nil).Body)
		return body[strings.Index(body, `"schema_version"`):]
	}
	want := version(a)
	for deadline := time.Now().Add(3 * time.Second); version(b) != want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("B did not follow A's reload: %s, want %s", version(b), want)
		}
	}
	if err := os.WriteFile(bConfig, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	var last response
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last = b.do("POST", "/profiles", `{"LastName":"Bond","Segment":"7"}`); last.Status == http.StatusCreated {
			return
		}
	}
	t.Errorf("B, its file updated after A's reload, 3 s later (schema_poll 50ms): %d %s\nA: %s\nB: %s",
		last.Status, last.Body, a.do("GET", "/readyz", nil).Body, b.do("GET", "/readyz", nil).Body)
}
