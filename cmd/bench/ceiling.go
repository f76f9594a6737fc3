package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	bolt "go.etcd.io/bbolt"
)

// serveBare is the HTTP ceiling: an Echo server on the routes the
// workloads use whose handlers read the request body and answer the
// status the real server answers, doing nothing else (no middleware, no
// JSON, no store). The harness runs it as a subprocess of itself (the
// -bare flag), so it shares the machine with the load generator exactly
// as profiled does.
func serveBare(addr string) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	status := func(code int) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
				return err
			}
			return c.NoContent(code)
		}
	}
	e.GET("/readyz", status(http.StatusOK))
	e.POST("/profiles", status(http.StatusCreated))
	e.GET("/profiles", status(http.StatusOK))
	e.GET("/profiles/:id", status(http.StatusOK))
	e.POST("/ws/v12/interaction/customer", status(http.StatusCreated))
	e.GET("/ws/v12/interaction/customer", status(http.StatusOK))
	e.POST("/ws/v12/authentication/user/login", func(c echo.Context) error {
		io.Copy(io.Discard, c.Request().Body)
		c.Response().Header().Set("X-egain-session", "bare")
		return c.NoContent(http.StatusNoContent)
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("{\"addr\":%q,\"message\":\"bare ceiling listening\"}\n", l.Addr().String()) // startProcess waits for it
	e.Listener = l
	return e.Start("")
}

// storageResult is one storage ceiling cell: the best MaxBatchDelay found
// and what it reached.
type storageResult struct {
	delay time.Duration
	result
	perCommit float64 // writes per fsync
}

// batchDelays are the MaxBatchDelay values tried per concurrency. bbolt's
// default is 10 ms; shorter delays suit few writers (nobody else arrives
// to share the fsync, so waiting is pure latency), longer ones many.
var batchDelays = []time.Duration{200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond}

// storageCeiling writes records of recordSize bytes under random 16-byte
// keys from clients goroutines through db.Batch, fsync on, for each
// candidate delay, and keeps the fastest: what bbolt alone can commit.
func storageCeiling(ctx context.Context, dir string, clients, recordSize int, duration time.Duration) (storageResult, error) {
	var best storageResult
	for i, delay := range batchDelays {
		r, err := storageCell(ctx, filepath.Join(dir, fmt.Sprintf("ceiling-%d-%d.db", clients, i)), clients, recordSize, delay, duration)
		if err != nil {
			return best, err
		}
		if r.rate() > best.rate() {
			best = r
		}
	}
	return best, nil
}

func storageCell(ctx context.Context, path string, clients, recordSize int, delay, duration time.Duration) (storageResult, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return storageResult{}, err
	}
	defer db.Close()
	db.MaxBatchDelay = delay
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("records"))
		return err
	})
	if err != nil {
		return storageResult{}, err
	}
	// Count commits, not calls: bbolt's Stats().TxStats does not count
	// commits, so each batch's first call marks the transaction it runs in.
	var commits atomic.Int64
	var lastTx atomic.Pointer[bolt.Tx]

	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		all     []time.Duration
		failed  atomic.Int64
		errOnce sync.Once
		first   string
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			value := make([]byte, recordSize)
			rand.Read(value)
			var lat []time.Duration
			for ctx.Err() == nil {
				key := make([]byte, 16)
				rand.Read(key)
				t := time.Now()
				err := db.Batch(func(tx *bolt.Tx) error {
					if lastTx.Swap(tx) != tx {
						commits.Add(1)
					}
					return tx.Bucket([]byte("records")).Put(key, value)
				})
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { first = err.Error() })
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	r := storageResult{delay: delay, result: result{ok: len(all), failed: int(failed.Load()), elapsed: time.Since(start), latencies: all, firstError: first}}
	if c := commits.Load(); c > 0 {
		r.perCommit = float64(len(all)) / float64(c)
	}
	if r.ok == 0 {
		return r, errors.New("storage ceiling: no write succeeded: " + first)
	}
	return r, nil
}

// encodedSize is the mean number of key and value bytes one profile
// occupies in a profiled data file (its core, records, number, creation
// and index entries), read from a file of imported profiles: the record
// size the storage ceiling writes.
func encodedSize(path string) (bytesPerProfile int, profiles int, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	total := 0
	err = db.View(func(tx *bolt.Tx) error {
		tenants := tx.Bucket([]byte("tenants"))
		if tenants == nil {
			return errors.New("no tenants bucket: not a profiled data file")
		}
		var walk func(b *bolt.Bucket, depth int) error
		walk = func(b *bolt.Bucket, depth int) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil { // a nested bucket
					if depth == 1 && string(k) == "profiles" {
						profiles += b.Bucket(k).Stats().KeyN
					}
					return walk(b.Bucket(k), depth+1)
				}
				total += len(k) + len(v)
				return nil
			})
		}
		return walk(tenants, 0)
	})
	if err != nil {
		return 0, 0, err
	}
	if profiles == 0 {
		return 0, 0, errors.New("no profiles in " + path)
	}
	return total / profiles, profiles, nil
}
