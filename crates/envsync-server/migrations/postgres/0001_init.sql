-- envsync server schema, PostgreSQL. Keep in step with ../sqlite/0001_init.sql: the shared
-- store test suite runs the same queries against both.
-- Integers are unix seconds or version numbers; blobs are ciphertext or signed record JSON,
-- stored exactly as the client sent them.

CREATE TABLE versions (
    project           TEXT    NOT NULL,
    environment       TEXT    NOT NULL,
    number            BIGINT  NOT NULL CHECK (number >= 1),
    base              BIGINT,
    author_key        TEXT    NOT NULL,
    record_json       BYTEA   NOT NULL,
    ciphertext_sha256 TEXT    NOT NULL,
    ciphertext        BYTEA   NOT NULL,
    PRIMARY KEY (project, environment, number)
);
CREATE INDEX versions_by_ciphertext ON versions (project, environment, ciphertext_sha256);

CREATE TABLE membership (
    project     TEXT    NOT NULL,
    number      BIGINT  NOT NULL CHECK (number >= 1),
    record_json BYTEA   NOT NULL,
    PRIMARY KEY (project, number)
);

CREATE TABLE access_requests (
    project     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    record_json BYTEA NOT NULL,
    PRIMARY KEY (project, fingerprint)
);

CREATE TABLE accounts (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- The member key the account joined with; NULL never occurs for accounts made by join.
    member_key TEXT    UNIQUE,
    -- 1: made with the owner setup code; may create projects.
    admin      BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL
);

-- An account's role on a project; environments is a JSON array, NULL meaning all.
CREATE TABLE grants (
    account      TEXT NOT NULL,
    project      TEXT NOT NULL,
    role         TEXT NOT NULL,
    environments TEXT,
    PRIMARY KEY (account, project)
);
CREATE INDEX grants_by_project ON grants (project);

CREATE TABLE invites (
    code_hash    TEXT    NOT NULL PRIMARY KEY,
    project      TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    environments TEXT,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT,
    used_by      TEXT
);

-- One-off server settings, e.g. the hash of the pending owner setup code.
CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- kind: personal (acts as its account) or ci (one project and environment, read-only).
CREATE TABLE tokens (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    label       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    project     TEXT,
    environment TEXT,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX tokens_by_account ON tokens (account);
CREATE INDEX tokens_by_project ON tokens (project);

CREATE TABLE audit (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT  NOT NULL,
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    project        TEXT,
    target         TEXT    NOT NULL,
    source_address TEXT
);
CREATE INDEX audit_by_project ON audit (project, id);
