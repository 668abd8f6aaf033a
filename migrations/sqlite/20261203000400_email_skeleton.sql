-- Issue 16: the UTS #39 skeleton of each address (`store::email::skeleton`), so an address
-- that looks like a registered one (`rn` for `m`, `1` for `l`) cannot be registered
-- beside it. Existing rows are filled in at start-up, where the skeleton can be computed.
ALTER TABLE account ADD COLUMN email_skeleton TEXT;
CREATE UNIQUE INDEX account_email_skeleton ON account (email_skeleton);
