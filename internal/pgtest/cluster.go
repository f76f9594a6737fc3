package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is a private PostgreSQL server made by StartCluster: its own data
// directory and port, so a test may stop, crash and restart it.
type Cluster struct {
	tb   testing.TB
	bin  string // directory holding initdb and pg_ctl
	dir  string // everything lives here; removed at cleanup
	data string
	log  string
	port int
	cred *syscall.Credential // the postgres user's, when we are root
}

// clusterDirPrefix names cluster directories, so later runs can find the
// ones a killed test binary left running (see reapOrphanClusters).
const clusterDirPrefix = "profiled-pgtest-"

var orphanOnce sync.Once

// StartCluster initialises and starts a new PostgreSQL cluster with the
// newest server installed under /usr/lib/postgresql/*/bin (or initdb and
// pg_ctl on PATH): trust auth, listening only on 127.0.0.1 at a free port,
// fsync on, small shared_buffers. It is stopped (immediate mode) and deleted
// at cleanup. Without the server binaries the test is skipped, or failed
// under CI=true.
//
// initdb and postgres refuse to run as root, so as root (as in CI) they run
// as the postgres system user, in a directory that user can reach: not
// under tb.TempDir(), whose parents are 0700 root.
//
// A cluster takes a second or two to start; use URL for tests that only
// need a database.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := findBinDir()
	if err != nil {
		unavailable(tb, "pgtest: no PostgreSQL server binaries (%v); install Debian's postgresql package", err)
	}
	c := &Cluster{tb: tb, bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCred(); err != nil {
			unavailable(tb, "pgtest: running as root and cannot run PostgreSQL as the postgres user: %v", err)
		}
	}

	base := clusterBase(c.cred != nil)
	orphanOnce.Do(func() { reapOrphanClusters(base, bin, c.cred) })

	if c.dir, err = os.MkdirTemp(base, clusterDirPrefix); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(c.dir) })
	// Written before anything runs: it is how a later run knows this
	// cluster's owner is gone.
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	c.data = filepath.Join(c.dir, "data")
	c.log = filepath.Join(c.dir, "postgres.log")
	sock := filepath.Join(c.dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	for _, p := range []string{c.dir, sock} {
		if err := c.chown(p); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
	}

	// --no-sync: initdb's final fsync of every file only guards against an
	// OS crash, which a throwaway cluster does not outlive (it saved 0.15 s
	// of 1.1 s here, more on slow disks); the running server keeps fsync on.
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}

	// A port picked free can be taken before postgres binds it, by another
	// test binary doing the same; pick again then.
	for attempt := 1; ; attempt++ {
		c.port, err = freePort()
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		// Appended: later lines win, so a retry just appends again.
		conf := fmt.Sprintf("\n# pgtest\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nshared_buffers = '16MB'\n",
			c.port, sock)
		if err := appendFile(filepath.Join(c.data, "postgresql.conf"), conf); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		logStart := fileSize(c.log)
		err = c.start()
		if err == nil {
			break
		}
		newLog := c.logSince(logStart)
		if attempt == 3 || !strings.Contains(newLog, "could not bind") {
			tb.Fatalf("pgtest: start cluster: %v\n%s", err, newLog)
		}
	}
	tb.Cleanup(func() {
		_, _ = c.run("pg_ctl", "stop", "-D", c.data, "-m", "immediate", "-w", "-s")
	})
	return c
}

// URL returns the URL of the cluster's postgres database, as the postgres
// superuser.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Stop stops the server with pg_ctl's mode "smart", "fast" or "immediate"
// (a crash, as far as the data is concerned) and waits until it is gone.
// Like the testing.TB it was started with, call it from the test goroutine.
func (c *Cluster) Stop(mode string) {
	c.tb.Helper()
	if mode != "smart" && mode != "fast" && mode != "immediate" {
		c.tb.Fatalf("pgtest: Stop(%q): mode must be smart, fast or immediate", mode)
	}
	if out, err := c.run("pg_ctl", "stop", "-D", c.data, "-m", mode, "-w", "-t", "60", "-s"); err != nil {
		c.tb.Fatalf("pgtest: stop -m %s: %v\n%s", mode, err, out)
	}
}

// Start starts a stopped server again on the same port and data, waiting
// until it accepts connections (after crash recovery, if it was stopped
// with "immediate").
func (c *Cluster) Start() {
	c.tb.Helper()
	logStart := fileSize(c.log)
	if err := c.start(); err != nil {
		c.tb.Fatalf("pgtest: start: %v\n%s", err, c.logSince(logStart))
	}
}

func (c *Cluster) start() error {
	out, err := c.run("pg_ctl", "start", "-D", c.data, "-l", c.log, "-w", "-t", "60", "-s")
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// run runs one of the server's programs from the cluster directory (they
// need a readable working directory), as the postgres user when we are
// root, with PG* variables removed so the caller's environment cannot point
// them elsewhere.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	return runAs(c.cred, c.dir, filepath.Join(c.bin, prog), args...)
}

func runAs(cred *syscall.Credential, dir, path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = []string{"LC_ALL=C", "LANG=C"} // English messages, no locale warnings
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	// pg_ctl start leaves the server running; it redirects the server's
	// output to the log, but should anything keep our pipe open, don't hang.
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

// logSince returns the server log written after offset, for error messages.
func (c *Cluster) logSince(offset int64) string {
	b, err := os.ReadFile(c.log)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	b = b[offset:]
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// findBinDir returns the bin directory of the newest server version that
// Debian's packages installed, else the directory of initdb on PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	type ver struct {
		dir   string
		major int
	}
	var found []ver
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			found = append(found, ver{d, major})
		}
	}
	if len(found) > 0 {
		return slices.MaxFunc(found, func(a, b ver) int { return a.major - b.major }).dir, nil
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("none under /usr/lib/postgresql/*/bin and no initdb on PATH")
	}
	d := filepath.Dir(initdb)
	if !isFile(filepath.Join(d, "pg_ctl")) {
		return "", fmt.Errorf("no pg_ctl beside %s", initdb)
	}
	return d, nil
}

func postgresCred() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// clusterBase is where cluster directories go: the temp dir, unless we run
// as root and the postgres user could not reach into it.
func clusterBase(asOther bool) string {
	base := os.TempDir()
	if asOther && !traversableByAll(base) {
		return "/tmp"
	}
	return base
}

func traversableByAll(path string) bool {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if p == "/" || p == "." {
			return true
		}
	}
}

// reapOrphanClusters stops and deletes clusters whose test binary died
// without running its cleanup (killed by -timeout, say), which would
// otherwise keep a postgres running forever. Best effort.
func reapOrphanClusters(base, bin string, cred *syscall.Credential) {
	dirs, _ := filepath.Glob(filepath.Join(base, clusterDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // owner alive (or unknown): not ours to touch
		}
		if isFile(filepath.Join(dir, "data", "postmaster.pid")) {
			_, _ = runAs(cred, dir, filepath.Join(bin, "pg_ctl"), "stop", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "-s")
		}
		_ = os.RemoveAll(dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
