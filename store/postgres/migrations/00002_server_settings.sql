-- +goose Up
-- Settings every replica shares: the server mode (POST /server/mode).
CREATE TABLE server_settings (
    name  text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE server_settings;
