package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
)

// printAudit is `profiled audit`: what GET /admin/audit lists, read from
// a stopped server's data file (read-only) or a PostgreSQL store.
func printAudit(cfg *config.Config, o *options, stdout io.Writer) error {
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
	var st interface {
		profile.Store
		Close() error
	}
	if cfg.Store.IsPostgres() {
		if st, err = postgres.Open(ctx, cfg.Store.URL, postgres.Options{}); err != nil {
			return err
		}
	} else {
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			return fmt.Errorf("no data file %s: %w", cfg.Store.Path, err)
		}
		if st, err = store.Open(cfg.Store.Path, store.Options{ReadOnly: true, OpenTimeout: cfg.Store.OpenTimeout}); err != nil {
			return fmt.Errorf("%w (while a server runs on it, ask it: GET /admin/audit)", err)
		}
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
