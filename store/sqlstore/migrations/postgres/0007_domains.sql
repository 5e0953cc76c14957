-- orgsso schema version 7, PostgreSQL: email domains, each verified by at
-- most one organization.
--
-- organizations.domains holds the email domains the organization claims
-- (sso.Organization.Domains): a JSON array of {name, token, verified_at},
-- in the order the organization keeps them. It is jsonb, as the other
-- lists of organizations. verified_at is a time as every other column
-- stores it (UTC, fixed width, nanoseconds); an unverified claim has the
-- zero time, 0001-01-01T00:00:00.000000000Z. An organization without
-- domains is '[]': every organization stored before this version, and
-- every one stored since with none.
--
-- verified_domains registers which organization has verified each domain.
-- Its primary key is what makes "a domain is verified by at most one
-- organization" atomic across replicas: every organization write
-- (SaveOrganization, CreateOrganization, UpdateOrganization) brings the
-- organization's rows in line with its verified domains in the transaction
-- that writes the organization, and a domain another organization holds
-- is sso.ErrDomainTaken: the transaction rolls back, nothing is written.
-- Of concurrent claims of one domain the primary key lets exactly one in (a
-- conflicting insert waits for the transaction in its way). The rows are
-- claimed and released in domain order, so two transactions never wait for
-- each other. OrganizationByDomain reads the organization through it. Names
-- are stored as given (the Service stores them lowercase) and match
-- exactly, bytewise (COLLATE "C"); '' is never registered.
--
-- No organization has domains before this version: the registry starts
-- empty. The column is added with a constant default, which does not
-- rewrite the table (PostgreSQL 11 and later).

ALTER TABLE organizations ADD COLUMN domains jsonb NOT NULL DEFAULT '[]';

CREATE TABLE verified_domains (
    domain text COLLATE "C" NOT NULL PRIMARY KEY, -- never ''
    org_id text COLLATE "C" NOT NULL              -- the holder: organizations (id)
);

CREATE INDEX verified_domains_org_id ON verified_domains (org_id);
