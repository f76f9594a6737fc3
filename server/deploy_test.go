package server_test

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCompose_Config validates docker-compose.yml with Debian's
// docker-compose (.ci/run installs it): as `docker-compose up -d` reads it,
// and with the "postgres" profile (the database and two replicas) enabled.
func TestCompose_Config(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose is not installed; .ci/run should have installed it")
		}
		t.Skip("docker-compose is not installed (apt-get install docker-compose); compose file not validated")
	}
	for _, profile := range [][]string{nil, {"--profile", "postgres"}} {
		args := append(append([]string{"-f", "docker-compose.yml"}, profile...), "config", "-q")
		cmd := exec.Command("docker-compose", args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestCompose_Stack builds the image, brings the stack up, creates a
// profile, restarts the container and reads the profile back. It needs a
// Docker engine, which CI machines do not have.
func TestCompose_Stack(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipped with -short")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers `docker info`; the image build and compose run are skipped")
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("docker-compose is not installed")
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME=profiledtest")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("make", "image")
	run("docker-compose", "up", "-d")
	t.Cleanup(func() {
		cmd := exec.Command("docker-compose", "down", "-v")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME=profiledtest")
		cmd.Run()
	})
	base := "http://127.0.0.1:8080"
	waitReady := func() {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if res, err := http.Get(base + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatal("the container did not become ready")
	}
	waitReady()
	res, err := http.Post(base+"/profiles", "application/json", strings.NewReader(`{"customer_id":"composetest","FirstName":"Docker"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create in the container: %d", res.StatusCode)
	}
	run("docker-compose", "restart")
	waitReady()
	res, err = http.Get(base + "/profiles/composetest")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("profile lost across a container restart: %d", res.StatusCode)
	}
}
