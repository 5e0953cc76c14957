package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/orgsso/orgsso/sso"
)

var _ sso.MFAStore = (*Store)(nil)

// MFA after SSO (sso.MFAStore), on the tables of migration 0010. Each
// change is one statement (UPDATE … WHERE … RETURNING, DELETE …
// RETURNING, INSERT … ON CONFLICT), or one transaction for an enrollment
// with its recovery codes, so it is atomic across replicas. The statements
// are not prepared: MFA runs once per sign-in at most.

// mfaPolicyJSON is an organization's MFA policy as the mfa_policy column
// stores it. A column holding '{}' (every organization stored before
// schema 10) reads as the zero policy; idp_values keeps nil (null: the
// default values) and empty ([]: none) apart.
type mfaPolicyJSON struct {
	Required  bool     `json:"required"`
	TrustIdP  bool     `json:"trust_idp"`
	IdPValues []string `json:"idp_values"`
}

func encodeMFAPolicy(p sso.MFAPolicy) (string, error) {
	b, err := json.Marshal(mfaPolicyJSON{Required: p.Required, TrustIdP: p.TrustIdP, IdPValues: p.IdPValues})
	return string(b), err
}

func decodeMFAPolicy(s string) (sso.MFAPolicy, error) {
	var in mfaPolicyJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return sso.MFAPolicy{}, err
	}
	return sso.MFAPolicy{Required: in.Required, TrustIdP: in.TrustIdP, IdPValues: in.IdPValues}, nil
}

