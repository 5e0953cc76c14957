-- orgsso schema version 6, PostgreSQL: connections.
--
-- organizations.connections holds the organization's further identity
-- providers (sso.Organization.Connections): a JSON array of
-- {id, name, protocol, enabled, saml {entity_id, sso_url, certificates,
-- signature_algorithm}, allow_idp_initiated, oidc {issuer, client_id,
-- client_secret, scopes, roles_claim, userinfo}, jit_provisioning,
-- attributes {email, first_name, last_name, roles}, domains}, in the order
-- the organization keeps them. The names are the store's, not Go's. It is
-- jsonb, as the other lists of organizations. The client secret is stored as
-- the Service hands it over: sealed when the host configures a secret key.
-- An organization without connections is '[]': every organization stored
-- before this version, and every one stored since with none.
--
-- pending_requests.connection_id is the connection a sign-in goes through
-- (sso.PendingRequest.Connection; '' for the organization's own IdP, as
-- every request saved before this version); nonce and code_verifier are
-- those of an OIDC sign-in ('' for SAML).
--
-- sessions.connection_id is the connection a session was signed in through
-- ('' for the organization's own IdP and for password sessions: every
-- session made before this version). ListSessions and EndSessions select by
-- (org_id, connection_id) when a connection's sessions are listed or ended
-- (it is disabled or removed) and page by id: the index ends in the primary
-- key, so a page is read in order.
--
-- A column added with a constant default does not rewrite the table
-- (PostgreSQL 11 and later): the ALTERs are quick whatever the table sizes.
-- The index is built with a plain CREATE INDEX, in the migration's
-- transaction, which blocks writes to sessions while it runs (seconds for a
-- million sessions).

ALTER TABLE organizations ADD COLUMN connections jsonb NOT NULL DEFAULT '[]';

ALTER TABLE pending_requests ADD COLUMN connection_id text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE pending_requests ADD COLUMN nonce text NOT NULL DEFAULT '';
ALTER TABLE pending_requests ADD COLUMN code_verifier text NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN connection_id text COLLATE "C" NOT NULL DEFAULT '';

CREATE INDEX sessions_org_id_connection_id ON sessions (org_id, connection_id, id);
