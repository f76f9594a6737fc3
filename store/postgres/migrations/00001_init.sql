-- +goose Up
-- Everything profiled keeps, for every tenant ('' is the default tenant).
-- Ids and names are COLLATE "C" and index entries bytea, so that orders are
-- byte orders exactly as in the bbolt store. Values are the shared codec's
-- bytes (store/codec), so data copies between engines byte for byte.

-- One row: the schema overlay, the index manifest and the schema version.
CREATE TABLE schema_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL DEFAULT 0,
    overlay   bytea,
    manifest  bytea
);
INSERT INTO schema_state DEFAULT VALUES;

-- Numeric customer ids (the eGain customer id), unique across tenants.
CREATE SEQUENCE profile_num AS bigint MINVALUE 1;

CREATE TABLE profiles (
    tenant     text   COLLATE "C" NOT NULL,
    id         text   COLLATE "C" NOT NULL,
    num        bigint NOT NULL,
    created_ns bigint NOT NULL,
    doc        bytea  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX profiles_num ON profiles (num) WHERE num > 0; -- 0: no numeric id
CREATE INDEX profiles_created ON profiles (tenant, created_ns, id);

CREATE TABLE records (
    tenant text COLLATE "C" NOT NULL,
    ext    text COLLATE "C" NOT NULL, -- lower-cased extension name
    id     text COLLATE "C" NOT NULL,
    doc    bytea NOT NULL,
    PRIMARY KEY (tenant, ext, id)
);
CREATE INDEX records_id ON records (tenant, id);

-- entry is codec.IndexEntry(values, id); vals is codec.IndexPrefix(values).
-- Entries of unique identification keys may not share vals: the database
-- itself picks one winner when replicas race for the same values.
CREATE TABLE index_entries (
    tenant text  COLLATE "C" NOT NULL,
    key    text  COLLATE "C" NOT NULL, -- lower-cased key name
    entry  bytea NOT NULL,
    vals   bytea NOT NULL,
    id     text  COLLATE "C" NOT NULL,
    uniq   boolean NOT NULL,
    PRIMARY KEY (tenant, key, entry)
);
CREATE UNIQUE INDEX index_entries_unique ON index_entries (tenant, key, vals) WHERE uniq;

-- Profile counts per tenant, spread over a few rows so that concurrent
-- creates do not queue on one row lock; a count is their sum.
CREATE TABLE profile_counts (
    tenant text COLLATE "C" NOT NULL,
    shard  smallint NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (tenant, shard)
);

CREATE TABLE sessions (
    id           text COLLATE "C" PRIMARY KEY,
    user_name    text COLLATE "C" NOT NULL,
    created_ns   bigint NOT NULL,
    last_seen_ns bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name, created_ns);
CREATE INDEX sessions_last_seen ON sessions (last_seen_ns);

-- key is bytea: it holds a user name as a client sent it, any bytes.
CREATE TABLE login_failures (
    key   bytea NOT NULL,
    at_ns bigint NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at_ns);
CREATE INDEX login_failures_at ON login_failures (at_ns);

-- +goose Down
DROP TABLE login_failures, sessions, profile_counts, index_entries, records, profiles, schema_state;
DROP SEQUENCE profile_num;
