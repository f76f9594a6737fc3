package ops_test

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/ops"
)

// boltStore is the Snapshotter the ops docs tell the store to implement.
type boltStore struct{ db *bolt.DB }

func (s boltStore) Snapshot(fn func(size int64, writeTo func(io.Writer) (int64, error)) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(tx.Size(), tx.WriteTo) })
}

func openStore(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T) *bolt.DB {
	t.Helper()
	db := openStore(t, filepath.Join(t.TempDir(), "profiles.db"))
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("profiles"))
		if err != nil {
			return err
		}
		for i := range 500 { // enough to span many pages
			if err := b.Put([]byte("p"+strconv.Itoa(i)), []byte(strings.Repeat("x", 200))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// checkBackup opens a backup file as a bbolt database and finds the data.
func checkBackup(t *testing.T, path string) {
	t.Helper()
	db := openStore(t, path)
	err := db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("profiles")).Get([]byte("p499")); len(v) != 200 {
			t.Errorf("restored p499 = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackupHandler(t *testing.T) {
	db := newStore(t)
	var wantSize int64
	db.View(func(tx *bolt.Tx) error { wantSize = tx.Size(); return nil })

	e := echo.New()
	e.GET("/admin/backup", ops.BackupHandler(boltStore{db}))
	srv := httptest.NewServer(e)
	defer srv.Close()

	resp, body := do(t, "GET", srv.URL+"/admin/backup", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp.ContentLength != wantSize || int64(len(body)) != wantSize {
		t.Errorf("Content-Length %d, body %d bytes, tx.Size %d", resp.ContentLength, len(body), wantSize)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	cd := resp.Header.Get("Content-Disposition")
	if !regexp.MustCompile(`^attachment; filename="profiled-\d{8}T\d{6}Z\.db"$`).MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}

	path := filepath.Join(t.TempDir(), "downloaded.db")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	checkBackup(t, path)
}

func TestBackupToFile(t *testing.T) {
	db := newStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")

	n, err := ops.BackupToFile(boltStore{db}, path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != n || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; wrote %d", fi, err, n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	checkBackup(t, path)
}

// TestBackupToFile_NeverReplacesAFile: an existing -out (a data file in
// use, an older backup) is refused and left as it was.
func TestBackupToFile_NeverReplacesAFile(t *testing.T) {
	db := newStore(t)
	path := filepath.Join(t.TempDir(), "live.db")
	if err := os.WriteFile(path, []byte("the live data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.BackupToFile(boltStore{db}, path); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "the live data" {
		t.Errorf("the existing file now holds %d bytes", len(data))
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestStoreCollector(t *testing.T) {
	m := ops.NewMetrics()
	stats := ops.StoreStats{Commits: 4, BatchedCalls: 80, SizeBytes: 32768, OpenReadTx: 1}
	if err := m.Register(ops.NewStoreCollector(func() ops.StoreStats { return stats })); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/metrics", m.Handler())
	srv := httptest.NewServer(e)
	defer srv.Close()

	_, text := do(t, "GET", srv.URL+"/metrics", nil, nil)
	for _, want := range []string{"profiled_store_commits_total 4\n", "profiled_store_writes_total 80\n", "profiled_store_size_bytes 32768\n", "profiled_store_open_read_tx 1\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
