package profile

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// CodeProfileErased answers a read of an erased customer, and a create that
// names its customer_id.
const CodeProfileErased = "PROFILE_ERASED"

// Tombstone is what an erasure keeps of a customer: its id (in the
// setting's name), when, and who erased it; no personal data.
type Tombstone struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
}

func tombstoneName(tenant, id string) string { return "erased:" + tenant + ":" + id }

// numTombstoneName names the setting that maps an erased customer's
// numeric (eGain) id to its customer_id, so that an erase or export sent
// again by that number (a retry whose answer was lost) hears the customer
// was erased, not that the number never existed.
func numTombstoneName(tenant string, num uint64) string {
	return "erased-num:" + tenant + ":" + strconv.FormatUint(num, 10)
}

// tombstone reads the tombstone of customer id in tx's tenant, nil if none.
func tombstone(tx Tx, id string) (*Tombstone, error) {
	v, err := tx.Setting(tombstoneName(tx.Tenant(), id))
	if err != nil || v == "" {
		return nil, err
	}
	var t Tombstone
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func erasedError(id string, t *Tombstone) *errs.Error {
	return errs.NotFound(CodeProfileErased, "customer %q was erased on %s", id, t.At.UTC().Format(time.RFC3339))
}

// Erase removes customer id — its profile, records, index entries and
// numeric id — and leaves a tombstone (time and actor, no personal data)
// in the same transaction, so reads answer PROFILE_ERASED and its
// customer_id cannot be created again, by the API, an import or a copy
// of the store (copy-store carries tombstones). num, when not 0, is the
// numeric (eGain) id the request named, which id must still have (404
// otherwise). ifMatch, when not 0, is the revision the profile must have
// (412 otherwise), as for Delete.
func (s *Service) Erase(ctx context.Context, tenant, id string, num, ifMatch uint64) (*Tombstone, error) {
	t := &Tombstone{At: s.Now().UTC(), Actor: newEntry(ctx, OpErase).Actor}
	value, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	_, err = withSchema(ctx, s, func(c *schema.Compiled) (struct{}, error) {
		return struct{}{}, s.write(ctx, tenant, c, OpErase, func(tx Tx) error {
			if err := checkNum(tx, id, num); err != nil {
				return err
			}
			removed, err := remove(tx, c, id, ifMatch)
			if err != nil {
				return err
			}
			if err := sameNum(removed, num); err != nil {
				return err // rolls the removal back
			}
			if removed == 0 { // damaged, its number unreadable: the one the request named
				removed = num
			}
			if removed != 0 {
				if err := tx.PutSetting(numTombstoneName(tenant, removed), id); err != nil {
					return err
				}
			}
			return tx.PutSetting(tombstoneName(tenant, id), string(value))
		})
	})
	return t, err
}
