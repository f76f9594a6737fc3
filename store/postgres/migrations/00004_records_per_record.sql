-- +goose Up
-- One row per extension record (seq keeps a set's order), so a write
-- stores the records it changes, not the whole set again. Rows written
-- before hold a whole set (codec.EncodeRecords) and get seq -1; they are
-- read as they are and replaced by per-record rows when their customer's
-- set is next written. Replicas of earlier releases cannot read records
-- stored one by one: stop them all before the first replica of this one
-- starts (docs/scale-out.md, "Upgrades and migrations").
ALTER TABLE records ADD COLUMN seq bigint NOT NULL DEFAULT -1;
ALTER TABLE records ALTER COLUMN seq DROP DEFAULT;
ALTER TABLE records DROP CONSTRAINT records_pkey;
ALTER TABLE records ADD PRIMARY KEY (tenant, ext, id, seq);

-- +goose Down
-- Records written since cannot be folded back into sets in SQL (they are
-- codec bytes): going back means restoring a backup taken before.
-- +goose StatementBegin
DO $$ BEGIN
    RAISE EXCEPTION 'migration 4 (records one by one) cannot be undone: restore a backup taken before it';
END $$;
-- +goose StatementEnd
