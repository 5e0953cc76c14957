-- orgsso schema version 4, PostgreSQL: organization versions and SSO epochs,
-- session epochs and end reasons, and the indexes the admin API needs.
--
-- organizations.version counts an organization's saves
-- (sso.Organization.Version): UpdateOrganization writes only if the stored
-- version is the one the caller read, in one UPDATE … WHERE id AND version,
-- and adds one. Organizations stored before this version become version 1,
-- as if CreateOrganization had made them. sso_epoch
-- (sso.Organization.SSOEpoch) moves on each time SSO is disabled; it starts
-- at 0.
--
-- sessions.epoch is the SSO epoch the session was made in
-- (session.Session.Epoch; 0 for password sessions and for sessions made
-- before this version, which organizations at epoch 0 accept). end_reason
-- says why a session was ended before it expired; '' (every existing
-- session) means it was not.
--
-- A column added with a constant default does not rewrite the table
-- (PostgreSQL 11 and later): the ALTERs are quick whatever the table sizes.
-- The indexes are built with a plain CREATE INDEX, in the migration's
-- transaction, which blocks writes to the table while it runs (seconds for a
-- million sessions).
--
-- ListSessions and EndSessions select by (org_id, user_id) and page by id,
-- MemberByUserID by (org_id, user_id) and takes the lowest email_key: both
-- indexes end in the primary key, so a page is read in order. CleanupBatch
-- deletes in batches by primary key, found through the expiry indexes
-- version 1 made (pending_requests_expires_at, used_assertions_until,
-- sessions_expires_at): it needs no index of its own.

ALTER TABLE organizations ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN sso_epoch bigint NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN end_reason text NOT NULL DEFAULT '';

CREATE INDEX sessions_org_id_user_id ON sessions (org_id, user_id, id);
CREATE INDEX members_org_id_user_id ON members (org_id, user_id, email_key);
