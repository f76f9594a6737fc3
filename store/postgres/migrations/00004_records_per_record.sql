-- +goose Up
-- One row per extension record (seq keeps a set's order), so a write
-- stores the records it changes, not the whole set again. Rows written
-- before hold a whole set (codec.EncodeRecords) and get seq -1; they are
-- read as they are and replaced by per-record rows when their customer's
-- set is next written.
ALTER TABLE records ADD COLUMN seq bigint NOT NULL DEFAULT -1;
ALTER TABLE records ALTER COLUMN seq DROP DEFAULT;
ALTER TABLE records DROP CONSTRAINT records_pkey;
ALTER TABLE records ADD PRIMARY KEY (tenant, ext, id, seq);

-- +goose Down
DELETE FROM records WHERE seq <> -1;
ALTER TABLE records DROP CONSTRAINT records_pkey;
ALTER TABLE records DROP COLUMN seq;
ALTER TABLE records ADD PRIMARY KEY (tenant, ext, id);
