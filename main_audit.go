package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

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
	if err := checkTenantFlag(o.tenant); err != nil {
		return err
	}
	// A filter given empty (-customer-id "$ID" with $ID unset) is passed
	// on, so it is refused as GET /admin/audit refuses it, not taken for
	// no filter: that would list every customer's entries.
	params := url.Values{}
	for _, f := range []struct{ param, flag, value string }{
		{"customer_id", "customer-id", o.customerID}, {"actor", "actor", o.actor}, {"op", "op", o.op}, {"from", "from", o.from}, {"to", "to", o.to},
	} {
		if f.value != "" || o.given[f.flag] {
			params.Set(f.param, f.value)
		}
	}
	q, err := server.ParseAuditQuery(params)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openForReading(ctx, storeOf(cfg), cfg.Store.OpenTimeout)
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
	ProfileCount() (int, error)
	Close() error
}

// openForReading opens the store at where (a PostgreSQL URL or a bbolt
// file) for reading only, for check, audit, check-config and copy-store's
// source: the database as it is, never migrated, and the file read-only
// (byte for byte as it was, on a read-only mount too), which must exist
// (opening would otherwise create an empty one). A database without this
// release's tables (a typo'd name that exists, one a failed restore left
// empty) is refused, wrapping postgres.ErrNotMigrated, rather than made
// and read as empty.
func openForReading(ctx context.Context, where string, openTimeout time.Duration) (readStore, error) {
	if config.IsPostgresURL(where) {
		db, err := postgres.Open(ctx, where, postgres.Options{AsItIs: true})
		if errors.Is(err, postgres.ErrNotMigrated) {
			return nil, fmt.Errorf("the database %s does not hold this release's profiled tables (it is empty, an older release's, or being migrated): nothing to read; start this release's server on it first to migrate an older one: %w", config.RedactURL(where), err)
		}
		return db, err
	}
	if _, err := os.Stat(where); err != nil {
		return nil, fmt.Errorf("no data file %s: %w", where, err)
	}
	return store.Open(where, store.Options{ReadOnly: true, OpenTimeout: openTimeout})
}

// storeOf is where cfg's store is: its PostgreSQL URL, or its bbolt file.
func storeOf(cfg *config.Config) string {
	if cfg.Store.IsPostgres() {
		return cfg.Store.URL
	}
	return cfg.Store.Path
}
