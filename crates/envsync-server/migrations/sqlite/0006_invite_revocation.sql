-- Owners revoke invites that nobody has redeemed (`envsync invite revoke`): a revoked code
-- no longer joins. The row stays, so the list and the audit log still show the invite.
ALTER TABLE invites ADD COLUMN revoked_at INTEGER;
ALTER TABLE invites ADD COLUMN revoked_by TEXT;
