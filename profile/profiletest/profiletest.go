// Package profiletest builds the profile domain for tests as server.New
// does: over a real bbolt file in a temporary directory and a config file.
package profiletest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store"
)

// New returns the service over a new data file with the schema of the
// config file at configPath, and the store under it; both close with tb.
func New(tb testing.TB, configPath string) (*profile.Service, *store.DB, *config.Config) {
	tb.Helper()
	return NewOver(tb, configPath, func(db *store.DB) profile.Store { return db })
}

// NewOver is New with the service over wrap(db): a test can watch what the
// service asks of the store.
func NewOver(tb testing.TB, configPath string, wrap func(*store.DB) profile.Store) (*profile.Service, *store.DB, *config.Config) {
	tb.Helper()
	cfg, err := config.Load(configPath)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := store.Open(filepath.Join(tb.TempDir(), "profiles.db"), store.Options{OpenTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s := wrap(db)
	registry, err := profile.LoadRegistry(context.Background(), s, config.SchemaSource(cfg.File), cfg.Unauthorized())
	if err != nil {
		tb.Fatal(err)
	}
	return profile.NewService(s, registry), db, cfg
}
