package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/pgtest"
)

// TestPostgresFault stops the database with `pg_ctl -m immediate` while
// profiled takes writes (its own throwaway cluster, never the shared one):
// requests answer 503 STORE_UNAVAILABLE without internal detail, /readyz
// answers 503, the process stays up; once the database is back the
// service recovers without a restart and every acknowledged write is there.
func TestPostgresFault(t *testing.T) {
	t.Parallel()
	bin := buildProfiled(t)
	cluster := pgtest.StartCluster(t)
	p := startProfiled(t, bin, "-config", "../config.yaml", "-store", cluster.URL())
	ts := clientOf(t, p.base())
	client := &http.Client{Timeout: 10 * time.Second}

	var mu sync.Mutex
	var acked []string
	statuses := map[int]int{}
	var leaks []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"FirstName":"F%d","EmailAddress":["f%d-%d@fault.dom"]}`, w, w, i)
				res, err := client.Post(p.base()+"/profiles", "application/json", strings.NewReader(body))
				if err != nil {
					t.Errorf("request failed without an answer: %v", err)
					return
				}
				var out struct {
					ID   string `json:"customer_id"`
					Code string `json:"code"`
					Msg  string `json:"message"`
				}
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				switch res.StatusCode {
				case http.StatusCreated:
					acked = append(acked, out.ID)
				case http.StatusServiceUnavailable:
					if out.Code != "STORE_UNAVAILABLE" || strings.Contains(out.Msg, "127.0.0.1") || strings.Contains(out.Msg, "SQLSTATE") {
						leaks = append(leaks, out.Code+": "+out.Msg)
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	cluster.Stop("immediate")
	down := time.Now()
	// While the database is down: 503s, /readyz 503, the process lives.
	waitFor(t, 10*time.Second, "/readyz to answer 503 while the database is down", func() bool {
		return ts.do("GET", "/readyz", nil).Status == http.StatusServiceUnavailable
	})
	if res := ts.do("GET", "/profiles/0000000001AAAAAA", nil); res.Status != http.StatusServiceUnavailable {
		t.Errorf("a read while the database is down: %d %s, want 503", res.Status, res.Body)
	}
	// A reload fails for the store, not for the config: 503, worth a retry.
	if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), "STORE_UNAVAILABLE") {
		t.Errorf("a reload while the database is down: %d %s, want 503 STORE_UNAVAILABLE", res.Status, res.Body)
	}
	time.Sleep(time.Until(down.Add(time.Second)))
	select {
	case <-p.done:
		t.Fatalf("profiled exited while the database was down:\n%s", p.logs)
	default:
	}
	cluster.Start()
	waitFor(t, 20*time.Second, "/readyz to answer 200 after the database came back", func() bool {
		return ts.do("GET", "/readyz", nil).Status == http.StatusOK
	})
	waitFor(t, 20*time.Second, "a create to succeed after the database came back", func() bool {
		return ts.do("POST", "/profiles", `{"FirstName":"After"}`).Status == http.StatusCreated
	})
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("answers during the run: %v", statuses)
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no write answered 503 while the database was down: %v", statuses)
	}
	for code := range statuses {
		if code != http.StatusCreated && code != http.StatusServiceUnavailable {
			t.Errorf("%d writes answered %d", statuses[code], code)
		}
	}
	for _, l := range leaks {
		t.Errorf("a 503 body is not a clean STORE_UNAVAILABLE: %s", l)
	}
	for _, id := range acked {
		if res := ts.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
			t.Errorf("acknowledged %s: GET = %d after recovery", id, res.Status)
		}
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
