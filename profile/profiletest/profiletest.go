// Package profiletest builds the profile domain for tests as server.New
// does: over a real bbolt file in a temporary directory and a config file.
package profiletest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/jsonw"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
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
	registry, err := profile.LoadRegistry(context.Background(), s, config.SchemaSource(cfg.File))
	if err != nil {
		tb.Fatal(err)
	}
	return profile.NewService(s, registry), db, cfg
}

// DocumentOf is p as a store's Document read gives it: attributes and
// records as the members of their stored JSON.
func DocumentOf(tb testing.TB, p *profile.Profile) *profile.Document {
	tb.Helper()
	d := &profile.Document{ID: p.ID, Num: p.Num, Created: p.Created, Updated: p.Updated, Rev: p.Rev,
		Attributes: members(tb, p.Attributes)}
	if p.Extensions != nil {
		d.Extensions = map[string][][]profile.Member{}
		for ext, recs := range p.Extensions {
			d.Extensions[ext] = make([][]profile.Member, len(recs))
			for i, r := range recs {
				d.Extensions[ext][i] = members(tb, r)
			}
		}
	}
	return d
}

func members(tb testing.TB, m map[string]any) []profile.Member {
	tb.Helper()
	out, err := jsonw.Members(jsonw.AppendObject(nil, m))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Record decodes a Document's record (or attributes) into the map a
// Profile holds.
func Record(tb testing.TB, members []profile.Member) schema.Record {
	tb.Helper()
	r := schema.Record{}
	for _, m := range members {
		v, err := jsonw.Parse(m.Value)
		if err != nil {
			tb.Fatalf("member %s: %v", m.Name, err)
		}
		r[m.Name] = v
	}
	return r
}

// Started returns the service over s with the schema of the config file
// at configPath, synced with the store as at a server's start (another
// replica's, on a shared database).
func Started(tb testing.TB, configPath string, s profile.Store) *profile.Service {
	tb.Helper()
	cfg, err := config.Load(configPath)
	if err != nil {
		tb.Fatal(err)
	}
	registry, err := profile.LoadRegistry(context.Background(), s, config.SchemaSource(cfg.File))
	if err != nil {
		tb.Fatal(err)
	}
	svc := profile.NewService(s, registry)
	if err := svc.SyncSchema(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return svc
}
