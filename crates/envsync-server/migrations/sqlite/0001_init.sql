-- envsync server schema, SQLite. Keep in step with ../postgres/0001_init.sql: the shared
-- store test suite runs the same queries against both.
-- Integers are unix seconds or version numbers; blobs are ciphertext or signed record JSON,
-- stored exactly as the client sent them.

CREATE TABLE versions (
    project           TEXT    NOT NULL,
    environment       TEXT    NOT NULL,
    number            INTEGER NOT NULL CHECK (number >= 1),
    base              INTEGER,
    author_key        TEXT    NOT NULL,
    record_json       BLOB    NOT NULL,
    ciphertext_sha256 TEXT    NOT NULL,
    ciphertext        BLOB    NOT NULL,
    PRIMARY KEY (project, environment, number)
);
CREATE INDEX versions_by_ciphertext ON versions (project, environment, ciphertext_sha256);

CREATE TABLE membership (
    project     TEXT    NOT NULL,
    number      INTEGER NOT NULL CHECK (number >= 1),
    record_json BLOB    NOT NULL,
    PRIMARY KEY (project, number)
);

CREATE TABLE access_requests (
    project     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    record_json BLOB NOT NULL,
    PRIMARY KEY (project, fingerprint)
);

CREATE TABLE tokens (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    account     TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    environment TEXT,
    member_key  TEXT,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX tokens_by_project ON tokens (project);

CREATE TABLE audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    project        TEXT,
    target         TEXT    NOT NULL,
    source_address TEXT
);
CREATE INDEX audit_by_project ON audit (project, id);
