package ops

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// gives it the name path, so path never holds a partial backup. A file
// already at path is never replaced: swapping -data and -out during a
// restore replaced the live data file, and a running server then
// acknowledged writes into a deleted file.
func BackupToFile(s Snapshotter, path string) (int64, error) {
	if _, err := os.Lstat(path); err == nil {
		return 0, fmt.Errorf("backup: %s exists: a backup never replaces a file (it may be a data file in use); remove it or choose another -out", path)
	}
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
		err = placeNew(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return written, nil
}

// placeNew gives the finished file at tmp the name path, unless a file
// took that name meanwhile: a hard link never replaces one. Where the
// file system has no hard links, a rename after a last look.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		_ = os.Remove(tmp) // the backup is in place; the caller's defer tries again
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s appeared while the backup ran; the backup was not written", path)
	}
	if _, statErr := os.Lstat(path); statErr == nil {
		return fmt.Errorf("%s appeared while the backup ran; the backup was not written", path)
	}
	return os.Rename(tmp, path)
}
