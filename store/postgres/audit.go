package postgres

import (
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/codec"
)

// AppendAudit queues the entry with the transaction's other writes; the
// database gives its sequence number (e.Seq stays 0 here), so appending
// costs no round trip of its own.
func (t *tx) AppendAudit(e *profile.AuditEntry) error {
	v, err := codec.EncodeAuditEntry(e)
	if err != nil {
		return err
	}
	ids := e.Customers
	if ids == nil {
		ids = []string{}
	}
	t.queue(nil, "INSERT INTO audit (tenant, at_us, customer_ids, entry) VALUES ($1, $2, $3, $4)",
		t.tenant, e.At.UnixMicro(), ids, v)
	return nil
}

func (t *tx) Audit(f profile.StoreFilter, fn func(e *profile.AuditEntry) bool) error {
	from, to := int64(0), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = f.From.UnixMicro()
	}
	if !f.To.IsZero() {
		to = f.To.UnixMicro()
	}
	beforeAt, beforeSeq := int64(math.MaxInt64), int64(math.MaxInt64)
	if f.Before != nil {
		beforeAt, beforeSeq = f.Before.At.UnixMicro(), int64(min(f.Before.Seq, math.MaxInt64))
	}
	if f.CustomerID != "" && !storable(f.CustomerID) {
		return nil // no stored customer has such an id
	}
	for {
		n, stop := 0, false
		err := t.query(func(r pgx.Rows) error {
			var at, seq int64
			var v []byte
			if err := r.Scan(&at, &seq, &v); err != nil {
				return err
			}
			n++
			beforeAt, beforeSeq = at, seq
			if stop {
				return nil
			}
			e, err := codec.DecodeAuditEntry(v)
			if err != nil {
				return err
			}
			e.At, e.Seq, e.Tenant = time.UnixMicro(at).UTC(), uint64(seq), t.tenant
			stop = !fn(e)
			return nil
		}, `SELECT at_us, seq, entry FROM audit
			WHERE tenant = $1 AND at_us BETWEEN $2 AND $3 AND (at_us, seq) < ($4, $5)
			  AND ($6 = '' OR customer_ids @> ARRAY[$6::text])
			ORDER BY at_us DESC, seq DESC LIMIT $7`,
			t.tenant, from, to, beforeAt, beforeSeq, f.CustomerID, scanPage)
		if err != nil || stop || n < scanPage {
			return err
		}
	}
}

func (t *tx) DeleteAuditBefore(before time.Time, max int) (int, error) {
	var n int
	_, err := t.queryValue([]any{&n}, `WITH gone AS (
			DELETE FROM audit WHERE (tenant, at_us, seq) IN (
				SELECT tenant, at_us, seq FROM audit WHERE tenant = $1 AND at_us < $2
				ORDER BY at_us, seq LIMIT $3)
			RETURNING 1)
		SELECT count(*) FROM gone`, t.tenant, before.UnixMicro(), max)
	return n, err
}
