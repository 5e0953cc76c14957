-- orgsso schema version 11, SQLite: inserts that can end a session raise
-- the change counter.
--
-- Migration 0009 left inserts out: a new row concerns no cached session,
-- and raising the counter at every sign-in would drop every replica's
-- cache at every sign-in. Two inserts do concern one, though:
--
--   - a member inserted for a user who has sessions in the organization:
--     a member stored with SaveMember (a plain upsert) under another email
--     key with the same user ID can become the member MemberByUserID names
--     (the lowest email key), and so decide whether the user's password
--     sessions are valid;
--   - an organization inserted with the ID of sessions: a row replaced by
--     REPLACE / INSERT OR REPLACE, whose implicit delete fires no DELETE
--     trigger (SQLite fires them only with PRAGMA recursive_triggers, a
--     per-connection setting that an operator's connection does not have).
--     The same holds for a member replaced that way.
--
-- So these triggers raise the counter for such an insert, and only then
-- (the WHEN clause reads the sessions indexes by (org_id, user_id, id) and
-- (org_id, method)). A first sign-in inserts its member before its
-- session, and a new organization has no sessions: they raise nothing.
-- An insert that a sign-in rolls back raises nothing either.

CREATE TRIGGER members_changed_insert AFTER INSERT ON members
WHEN EXISTS (SELECT 1 FROM sessions WHERE org_id = NEW.org_id AND user_id = NEW.user_id)
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_changed_insert AFTER INSERT ON organizations
WHEN EXISTS (SELECT 1 FROM sessions WHERE org_id = NEW.id)
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

-- REPLACE (and INSERT OR REPLACE) also deletes rows other than the one
-- inserted: any row in the way on a unique key (a member under the same
-- email key with another user ID; an organization with the same SSO name
-- and another ID; a session with the same ID, replaced by an ended one).
-- Those deletes fire no trigger either, and the AFTER INSERT triggers above
-- look only at the new row. These BEFORE INSERT triggers run while the
-- rows in the way are still there, and raise the counter when one of them
-- concerns stored sessions. A plain INSERT that conflicts fails, and its
-- statement's raise is rolled back with it; an upsert (ON CONFLICT DO
-- UPDATE) raises at most what its UPDATE raises; a new session's ID is
-- new, and a first sign-in's member has no row in the way: they raise
-- nothing.

CREATE TRIGGER members_changed_replace BEFORE INSERT ON members
WHEN EXISTS (SELECT 1 FROM members AS m
             WHERE m.org_id = NEW.org_id AND m.email_key = NEW.email_key
               AND EXISTS (SELECT 1 FROM sessions WHERE org_id = m.org_id AND user_id = m.user_id))
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_changed_replace BEFORE INSERT ON organizations
WHEN EXISTS (SELECT 1 FROM organizations AS o
             WHERE (o.id = NEW.id OR (NEW.sso_name <> '' AND o.sso_name = NEW.sso_name))
               AND EXISTS (SELECT 1 FROM sessions WHERE org_id = o.id))
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER sessions_changed_replace BEFORE INSERT ON sessions
WHEN EXISTS (SELECT 1 FROM sessions WHERE id = NEW.id)
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;
