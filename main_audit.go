package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/transfer"
)

// printAudit is `profiled audit`: what GET /admin/audit lists, read from
// a stopped server's data file (read-only) or a PostgreSQL store.
func printAudit(cfg *config.Config, o *options, stdout io.Writer) error {
	if o.limit < 0 {
		return usageError("-limit must be 0 (all) or positive, not %d", o.limit)
	}
	params := url.Values{}
	for name, v := range map[string]string{"customer_id": o.customerID, "actor": o.actor, "op": o.op, "from": o.from, "to": o.to} {
		if v != "" {
			params.Set(name, v)
		}
	}
	q, err := server.ParseAuditQuery(params)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openForReading(ctx, cfg)
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			return fmt.Errorf("%w (while a server runs on it, ask it: GET /admin/audit)", err)
		}
		return err
	}
	defer st.Close()
	enc := json.NewEncoder(stdout)
	printed := 0
	for {
		page, err := profile.AuditTrail(ctx, st, o.tenant, q)
		if err != nil {
			return err
		}
		for i := range page.Entries {
			if o.limit > 0 && printed == o.limit {
				return nil
			}
			if err := enc.Encode(&page.Entries[i]); err != nil {
				return err
			}
			printed++
		}
		if page.Next == "" {
			return nil
		}
		q.Before = page.Next
	}
}

// readStore is a store opened by an offline reader (check, audit).
type readStore interface {
	profile.Store
	transfer.Source
	Close() error
}

// openForReading opens the store cfg names for reading only: the
// PostgreSQL database, or the bbolt data file read-only, which must exist
// (opening would otherwise create an empty one).
func openForReading(ctx context.Context, cfg *config.Config) (readStore, error) {
	if cfg.Store.IsPostgres() {
		db, err := postgres.Open(ctx, cfg.Store.URL, postgres.Options{AsItIs: true}) // a reader migrates nothing
		if errors.Is(err, postgres.ErrNotMigrated) {
			return nil, notProfiledDatabase(cfg.Store.URL)
		}
		return db, err
	}
	if _, err := os.Stat(cfg.Store.Path); err != nil {
		return nil, fmt.Errorf("no data file %s: %w", cfg.Store.Path, err)
	}
	return store.Open(cfg.Store.Path, store.Options{ReadOnly: true, OpenTimeout: cfg.Store.OpenTimeout})
}
