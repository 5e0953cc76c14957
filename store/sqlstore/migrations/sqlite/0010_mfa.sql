-- orgsso schema version 10, SQLite: MFA after SSO.
--
-- organizations.mfa_policy is the organization's rule for a second factor
-- (sso.Organization.MFA): a JSON object {required, trust_idp, idp_values};
-- idp_values null means the default set, [] none. Every organization
-- stored before this version gets '{}': MFA not required.
--
-- mfa_pending holds the sign-ins that passed the IdP and wait for their
-- second factor (sso.MFAPending), by the hex SHA-256 of the intermediate
-- token (never the token). attempts is raised by one UPDATE … WHERE
-- attempts < limit RETURNING, consumed by one DELETE … RETURNING: both
-- atomic, whatever the number of replicas. Cleanup removes the expired
-- ones by expires_at (DeleteExpiredMFA).
--
-- mfa_enrollments holds each member's confirmed second factor
-- (sso.MFAEnrollment), by organization and user ID: the TOTP secret
-- (sealed by the Service when it has a key), the last TOTP time step used
-- (raised only by UPDATE … WHERE last_step < step: a code is used once),
-- the recovery code salt. mfa_recovery_codes holds the hashes of the
-- unused recovery codes, one row each (position keeps their order), so
-- that using one is one DELETE. mfa_attempts counts each member's code
-- attempts per window (one upsert … RETURNING). There are no foreign keys,
-- as elsewhere.

ALTER TABLE organizations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT '{}';

CREATE TABLE mfa_pending (
    token_hash     TEXT    NOT NULL PRIMARY KEY, -- hex SHA-256 of the token
    org_id         TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    connection_id  TEXT    NOT NULL,
    epoch          INTEGER NOT NULL,
    session_ttl_ns INTEGER NOT NULL, -- time.Duration
    return_to      TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    attempts       INTEGER NOT NULL,
    secret         TEXT    NOT NULL  -- '' before an enrollment begins
) STRICT, WITHOUT ROWID;

CREATE INDEX mfa_pending_expires_at ON mfa_pending (expires_at);

CREATE TABLE mfa_enrollments (
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    last_step     INTEGER NOT NULL,
    recovery_salt TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE mfa_recovery_codes (
    org_id    TEXT    NOT NULL,
    user_id   TEXT    NOT NULL,
    code_hash TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE mfa_attempts (
    org_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    window_end TEXT    NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX mfa_attempts_window_end ON mfa_attempts (window_end);
