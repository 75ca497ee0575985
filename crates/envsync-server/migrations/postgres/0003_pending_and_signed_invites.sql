-- Only the signed membership log grants roles: redeeming an invite leaves the account
-- pending on the invite's project until an owner admits its key (or declines it).
CREATE TABLE pending_invitations (
    account    TEXT    NOT NULL,
    project    TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, project)
);
CREATE INDEX pending_invitations_by_project ON pending_invitations (project);

-- The owner-signed invite (Signed<InviteBody> JSON), as the owner's client sent it.
ALTER TABLE invites ADD COLUMN signed_json TEXT;
