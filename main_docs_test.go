package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tryBlock matches the shell blocks the docs offer to paste: fenced sh
// blocks whose first line is "# try it".
var tryBlock = regexp.MustCompile("(?s)```sh\n# try it\n(.*?)```")

// TestDocs_Curl runs every "# try it" block of README.md and docs/*.md,
// line by line in one shell, against a live server on a fresh data file:
// localhost:8080 becomes the server's address, `make run &` is the server
// already running, and every curl must answer 2xx (--fail-with-body), so
// the examples cannot drift from what the service does.
func TestDocs_Curl(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	files, _ := filepath.Glob("docs/*.md")
	files = append([]string{"README.md"}, files...)
	blocks := 0
	for _, file := range files {
		for i, m := range tryBlock.FindAllSubmatch(mustReadFile(t, file), -1) {
			blocks++
			t.Run(filepath.Base(file)+"#"+string(rune('1'+i)), func(t *testing.T) {
				app, srv := serveOn(t, filepath.Join(t.TempDir(), "profiles.db"))
				defer srv.Close()
				defer app.Close()
				script := strings.ReplaceAll(string(m[1]), "localhost:8080", strings.TrimPrefix(srv.URL, "http://"))
				script = strings.ReplaceAll(script, "make run &\n", "")
				script = regexp.MustCompile(`\bcurl `).ReplaceAllString(script, "curl --fail-with-body ")
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s: %v\nscript:\n%s\noutput:\n%s", file, err, script, out)
				}
			})
		}
	}
	if blocks < 3 {
		t.Errorf("found %d runnable blocks, want README's, api.md's and egain.md's", blocks)
	}
}

// TestDocs_BackgroundStartIsAwaited: a "# try it" block that starts the
// server with `make run &` waits for /readyz before its first request.
// TestDocs_Curl drops that line and runs the block against a server that is
// already up, so it cannot see that pasted as written the curls run while
// make is still building: every one fails with curl's exit 7, silently
// under -s, and the reader sees nothing at all.
func TestDocs_BackgroundStartIsAwaited(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("docs/*.md")
	files = append([]string{"README.md"}, files...)
	for _, file := range files {
		for _, m := range tryBlock.FindAllSubmatch(mustReadFile(t, file), -1) {
			block := string(m[1])
			start := strings.Index(block, "make run &\n")
			if start < 0 {
				continue
			}
			first := regexp.MustCompile(`(?m)^[^#\n]*\bcurl .*$`).FindString(block[start:])
			if first != "" && !strings.Contains(first, "/readyz") {
				t.Errorf("%s: the block starts `make run &` and sends its first request before it waits for /readyz:\n%s", file, block)
			}
		}
	}
}
