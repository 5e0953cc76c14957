-- orgsso schema version 7, SQLite: email domains, each verified by at most
-- one organization.
--
-- organizations.domains holds the email domains the organization claims
-- (sso.Organization.Domains): a JSON array of {name, token, verified_at},
-- in the order the organization keeps them. verified_at is a time as every
-- other column stores it (UTC, fixed width, nanoseconds); an unverified
-- claim has the zero time, 0001-01-01T00:00:00.000000000Z. An organization
-- without domains is '[]': every organization stored before this version,
-- and every one stored since with none.
--
-- verified_domains registers which organization has verified each domain.
-- Its primary key is what makes "a domain is verified by at most one
-- organization" atomic across replicas: every organization write
-- (SaveOrganization, CreateOrganization, UpdateOrganization) brings the
-- organization's rows in line with its verified domains in the transaction
-- that writes the organization, and a domain another organization holds
-- is sso.ErrDomainTaken: the transaction rolls back, nothing is written.
-- SQLite runs one writing transaction at a time. OrganizationByDomain reads
-- the organization through it. Names are stored as given (the Service
-- stores them lowercase) and match exactly; '' is never registered.
--
-- No organization has domains before this version: the registry starts
-- empty.

ALTER TABLE organizations ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';

CREATE TABLE verified_domains (
    domain TEXT NOT NULL PRIMARY KEY, -- never ''
    org_id TEXT NOT NULL              -- the holder: organizations (id)
) STRICT, WITHOUT ROWID;

CREATE INDEX verified_domains_org_id ON verified_domains (org_id);
