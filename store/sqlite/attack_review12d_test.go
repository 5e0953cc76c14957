package sqlite_test

// Attacker review 12d, store-level attempts (see sso/attack_review12d_test.go
// for the rest): the schema cookie that ChangeSeq folds in (99765d1), and
// the MFA refactors of be855bf (memory editEnrollment, SQL writePending)
// compared with the store that was not refactored for each method.

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// TestAttackReview12d_SchemaCookieWritesHeld: writes that are no data
// change (VACUUM, ANALYZE, REINDEX, CREATE/DROP INDEX, PRAGMA user_version,
// PRAGMA optimize, a WAL checkpoint, reopening: the migrations are a no-op)
// either leave ChangeSeq as it was or move it to a value never returned
// before; none brings back an earlier value, so no two different states
// read the same. (PRAGMA schema_version = N, a deliberate write of the
// cookie, can bring one back; SQLite documents it as corrupting, and it is
// left out, as are values 2^24 schema changes apart: the fold keeps the
// cookie's low 24 bits.)
func TestAttackReview12d_SchemaCookieWritesHeld(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orgsso.db")
	st := open(t, path)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = raw.Close() })
	require.NoError(t, st.CreateOrganization(ctx, &sso.Organization{ID: "org-ar12d", SSOName: "ar12d", OwnerID: "u"}))

	seen := map[int64]string{}
	last, err := st.ChangeSeq(ctx)
	require.NoError(t, err)
	seen[last] = "start"
	for _, op := range []string{
		"VACUUM", "ANALYZE", "ANALYZE", "REINDEX", "CREATE INDEX ar12d_x ON members (first_name)",
		"DROP INDEX ar12d_x", "PRAGMA user_version = 7", "PRAGMA optimize", "PRAGMA wal_checkpoint(TRUNCATE)",
		"reopen", "VACUUM", "UPDATE organizations SET owner_id = 'v'", "ANALYZE sessions",
	} {
		if op == "reopen" {
			st2, err := openNoCleanup(ctx, path)
			require.NoError(t, err)
			require.NoError(t, st2.Close())
		} else {
			_, err := raw.ExecContext(ctx, op)
			require.NoError(t, err, op)
		}
		got, err := st.ChangeSeq(ctx)
		require.NoError(t, err, op)
		if prev, ok := seen[got]; ok && got != last {
			t.Errorf("after %q ChangeSeq = %#x, the value seen after %q", op, got, prev)
		}
		t.Logf("%-45s %#x", op, got)
		seen[got], last = op, got
	}
}

// ar12dMFAStores are the two stores compared: memory (editEnrollment is
// the refactored code) and SQLite (writePending is), each the reference
// for the other's refactor.
func ar12dMFAStores(t *testing.T) map[string]sso.MFAStore {
	return map[string]sso.MFAStore{"memory": memory.New(), "sqlite": open(t, filepath.Join(t.TempDir(), "mfa.db"))}
}

// ar12dClass names the answer of an MFA store call.
func ar12dClass(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, sso.ErrReplay):
		return "replay"
	case errors.Is(err, sso.ErrNotFound):
		return "not found"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "other"
	}
}

