-- +goose Up
-- The schema hash of the replica that stored the current version, as
-- "version:hash" (profile.StoredHash): a replica that followed the change
-- with a config file that differs catches up once its file matches.
ALTER TABLE schema_state ADD COLUMN hash text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE schema_state DROP COLUMN hash;
