package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns the load generator's HTTP client: keep-alive with an
// idle connection per client goroutine, so a cell measures requests, not
// TCP handshakes, and no connection pool limit throttles 64 clients.
func newClient(maxClients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * maxClients,
			MaxIdleConnsPerHost: 2 * maxClients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// requestFunc builds the next request of a workload. seq is unique across
// all clients of a run, for bodies that must be unique (creates); rng is
// the calling client's own generator, for random reads.
type requestFunc func(rng *rand.Rand, seq uint64) (*http.Request, error)

// load bounds one cell: clients goroutines send requests back to back
// until duration has passed or maxRequests have been sent.
type load struct {
	clients     int
	duration    time.Duration
	maxRequests int
	expect      int // the status code every answer must have
}

// result is what one cell measured. Latencies are of successful requests.
type result struct {
	ok, failed int
	elapsed    time.Duration
	latencies  []time.Duration // sorted
	firstError string
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile returns the p-quantile (0 < p <= 1) by the nearest-rank method.
func (r result) percentile(p float64) time.Duration {
	return percentile(r.latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// seqCounter hands out unique sequence numbers for a whole run, so creates
// of different cells never repeat an e-mail or phone number.
type seqCounter struct{ n atomic.Uint64 }

func (s *seqCounter) next() uint64 { return s.n.Add(1) }

// runLoad drives the cell and collects its latencies. Each client keeps
// its own latency slice and random generator, so clients share nothing on
// the hot path but two atomic counters. Client i builds its requests with
// next[i % len(next)]: one function per server when several replicas
// share the clients.
//
// At the end of the cell the clients stop sending and wait for the
// answers in flight: no request is cancelled. (profiled on PostgreSQL
// closes the pool connection of a request cancelled mid-query, so
// cancelling at every cell's end would make the next cell open new
// connections while it is measured.) Only ctx (the run's) cancels.
func runLoad(ctx context.Context, client *http.Client, l load, seq *seqCounter, next []requestFunc) result {
	var (
		sent     atomic.Int64
		failed   atomic.Int64
		errOnce  sync.Once
		firstErr string
		wg       sync.WaitGroup
		perConn  = make([][]time.Duration, l.clients)
	)
	start := time.Now()
	end := start.Add(l.duration)
	for c := range l.clients {
		rng := rand.New(rand.NewPCG(uint64(c)+1, uint64(start.UnixNano())))
		next := next[c%len(next)]
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			// Every client sends at least one request (within maxRequests):
			// on a loaded machine a goroutine may first run after a short
			// cell has ended, and a cell with no answer measures nothing.
			for first := true; ctx.Err() == nil && (first || time.Now().Before(end)) && (l.maxRequests <= 0 || sent.Add(1) <= int64(l.maxRequests)); first = false {
				d, err := do(ctx, client, next, rng, seq.next(), l.expect)
				switch {
				case err == nil:
					lat = append(lat, d)
				case ctx.Err() != nil: // the run was interrupted: not a failure
				default:
					failed.Add(1)
					errOnce.Do(func() { firstErr = err.Error() })
				}
			}
			perConn[c] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(perConn...)
	slices.Sort(all)
	return result{ok: len(all), failed: int(failed.Load()), elapsed: elapsed, latencies: all, firstError: firstErr}
}

// do sends one request and reads the whole answer, so the connection goes
// back to the pool and the latency includes the body.
func do(ctx context.Context, client *http.Client, next requestFunc, rng *rand.Rand, seq uint64, expect int) (time.Duration, error) {
	req, err := next(rng, seq)
	if err != nil {
		return 0, err
	}
	req = req.WithContext(ctx)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != expect {
		return 0, fmt.Errorf("%s %s: status %d, want %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, expect, body)
	}
	return d, nil
}
