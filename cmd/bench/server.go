package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server the harness started: the real profiled or the bare
// ceiling server.
type process struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	logPath string
	ready   time.Duration // from start to the first 200 from /readyz
	exited  chan error
}

// freeAddr returns a loopback address with a port nobody listens on now.
// Another process could take it before the server binds it (make test runs
// many servers at once), so startProcess also waits for the server to log
// that it listens there.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startOnFreeAddr starts bin with the args args gives for a free loopback
// address (startProcess). A port another process took between freeAddr and
// the server's bind (make test runs many servers at once) is tried again
// with another, twice.
func startOnFreeAddr(bin string, args func(addr string) []string, logPath string) (*process, error) {
	for try := 0; ; try++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		p, err := startProcess(bin, args(addr), addr, logPath)
		if err == nil || try == 2 || !strings.Contains(err.Error(), "address already in use") {
			return p, err
		}
	}
}

// startProcess runs bin with args, its output going to logPath, and waits
// until GET base/readyz answers 200.
func startProcess(bin string, args []string, addr, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, base: "http://" + addr, logPath: logPath, exited: make(chan error, 1)}
	go func() {
		p.exited <- cmd.Wait()
		logFile.Close()
	}()
	if err := p.waitReady(start, 2*time.Minute); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not get ready: %w\n%s", bin, err, tail(logPath, 20))
	}
	return p, nil
}

// waitReady polls /readyz every 2 ms: fine enough to measure a start of a
// few milliseconds, cheap enough not to slow the start down.
func (p *process) waitReady(start time.Time, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	for time.Since(start) < limit {
		select {
		case err := <-p.exited:
			p.exited <- err // keep it for stop
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if !p.listening() {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		resp, err := client.Get(p.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.ready = time.Since(start)
				client.CloseIdleConnections()
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s/readyz within %s", p.base, limit)
}

// listening reports whether the process logged that it listens at its
// address: until then a /readyz answer could come from another process.
func (p *process) listening() bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(data, []byte(`"addr":"`+strings.TrimPrefix(p.base, "http://")+`"`))
}

// stop sends SIGTERM (profiled finishes in-flight requests and closes the
// store) and kills the process if it has not exited after 30 s.
func (p *process) stop() error {
	if p == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s exited with %v\n%s", p.cmd.Path, err, tail(p.logPath, 20))
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 30 s; killed", p.cmd.Path)
	}
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// metrics reads unlabelled samples from /metrics (Prometheus text format):
// the store counters and the Go collector's memory statistics.
func metrics(ctx context.Context, client *http.Client, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.ContainsRune(name, '{') {
			continue
		}
		if v, err := strconv.ParseFloat(strings.Fields(value)[0], 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// login opens an eGain session for the demo user of the default config.
func login(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ws/v12/authentication/user/login",
		bytes.NewReader([]byte(`{"userName":"demo","password":"demo"}`)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	session := resp.Header.Get("X-egain-session")
	if resp.StatusCode != http.StatusNoContent || session == "" {
		return "", fmt.Errorf("eGain login as demo: status %d, session %q: %.200s", resp.StatusCode, session, body)
	}
	return session, nil
}
