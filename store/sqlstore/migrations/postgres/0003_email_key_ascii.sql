-- orgsso schema version 3, PostgreSQL: member email keys fold ASCII case
-- only.
--
-- Versions 1 and 2 keyed members by Go's strings.ToLower(email), which merges
-- distinct addresses: the Kelvin sign U+212A lowercases to "k", so an IdP
-- asserting "\u212Aate@acme.example" signed in as the member
-- "kate@acme.example". The key is now sso.MemberEmailKey: the bytes A-Z become
-- a-z, every other byte is kept.
--
-- PostgreSQL's lower() is Unicode-aware (and depends on the database's
-- LC_CTYPE); translate() with the 26 ASCII letters folds exactly A-Z.
--
-- No two rows can end up with one key: keys equal under ASCII folding are
-- equal under strings.ToLower too (which is idempotent), and versions 1 and
-- 2 allowed one row per strings.ToLower key. For the same reason no row
-- takes, midway, a key another row still holds. The keys that change are those of emails
-- with a non-ASCII letter that strings.ToLower changes ("ÅSA@x.example" was
-- "åsa@x.example", is now "Åsa@x.example"): such a member is found by the
-- email as stored, in any ASCII case, and no longer by other spellings.

UPDATE members
SET email_key = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email_key <> translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
