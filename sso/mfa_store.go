package sso

import (
	"context"
	"time"
)

// MFAPending is a sign-in that passed the organization's IdP and waits for
// its second factor (the intermediate session of MFA after SSO). The
// browser holds the token (the MFA cookie); the store keeps only its
// SHA-256. It carries what the session will be made from once a factor is
// verified, exactly as the sign-in would have made it.
type MFAPending struct {
	// TokenHash is the hex SHA-256 of the intermediate token: the key.
	TokenHash string
	// OrgID, UserID and Email name the member signing in; Connection the
	// connection the sign-in came through (PrimaryConnection for the
	// organization's own IdP).
	OrgID, UserID, Email, Connection string
	// Epoch and SessionTTL are the session's: the SSO epoch (of the
	// organization or the connection) and lifetime at sign-in.
	Epoch      int64
	SessionTTL time.Duration
	// ReturnTo is the safe local path to land on.
	ReturnTo string
	// ExpiresAt ends the pending sign-in; judging it is the Service's job.
	ExpiresAt time.Time
	// Attempts counts the codes tried with this token (AttemptMFAPending).
	Attempts int
	// Secret is the TOTP secret of an enrollment begun with this token
	// (BeginTOTPEnrollment), sealed when the Service has a SecretKey; ""
	// before.
	Secret string
}

// MFAEnrollment is a member's confirmed second factor: a TOTP secret and
// the hashes of their unused recovery codes.
type MFAEnrollment struct {
	OrgID, UserID string
	// Secret is the TOTP secret (base32), sealed when the Service has a
	// SecretKey.
	Secret string
	// LastStep is the last TOTP time step accepted: a code of this step or
	// an earlier one is a replay.
	LastStep int64
	// RecoverySalt keys the recovery code hashes (hex, random per
	// enrollment); RecoveryHashes are the hex HMAC-SHA256 of the unused
	// codes.
	RecoverySalt   string
	RecoveryHashes []string
	// CreatedAt is when the enrollment was confirmed.
	CreatedAt time.Time
}

// MFAStore is implemented by stores that keep MFA after SSO: pending
// sign-ins, enrollments and attempt counts. Every store in orgsso/store
// does, and store/storetest covers each method. A Service whose Store does
// not implement it refuses (ErrUnavailable) every sign-in to an
// organization that requires MFA: it never makes their session without the
// second factor.
//
// Every method that changes something does it in one atomic step across
// replicas, as documented, so concurrent attempts are all counted and a
// token, a TOTP step or a recovery code is used at most once. Keys (IDs,
// token hashes, code hashes) longer than MaxKeyBytes are ErrInvalidArgument.
type MFAStore interface {
	// CreateMFAPending stores p; a TokenHash already stored is
	// ErrDuplicateID. A nil p, or one without TokenHash, OrgID or UserID,
	// is ErrInvalidArgument.
	CreateMFAPending(ctx context.Context, p *MFAPending) error
	// MFAPending returns the pending sign-in with this token hash
	// (ErrNotFound), expired or not.
	MFAPending(ctx context.Context, tokenHash string) (*MFAPending, error)
	// SetMFAPendingSecret sets the Secret of the pending sign-in
	// (ErrNotFound if there is none), replacing one set before.
	SetMFAPendingSecret(ctx context.Context, tokenHash, secret string) error
	// AttemptMFAPending counts one attempt on the pending sign-in and
	// returns it as stored after the count, if its Attempts are below
	// limit; otherwise, or if there is none, it is ErrNotFound and nothing
	// changes. Of concurrent callers, no more than limit ever get it.
	AttemptMFAPending(ctx context.Context, tokenHash string, limit int) (*MFAPending, error)
	// ConsumeMFAPending returns and deletes the pending sign-in: of any
	// number of concurrent callers, at most one gets it (ErrNotFound for
	// the others and for an unknown hash).
	ConsumeMFAPending(ctx context.Context, tokenHash string) (*MFAPending, error)

	// MFAEnrollment returns the member's enrollment (ErrNotFound).
	MFAEnrollment(ctx context.Context, orgID, userID string) (*MFAEnrollment, error)
	// CreateMFAEnrollment stores e if the member has none; if they have
	// one, it is ErrDuplicateID and nothing changes. A nil e, or one
	// without OrgID or UserID, is ErrInvalidArgument.
	CreateMFAEnrollment(ctx context.Context, e *MFAEnrollment) error
	// DeleteMFAEnrollment removes the member's enrollment and attempt
	// count (ErrNotFound when there is no enrollment; the count goes
	// regardless).
	DeleteMFAEnrollment(ctx context.Context, orgID, userID string) error
	// UseMFAStep records step as the member's LastStep if it is later than
	// the one stored; if it is not, it is ErrReplay and nothing changes.
	// ErrNotFound without an enrollment.
	UseMFAStep(ctx context.Context, orgID, userID string, step int64) error
	// UseMFARecoveryCode removes codeHash from the member's
	// RecoveryHashes; ErrNotFound if it is not there (used, or never
	// issued) or there is no enrollment.
	UseMFARecoveryCode(ctx context.Context, orgID, userID, codeHash string) error
	// RestoreMFAStep gives back the TOTP step that UseMFAStep recorded for
	// a verification that then made no session: if the member's
	// enrollment has RecoverySalt recoverySalt (the enrollment the step was
	// used on: it names an enrollment, random per enrollment) and LastStep
	// is step, LastStep becomes step-1, so that step is accepted again and
	// every earlier one stays refused. When LastStep is another step (a
	// later one used meanwhile) nothing changes and it is no error.
	// ErrNotFound when the member has no enrollment with that salt (reset
	// meanwhile).
	RestoreMFAStep(ctx context.Context, orgID, userID, recoverySalt string, step int64) error
	// RestoreMFARecoveryCode gives back a recovery code that
	// UseMFARecoveryCode removed for a verification that then made no
	// session: codeHash is added (last) to the RecoveryHashes of the
	// member's enrollment if its RecoverySalt is recoverySalt and the hash
	// is not there already (then nothing changes; no error). ErrNotFound
	// when the member has no enrollment with that salt (reset meanwhile:
	// nothing is added to another enrollment). An empty codeHash is
	// ErrInvalidArgument.
	RestoreMFARecoveryCode(ctx context.Context, orgID, userID, recoverySalt, codeHash string) error

	// CountMFAAttempt counts one attempt of the member's and returns the
	// count of their current window and when it ends: the window is the
	// stored one if it ends after now, else a new one ending at until
	// (whose count starts at 1).
	CountMFAAttempt(ctx context.Context, orgID, userID string, now, until time.Time) (int, time.Time, error)
	// ClearMFAAttempts forgets the member's attempt count (none is not an
	// error).
	ClearMFAAttempts(ctx context.Context, orgID, userID string) error

	// DeleteExpiredMFA removes at most limit (≥ 1) entries: pending
	// sign-ins whose ExpiresAt is before now, attempt windows that ended
	// before now. It returns how many; fewer than limit means none was
	// left. A limit below 1 is ErrInvalidArgument.
	DeleteExpiredMFA(ctx context.Context, now time.Time, limit int) (int, error)
}
