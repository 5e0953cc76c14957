-- orgsso schema version 1, PostgreSQL.
--
-- Times are text, UTC, fixed width with nanoseconds
-- (2026-03-01T12:00:00.000000000Z), so text order is time order; timestamptz
-- would round them to microseconds. Key and time columns use the "C"
-- collation: bytewise comparison, whatever the database's default collation.
-- (Cast for ad-hoc queries: expires_at::timestamptz.) Lists and maps are
-- jsonb; a Go nil is the JSON null. Emails are keyed by Go's strings.ToLower
-- of the email (email_key), computed by the store, never by SQL lower().
-- There are no foreign keys: the store keeps members, requests and sessions
-- independently of organizations, as every orgsso store does.

CREATE TABLE organizations (
    id                      text COLLATE "C" NOT NULL PRIMARY KEY,
    sso_name                text COLLATE "C" NOT NULL, -- '' for a draft: not unique
    owner_id                text    NOT NULL,
    enabled                 boolean NOT NULL,
    idp_entity_id           text    NOT NULL,
    idp_sso_url             text    NOT NULL,
    idp_certificates        jsonb   NOT NULL, -- array of PEM strings
    idp_signature_algorithm text    NOT NULL,
    strict_mode             boolean NOT NULL,
    session_timeout_ns      bigint  NOT NULL, -- time.Duration
    role_mapping_enabled    boolean NOT NULL,
    role_delimiter          text    NOT NULL,
    role_mappings           jsonb   NOT NULL, -- array of {idp_role, org_role, stack_roles}
    jit_provisioning        boolean NOT NULL,
    allow_idp_initiated     boolean NOT NULL,
    attributes              jsonb   NOT NULL  -- {email, first_name, last_name, roles}
);

CREATE UNIQUE INDEX organizations_sso_name ON organizations (sso_name) WHERE sso_name <> '';

CREATE TABLE members (
    org_id            text COLLATE "C" NOT NULL,
    email_key         text COLLATE "C" NOT NULL, -- strings.ToLower(email)
    email             text    NOT NULL,          -- as given
    user_id           text    NOT NULL,
    first_name        text    NOT NULL,
    last_name         text    NOT NULL,
    org_role          text    NOT NULL,
    stack_roles       jsonb   NOT NULL, -- stack UID -> role names
    allow_without_sso boolean NOT NULL,
    PRIMARY KEY (org_id, email_key)
);

CREATE TABLE pending_requests (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    org_id         text COLLATE "C" NOT NULL,
    return_to      text NOT NULL,
    tester_user_id text NOT NULL,
    expires_at     text COLLATE "C" NOT NULL
);

CREATE INDEX pending_requests_expires_at ON pending_requests (expires_at);

CREATE TABLE used_assertions (
    org_id       text COLLATE "C" NOT NULL,
    assertion_id text COLLATE "C" NOT NULL,
    until        text COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);

CREATE INDEX used_assertions_until ON used_assertions (until);

CREATE TABLE sessions (
    id         text COLLATE "C" NOT NULL PRIMARY KEY, -- hex SHA-256 of the token
    org_id     text COLLATE "C" NOT NULL,
    user_id    text NOT NULL,
    method     text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C" NOT NULL
);

CREATE INDEX sessions_org_id_method ON sessions (org_id, method);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
