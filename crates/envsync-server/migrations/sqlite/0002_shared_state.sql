-- State every replica must agree on lives in the database.

-- Pending owner setup codes (hashes): each start without an owner adds one; the first used
-- removes them all.
CREATE TABLE setup_codes (
    code_hash  TEXT    NOT NULL PRIMARY KEY,
    created_at INTEGER  NOT NULL
);
INSERT INTO setup_codes (code_hash, created_at)
    SELECT value, 0 FROM settings WHERE name = 'owner_setup_code_hash';
DELETE FROM settings WHERE name = 'owner_setup_code_hash';

-- Failed sign-ins per client address in the current window (unix seconds).
CREATE TABLE sign_in_failures (
    address      TEXT   NOT NULL PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_window ON sign_in_failures (window_start);
