-- orgsso schema version 9, SQLite: the change counter.
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
-- replica), never only the code paths that remember to. SQLite's triggers
-- run per row: a statement that ends or deletes n sessions raises seq by
-- n; the row is on one page, and SQLite runs one writer at a time anyway.
-- seq starts at 1 and only grows.

CREATE TABLE change_counter (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
) STRICT;

INSERT INTO change_counter (id, seq) VALUES (1, 1);

CREATE TRIGGER sessions_changed_update AFTER UPDATE ON sessions
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER sessions_changed_delete AFTER DELETE ON sessions
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_changed_update AFTER UPDATE ON organizations
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_changed_delete AFTER DELETE ON organizations
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER members_changed_update AFTER UPDATE ON members
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;

CREATE TRIGGER members_changed_delete AFTER DELETE ON members
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1;
END;
