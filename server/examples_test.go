package server_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExamplesMatchShared: the tests read the vendor example bodies from
// testdata/examples so the repository stands alone; they must stay byte for
// byte the bodies in ../shared/examples, which CI places beside the clone.
func TestExamplesMatchShared(t *testing.T) {
	t.Parallel()
	shared, err := filepath.Glob("../../shared/examples/*")
	if err != nil || len(shared) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("../shared/examples is missing beside the clone")
		}
		t.Skip("../shared/examples is not beside this clone; nothing to compare")
	}
	for _, path := range shared {
		name := filepath.Base(path)
		if got, want := mustRead(t, filepath.Join("../testdata/examples", name)), mustRead(t, path); string(got) != string(want) {
			t.Errorf("testdata/examples/%s differs from ../shared/examples/%s", name, name)
		}
	}
}
