package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
)

// Extension records are rows of their own: (tenant, ext, id, seq) → doc,
// seq keeping a set's order (migration 00004). A write stores only the
// records it changes (codec.DiffRecords). A row with seq -1 holds a whole
// set written before; it is read as it is and replaced by per-record rows
// when the set is next written.
const legacySet = -1

// setKey names one customer's set of one extension (lower-cased name).
type setKey struct{ ext, id string }

// maxCachedSets bounds the sets a write transaction keeps as it read them
// (PutRecords writes only the difference to a set it read). A batch of
// writes reads a few hundred; an index rebuild reads every customer's,
// which kept a whole store's records in memory until commit. Past the
// bound PutRecords replaces a set whole, as for a set never read.
const maxCachedSets = 4096

// storedRows collects rows (ext, seq, doc) of customer id, in order, into
// sets by lower-cased extension.
type storedRows struct {
	id     string
	sets   map[string][]codec.StoredRecord
	legacy map[string]bool
}

// setRow is one row selectSets reads.
type setRow struct {
	ext string
	seq int64
	doc []byte
}

func scanSetRow(r pgx.Rows) (row setRow, err error) {
	err = r.Scan(&row.ext, &row.seq, &row.doc)
	return row, err
}

func (s *storedRows) add(r pgx.Rows) error {
	row, err := scanSetRow(r)
	if err != nil {
		return err
	}
	ext, seq, doc := row.ext, row.seq, row.doc
	if seq == legacySet {
		set, err := codec.DecodeRecords(doc)
		if err != nil {
			return codec.Corrupt(s.id, err)
		}
		for i, rec := range set {
			s.sets[ext] = append(s.sets[ext], codec.StoredRecord{Seq: uint64(i + 1), Record: rec})
		}
		s.legacy[ext] = true
		return nil
	}
	rec, err := codec.DecodeRecord(doc)
	if err != nil {
		return codec.Corrupt(s.id, err)
	}
	s.sets[ext] = append(s.sets[ext], codec.StoredRecord{Seq: uint64(seq), Value: doc, Record: rec})
	return nil
}

// selectSets reads a customer's records of several lower-cased extensions.
const selectSets = "SELECT ext, seq, doc FROM records WHERE tenant = $1 AND id = $2 AND ext = ANY($3) ORDER BY ext, seq"

// readSets reads customer id's records of the lower-cased extensions in
// one statement and remembers, in a write, what it read.
func (t *tx) readSets(id string, lowered []string) (*storedRows, error) {
	rows := &storedRows{id: id, sets: map[string][]codec.StoredRecord{}, legacy: map[string]bool{}}
	err := t.query(rows.add, selectSets, t.tenant, id, lowered)
	if err != nil || !t.write || len(t.sets) >= maxCachedSets {
		return rows, err
	}
	if t.sets == nil {
		t.sets = map[setKey][]codec.StoredRecord{}
	}
	for _, ext := range lowered {
		if !rows.legacy[ext] { // a set of the old form is replaced whole when written
			t.sets[setKey{ext, id}] = rows.sets[ext]
		}
	}
	return rows, nil
}

func records(stored []codec.StoredRecord) []schema.Record {
	if len(stored) == 0 {
		return nil
	}
	out := make([]schema.Record, len(stored))
	for i, r := range stored {
		out[i] = r.Record
	}
	return out
}

func (t *tx) Records(ext, id string) ([]schema.Record, error) {
	if !storable(id) {
		return nil, nil
	}
	rows, err := t.readSets(id, []string{lower(ext)})
	if err != nil {
		return nil, err
	}
	return records(rows.sets[lower(ext)]), nil
}

// RecordSets reads the record sets of several extensions in one statement.
func (t *tx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	out := make(map[string][]schema.Record, len(exts))
	if !storable(id) || len(exts) == 0 {
		return out, nil
	}
	lowered := lowerAll(exts)
	rows, err := t.readSets(id, lowered)
	if err != nil {
		return nil, err
	}
	for i, ext := range exts {
		if recs := records(rows.sets[lowered[i]]); recs != nil {
			out[ext] = recs
		}
	}
	return out, nil
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = lower(name)
	}
	return out
}

func (t *tx) StoredExtensions(id string) ([]string, error) {
	if !storable(id) {
		return nil, nil
	}
	var names []string
	err := t.query(func(r pgx.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		names = append(names, name)
		return nil
	}, "SELECT DISTINCT ext FROM records WHERE tenant = $1 AND id = $2 ORDER BY ext", t.tenant, id)
	return names, err
}

// RecordDocuments is RecordSets for a read that only shows the records.
func (t *tx) RecordDocuments(id string, exts []string) (map[string][][]profile.Member, error) {
	out := make(map[string][][]profile.Member, len(exts))
	if !storable(id) || len(exts) == 0 {
		return out, nil
	}
	lowered := lowerAll(exts)
	values := make(map[string][][]byte, len(exts))
	legacy := map[string][]byte{}
	err := t.query(func(r pgx.Rows) error {
		row, err := scanSetRow(r)
		if err != nil {
			return err
		}
		if row.seq == legacySet {
			legacy[row.ext] = row.doc
		} else {
			values[row.ext] = append(values[row.ext], row.doc)
		}
		return nil
	}, selectSets, t.tenant, id, lowered)
	if err != nil {
		return nil, err
	}
	byLowered := make(map[string][][]profile.Member, len(exts))
	for ext, v := range values {
		if byLowered[ext], err = codec.DecodeRecordSetDocument(v); err != nil {
			return nil, codec.Corrupt(id, err)
		}
	}
	for ext, v := range legacy {
		set, err := codec.DecodeRecordsDocument(v)
		if err != nil {
			return nil, codec.Corrupt(id, err)
		}
		byLowered[ext] = append(set, byLowered[ext]...)
	}
	for i, ext := range exts {
		if recs := byLowered[lowered[i]]; recs != nil {
			out[ext] = recs
		}
	}
	return out, nil
}

// PutRecords stores records as customer id's set of ext. When this
// transaction read the set, only the records that differ are written or
// deleted; otherwise the set is replaced whole (a create, a PUT). Nothing here waits for the server: the statements join
// the pipeline.
func (t *tx) PutRecords(ext, id string, records []schema.Record) error {
	key := setKey{lower(ext), id}
	old, read := t.sets[key]
	if !read { // rows left without a profile (profiled check calls them orphans) go too
		t.queue(nil, "DELETE FROM records WHERE tenant = $1 AND ext = $2 AND id = $3", t.tenant, key.ext, id)
	}
	puts, deletes := codec.DiffRecords(old, records)
	if len(deletes) > 0 {
		seqs := make([]int64, len(deletes))
		for i, s := range deletes {
			seqs[i] = int64(s)
		}
		t.queue(nil, "DELETE FROM records WHERE tenant = $1 AND ext = $2 AND id = $3 AND seq = ANY($4)", t.tenant, key.ext, id, seqs)
	}
	for _, w := range puts {
		t.queue(nil, `INSERT INTO records (tenant, ext, id, seq, doc) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant, ext, id, seq) DO UPDATE SET doc = EXCLUDED.doc`, t.tenant, key.ext, id, int64(w.Seq), w.Value)
	}
	t.db.recordsWritten.Add(uint64(len(puts)))
	if t.sets == nil {
		t.sets = map[setKey][]codec.StoredRecord{}
	}
	t.sets[key] = codec.Applied(old, puts, deletes) // for a later write of the set in this transaction
	return nil
}
