package profile

import (
	"context"
	"time"

	"github.com/contactcenter/profiled/errs"
)

// Lookups for facades (the eGain search): they read identification indexes
// directly, so a facade never scans profiles either.

// Lookup returns the customers whose entry of identification key `key`
// starts with values (raw query values, in key attribute order), in index
// order, at most limit (0: MaxIdentifyResults).
func (s *Service) Lookup(ctx context.Context, tenant, key string, values []string, limit int) ([]string, error) {
	return s.lookup(ctx, tenant, key, values, nil, limit)
}

// LookupRange is Lookup where the key attribute after values lies in
// [from, to] (raw values; "" is an open bound).
func (s *Service) LookupRange(ctx context.Context, tenant, key string, values []string, from, to string, limit int) ([]string, error) {
	return s.lookup(ctx, tenant, key, values, &[2]string{from, to}, limit)
}

func (s *Service) lookup(ctx context.Context, tenant, key string, values []string, bounds *[2]string, limit int) ([]string, error) {
	c := s.schema.Current()
	k, ok := c.Key(key)
	if !ok {
		return nil, errs.E(errs.KindInternal, CodeUnknownKey, "identification key %q is not defined", key)
	}
	width := len(values)
	if bounds != nil {
		width++
	}
	if width == 0 || width > len(k.Attributes) {
		return nil, errs.E(errs.KindInternal, CodeUnknownKey, "identification key %q has %d attributes, not %d", k.Name, len(k.Attributes), width)
	}
	prefix := make([]string, len(values))
	for i, v := range values {
		text, err := c.QueryValue(k.Source, k.Attributes[i], v)
		if err != nil {
			return nil, err
		}
		prefix[i] = text
	}
	var from, to string
	if bounds != nil {
		var err error
		attr := k.Attributes[len(values)]
		if bounds[0] != "" {
			if from, err = c.QueryValue(k.Source, attr, bounds[0]); err != nil {
				return nil, err
			}
		}
		if bounds[1] != "" {
			if to, err = c.QueryValue(k.Source, attr, bounds[1]); err != nil {
				return nil, err
			}
		}
	}
	if limit <= 0 {
		limit = MaxIdentifyResults
	}
	var ids []string
	seen := map[string]bool{}
	collect := func(id string) bool {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return len(ids) < limit
	}
	err := s.store.View(ctx, tenant, func(tx Tx) error {
		if bounds != nil {
			return tx.ScanIndexRange(k.Name, prefix, from, to, collect)
		}
		return tx.ScanIndex(k.Name, prefix, collect)
	})
	return ids, err
}

// CreatedBetween returns customers created in [from, to] (zero: open),
// oldest first, at most limit (0: MaxIdentifyResults).
func (s *Service) CreatedBetween(ctx context.Context, tenant string, from, to time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = MaxIdentifyResults
	}
	var ids []string
	err := s.store.View(ctx, tenant, func(tx Tx) error {
		return tx.ScanCreated(from, to, func(id string) bool {
			ids = append(ids, id)
			return len(ids) < limit
		})
	})
	return ids, err
}

// GetMany reads several profiles with the named extensions in one read
// transaction; missing ids are skipped.
func (s *Service) GetMany(ctx context.Context, tenant string, ids []string, exts []string) ([]*Profile, error) {
	names, err := extensionNames(s.schema.Current(), exts)
	if err != nil {
		return nil, err
	}
	out := make([]*Profile, 0, len(ids))
	err = s.store.View(ctx, tenant, func(tx Tx) error {
		for _, id := range ids {
			p, err := tx.Profile(id)
			if err != nil {
				return err
			}
			if p == nil {
				continue
			}
			if err := loadExtensions(tx, p, names); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, s.noteRead(ctx, tenant, out...)
}

// IDsByNum maps numeric ids to customer ids; unknown numbers are skipped.
func (s *Service) IDsByNum(ctx context.Context, tenant string, nums []uint64) ([]string, error) {
	var ids []string
	err := s.store.View(ctx, tenant, func(tx Tx) error {
		for _, n := range nums {
			id, err := tx.IDByNum(n)
			if err != nil {
				return err
			}
			if id != "" {
				ids = append(ids, id)
			}
		}
		return nil
	})
	return ids, err
}
