-- Publication records (`envsync publish`): that a version was written to a store, signed by
-- the publisher, create-only at their number per environment, stored exactly as sent.
CREATE TABLE publications (
    project     TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    number      INTEGER NOT NULL CHECK (number >= 1),
    record_json BLOB    NOT NULL,
    PRIMARY KEY (project, environment, number)
);
