-- orgsso schema version 5, PostgreSQL: one membership per user, atomically.
--
-- member_users registers, per organization, which member holds each user ID
-- (the member with that org_id and email_key, whose user_id it is). Its
-- primary key is what makes CreateMember's "no other member has this user
-- ID" atomic across replicas: CreateMember inserts the member and claims the
-- user ID here in one transaction, and of concurrent claims of one
-- (org_id, user_id) the unique index lets exactly one in (a conflicting
-- insert waits for the transaction in its way); a claim held under another
-- email key is sso.ErrUserIDTaken, and the transaction rolls back. Members
-- without a user ID ('', invited) are not registered.
--
-- members itself gets no unique (org_id, user_id): SaveMember, the port's
-- plain upsert, has always let hosts store several members with one user ID,
-- and such rows may exist. The migration must not fail on them, and
-- SaveMember and UpdateMember go on storing them (CreateMember refuses
-- them): the registry then names one of the holders, and the writes keep
-- it naming a member that holds the user ID. DeleteMember and a write that
-- changes a member's user ID release the member's row and hand the user ID
-- on to the member with the lowest email key that still holds it, if any.
-- CreateMember also looks for another holder in members itself, so a member
-- that a replica still running schema 4 stores during a rolling upgrade,
-- unregistered, holds its user ID against later creations too (not against
-- a racing one: that takes the upgrade to finish), and a registry row whose
-- member such a replica removed or moved to another user ID is taken over.
--
-- The registry is filled from the members there are: one row per
-- (org_id, user_id), the member with the lowest email key (MemberByUserID's).
-- The index on (org_id, email_key) finds the row a member holds when it is
-- deleted or its user ID changes.

CREATE TABLE member_users (
    org_id    text COLLATE "C" NOT NULL,
    user_id   text COLLATE "C" NOT NULL, -- never ''
    email_key text COLLATE "C" NOT NULL, -- the holder: members (org_id, email_key)
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX member_users_org_id_email_key ON member_users (org_id, email_key);

INSERT INTO member_users (org_id, user_id, email_key)
SELECT org_id, user_id, MIN(email_key)
FROM members
WHERE user_id <> ''
GROUP BY org_id, user_id;
