-- orgsso schema version 2, PostgreSQL: browser binding of pending requests.
--
-- binding_hash is the hex SHA-256 of the nonce in the browser-binding cookie
-- (sso.PendingRequest.BindingHash); the nonce itself is never stored.
-- Requests saved before this version get '' and so match no response: they
-- expire within the request TTL, and the user starts the sign-in again.

ALTER TABLE pending_requests ADD COLUMN binding_hash text COLLATE "C" NOT NULL DEFAULT '';
