package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeRun_LeavesTheStartToTheEnvironment: the run contract has
// PROFILED_CONFIG name the config (default config.yaml), and flags outrank
// the environment, so `make run` must start serve with no flag of its own,
// only those of ARGS: a -config in the recipe made it ignore
// PROFILED_CONFIG. The recipe `make -n` prints is parsed by serve's own
// flags.
func TestMakeRun_LeavesTheStartToTheEnvironment(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is not installed")
		}
		t.Skip("make is not installed")
	}
	t.Setenv("PROFILED_CONFIG", "from-the-environment.yaml")
	serve, _ := findCommand("serve")
	for _, tc := range []struct {
		args       []string
		wantConfig string
		wantAddr   string
	}{
		{nil, "from-the-environment.yaml", ""},
		{[]string{"ARGS=-addr :9090"}, "from-the-environment.yaml", ":9090"},
		{[]string{"ARGS=-config other.yaml"}, "other.yaml", ""},
	} {
		out, err := exec.Command("make", append([]string{"-n", "run"}, tc.args...)...).Output()
		if err != nil {
			t.Fatalf("make -n run %v: %v\n%s", tc.args, err, out)
		}
		var recipe []string
		for line := range strings.Lines(string(out)) {
			if fields := strings.Fields(line); len(fields) > 0 && strings.HasSuffix(fields[0], "bin/profiled") {
				recipe = fields
			}
		}
		if len(recipe) < 2 || recipe[1] != "serve" {
			t.Fatalf("make -n run %v runs no profiled serve:\n%s", tc.args, out)
		}
		var o options
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		serve.flags(fs, &o)
		if err := fs.Parse(recipe[2:]); err != nil {
			t.Fatalf("make -n run %v: %q: %v", tc.args, recipe, err)
		}
		if o.config != tc.wantConfig || o.addr != tc.wantAddr {
			t.Errorf("make -n run %v starts %q: config %q, addr %q; want config %q, addr %q", tc.args, strings.Join(recipe, " "), o.config, o.addr, tc.wantConfig, tc.wantAddr)
		}
	}
}
