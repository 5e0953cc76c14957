-- orgsso schema version 10, PostgreSQL: MFA after SSO.
--
-- organizations.mfa_policy is the organization's rule for a second factor
-- (sso.Organization.MFA): a jsonb object {required, trust_idp, idp_values};
-- idp_values null means the default set, [] none. Every organization
-- stored before this version gets '{}': MFA not required. The column is
-- added with a constant default, which does not rewrite the table.
--
-- mfa_pending holds the sign-ins that passed the IdP and wait for their
-- second factor (sso.MFAPending), by the hex SHA-256 of the intermediate
-- token (never the token). attempts is raised by one UPDATE … WHERE
-- attempts < limit RETURNING, consumed by one DELETE … RETURNING: both
-- atomic, whatever the number of replicas (PostgreSQL re-checks the WHERE
-- on the row a concurrent update committed). Cleanup removes the expired
-- ones by expires_at (DeleteExpiredMFA).
--
-- mfa_enrollments holds each member's confirmed second factor
-- (sso.MFAEnrollment), by organization and user ID: the TOTP secret
-- (sealed by the Service when it has a key), the last TOTP time step used
-- (raised only by UPDATE … WHERE last_step < step: a code is used once),
-- the recovery code salt. mfa_recovery_codes holds the hashes of the
-- unused recovery codes, one row each (position keeps their order), so
-- that using one is one DELETE. mfa_attempts counts each member's code
-- attempts per window (one upsert … RETURNING). Keys and times are
-- COLLATE "C", as elsewhere; there are no foreign keys.

ALTER TABLE organizations ADD COLUMN mfa_policy jsonb NOT NULL DEFAULT '{}';

CREATE TABLE mfa_pending (
    token_hash     text COLLATE "C" NOT NULL PRIMARY KEY, -- hex SHA-256 of the token
    org_id         text COLLATE "C" NOT NULL,
    user_id        text COLLATE "C" NOT NULL,
    email          text   NOT NULL,
    connection_id  text   NOT NULL,
    epoch          bigint NOT NULL,
    session_ttl_ns bigint NOT NULL, -- time.Duration
    return_to      text   NOT NULL,
    expires_at     text COLLATE "C" NOT NULL,
    attempts       integer NOT NULL,
    secret         text   NOT NULL  -- '' before an enrollment begins
);

CREATE INDEX mfa_pending_expires_at ON mfa_pending (expires_at);

CREATE TABLE mfa_enrollments (
    org_id        text COLLATE "C" NOT NULL,
    user_id       text COLLATE "C" NOT NULL,
    secret        text   NOT NULL,
    last_step     bigint NOT NULL,
    recovery_salt text   NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE mfa_recovery_codes (
    org_id    text COLLATE "C" NOT NULL,
    user_id   text COLLATE "C" NOT NULL,
    code_hash text COLLATE "C" NOT NULL,
    position  integer NOT NULL,
    PRIMARY KEY (org_id, user_id, code_hash)
);

CREATE TABLE mfa_attempts (
    org_id     text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    count      integer NOT NULL,
    window_end text COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX mfa_attempts_window_end ON mfa_attempts (window_end);