// TestAttackReview12d_MFARefactorsSameAnswersHeld: the four enrollment
// edits (memory's editEnrollment) and AttemptMFAPending/ConsumeMFAPending
// (SQL's writePending) answer as the other store does, call by call, and
// leave the same enrollment: replayed and earlier steps, unknown and empty
// recovery codes, a code used twice, restores with the wrong salt, of a
// step that moved on, of a code already there, of an empty code; attempts
// with limit 0, -1, past the limit, on a consumed or unknown token, with an
// over-long or NUL hash; consume twice.
func TestAttackReview12d_MFARefactorsSameAnswersHeld(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const org, user, salt = "org-ar12d", "u-ar12d", "5a17"
	h := func(c byte) string { return strings.Repeat(string(c), 64) }
	type call struct {
		name string
		do   func(s sso.MFAStore) error
	}
	calls := []call{
		{"step 10", func(s sso.MFAStore) error { return s.UseMFAStep(ctx, org, user, 10) }},
		{"step 10 again", func(s sso.MFAStore) error { return s.UseMFAStep(ctx, org, user, 10) }},
		{"step 9", func(s sso.MFAStore) error { return s.UseMFAStep(ctx, org, user, 9) }},
		{"step of unknown user", func(s sso.MFAStore) error { return s.UseMFAStep(ctx, org, "u-none", 99) }},
		{"restore step 10, wrong salt", func(s sso.MFAStore) error { return s.RestoreMFAStep(ctx, org, user, "beef", 10) }},
		{"restore step 9 (moved on)", func(s sso.MFAStore) error { return s.RestoreMFAStep(ctx, org, user, salt, 9) }},
		{"restore step 10", func(s sso.MFAStore) error { return s.RestoreMFAStep(ctx, org, user, salt, 10) }},
		{"step 10 after restore", func(s sso.MFAStore) error { return s.UseMFAStep(ctx, org, user, 10) }},
		{"code a", func(s sso.MFAStore) error { return s.UseMFARecoveryCode(ctx, org, user, h('a')) }},
		{"code a again", func(s sso.MFAStore) error { return s.UseMFARecoveryCode(ctx, org, user, h('a')) }},
		{"code unknown", func(s sso.MFAStore) error { return s.UseMFARecoveryCode(ctx, org, user, h('f')) }},
		{"code empty", func(s sso.MFAStore) error { return s.UseMFARecoveryCode(ctx, org, user, "") }},
		{"restore code a, wrong salt", func(s sso.MFAStore) error { return s.RestoreMFARecoveryCode(ctx, org, user, "beef", h('a')) }},
		{"restore code b (there)", func(s sso.MFAStore) error { return s.RestoreMFARecoveryCode(ctx, org, user, salt, h('b')) }},
		{"restore code a", func(s sso.MFAStore) error { return s.RestoreMFARecoveryCode(ctx, org, user, salt, h('a')) }},
		{"restore code empty", func(s sso.MFAStore) error { return s.RestoreMFARecoveryCode(ctx, org, user, salt, "") }},
		{"code a after restore", func(s sso.MFAStore) error { return s.UseMFARecoveryCode(ctx, org, user, h('a')) }},
		{"attempt limit 0", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), 0); return err }},
		{"attempt limit -1", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), -1); return err }},
		{"attempt 1/2", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), 2); return err }},
		{"attempt 2/2", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), 2); return err }},
		{"attempt 3/2", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), 2); return err }},
		{"attempt unknown", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('9'), 5); return err }},
		{"attempt NUL hash", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, "a\x00b", 5); return err }},
		{"attempt long hash", func(s sso.MFAStore) error {
			_, err := s.AttemptMFAPending(ctx, strings.Repeat("a", sso.MaxKeyBytes+1), 5)
			return err
		}},
		{"consume", func(s sso.MFAStore) error { _, err := s.ConsumeMFAPending(ctx, h('1')); return err }},
		{"consume again", func(s sso.MFAStore) error { _, err := s.ConsumeMFAPending(ctx, h('1')); return err }},
		{"attempt consumed", func(s sso.MFAStore) error { _, err := s.AttemptMFAPending(ctx, h('1'), 5); return err }},
		{"consume NUL hash", func(s sso.MFAStore) error { _, err := s.ConsumeMFAPending(ctx, "a\x00b"); return err }},
	}
	answers := map[string][]string{}
	final := map[string]*sso.MFAEnrollment{}
	for name, s := range ar12dMFAStores(t) {
		require.NoError(t, s.CreateMFAEnrollment(ctx, &sso.MFAEnrollment{OrgID: org, UserID: user, Secret: "S",
			LastStep: 5, RecoverySalt: salt, RecoveryHashes: []string{h('a'), h('b')}, CreatedAt: now}))
		require.NoError(t, s.CreateMFAPending(ctx, &sso.MFAPending{TokenHash: h('1'), OrgID: org, UserID: user,
			Email: "a@x.example", ExpiresAt: now.Add(time.Minute)}))
		for _, c := range calls {
			answers[name] = append(answers[name], c.name+": "+ar12dClass(c.do(s)))
		}
		e, err := s.MFAEnrollment(ctx, org, user)
		require.NoError(t, err)
		e.CreatedAt = e.CreatedAt.UTC()
		final[name] = e
	}
	assert.Equal(t, answers["sqlite"], answers["memory"])
	assert.Equal(t, final["sqlite"], final["memory"])
	t.Logf("answers: %q", answers["memory"])

	// A cancelled context: every call refuses and writes nothing. (Since
	// be855bf memory checks the key lengths of the code and salt before the
	// context, so an over-long key with a cancelled context answers
	// ErrInvalidArgument there, context.Canceled before and on SQLite:
	// both refusals, noted only.)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	long := strings.Repeat("a", sso.MaxKeyBytes+1)
	for name, s := range ar12dMFAStores(t) {
		for _, err := range []error{
			s.UseMFAStep(cctx, org, user, 99), s.UseMFARecoveryCode(cctx, org, user, long),
			s.RestoreMFAStep(cctx, org, user, long, 1), s.RestoreMFARecoveryCode(cctx, org, user, salt, long),
		} {
			assert.Error(t, err, name)
		}
	}
}
