-- orgsso schema version 8, SQLite: IdP metadata URLs.
--
-- organizations.idp_metadata_url is where the organization's own IdP
-- publishes its SAML metadata (sso.Organization.IdPMetadataURL), '' for
-- none: every organization stored before this version. A SAML
-- connection's metadata URL (sso.Connection.MetadataURL) is in the
-- connections column, as "metadata_url" of its object; a connection stored
-- before this version has no such key and reads ''.
--
-- organizations.has_metadata_url is 1 when the organization names a
-- metadata URL, its own or a SAML connection's: derived from the two, and
-- written with them by every organization write (SaveOrganization,
-- CreateOrganization, UpdateOrganization), never on its own. It is what
-- OrganizationsWithMetadataURL selects by, for the scheduled metadata
-- refresh: a page is one range of the (has_metadata_url, id) index, read
-- in ID order, whatever the number of organizations without a URL.
--
-- No organization names a metadata URL before this version: every row
-- starts at '' and 0.

ALTER TABLE organizations ADD COLUMN idp_metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN has_metadata_url INTEGER NOT NULL DEFAULT 0 CHECK (has_metadata_url IN (0, 1));

CREATE INDEX organizations_has_metadata_url ON organizations (has_metadata_url, id);