// The statements, with ? placeholders (Dialect.sql rebinds them).
const (
	mfaPendingColumns = `org_id, user_id, email, connection_id, epoch, session_ttl_ns, return_to, expires_at, attempts, secret`

	qCreateMFAPending = `INSERT INTO mfa_pending (token_hash, ` + mfaPendingColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`
	qMFAPending        = `SELECT ` + mfaPendingColumns + ` FROM mfa_pending WHERE token_hash = ?`
	qSetMFASecret      = `UPDATE mfa_pending SET secret = ? WHERE token_hash = ?`
	qAttemptMFAPending = `UPDATE mfa_pending SET attempts = attempts + 1 WHERE token_hash = ? AND attempts < ?
		RETURNING ` + mfaPendingColumns
	qConsumeMFAPending = `DELETE FROM mfa_pending WHERE token_hash = ? RETURNING ` + mfaPendingColumns

	// The enrollment and its codes, in one statement: a consistent read.
	qMFAEnrollment = `SELECT e.secret, e.last_step, e.recovery_salt, e.created_at, c.code_hash
		FROM mfa_enrollments e LEFT JOIN mfa_recovery_codes c ON c.org_id = e.org_id AND c.user_id = e.user_id
		WHERE e.org_id = ? AND e.user_id = ? ORDER BY c.position`
	qCreateMFAEnrollment = `INSERT INTO mfa_enrollments (org_id, user_id, secret, last_step, recovery_salt, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, user_id) DO NOTHING`
	qAddRecoveryCode     = `INSERT INTO mfa_recovery_codes (org_id, user_id, code_hash, position) VALUES (?, ?, ?, ?)`
	qDeleteMFAEnrollment = `DELETE FROM mfa_enrollments WHERE org_id = ? AND user_id = ?`
	qDeleteRecoveryCodes = `DELETE FROM mfa_recovery_codes WHERE org_id = ? AND user_id = ?`
	qDeleteMFAAttempts   = `DELETE FROM mfa_attempts WHERE org_id = ? AND user_id = ?`
	qUseMFAStep          = `UPDATE mfa_enrollments SET last_step = ? WHERE org_id = ? AND user_id = ? AND last_step < ?`
	qMFAEnrollmentExists = `SELECT 1 FROM mfa_enrollments WHERE org_id = ? AND user_id = ?`
	qUseMFARecoveryCode  = `DELETE FROM mfa_recovery_codes WHERE org_id = ? AND user_id = ? AND code_hash = ?`
	// Giving a factor back names the enrollment by its salt. The no-op
	// UPDATE locks the enrollment row (PostgreSQL waits for a concurrent
	// DeleteMFAEnrollment and then finds nothing), so that no code is given
	// back to an enrollment being deleted.
	qRestoreMFAStep = `UPDATE mfa_enrollments SET last_step = ? WHERE org_id = ? AND user_id = ? AND recovery_salt = ? AND last_step = ?`
	qMFASaltExists  = `SELECT 1 FROM mfa_enrollments WHERE org_id = ? AND user_id = ? AND recovery_salt = ?`
	qLockMFASalt    = `UPDATE mfa_enrollments SET recovery_salt = recovery_salt WHERE org_id = ? AND user_id = ? AND recovery_salt = ?`
	qRestoreCode    = `INSERT INTO mfa_recovery_codes (org_id, user_id, code_hash, position)
		SELECT ?, ?, ?, COALESCE(MAX(position), -1) + 1 FROM mfa_recovery_codes WHERE org_id = ? AND user_id = ?
		ON CONFLICT (org_id, user_id, code_hash) DO NOTHING`
	qCountMFAAttempt = `INSERT INTO mfa_attempts (org_id, user_id, count, window_end) VALUES (?, ?, 1, ?)
		ON CONFLICT (org_id, user_id) DO UPDATE SET
			count = CASE WHEN mfa_attempts.window_end > ? THEN mfa_attempts.count + 1 ELSE 1 END,
			window_end = CASE WHEN mfa_attempts.window_end > ? THEN mfa_attempts.window_end ELSE excluded.window_end END
		RETURNING count, window_end`
	qCleanupMFAPending = `DELETE FROM mfa_pending WHERE token_hash IN
		(SELECT token_hash FROM mfa_pending WHERE expires_at < ? LIMIT ? ` + skipLocked + `)`
	qCleanupMFAAttempts = `DELETE FROM mfa_attempts WHERE (org_id, user_id) IN
		(SELECT org_id, user_id FROM mfa_attempts WHERE window_end < ? LIMIT ? ` + skipLocked + `)`
)

// execSQL runs a write query, in its turn at the write gate, and returns
// how many rows it affected.
func (s *Store) execSQL(ctx context.Context, query string, args ...any) (int, error) {
	if err := s.lockWrites(ctx); err != nil {
		return 0, err
	}
	defer s.unlockWrites()
	return rowsAffected(s.db.ExecContext(ctx, s.dialect.sql(query), args...))
}

// writeRowSQL runs a write query that returns one row, in its turn at the
// write gate; sql.ErrNoRows if it returned none.
func (s *Store) writeRowSQL(ctx context.Context, query string, args []any, dest ...any) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.unlockWrites()
	return s.db.QueryRowContext(ctx, s.dialect.sql(query), args...).Scan(dest...)
}

// mfaKeys checks keys for an MFA method: bounded, and storable (a key that
// is not could not have been stored: reported as not found by lookups, and
// refused by writes, by the caller).
func mfaKeys(what string, keys ...string) (storableKeys bool, err error) {
	if err := checkKeys(what, keys...); err != nil {
		return false, err
	}
	for _, k := range keys {
		if !storable(k) {
			return false, nil
		}
	}
	return true, nil
}

// mfaMember checks a member's keys: non-empty, bounded, storable.
func mfaMember(what, orgID, userID string) error {
	if orgID == "" || userID == "" {
		return errorf(ErrInvalidArgument, "%s: empty organization or user ID", what)
	}
	ok, err := mfaKeys(what, orgID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(ErrInvalidArgument, "%s: an ID is not valid UTF-8 or holds a NUL byte", what)
	}
	return nil
}

// pendingRow scans the mfaPendingColumns of a pending sign-in.
type pendingRow struct {
	p       sso.MFAPending
	ttl     int64
	expires string
}

func (r *pendingRow) dests() []any {
	return []any{&r.p.OrgID, &r.p.UserID, &r.p.Email, &r.p.Connection, &r.p.Epoch, &r.ttl, &r.p.ReturnTo, &r.expires,
		&r.p.Attempts, &r.p.Secret}
}

func (r *pendingRow) decode(ctx context.Context, hash string) (*sso.MFAPending, error) {
	p := r.p
	p.TokenHash = hash
	p.SessionTTL = time.Duration(r.ttl)
	var err error
	if p.ExpiresAt, err = decodeTime(r.expires); err != nil {
		return nil, dbErr(ctx, "MFA pending sign-in: expires_at", err)
	}
	return &p, nil
}

// CreateMFAPending stores p; a token hash already stored is an error
// wrapping ErrDuplicateID.
func (s *Store) CreateMFAPending(ctx context.Context, p *sso.MFAPending) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if p == nil || p.TokenHash == "" || p.OrgID == "" || p.UserID == "" {
		return errorf(ErrInvalidArgument, "MFA pending sign-in without a token hash, organization or user")
	}
	if err := checkKeys("MFA pending sign-in", p.TokenHash, p.OrgID, p.UserID, p.Email, p.Connection); err != nil {
		return err
	}
	if err := checkStorable("MFA pending sign-in", p); err != nil {
		return err
	}
	expires, err := encodeTime("MFA pending ExpiresAt", p.ExpiresAt)
	if err != nil {
		return err
	}
	n, err := s.execSQL(ctx, qCreateMFAPending, p.TokenHash, p.OrgID, p.UserID, p.Email, p.Connection, p.Epoch,
		int64(p.SessionTTL), p.ReturnTo, expires, p.Attempts, p.Secret)
	if err != nil {
		return dbErr(ctx, "create MFA pending sign-in", err)
	}
	if n == 0 {
		return errorf(ErrDuplicateID, "MFA pending sign-in")
	}
	return nil
}

// MFAPending returns the pending sign-in with this token hash, expired or
// not; sso.ErrNotFound if there is none.
func (s *Store) MFAPending(ctx context.Context, tokenHash string) (*sso.MFAPending, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	ok, err := mfaKeys("MFA pending sign-in", tokenHash)
	if err != nil {
		return nil, err
	}
	notFound := errorf(sso.ErrNotFound, "MFA pending sign-in")
	if !ok {
		return nil, notFound
	}
	var r pendingRow
	err = s.db.QueryRowContext(ctx, s.dialect.sql(qMFAPending), tokenHash).Scan(r.dests()...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound
	case err != nil:
		return nil, dbErr(ctx, "MFA pending sign-in", err)
	}
	return r.decode(ctx, tokenHash)
}

// SetMFAPendingSecret sets the TOTP secret of the enrollment begun with the
// pending sign-in; sso.ErrNotFound if there is none.
func (s *Store) SetMFAPendingSecret(ctx context.Context, tokenHash, secret string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	ok, err := mfaKeys("MFA pending sign-in", tokenHash)
	if err != nil {
		return err
	}
	if !storable(secret) {
		return errorf(ErrInvalidArgument, "MFA secret is not valid UTF-8 or holds a NUL byte")
	}
	if !ok {
		return errorf(sso.ErrNotFound, "MFA pending sign-in")
	}
	n, err := s.execSQL(ctx, qSetMFASecret, secret, tokenHash)
	if err != nil {
		return dbErr(ctx, "set MFA secret", err)
	}
	if n == 0 {
		return errorf(sso.ErrNotFound, "MFA pending sign-in")
	}
	return nil
}

// AttemptMFAPending counts an attempt on the pending sign-in, in one UPDATE
// … WHERE attempts < limit RETURNING, and returns it as counted;
// sso.ErrNotFound when there is none or it has used its attempts.
func (s *Store) AttemptMFAPending(ctx context.Context, tokenHash string, limit int) (*sso.MFAPending, error) {
	return s.writePending(ctx, "attempt MFA pending sign-in", "MFA pending sign-in with attempts left",
		qAttemptMFAPending, tokenHash, limit >= 1, tokenHash, limit)
}

// ConsumeMFAPending returns and deletes the pending sign-in, in one DELETE
// … RETURNING: at most one caller gets it.
func (s *Store) ConsumeMFAPending(ctx context.Context, tokenHash string) (*sso.MFAPending, error) {
	return s.writePending(ctx, "consume MFA pending sign-in", "MFA pending sign-in", qConsumeMFAPending, tokenHash, true, tokenHash)
}

// writePending runs query, a write returning one pending sign-in's row, for
// the pending sign-in tokenHash; sso.ErrNotFound (notFound says what was
// not found) when no row came back, or without running it when the hash
// cannot be stored or run is false.
func (s *Store) writePending(ctx context.Context, op, notFound, query, tokenHash string, run bool, args ...any) (*sso.MFAPending, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	ok, err := mfaKeys("MFA pending sign-in", tokenHash)
	if err != nil {
		return nil, err
	}
	if !ok || !run {
		return nil, errorf(sso.ErrNotFound, "%s", notFound)
	}
	var r pendingRow
	err = s.writeRowSQL(ctx, query, args, r.dests()...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errorf(sso.ErrNotFound, "%s", notFound)
	case err != nil:
		return nil, dbErr(ctx, op, err)
	}
	return r.decode(ctx, tokenHash)
}

// MFAEnrollment returns the member's enrollment with its unused recovery
// code hashes, in their order; sso.ErrNotFound if there is none.
func (s *Store) MFAEnrollment(ctx context.Context, orgID, userID string) (*sso.MFAEnrollment, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := mfaMember("MFA enrollment", orgID, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.sql(qMFAEnrollment), orgID, userID)
	if err != nil {
		return nil, dbErr(ctx, "MFA enrollment", err)
	}
	defer rows.Close()
	var e *sso.MFAEnrollment
	for rows.Next() {
		var secret, salt, created string
		var step int64
		var code sql.NullString
		if err := rows.Scan(&secret, &step, &salt, &created, &code); err != nil {
			return nil, dbErr(ctx, "MFA enrollment", err)
		}
		if e == nil {
			e = &sso.MFAEnrollment{OrgID: orgID, UserID: userID, Secret: secret, LastStep: step, RecoverySalt: salt}
			if e.CreatedAt, err = decodeTime(created); err != nil {
				return nil, dbErr(ctx, "MFA enrollment: created_at", err)
			}
		}
		if code.Valid {
			e.RecoveryHashes = append(e.RecoveryHashes, code.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "MFA enrollment", err)
	}
	if e == nil {
		return nil, errorf(sso.ErrNotFound, "MFA enrollment")
	}
	return e, nil
}

// CreateMFAEnrollment stores e and its recovery code hashes in one
// transaction, if the member has no enrollment; otherwise an error
// wrapping ErrDuplicateID, and nothing is written. The hashes must be
// distinct (ErrInvalidArgument).
func (s *Store) CreateMFAEnrollment(ctx context.Context, e *sso.MFAEnrollment) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if e == nil {
		return errorf(ErrInvalidArgument, "nil MFA enrollment")
	}
	if err := mfaMember("MFA enrollment", e.OrgID, e.UserID); err != nil {
		return err
	}
	if err := checkKeys("MFA enrollment", e.RecoveryHashes...); err != nil {
		return err
	}
	if err := checkStorable("MFA enrollment", e); err != nil {
		return err
	}
	sorted := slices.Clone(e.RecoveryHashes)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(e.RecoveryHashes) {
		return errorf(ErrInvalidArgument, "MFA enrollment: recovery code hashes repeat")
	}
	created, err := encodeTime("MFA enrollment CreatedAt", e.CreatedAt)
	if err != nil {
		return err
	}
	duplicate := false
	err = s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, s.dialect.sql(qCreateMFAEnrollment), e.OrgID, e.UserID, e.Secret, e.LastStep, e.RecoverySalt, created)
		n, err := rowsAffected(res, err)
		if err != nil || n == 0 {
			duplicate = err == nil
			return false, err
		}
		for i, h := range e.RecoveryHashes {
			if _, err := tx.ExecContext(ctx, s.dialect.sql(qAddRecoveryCode), e.OrgID, e.UserID, h, i); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	switch {
	case err != nil:
		return dbErr(ctx, "create MFA enrollment", err)
	case duplicate:
		return errorf(ErrDuplicateID, "MFA enrollment")
	}
	return nil
}

// DeleteMFAEnrollment removes the member's enrollment, recovery codes and
// attempt window in one transaction; sso.ErrNotFound if there was no
// enrollment (the window goes regardless).
func (s *Store) DeleteMFAEnrollment(ctx context.Context, orgID, userID string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("delete MFA enrollment", orgID, userID); err != nil {
		return err
	}
	found := false
	err := s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		n, err := rowsAffected(tx.ExecContext(ctx, s.dialect.sql(qDeleteMFAEnrollment), orgID, userID))
		if err != nil {
			return false, err
		}
		found = n > 0
		for _, q := range []string{qDeleteRecoveryCodes, qDeleteMFAAttempts} {
			if _, err := tx.ExecContext(ctx, s.dialect.sql(q), orgID, userID); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	switch {
	case err != nil:
		return dbErr(ctx, "delete MFA enrollment", err)
	case !found:
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	return nil
}

// UseMFAStep raises the member's last TOTP step to step if step is later,
// in one UPDATE … WHERE last_step < step; sso.ErrReplay if it is not,
// sso.ErrNotFound without an enrollment.
func (s *Store) UseMFAStep(ctx context.Context, orgID, userID string, step int64) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("use MFA step", orgID, userID); err != nil {
		return err
	}
	n, err := s.execSQL(ctx, qUseMFAStep, step, orgID, userID, step)
	if err != nil {
		return dbErr(ctx, "use MFA step", err)
	}
	if n == 1 {
		return nil
	}
	// Refused: tell a replay from a missing enrollment.
	var one int
	err = s.db.QueryRowContext(ctx, s.dialect.sql(qMFAEnrollmentExists), orgID, userID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errorf(sso.ErrNotFound, "MFA enrollment")
	case err != nil:
		return dbErr(ctx, "use MFA step", err)
	}
	return errorf(sso.ErrReplay, "TOTP step %d", step)
}

// UseMFARecoveryCode deletes the recovery code hash of the member, in one
// DELETE; sso.ErrNotFound if it is not one of theirs (used, never issued,
// or no enrollment).
func (s *Store) UseMFARecoveryCode(ctx context.Context, orgID, userID, codeHash string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("use MFA recovery code", orgID, userID); err != nil {
		return err
	}
	ok, err := mfaKeys("MFA recovery code", codeHash)
	if err != nil {
		return err
	}
	if !ok || codeHash == "" {
		return errorf(sso.ErrNotFound, "MFA recovery code")
	}
	n, err := s.execSQL(ctx, qUseMFARecoveryCode, orgID, userID, codeHash)
	if err != nil {
		return dbErr(ctx, "use MFA recovery code", err)
	}
	if n == 0 {
		return errorf(sso.ErrNotFound, "MFA recovery code")
	}
	return nil
}

// RestoreMFAStep sets the member's last TOTP step back to step-1 if it is
// step and the enrollment's salt is recoverySalt, in one UPDATE;
// sso.ErrNotFound without such an enrollment.
func (s *Store) RestoreMFAStep(ctx context.Context, orgID, userID, recoverySalt string, step int64) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("restore MFA step", orgID, userID); err != nil {
		return err
	}
	ok, err := mfaKeys("MFA recovery salt", recoverySalt)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	n, err := s.execSQL(ctx, qRestoreMFAStep, step-1, orgID, userID, recoverySalt, step)
	if err != nil {
		return dbErr(ctx, "restore MFA step", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing to give back (a later step was used), or no such enrollment.
	var one int
	err = s.db.QueryRowContext(ctx, s.dialect.sql(qMFASaltExists), orgID, userID, recoverySalt).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errorf(sso.ErrNotFound, "MFA enrollment")
	case err != nil:
		return dbErr(ctx, "restore MFA step", err)
	}
	return nil
}

// RestoreMFARecoveryCode adds codeHash back to the member's recovery codes
// (after the others) if the enrollment's salt is recoverySalt, in one
// transaction that first locks the enrollment row; sso.ErrNotFound without
// such an enrollment.
func (s *Store) RestoreMFARecoveryCode(ctx context.Context, orgID, userID, recoverySalt, codeHash string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("restore MFA recovery code", orgID, userID); err != nil {
		return err
	}
	if codeHash == "" {
		return errorf(ErrInvalidArgument, "MFA recovery code: empty hash")
	}
	switch ok, err := mfaKeys("MFA recovery code", codeHash); {
	case err != nil:
		return err
	case !ok:
		return errorf(ErrInvalidArgument, "MFA recovery code: not valid UTF-8 or holds a NUL byte")
	}
	ok, err := mfaKeys("MFA recovery salt", recoverySalt)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	found := false
	err = s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		n, err := rowsAffected(tx.ExecContext(ctx, s.dialect.sql(qLockMFASalt), orgID, userID, recoverySalt))
		if err != nil || n == 0 {
			return false, err
		}
		found = true
		_, err = tx.ExecContext(ctx, s.dialect.sql(qRestoreCode), orgID, userID, codeHash, orgID, userID)
		return err == nil, err
	})
	switch {
	case err != nil:
		return dbErr(ctx, "restore MFA recovery code", err)
	case !found:
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	return nil
}

// CountMFAAttempt counts an attempt in the member's window, in one upsert
// … RETURNING: the stored window if it ends after now, else a new one
// ending at until.
func (s *Store) CountMFAAttempt(ctx context.Context, orgID, userID string, now, until time.Time) (int, time.Time, error) {
	if err := s.begin(ctx); err != nil {
		return 0, time.Time{}, err
	}
	if err := mfaMember("count MFA attempt", orgID, userID); err != nil {
		return 0, time.Time{}, err
	}
	end, err := encodeTime("MFA attempt window end", until)
	if err != nil {
		return 0, time.Time{}, err
	}
	bound := encodeBound(now)
	var n int
	var stored string
	if err := s.writeRowSQL(ctx, qCountMFAAttempt, []any{orgID, userID, end, bound, bound}, &n, &stored); err != nil {
		return 0, time.Time{}, dbErr(ctx, "count MFA attempt", err)
	}
	t, err := decodeTime(stored)
	if err != nil {
		return 0, time.Time{}, dbErr(ctx, "count MFA attempt: window_end", err)
	}
	return n, t, nil
}

// ClearMFAAttempts deletes the member's attempt window.
func (s *Store) ClearMFAAttempts(ctx context.Context, orgID, userID string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := mfaMember("clear MFA attempts", orgID, userID); err != nil {
		return err
	}
	if _, err := s.execSQL(ctx, qDeleteMFAAttempts, orgID, userID); err != nil {
		return dbErr(ctx, "clear MFA attempts", err)
	}
	return nil
}

// DeleteExpiredMFA removes at most limit pending sign-ins that expired
// before now and attempt windows that ended before now, a batch per table
// (on PostgreSQL skipping rows another cleaner holds), and returns how many.
func (s *Store) DeleteExpiredMFA(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, errorf(ErrInvalidArgument, "cleanup batch limit %d", limit)
	}
	bound := encodeBound(now)
	total := 0
	for _, q := range []string{qCleanupMFAPending, qCleanupMFAAttempts} {
		n, err := s.execSQL(ctx, q, bound, limit-total)
		total += n
		if err != nil {
			return total, dbErr(ctx, "cleanup MFA", err)
		}
		if total == limit {
			break
		}
	}
	return total, nil
}
