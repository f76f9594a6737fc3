package ops

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Snapshotter gives a consistent, point-in-time copy of the store. Snapshot
// calls fn once with the snapshot's exact size and a function that writes
// exactly that many bytes, both taken from the same consistent view, and
// returns fn's error.
//
// With bbolt both come from one read transaction, which is what makes the
// Content-Length correct while writers carry on:
//
//	func (s *Store) Snapshot(fn func(size int64, writeTo func(io.Writer) (int64, error)) error) error {
//		return s.db.View(func(tx *bolt.Tx) error { return fn(tx.Size(), tx.WriteTo) })
//	}
//
// The copy is a complete bbolt file: restoring is replacing the data file
// with it while the server is stopped.
type Snapshotter interface {
	Snapshot(fn func(size int64, writeTo func(w io.Writer) (int64, error)) error) error
}

// The write deadline for a backup download grows with the snapshot so a large
// store still downloads, yet stays bounded: a stalled client must not pin
// the read transaction forever, because bbolt cannot grow its memory map (and
// so cannot commit a write that needs more room) while one is open.
const (
	backupMinTime = time.Minute
	backupMinRate = 1 << 20 // bytes per second a backup client must sustain
)

// BackupHandler streams a hot backup of the store, for GET /admin/backup, as
// application/octet-stream with an exact Content-Length and an attachment
// filename carrying the UTC time, e.g. profiled-20260102T150405Z.db. Mount it
// behind AdminGuard.
func BackupHandler(s Snapshotter) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.Snapshot(func(size int64, writeTo func(io.Writer) (int64, error)) error {
			res := c.Response()
			deadline := time.Now().Add(backupMinTime + time.Duration(size/backupMinRate)*time.Second)
			// Replaces the server's WriteTimeout for this response only; a
			// writer that has no deadlines (a test recorder) does not need it.
			_ = http.NewResponseController(res).SetWriteDeadline(deadline)

			h := res.Header()
			h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
			h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
			h.Set(echo.HeaderContentDisposition,
				fmt.Sprintf(`attachment; filename="profiled-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
			h.Set("Cache-Control", "no-store")
			res.WriteHeader(http.StatusOK)

			n, err := writeTo(res)
			if err != nil {
				return fmt.Errorf("backup: streaming snapshot after %d of %d bytes: %w", n, size, err)
			}
			if n != size {
				return fmt.Errorf("backup: snapshot wrote %d bytes, announced %d", n, size)
			}
			return nil
		})
	}
}

// BackupToFile writes a snapshot to path, for the offline `profiled backup
// -out FILE`. It writes a temporary file in the same directory, syncs it and
// renames it into place, so path never holds a partial backup.
func BackupToFile(s Snapshotter, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed

	var written int64
	err = s.Snapshot(func(size int64, writeTo func(io.Writer) (int64, error)) error {
		n, err := writeTo(tmp)
		written = n
		if err == nil && n != size {
			err = fmt.Errorf("snapshot wrote %d bytes, announced %d", n, size)
		}
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return written, nil
}
