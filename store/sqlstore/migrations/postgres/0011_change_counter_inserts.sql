-- orgsso schema version 11, PostgreSQL: inserts that can end a session,
-- and TRUNCATE, raise the change counter.
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
--   - an organization inserted with the ID of sessions (a row deleted and
--     inserted again by an operator's script, say).
--
-- So these triggers raise the counter, and notify, when a statement
-- inserted such a row, and only then: the transition table "added" holds
-- the rows the statement inserted (of an INSERT … ON CONFLICT DO UPDATE,
-- only those it did insert), and the check reads the sessions indexes by
-- (org_id, user_id, id) and (org_id, method). A first sign-in inserts its
-- member before its session, and a new organization has no sessions: they
-- raise nothing. An insert that a sign-in rolls back notifies nobody
-- (notifications are delivered at commit).
--
-- TRUNCATE fires no row or statement DELETE trigger, only TRUNCATE
-- triggers, which cannot have a transition table: a TRUNCATE of sessions,
-- organizations or members (an operator's "sign everyone out") always
-- raises the counter and notifies, through orgsso_changed_always.
--
-- Like orgsso_changed, the functions address the tables of the trigger's
-- own schema, whatever the writer's search_path, and call no function of
-- the schema by name. The insert triggers raise the counter in one UPDATE
-- … WHERE EXISTS, which locks the counter's row only when they raise it:
-- a first sign-in does not wait for concurrent revocations.

CREATE FUNCTION orgsso_changed_always() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    next bigint;
BEGIN
    EXECUTE format('UPDATE %I.change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq', TG_TABLE_SCHEMA)
        INTO next;
    PERFORM pg_notify('orgsso_changes', TG_TABLE_SCHEMA || ' ' || next);
    RETURN NULL;
END
$fn$;

CREATE FUNCTION orgsso_member_added() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    next bigint;
BEGIN
    EXECUTE format('UPDATE %I.change_counter SET seq = seq + 1 WHERE id = 1
            AND EXISTS (SELECT 1 FROM added a JOIN %I.sessions s ON s.org_id = a.org_id AND s.user_id = a.user_id)
            RETURNING seq', TG_TABLE_SCHEMA, TG_TABLE_SCHEMA)
        INTO next;
    IF next IS NOT NULL THEN
        PERFORM pg_notify('orgsso_changes', TG_TABLE_SCHEMA || ' ' || next);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION orgsso_organization_added() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    next bigint;
BEGIN
    EXECUTE format('UPDATE %I.change_counter SET seq = seq + 1 WHERE id = 1
            AND EXISTS (SELECT 1 FROM added a JOIN %I.sessions s ON s.org_id = a.id)
            RETURNING seq', TG_TABLE_SCHEMA, TG_TABLE_SCHEMA)
        INTO next;
    IF next IS NOT NULL THEN
        PERFORM pg_notify('orgsso_changes', TG_TABLE_SCHEMA || ' ' || next);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER members_changed_insert AFTER INSERT ON members
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION orgsso_member_added();
CREATE TRIGGER organizations_changed_insert AFTER INSERT ON organizations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION orgsso_organization_added();

CREATE TRIGGER sessions_changed_truncate AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed_always();
CREATE TRIGGER organizations_changed_truncate AFTER TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed_always();
CREATE TRIGGER members_changed_truncate AFTER TRUNCATE ON members
    FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed_always();
