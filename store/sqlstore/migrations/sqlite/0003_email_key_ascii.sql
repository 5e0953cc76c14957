-- orgsso schema version 3, SQLite: member email keys fold ASCII case only.
--
-- Versions 1 and 2 keyed members by Go's strings.ToLower(email), which merges
-- distinct addresses: the Kelvin sign U+212A lowercases to "k", so an IdP
-- asserting "\u212Aate@acme.example" signed in as the member
-- "kate@acme.example". The key is now sso.MemberEmailKey: the bytes A-Z become
-- a-z, every other byte is kept.
--
-- SQLite's built-in lower() folds ASCII only, but a build with the ICU
-- extension (a driver other than store/sqlite's may load it) replaces it with
-- a Unicode-aware one; 26 nested replace() calls fold exactly A-Z in every
-- build.
--
-- No two rows can end up with one key: keys equal under ASCII folding are
-- equal under strings.ToLower too (which is idempotent), and versions 1 and
-- 2 allowed one row per strings.ToLower key. For the same reason no row
-- takes, midway, a key another row still holds. The keys that change are those of emails
-- with a non-ASCII letter that strings.ToLower changes ("ÅSA@x.example" was
-- "åsa@x.example", is now "Åsa@x.example"): such a member is found by the
-- email as stored, in any ASCII case, and no longer by other spellings.
-- Every row is rewritten, once.

UPDATE members SET email_key =
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(email,
    'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'),
    'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'),
    'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'),
    'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'),
    'Y', 'y'), 'Z', 'z');
