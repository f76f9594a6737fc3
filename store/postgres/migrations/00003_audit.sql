-- +goose Up
-- The audit trail (profile.AuditEntry): entry is the shared codec's bytes
-- without the sequence number, which is seq here. Listings run newest first
-- over the primary key; a customer's entries are found through the GIN
-- index on customer_ids.
CREATE TABLE audit (
    tenant       text   COLLATE "C" NOT NULL,
    at_us        bigint NOT NULL, -- microseconds since 1970
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    customer_ids text[] NOT NULL,
    entry        bytea  NOT NULL,
    PRIMARY KEY (tenant, at_us, seq)
);
CREATE INDEX audit_customers ON audit USING gin (customer_ids);

-- +goose Down
DROP TABLE audit;
