package sso

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/orgsso/orgsso/session"
)

// BeginTOTPEnrollment starts enrolling an authenticator app for the member
// of a pending sign-in who has no second factor yet (ErrMFAEnrolled if they
// have): it draws a TOTP secret, keeps it with the pending sign-in (sealed
// with Config.SecretKey when set) and returns what the app needs. Calling
// it again draws a new secret, which replaces the first. An unknown,
// expired, used or used-up token is ErrMFAToken.
func (s *Service) BeginTOTPEnrollment(ctx context.Context, token string) (*TOTPEnrollment, error) {
	p, err := s.pendingToEnroll(ctx, token, "reset the member's second factor (ResetMFA) to enroll another")
	if err != nil {
		return nil, err
	}
	key, err := s.newTOTPKey(p.Email)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealMFASecret(p.OrgID, p.UserID, key.Secret())
	if err != nil {
		return nil, err
	}
	err = s.do(ctx, "SetMFAPendingSecret", func(ctx context.Context) error {
		return s.mfa.SetMFAPendingSecret(ctx, p.TokenHash, sealed)
	})
	switch {
	case isNotFound(err):
		return nil, mfaErr(ErrMFAToken, "used while enrolling")
	case err != nil:
		return nil, err
	}
	return enrollmentOf(key), nil
}

// pendingToEnroll returns the pending sign-in of token if its member has
// no second factor yet; ErrMFAEnrolled (saying why it matters) if they
// have.
func (s *Service) pendingToEnroll(ctx context.Context, token, ifEnrolled string) (*MFAPending, error) {
	p, err := s.pending(ctx, token, false)
	if err != nil {
		return nil, err
	}
	switch enrolled, err := s.enrolled(ctx, p.OrgID, p.UserID); {
	case err != nil:
		return nil, err
	case enrolled:
		return nil, mfaErr(ErrMFAEnrolled, ifEnrolled)
	}
	return p, nil
}

// PendingTOTPEnrollment returns again the enrollment BeginTOTPEnrollment
// began with this token, the same secret and URL, for an enrollment page
// shown again (a reload, a wrong code): the member keeps the entry their
// app already holds. ErrMFANotEnrolled when none was begun; ErrMFAEnrolled
// when the member has a second factor already; ErrMFAToken for an unknown,
// expired, used or used-up token.
func (s *Service) PendingTOTPEnrollment(ctx context.Context, token string) (*TOTPEnrollment, error) {
	p, err := s.pendingToEnroll(ctx, token, "the member enrolled meanwhile")
	if err != nil {
		return nil, err
	}
	if p.Secret == "" {
		return nil, mfaErr(ErrMFANotEnrolled, "no enrollment begun with this sign-in (BeginTOTPEnrollment)")
	}
	secret, err := s.openMFASecret(p.OrgID, p.UserID, p.Secret)
	if err != nil {
		return nil, err
	}
	key, err := s.totpKeyOf(p.Email, secret)
	if err != nil {
		return nil, err
	}
	return enrollmentOf(key), nil
}

