-- The web dashboard's sessions: a browser that signed in with a personal access token (or
-- with a single-use code its owner's CLI fetched) holds a cookie whose SHA-256 is stored
-- here. A session acts as the token it was made from, so revoking the token ends it.
CREATE TABLE dashboard_sessions (
    session_hash TEXT    PRIMARY KEY,
    token_id     TEXT    NOT NULL,
    -- Sent back by the page on every state-changing request (X-CSRF-Token).
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX dashboard_sessions_by_token ON dashboard_sessions (token_id);

-- Single-use sign-in codes from `envsync dashboard`, by SHA-256, valid for a minute.
CREATE TABLE dashboard_sign_in_codes (
    code_hash  TEXT    PRIMARY KEY,
    token_id   TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
