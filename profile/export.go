package profile

import (
	"context"
	"maps"
	"time"

	"github.com/contactcenter/profiled/schema"
)

// Export is everything held about one customer (a data subject's request,
// GDPR article 15): the profile, every extension's records (those of
// extensions the schema no longer declares too), the identification
// entries its data yields and the audit entries about it.
type Export struct {
	Profile *Profile
	// Identification lists, per identification key, the value tuples the
	// customer can be found by.
	Identification []IdentificationEntry
	// Audit is the customer's audit trail, newest first, this export's
	// own entry included.
	Audit []AuditEntry
}

// addUndeclared adds to p.Extensions, under their stored (lower-cased)
// names, the records p's customer has of extensions c does not declare: a
// reload that removed an extension keeps its records, hidden from reads,
// and an export must still show everything held.
func addUndeclared(tx Tx, c *schema.Compiled, p *Profile) error {
	stored, err := tx.StoredExtensions(p.ID)
	if err != nil {
		return err
	}
	var hidden []string
	for _, name := range stored {
		if _, declared := c.Extension(name); !declared {
			hidden = append(hidden, name)
		}
	}
	if len(hidden) == 0 {
		return nil
	}
	sets, err := tx.RecordSets(p.ID, hidden)
	if err != nil {
		return err
	}
	if p.Extensions == nil {
		p.Extensions = map[string][]schema.Record{}
	}
	maps.Copy(p.Extensions, sets)
	return nil
}

// IdentificationEntry is one tuple of values of one key.
type IdentificationEntry struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Export reads everything held about customer id and records the export
// in the audit trail, in one transaction. num, when not 0, is the numeric
// (eGain) id the request named, which id must still have (404 otherwise).
func (s *Service) Export(ctx context.Context, tenant, id string, num uint64) (*Export, error) {
	c := s.schema.Current()
	exts := c.ExtensionNames()
	var out Export
	err := s.store.Update(ctx, tenant, func(tx Tx) error {
		out = Export{}
		if err := checkNum(tx, id, num); err != nil {
			return err
		}
		p, err := loadProfile(canonical(tx, c), id, exts)
		if err != nil {
			return err
		}
		if err := sameNum(p.Num, num); err != nil {
			return err
		}
		out.Profile = p
		if err := addUndeclared(tx, c, p); err != nil {
			return err
		}
		for i := range c.Keys() {
			k := &c.Keys()[i]
			tuples, err := keyEntries(k, indexed{attributes: p.Attributes, records: p.Extensions})
			if err != nil {
				return err
			}
			for _, t := range tuples {
				out.Identification = append(out.Identification, IdentificationEntry{Key: k.Name, Values: t})
			}
		}
		e := newEntry(ctx, OpExport)
		e.Customers = []string{id}
		if err := s.appendEntry(tx, e); err != nil {
			return err
		}
		// Only this customer's entries: a customer deleted before it was
		// created under the same customer_id was someone else, and its
		// entries are not this data subject's to be handed. They are
		// those before this customer's creation entry in sequence, which
		// follows commit order on both stores, not in time: a clock
		// stepped back (NTP, a replica behind the one that created the
		// customer) stamps later entries before Created.
		var all []AuditEntry
		var created uint64 // the sequence number of the creation entry, 0 if none is kept
		err = tx.Audit(StoreFilter{CustomerID: id}, func(e *AuditEntry) bool {
			if e.Op == OpCreate || e.Op == OpImport {
				created = max(created, e.Seq)
			}
			all = append(all, *e)
			return true
		})
		if err != nil {
			return err
		}
		since := p.Created.Truncate(time.Microsecond) // without a creation entry (swept, or older than the trail)
		for _, entry := range all {
			if (created != 0 && entry.Seq < created) || (created == 0 && entry.At.Before(since)) {
				continue
			}
			if entry.Op != OpMerge {
				// An entry of several customers (an import batch, a read of
				// an identify's results) names other data subjects, not
				// this one's to be handed; a merge names the customer
				// merged into this one, part of its story.
				entry.Customers = []string{id}
			}
			out.Audit = append(out.Audit, entry)
		}
		return nil
	})
	return &out, err
}