// ConfirmTOTPEnrollment completes the enrollment BeginTOTPEnrollment began
// with a code the app shows now: the member's second factor is stored, the
// pending sign-in consumed, and the session made as the sign-in would have
// made it (Result as from HandleACS, with the cookie that clears the MFA
// cookie in ClearCookies). It returns RecoveryCodeCount recovery codes to
// show the member once: orgsso keeps only their hashes.
//
// A wrong code is an *MFAError wrapping ErrMFACode (and ErrMFAToken once
// the token has tried MFACodeAttempts codes); ErrMFALocked after
// MFAMemberAttempts codes of the member's within MFALockWindow;
// ErrMFANotEnrolled before BeginTOTPEnrollment; ErrMFAEnrolled if the member
// enrolled meanwhile (another tab).
func (s *Service) ConfirmTOTPEnrollment(ctx context.Context, token, code string) (*Result, []string, error) {
	p, err := s.pending(ctx, token, true)
	if err != nil {
		return nil, nil, err
	}
	if p.Secret == "" {
		return nil, nil, mfaErr(ErrMFANotEnrolled, "no enrollment begun with this sign-in (BeginTOTPEnrollment)")
	}
	switch enrolled, err := s.enrolled(ctx, p.OrgID, p.UserID); {
	case err != nil:
		return nil, nil, err
	case enrolled:
		return nil, nil, mfaErr(ErrMFAEnrolled, "the member enrolled meanwhile")
	}
	a, err := s.countAttempt(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	secret, err := s.openMFASecret(p.OrgID, p.UserID, p.Secret)
	if err != nil {
		return nil, nil, err
	}
	code = normalizeCode(code)
	step, ok := int64(0), false
	if isTOTPCode(code) {
		step, ok = matchTOTP(secret, code, s.now())
	}
	if !ok {
		return nil, nil, s.mfaFailed(ctx, p, a, ErrMFACode, "wrong code confirming the enrollment")
	}
	codes, salt, hashes, err := s.newRecoveryCodes()
	if err != nil {
		return nil, nil, err
	}
	org, m, consumed, err := s.consumePending(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	e := &MFAEnrollment{OrgID: p.OrgID, UserID: p.UserID, Secret: p.Secret, LastStep: step,
		RecoverySalt: salt, RecoveryHashes: hashes, CreatedAt: s.now()}
	err = s.do(ctx, "CreateMFAEnrollment", func(ctx context.Context) error { return s.mfa.CreateMFAEnrollment(ctx, e) })
	switch {
	case errors.Is(err, ErrDuplicateID):
		return nil, nil, mfaErr(ErrMFAEnrolled, "the member enrolled meanwhile")
	case err != nil:
		s.restorePending(ctx, consumed)
		return nil, nil, err
	}
	res, err := s.mfaSession(ctx, p, org, m)
	if err != nil {
		// As VerifyMFA gives its factor back: no enrollment whose recovery
		// codes nobody saw, and the pending sign-in back, so the member may
		// confirm again (a failure may be ctx's own: undo regardless).
		uctx := context.WithoutCancel(ctx)
		if derr := s.do(uctx, "DeleteMFAEnrollment", func(ctx context.Context) error {
			return s.mfa.DeleteMFAEnrollment(ctx, p.OrgID, p.UserID)
		}); derr != nil {
			s.log.WarnContext(ctx, "orgsso: could not undo an MFA enrollment whose sign-in failed; reset it (ResetMFA)",
				"org", p.OrgID, "user", p.UserID, "err", derr.Error())
		}
		s.restorePending(ctx, consumed)
		return nil, nil, err
	}
	s.clearAttempts(ctx, p)
	s.emit(ctx, Event{Type: EventMFAEnrolled, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, Detail: "authenticator app (TOTP)"})
	s.signedIn(ctx, res, "second factor enrolled")
	return res, codes, nil
}

// VerifyMFA checks the second factor of a pending sign-in: a TOTP code of
// the member's authenticator app (six digits; the current one, or one step
// early or late, never one of a step already used: ErrMFAReplay), or one of
// their recovery codes (each works once). On success the pending sign-in is
// consumed and the session made as the sign-in would have made it (Result as
// from HandleACS; ClearCookies holds the cookie that clears the MFA cookie).
// Of concurrent verifications of one token, at most one makes a session.
// A verification that makes no session spends no factor: a recovery code
// or TOTP step it used is given back, whatever failed after the code was
// found right.
//
// A wrong code is an *MFAError wrapping ErrMFACode (and ErrMFAToken once
// the token has tried MFACodeAttempts codes: sign in again); ErrMFALocked
// after MFAMemberAttempts codes of the member's within MFALockWindow,
// whatever the token; ErrMFANotEnrolled for a member without a second
// factor; ErrMFAToken for an unknown, expired or used token.
func (s *Service) VerifyMFA(ctx context.Context, token, code string) (*Result, error) {
	// The order, so that a failed verification leaves nothing spent but its
	// counted attempt:
	//  1. Count the attempt (the token's, then the member's) before the
	//     code is looked at: every guess counts, concurrent ones too.
	//  2. Check the code against the enrollment as read, spending nothing:
	//     a wrong code, or a step already used, fails here and leaves the
	//     pending sign-in for the member to type again.
	//  3. Consume the pending sign-in (single use) and check that its
	//     session may still be made (SSO on in the same epoch, the member
	//     still the member). A refusal here spends no factor.
	//  4. Spend the factor, in one atomic store step (UseMFAStep,
	//     UseMFARecoveryCode): of concurrent verifications with one code,
	//     one wins. A loser (its code was right when read in 2) gets its
	//     pending sign-in back, as a wrong code would have left it.
	//  5. Make the session. If that fails, the factor and the pending
	//     sign-in are given back (RestoreMFAStep, RestoreMFARecoveryCode,
	//     CreateMFAPending): the member may try again.
	p, err := s.pending(ctx, token, true)
	if err != nil {
		return nil, err
	}
	e, err := s.loadEnrollment(ctx, p.OrgID, p.UserID)
	switch {
	case isNotFound(err):
		return nil, mfaErr(ErrMFANotEnrolled, "the member has not enrolled a second factor")
	case err != nil:
		return nil, err
	}
	a, err := s.countAttempt(ctx, p)
	if err != nil {
		return nil, err
	}
	f, err := s.checkFactor(ctx, p, a, e, code)
	if err != nil {
		return nil, err
	}
	org, m, consumed, err := s.consumePending(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.spendFactor(ctx, p, a, f); err != nil {
		s.restorePending(ctx, consumed)
		return nil, err
	}
	res, err := s.mfaSession(ctx, p, org, m)
	if err != nil {
		s.giveBackFactor(ctx, p, e, f)
		s.restorePending(ctx, consumed)
		return nil, err
	}
	s.clearAttempts(ctx, p)
	s.emit(ctx, Event{Type: EventMFAVerified, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, Detail: f.detail})
	s.signedIn(ctx, res, "")
	return res, nil
}

// factor is a code VerifyMFA found right, not yet spent: a TOTP step, or
// the hash of a recovery code.
type factor struct {
	step     int64  // the TOTP step, when codeHash is ""
	codeHash string // the recovery code's hash
	detail   string // for the event
}

// checkFactor checks code against the enrollment e as read, and spends
// nothing: a wrong code, a TOTP step not later than the last used (a
// replay) or a recovery code not among the unused is refused as attempt a.
func (s *Service) checkFactor(ctx context.Context, p *MFAPending, a attempt, e *MFAEnrollment, code string) (factor, error) {
	code = normalizeCode(code)
	if isTOTPCode(code) {
		secret, err := s.openMFASecret(p.OrgID, p.UserID, e.Secret)
		if err != nil {
			return factor{}, err
		}
		step, ok := matchTOTP(secret, code, s.now())
		switch {
		case !ok:
			return factor{}, s.mfaFailed(ctx, p, a, ErrMFACode, "wrong TOTP code")
		case step <= e.LastStep:
			return factor{}, s.mfaFailed(ctx, p, a, ErrMFAReplay, "a TOTP code of a time step already used")
		}
		return factor{step: step, detail: "authenticator app (TOTP)"}, nil
	}
	rc, ok := recoveryCandidate(code)
	salt, serr := hex.DecodeString(e.RecoverySalt)
	if !ok || serr != nil {
		return factor{}, s.mfaFailed(ctx, p, a, ErrMFACode, "not a TOTP code or a recovery code")
	}
	h := recoveryHash(salt, rc)
	unused := 0
	for _, u := range e.RecoveryHashes {
		unused |= subtle.ConstantTimeCompare([]byte(u), []byte(h))
	}
	if unused == 0 {
		return factor{}, s.mfaFailed(ctx, p, a, ErrMFACode, "wrong or used recovery code")
	}
	return factor{codeHash: h, detail: "recovery code"}, nil
}

// spendFactor uses up f in one atomic store step. Another verification
// that spent it since checkFactor read the enrollment wins: this one is
// refused as attempt a.
func (s *Service) spendFactor(ctx context.Context, p *MFAPending, a attempt, f factor) error {
	if f.codeHash == "" {
		err := s.do(ctx, "UseMFAStep", func(ctx context.Context) error { return s.mfa.UseMFAStep(ctx, p.OrgID, p.UserID, f.step) })
		switch {
		case errors.Is(err, ErrReplay):
			return s.mfaFailed(ctx, p, a, ErrMFAReplay, "a TOTP code of a time step already used")
		case isNotFound(err):
			return mfaErr(ErrMFANotEnrolled, "the member's second factor was reset meanwhile")
		}
		return err
	}
	err := s.do(ctx, "UseMFARecoveryCode", func(ctx context.Context) error {
		return s.mfa.UseMFARecoveryCode(ctx, p.OrgID, p.UserID, f.codeHash)
	})
	if isNotFound(err) {
		return s.mfaFailed(ctx, p, a, ErrMFACode, "wrong or used recovery code")
	}
	return err
}

// giveBackFactor gives back f, spent from the enrollment e by a
// verification that then made no session. It runs even when ctx is done
// (the failure may be its cancellation), and only logs a failure: the
// verification's own error is what the caller returns.
func (s *Service) giveBackFactor(ctx context.Context, p *MFAPending, e *MFAEnrollment, f factor) {
	ctx = context.WithoutCancel(ctx)
	op, err := "RestoreMFAStep", error(nil)
	if f.codeHash == "" {
		err = s.do(ctx, op, func(ctx context.Context) error {
			return s.mfa.RestoreMFAStep(ctx, p.OrgID, p.UserID, e.RecoverySalt, f.step)
		})
	} else {
		op = "RestoreMFARecoveryCode"
		err = s.do(ctx, op, func(ctx context.Context) error {
			return s.mfa.RestoreMFARecoveryCode(ctx, p.OrgID, p.UserID, e.RecoverySalt, f.codeHash)
		})
	}
	if err != nil && !isNotFound(err) { // not found: the factor was reset meanwhile, nothing to give back
		s.log.WarnContext(ctx, "orgsso: could not give back the second factor of a verification that made no session",
			"op", op, "org", p.OrgID, "user", p.UserID, "err", err.Error())
	}
}

// restorePending stores again the pending sign-in consumePending consumed
// (as it was then: its attempts stay counted), for a verification that
// failed after consuming it for a reason the member may retry. Like
// giveBackFactor it runs even when ctx is done and only logs a failure.
func (s *Service) restorePending(ctx context.Context, consumed *MFAPending) {
	ctx = context.WithoutCancel(ctx)
	if err := s.do(ctx, "CreateMFAPending", func(ctx context.Context) error { return s.mfa.CreateMFAPending(ctx, consumed) }); err != nil {
		s.log.WarnContext(ctx, "orgsso: could not restore a pending MFA sign-in; the member signs in again",
			"org", consumed.OrgID, "user", consumed.UserID, "err", err.Error())
	}
}

// attempt is one counted attempt of a code.
type attempt struct {
	left      int       // codes the token may try after this one
	windowEnd time.Time // the end of the member's attempt window
	last      bool      // this is the member's last attempt in the window
}

// countAttempt counts an attempt of the member's, before its code is
// looked at, so that concurrent guesses all count and none is checked past
// the limit: ErrMFALocked once the member has tried MFAMemberAttempts codes
// in the window.
func (s *Service) countAttempt(ctx context.Context, p *MFAPending) (attempt, error) {
	now := s.now()
	a := attempt{left: max(MFACodeAttempts-p.Attempts, 0)}
	var n int
	err := s.do(ctx, "CountMFAAttempt", func(ctx context.Context) (err error) {
		n, a.windowEnd, err = s.mfa.CountMFAAttempt(ctx, p.OrgID, p.UserID, now, now.Add(MFALockWindow))
		return err
	})
	if err != nil {
		return a, err
	}
	if n > MFAMemberAttempts {
		e := &MFAError{Err: ErrMFALocked, Reason: "the member tried too many codes", AttemptsLeft: a.left, LockedUntil: a.windowEnd}
		s.emit(ctx, Event{Type: EventMFAFailed, OrgID: p.OrgID, Email: p.Email, UserID: p.UserID, Err: e, Detail: "locked: too many codes tried"})
		return a, e
	}
	a.last = n == MFAMemberAttempts
	return a, nil
}

// mfaFailed reports a refused code of attempt a and returns its error.
func (s *Service) mfaFailed(ctx context.Context, p *MFAPending, a attempt, sentinel error, reason string) error {
	e := &MFAError{Err: sentinel, Reason: reason, AttemptsLeft: a.left}
	if a.last {
		e.LockedUntil = a.windowEnd
	}
	s.emit(ctx, Event{Type: EventMFAFailed, OrgID: p.OrgID, Email: p.Email, UserID: p.UserID, Err: e, Detail: reason})
	return e
}

// clearAttempts forgets the member's attempts after a correct code; a
// failure only leaves them to expire.
func (s *Service) clearAttempts(ctx context.Context, p *MFAPending) {
	if err := s.do(ctx, "ClearMFAAttempts", func(ctx context.Context) error {
		return s.mfa.ClearMFAAttempts(ctx, p.OrgID, p.UserID)
	}); err != nil {
		s.log.WarnContext(ctx, "orgsso: could not clear a member's MFA attempts", "org", p.OrgID, "user", p.UserID, "err", err.Error())
	}
}

// consumePending uses up the pending sign-in (single use: of concurrent
// callers one gets it, the others ErrMFAToken) and checks that the session
// it makes would be valid: the organization and connection still have SSO
// on in the same epoch, and the member is still the member. It returns the
// pending sign-in as consumed (for restorePending). A refusal leaves it
// consumed: it can never make a session. When the store cannot answer the
// checks, it is restored, and the member may try again.
func (s *Service) consumePending(ctx context.Context, p *MFAPending) (*Organization, *Member, *MFAPending, error) {
	consumed, err := get(s, ctx, "ConsumeMFAPending", func(ctx context.Context) (*MFAPending, error) {
		return s.mfa.ConsumeMFAPending(ctx, p.TokenHash)
	})
	switch {
	case isNotFound(err):
		return nil, nil, nil, mfaErr(ErrMFAToken, "used")
	case err != nil:
		return nil, nil, nil, err
	}
	org, m, err := s.pendingSessionAllowed(ctx, p)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			s.restorePending(ctx, consumed)
		}
		return nil, nil, nil, err
	}
	return org, m, consumed, nil
}

// pendingSessionAllowed checks that the session of the pending sign-in p
// would be valid now: the organization and connection have SSO on in the
// epoch of p, and the member of p's email is still p's user.
func (s *Service) pendingSessionAllowed(ctx context.Context, p *MFAPending) (*Organization, *Member, error) {
	org, err := s.loadOrg(ctx, p.OrgID)
	switch {
	case isNotFound(err):
		return nil, nil, ErrUnknownOrganization
	case err != nil:
		return nil, nil, err
	}
	conn, ok := org.connectionView(p.Connection)
	if !org.Enabled || !ok || !conn.Enabled || conn.sessionEpoch(org) != p.Epoch {
		return nil, nil, ErrSSODisabled
	}
	m, err := s.loadMember(ctx, org.ID, p.Email)
	switch {
	case isNotFound(err):
		return nil, nil, &denied{reason: errMemberGone.Error()}
	case err != nil:
		return nil, nil, err
	case m.UserID != p.UserID:
		return nil, nil, &denied{reason: "the member's user changed while signing in"}
	}
	return org, m, nil
}

// mfaSession makes the session of a sign-in that passed its second factor,
// from what the sign-in kept.
func (s *Service) mfaSession(ctx context.Context, p *MFAPending, org *Organization, m *Member) (*Result, error) {
	sess, token, err := s.startSession(ctx, session.Params{OrgID: org.ID, UserID: m.UserID, Method: session.MethodSSO,
		TTL: p.SessionTTL, Epoch: p.Epoch, Connection: p.Connection})
	if err != nil {
		return nil, err
	}
	return &Result{Org: org, Member: m, Identity: Identity{Email: m.Email, FirstName: m.FirstName, LastName: m.LastName},
		Session: sess, Token: token, ReturnTo: SafeReturnTo(p.ReturnTo), Connection: p.Connection,
		ClearCookies: []*http.Cookie{s.ClearMFACookie()}}, nil
}

// signedIn reports the session a sign-in made after its second factor.
func (s *Service) signedIn(ctx context.Context, res *Result, detail string) {
	s.emit(ctx, Event{Type: EventSignInSucceeded, OrgID: res.Org.ID, SSOName: res.Org.SSOName, Email: res.Member.Email,
		UserID: res.Member.UserID, NewRole: res.Member.OrgRole, Detail: detail})
}

// ResetMFA removes a member's second factor (a lost device): their next
// sign-in enrolls again. The owner may reset anyone's; an admin anyone's
// but the owner's (ErrNotOwner). A member without one is ErrNotFound. It
// emits EventMFAReset.
func (s *Service) ResetMFA(ctx context.Context, orgID, actorUserID, userID string) error {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, org, actorUserID, userID == org.OwnerID); err != nil {
		return err
	}
	if s.mfa == nil {
		return &StoreError{Op: "DeleteMFAEnrollment", Err: errNoMFAStore}
	}
	if userID == "" || len(userID) > MaxKeyBytes {
		return ErrNotFound
	}
	if err := s.do(ctx, "DeleteMFAEnrollment", func(ctx context.Context) error {
		return s.mfa.DeleteMFAEnrollment(ctx, orgID, userID)
	}); err != nil {
		return err
	}
	s.emit(ctx, Event{Type: EventMFAReset, OrgID: org.ID, SSOName: org.SSOName, UserID: userID, Actor: actorUserID,
		Detail: "second factor reset: the next sign-in enrolls again"})
	return nil
}

// MFAEnrolled reports whether the member with this user ID has a second
// factor, for the organization's member list. The owner and admins may ask
// about anyone; a user about themselves.
func (s *Service) MFAEnrolled(ctx context.Context, orgID, actorUserID, userID string) (bool, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return false, err
	}
	if userID == "" || userID != actorUserID {
		if err := s.authorize(ctx, org, actorUserID, false); err != nil {
			return false, err
		}
	}
	if s.mfa == nil {
		return false, &StoreError{Op: "MFAEnrollment", Err: errNoMFAStore}
	}
	if len(userID) > MaxKeyBytes {
		return false, nil
	}
	return s.enrolled(ctx, orgID, userID)
}
