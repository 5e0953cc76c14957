-- orgsso schema version 9, PostgreSQL: the change counter.
--
-- change_counter holds one row whose seq grows with every committed write
-- that can make a valid session invalid (sso.ChangeFeed): a session ended
-- (any UPDATE of sessions) or deleted (sign-out, an organization's
-- sessions, and the cleanup of expired ones: a trigger cannot tell them
-- apart, and a guess by the clock would miss sign-outs of sessions stamped
-- by a clock that runs behind), an organization or a member updated,
-- replaced (an upsert's UPDATE) or deleted. Inserts do not raise it. A
-- Service's session cache reads it to learn, within its staleness bound,
-- of revocations made on other replicas.
--
-- Triggers raise it, in the statement's transaction, so that every writer
-- does (also code that writes these tables later, and a writer of another
-- replica), never only the code paths that remember to. They run once per
-- statement (a bulk end of sessions raises seq once), and only when the
-- statement changed a row: the transition table "gone" holds the rows as
-- they were. An INSERT … ON CONFLICT DO UPDATE that inserted lists no row
-- there.
--
-- The raise also notifies channel orgsso_changes, payload "<schema>
-- <seq>": PostgreSQL delivers it at commit, in commit order, to the
-- replicas' listeners (store/postgres), which wake their caches at once.
-- The schema in the payload lets schemas of one database share the
-- channel. The counter row is locked from the raise to the commit, so
-- revoking transactions commit one after another, in seq order.
--
-- seq starts at 1 and only grows. The function addresses the counter of
-- the trigger's own schema, whatever the writer's search_path.

CREATE TABLE change_counter (
    id  integer NOT NULL PRIMARY KEY CHECK (id = 1),
    seq bigint  NOT NULL
);

INSERT INTO change_counter (id, seq) VALUES (1, 1);

CREATE FUNCTION orgsso_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    next bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM gone) THEN
        EXECUTE format('UPDATE %I.change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq', TG_TABLE_SCHEMA)
            INTO next;
        PERFORM pg_notify('orgsso_changes', TG_TABLE_SCHEMA || ' ' || next);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER sessions_changed_update AFTER UPDATE ON sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
CREATE TRIGGER sessions_changed_delete AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
CREATE TRIGGER organizations_changed_update AFTER UPDATE ON organizations
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
CREATE TRIGGER organizations_changed_delete AFTER DELETE ON organizations
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
CREATE TRIGGER members_changed_update AFTER UPDATE ON members
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
CREATE TRIGGER members_changed_delete AFTER DELETE ON members
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION orgsso_changed();
