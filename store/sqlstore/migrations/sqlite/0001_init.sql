-- orgsso schema version 1, SQLite.
--
-- Times are TEXT, UTC, fixed width with nanoseconds
-- (2026-03-01T12:00:00.000000000Z), so text order is time order. Lists and
-- maps are JSON text; a Go nil is the JSON null. Emails are keyed by Go's
-- strings.ToLower of the email (email_key), computed by the store, never by
-- SQL lower(). There are no foreign keys: the store keeps members, requests
-- and sessions independently of organizations, as every orgsso store does.

CREATE TABLE organizations (
    id                      TEXT    NOT NULL PRIMARY KEY,
    sso_name                TEXT    NOT NULL, -- '' for a draft: not unique
    owner_id                TEXT    NOT NULL,
    enabled                 INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    idp_entity_id           TEXT    NOT NULL,
    idp_sso_url             TEXT    NOT NULL,
    idp_certificates        TEXT    NOT NULL, -- JSON array of PEM strings
    idp_signature_algorithm TEXT    NOT NULL,
    strict_mode             INTEGER NOT NULL CHECK (strict_mode IN (0, 1)),
    session_timeout_ns      INTEGER NOT NULL, -- time.Duration
    role_mapping_enabled    INTEGER NOT NULL CHECK (role_mapping_enabled IN (0, 1)),
    role_delimiter          TEXT    NOT NULL,
    role_mappings           TEXT    NOT NULL, -- JSON array of {idp_role, org_role, stack_roles}
    jit_provisioning        INTEGER NOT NULL CHECK (jit_provisioning IN (0, 1)),
    allow_idp_initiated     INTEGER NOT NULL CHECK (allow_idp_initiated IN (0, 1)),
    attributes              TEXT    NOT NULL  -- JSON {email, first_name, last_name, roles}
) STRICT;

CREATE UNIQUE INDEX organizations_sso_name ON organizations (sso_name) WHERE sso_name <> '';

CREATE TABLE members (
    org_id            TEXT    NOT NULL,
    email_key         TEXT    NOT NULL, -- strings.ToLower(email)
    email             TEXT    NOT NULL, -- as given
    user_id           TEXT    NOT NULL,
    first_name        TEXT    NOT NULL,
    last_name         TEXT    NOT NULL,
    org_role          TEXT    NOT NULL,
    stack_roles       TEXT    NOT NULL, -- JSON object: stack UID -> role names
    allow_without_sso INTEGER NOT NULL CHECK (allow_without_sso IN (0, 1)),
    PRIMARY KEY (org_id, email_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE pending_requests (
    id             TEXT NOT NULL PRIMARY KEY,
    org_id         TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    tester_user_id TEXT NOT NULL,
    expires_at     TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX pending_requests_expires_at ON pending_requests (expires_at);

CREATE TABLE used_assertions (
    org_id       TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    until        TEXT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX used_assertions_until ON used_assertions (until);

CREATE TABLE sessions (
    id         TEXT NOT NULL PRIMARY KEY, -- hex SHA-256 of the token
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    method     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_org_id_method ON sessions (org_id, method);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
