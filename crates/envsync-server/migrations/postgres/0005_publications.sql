-- Publication records (`envsync publish`): that a version was written to a store, signed by
-- the publisher, create-only at their number per environment, stored exactly as sent.
CREATE TABLE publications (
    project     TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    number      BIGINT  NOT NULL CHECK (number >= 1),
    record_json BYTEA   NOT NULL,
    PRIMARY KEY (project, environment, number)
);
