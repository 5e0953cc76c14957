package sso_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// MFA after SSO (issue 12 part 2): the organization requires a second
// factor that orgsso checks, unless it trusts the IdP's own MFA. These
// tests run on the memory store; store/storetest holds every store to the
// MFAStore contract.

const kate = "kate@acme.example"

// mfaRequired is the policy of most tests: MFA required, the IdP's not
// trusted.
var mfaRequired = sso.MFAPolicy{Required: true}

// newMFAEnv is newEnv with the organization's MFA policy.
func newMFAEnv(t testing.TB, p sso.MFAPolicy) *env {
	t.Helper()
	return newEnv(t, func(o *sso.Organization) { o.MFA = p })
}

// now stamps a response at the Service's clock (the fixture IdP's own clock
// stays at testNow), asserting class as the AuthnContextClassRef.
func (e *env) now(class string) func(*ssotest.Response) {
	return func(r *ssotest.Response) {
		r.IssueInstant = e.clock.Now()
		r.AuthnContextClassRef = class
	}
}

// challenged signs kate in through the IdP (a password, no MFA asserted) and
// requires a challenge, no session.
func (e *env) challenged(t testing.TB) *sso.MFAChallenge {
	t.Helper()
	res, err := e.signIn(t, user(kate, "Contentstack Developers"), e.now(""))
	require.NoError(t, err)
	require.NotNil(t, res.MFA, "a sign-in that needs the second factor carries a challenge")
	require.Nil(t, res.Session, "and no session")
	require.Empty(t, res.Token)
	return res.MFA
}

// codeAt is the authenticator app's code for secret at t.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return c
}

// enroll runs a first sign-in with enrollment: challenge, begin, confirm
// with the app's current code. It returns the secret, the recovery codes
// and the result.
func (e *env) enroll(t testing.TB) (string, []string, *sso.Result) {
	t.Helper()
	ch := e.challenged(t)
	require.False(t, ch.Enrolled)
	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	res, codes, err := e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
	return en.Secret, codes, res
}

func TestMFAPolicyOffSignsInAsBefore(t *testing.T) {
	for _, p := range []sso.MFAPolicy{{}, {TrustIdP: true}, {IdPValues: []string{"mfa"}}} {
		e := newMFAEnv(t, p)
		res, err := e.signIn(t, user(kate, "Contentstack Developers"), nil)
		require.NoError(t, err)
		assert.Nil(t, res.MFA, "policy %+v", p)
		require.NotNil(t, res.Session, "policy %+v", p)
		assert.Empty(t, e.eventsOf(sso.EventMFAChallenged))
	}
}

// TestMFAPolicyDecidesSAML: whether a SAML sign-in needs the second factor
// here, by the policy and the AuthnContextClassRef the IdP signed.
func TestMFAPolicyDecidesSAML(t *testing.T) {
	for _, tt := range []struct {
		name      string
		policy    sso.MFAPolicy
		class     string // "" = PasswordProtectedTransport
		challenge bool
	}{
		{name: "required, password", policy: mfaRequired, challenge: true},
		{name: "required, IdP MFA, not trusted", policy: mfaRequired, class: ssotest.AuthnClassMobileTwoFactor, challenge: true},
		{name: "trusted IdP, MobileTwoFactorContract", policy: sso.MFAPolicy{Required: true, TrustIdP: true}, class: ssotest.AuthnClassMobileTwoFactor},
		{name: "trusted IdP, REFEDS MFA", policy: sso.MFAPolicy{Required: true, TrustIdP: true}, class: ssotest.AuthnClassREFEDSMFA},
		{name: "trusted IdP, Entra multipleauthn", policy: sso.MFAPolicy{Required: true, TrustIdP: true}, class: "http://schemas.microsoft.com/claims/multipleauthn"},
		{name: "trusted IdP, password only", policy: sso.MFAPolicy{Required: true, TrustIdP: true}, challenge: true},
		{name: "trusted IdP, class differs in case", policy: sso.MFAPolicy{Required: true, TrustIdP: true}, class: strings.ToUpper(ssotest.AuthnClassREFEDSMFA), challenge: true},
		{name: "own values, default class not among them", policy: sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"urn:acme:mfa"}}, class: ssotest.AuthnClassMobileTwoFactor, challenge: true},
		{name: "own values, asserted", policy: sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"urn:acme:mfa"}}, class: "urn:acme:mfa"},
		{name: "empty values trust nothing", policy: sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{}}, class: ssotest.AuthnClassMobileTwoFactor, challenge: true},
		{name: "not required, password", policy: sso.MFAPolicy{TrustIdP: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newMFAEnv(t, tt.policy)
			res, err := e.signIn(t, user(kate, "Contentstack Developers"), e.now(tt.class))
			require.NoError(t, err)
			if tt.challenge {
				require.NotNil(t, res.MFA)
				assert.Nil(t, res.Session)
				assert.Equal(t, kate, res.Member.Email, "the member is provisioned; the session waits")
				return
			}
			assert.Nil(t, res.MFA)
			require.NotNil(t, res.Session)
			_, err = e.svc.ValidateSession(ctx, res.Token)
			require.NoError(t, err)
		})
	}
}

// TestMFAPolicyDecidesOIDC: the same through an OIDC connection, by the
// amr values of the ID token.
func TestMFAPolicyDecidesOIDC(t *testing.T) {
	trusted := sso.MFAPolicy{Required: true, TrustIdP: true}
	for _, tt := range []struct {
		name      string
		policy    sso.MFAPolicy
		amr       any // nil: no amr claim
		challenge bool
	}{
		{name: "required, no amr", policy: mfaRequired, challenge: true},
		{name: "required, amr mfa, not trusted", policy: mfaRequired, amr: []string{"pwd", "mfa"}, challenge: true},
		{name: "trusted, Entra pwd+mfa", policy: trusted, amr: []string{"pwd", "mfa"}},
		{name: "trusted, Okta pwd+otp", policy: trusted, amr: []string{"pwd", "otp"}},
		{name: "trusted, hardware key", policy: trusted, amr: []string{"hwk"}},
		{name: "trusted, password only", policy: trusted, amr: []string{"pwd"}, challenge: true},
		{name: "trusted, no amr", policy: trusted, challenge: true},
		{name: "trusted, own values", policy: sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"sms"}}, amr: []string{"pwd", "sms"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newMFAEnv(t, tt.policy)
			op := withOIDC(t, e, true)
			rd := oidcStart(t, e, "okta")
			if tt.amr != nil {
				op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Claims: map[string]any{"amr": tt.amr}}})
			}
			cb, err := op.Login(rd.URL, oidcUser(kate, "Contentstack Developers"))
			require.NoError(t, err)
			res, err := callback(t, e, "okta", cb)
			require.NoError(t, err)
			if tt.challenge {
				require.NotNil(t, res.MFA)
				assert.Nil(t, res.Session)
				return
			}
			assert.Nil(t, res.MFA)
			require.NotNil(t, res.Session)
			assert.Equal(t, "okta", res.Session.Connection)
		})
	}
}

// TestMFAEnrollmentSignsIn: the first sign-in enrolls an authenticator app
// and ends with the session the sign-in would have made without MFA.
func TestMFAEnrollmentSignsIn(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	e.updateOrg(t, func(o *sso.Organization) { o.SessionTimeout = 2 * time.Hour })
	ch := e.challenged(t)
	assert.Equal(t, testNow.Add(sso.DefaultMFATokenTTL), ch.ExpiresAt)

	st, err := e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err)
	assert.Equal(t, &sso.MFAStatus{OrgID: e.org.ID, SSOName: "acme", Email: kate, AttemptsLeft: sso.MFACodeAttempts,
		ExpiresAt: ch.ExpiresAt, ReturnTo: "/dashboard"}, st)

	_, err = e.svc.VerifyMFA(ctx, ch.Token, "123456")
	require.ErrorIs(t, err, sso.ErrMFANotEnrolled, "a member without a factor enrolls first")
	_, _, err = e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, "123456")
	require.ErrorIs(t, err, sso.ErrMFANotEnrolled, "confirming needs a begun enrollment")

	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	key, err := otp.NewKeyFromURL(en.URL)
	require.NoError(t, err)
	assert.Equal(t, "totp", key.Type())
	assert.Equal(t, "app.example.com", key.Issuer())
	assert.Equal(t, kate, key.AccountName())
	assert.Equal(t, en.Secret, key.Secret())
	assert.Equal(t, otp.AlgorithmSHA1, key.Algorithm())
	assert.Equal(t, otp.DigitsSix, key.Digits())
	assert.Equal(t, uint64(30), key.Period())
	assert.Len(t, en.Secret, 32, "160 bits in base32")
	st, err = e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err)
	assert.True(t, st.EnrollmentBegun)

	res, codes, err := e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.NoError(t, err)
	require.Len(t, codes, sso.RecoveryCodeCount)
	seen := map[string]bool{}
	for _, c := range codes {
		assert.Regexp(t, `^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`, c)
		assert.False(t, seen[c], "recovery codes are distinct")
		seen[c] = true
	}
	require.NotNil(t, res.Session)
	assert.Equal(t, kate, res.Member.Email)
	assert.Equal(t, "/dashboard", res.ReturnTo)
	assert.Equal(t, sso.PrimaryConnection, res.Session.Connection)
	assert.Equal(t, e.org.SSOEpoch, res.Session.Epoch)
	assert.Equal(t, session.MethodSSO, res.Session.Method)
	assert.Equal(t, e.clock.Now().Add(2*time.Hour), res.Session.ExpiresAt, "the organization's session timeout")
	require.Len(t, res.ClearCookies, 1)
	assert.Equal(t, "__Host-"+sso.MFACookieName, res.ClearCookies[0].Name)
	assert.Equal(t, -1, res.ClearCookies[0].MaxAge)
	sess, err := e.svc.ValidateSession(ctx, res.Token)
	require.NoError(t, err)
	assert.Equal(t, res.Member.UserID, sess.UserID)

	for _, typ := range []sso.EventType{sso.EventMFAChallenged, sso.EventMFAEnrolled, sso.EventSignInSucceeded} {
		assert.Len(t, e.eventsOf(typ), 1, typ)
	}
	enrolled, err := e.svc.MFAEnrolled(ctx, e.org.ID, ownerID, res.Member.UserID)
	require.NoError(t, err)
	assert.True(t, enrolled)

	// The code that confirmed the enrollment is used: the next sign-in
	// within the same 30 seconds cannot use it again.
	ch2 := e.challenged(t)
	assert.True(t, ch2.Enrolled)
	_, err = e.svc.BeginTOTPEnrollment(ctx, ch2.Token)
	require.ErrorIs(t, err, sso.ErrMFAEnrolled, "a second enrollment needs ResetMFA")
	_, err = e.svc.VerifyMFA(ctx, ch2.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFAReplay)
	require.ErrorIs(t, err, sso.ErrMFACode)
	e.clock.Advance(30 * time.Second)
	res, err = e.svc.VerifyMFA(ctx, ch2.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
	assert.Len(t, e.eventsOf(sso.EventMFAVerified), 1)
}

// TestMFATOTPReplay: a code is accepted once, whichever token brings it,
// and an older code after a newer one is refused too.
func TestMFATOTPReplay(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	code := codeAt(t, secret, e.clock.Now())
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
	require.NoError(t, err)
	require.NotNil(t, res.Session)

	ch := e.challenged(t)
	_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
	require.ErrorIs(t, err, sso.ErrMFAReplay, "the same code on a new sign-in")
	_, err = e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now().Add(-30*time.Second)))
	require.ErrorIs(t, err, sso.ErrMFAReplay, "the previous step's code, though within the window")
	assert.Len(t, e.eventsOf(sso.EventMFAFailed), 2)
}

// TestMFAWindowEdges: a code one step early or late is accepted (clock
// drift), two steps off refused.
func TestMFAWindowEdges(t *testing.T) {
	for _, tt := range []struct {
		offset time.Duration
		ok     bool
	}{
		{-61 * time.Second, false}, {-60 * time.Second, false}, {-31 * time.Second, false}, {-30 * time.Second, true},
		{-time.Second, true}, {0, true}, {29 * time.Second, true}, {30 * time.Second, true}, {59 * time.Second, true},
		{60 * time.Second, false}, {90 * time.Second, false},
	} {
		t.Run(tt.offset.String(), func(t *testing.T) {
			e := newMFAEnv(t, mfaRequired)
			secret, _, _ := e.enroll(t)
			// Later, at the start of a time step (so that offsets count
			// whole steps from it).
			e.clock.Advance(10 * time.Minute)
			e.clock.Advance(-time.Duration(e.clock.Now().Unix()%30) * time.Second)
			_, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret, e.clock.Now().Add(tt.offset)))
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, sso.ErrMFACode)
				require.NotErrorIs(t, err, sso.ErrMFAReplay)
			}
		})
	}
}

// TestMFATokenExpires: the pending sign-in lives Config.MFATokenTTL; after
// that, nothing accepts its token.
func TestMFATokenExpires(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	e.clock.Advance(sso.DefaultMFATokenTTL - time.Nanosecond)
	_, err := e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err, "alive until ExpiresAt")
	e.clock.Advance(time.Nanosecond)
	_, err = e.svc.MFAState(ctx, ch.Token)
	require.ErrorIs(t, err, sso.ErrMFAToken)
	_, err = e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFAToken)
	assert.Equal(t, sso.CodeMFAToken, sso.ErrorCode(err))
	assert.Equal(t, http.StatusUnauthorized, sso.StatusCode(err))

	// Not for enrollment either.
	e2 := newMFAEnv(t, mfaRequired)
	ch = e2.challenged(t)
	en, err := e2.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	e2.clock.Advance(sso.DefaultMFATokenTTL)
	_, err = e2.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.ErrorIs(t, err, sso.ErrMFAToken)
	_, _, err = e2.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e2.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFAToken)

	// Cleanup removes the expired pending sign-in, after its instant.
	e2.clock.Advance(time.Nanosecond)
	n, err := e2.svc.Cleanup(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 1)
	sum := sha256.Sum256([]byte(ch.Token))
	_, err = e2.store.MFAPending(ctx, hex.EncodeToString(sum[:]))
	require.ErrorIs(t, err, sso.ErrNotFound)
}

// TestMFATokenSingleUse: a token that made its session is spent.
func TestMFATokenSingleUse(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	_, err := e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)
	for _, code := range []string{codeAt(t, secret, e.clock.Now()), codes[0]} {
		_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
		require.ErrorIs(t, err, sso.ErrMFAToken)
	}
	_, err = e.svc.MFAState(ctx, ch.Token)
	require.ErrorIs(t, err, sso.ErrMFAToken)
	// The refusals used nothing: the recovery code still works.
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codes[0])
	require.NoError(t, err)
	require.NotNil(t, res.Session)
}

// TestMFATokenAttemptLimit: five codes per token, wrong or not; then the
// token is dead, even for the right code.
func TestMFATokenAttemptLimit(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	for i := 1; i <= sso.MFACodeAttempts; i++ {
		_, err := e.svc.VerifyMFA(ctx, ch.Token, "000000")
		var me *sso.MFAError
		require.ErrorAs(t, err, &me)
		require.ErrorIs(t, err, sso.ErrMFACode)
		assert.Equal(t, sso.MFACodeAttempts-i, me.AttemptsLeft)
		assert.Equal(t, i == sso.MFACodeAttempts, errors.Is(err, sso.ErrMFAToken), "attempt %d", i)
	}
	_, err := e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFAToken, "the right code on a dead token")
	_, err = e.svc.MFAState(ctx, ch.Token)
	require.ErrorIs(t, err, sso.ErrMFAToken)
	assert.Len(t, e.eventsOf(sso.EventMFAFailed), sso.MFACodeAttempts)

	// A fresh sign-in works (the member's limit is 10).
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
}

// TestMFAMemberLock: ten wrong codes within 15 minutes, over any number
// of sign-ins, lock the member until the window ends; signing in again
// does not buy guesses.
func TestMFAMemberLock(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	start := e.clock.Now()
	var err error
	// Two tokens, five wrong codes each.
	for range 2 {
		ch := e.challenged(t)
		for range sso.MFACodeAttempts {
			_, err = e.svc.VerifyMFA(ctx, ch.Token, "000000")
			require.ErrorIs(t, err, sso.ErrMFACode)
		}
	}
	require.ErrorIs(t, err, sso.ErrMFALocked, "the tenth wrong code says the member is now locked")
	var me *sso.MFAError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, start.Add(sso.MFALockWindow), me.LockedUntil)

	// A third sign-in, with the right TOTP code or a recovery code: locked.
	ch := e.challenged(t)
	for _, code := range []string{codeAt(t, secret, e.clock.Now()), codes[0]} {
		_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
		require.ErrorIs(t, err, sso.ErrMFALocked)
		require.NotErrorIs(t, err, sso.ErrMFACode)
		assert.Equal(t, sso.CodeMFALocked, sso.ErrorCode(err))
		assert.Equal(t, http.StatusTooManyRequests, sso.StatusCode(err))
	}
	// Once the window has passed, the right code works again.
	e.clock.Advance(sso.MFALockWindow)
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
}

// TestMFAConcurrentGuessesAllCount: parallel wrong guesses at one member
// all count (no read-modify-write), so no more than the limit are ever
// checked, whatever the interleaving.
func TestMFAConcurrentGuessesAllCount(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	e.enroll(t)
	e.clock.Advance(time.Minute)
	var tokens []string
	for range 4 {
		tokens = append(tokens, e.challenged(t).Token)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked, locked, dead := 0, 0, 0
	for _, tok := range tokens {
		for range sso.MFACodeAttempts + 1 {
			wg.Go(func() {
				_, err := e.svc.VerifyMFA(ctx, tok, "000000")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, sso.ErrMFALocked) && !errors.Is(err, sso.ErrMFACode):
					locked++
				case errors.Is(err, sso.ErrMFACode):
					checked++
				case errors.Is(err, sso.ErrMFAToken):
					dead++
				default:
					t.Errorf("VerifyMFA() err = %v", err)
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, sso.MFAMemberAttempts, checked, "exactly the member's limit of codes were checked")
	assert.Equal(t, 4*(sso.MFACodeAttempts+1), checked+locked+dead)
	assert.Equal(t, 4, dead, "each token refused its sixth attempt")
}

// TestMFARecoveryCodes: each recovery code signs in once, typed as people
// type it.
func TestMFARecoveryCodes(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	_, codes, _ := e.enroll(t)
	for i, typed := range []string{codes[0], strings.ToLower(codes[1]), strings.ReplaceAll(codes[2], "-", ""), " " + strings.ReplaceAll(codes[3], "-", " ") + " "} {
		res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, typed)
		require.NoError(t, err, "code %d typed %q", i, typed)
		require.NotNil(t, res.Session)
	}
	assert.Len(t, e.eventsOf(sso.EventMFAVerified), 4)
	assert.Equal(t, "recovery code", e.eventsOf(sso.EventMFAVerified)[0].Detail)
	_, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codes[0])
	require.ErrorIs(t, err, sso.ErrMFACode, "a used recovery code")
	_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, "AAAA-AAAA-AAAA-AAAA")
	require.ErrorIs(t, err, sso.ErrMFACode, "a code never issued")
	_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, strings.Repeat("A", 10000))
	require.ErrorIs(t, err, sso.ErrMFACode, "garbage")
}

// TestMFAConcurrentVerifyOneSession: many concurrent verifications of one
// token, with the right TOTP code and with recovery codes, make exactly
// one session.
func TestMFAConcurrentVerifyOneSession(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	code := codeAt(t, secret, e.clock.Now())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sessions []*session.Session
	for i := range 4 {
		for _, c := range []string{code, codes[i]} {
			wg.Go(func() {
				res, err := e.svc.VerifyMFA(ctx, ch.Token, c)
				if err == nil {
					mu.Lock()
					sessions = append(sessions, res.Session)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	require.Len(t, sessions, 1, "exactly one session per token")
	list, _, err := e.svc.Sessions(ctx, e.org.ID, ownerID, sessions[0].UserID, "", 0)
	require.NoError(t, err)
	assert.Len(t, list, 2, "the enrollment's session and this one")
}

// TestMFANoPathWithoutFactor: for an organization that requires MFA, no
// public method yields a session without a valid second factor: every
// sign-in path (HandleACS SP- and IdP-initiated, HandleConnectionACS,
// HandleCallback) stops at the challenge; a Test SSO makes no session; the
// MFA methods refuse wrong, replayed, missing or foreign factors; the
// intermediate token is no session token; and a store without MFAStore
// refuses the sign-in. (The password-login helper is helper H's, outside
// this policy: MFA applies to SSO sign-ins.)
func TestMFANoPathWithoutFactor(t *testing.T) {
	noSession := func(t *testing.T, e *env, res *sso.Result, err error) {
		t.Helper()
		if err == nil && res != nil {
			require.Nil(t, res.Session)
			require.Empty(t, res.Token)
		}
		list, _, lerr := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
		require.NoError(t, lerr)
		assert.Empty(t, list, "no session in the store")
	}
	t.Run("HandleACS", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		res, err := e.signIn(t, user(kate, "Contentstack Developers"), e.now(ssotest.AuthnClassMobileTwoFactor))
		require.NoError(t, err)
		require.NotNil(t, res.MFA)
		noSession(t, e, res, err)
		assert.Nil(t, e.svc.SessionCookie(res))
	})
	t.Run("IdP-initiated", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		e.updateOrg(t, func(o *sso.Organization) { o.AllowIdPInitiated = true })
		posted, err := e.idp.Response(e.resp("", user(kate, "Contentstack Developers"), e.now("")))
		require.NoError(t, err)
		res, err := e.post(t, posted, "")
		require.NoError(t, err)
		require.NotNil(t, res.MFA)
		noSession(t, e, res, err)
	})
	t.Run("HandleConnectionACS", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		idp := contosoIdP(t)
		withContoso(t, e, idp)
		res, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso"}, "contoso", user("lee@contoso.example", "Contentstack Developers"))
		require.NoError(t, err)
		require.NotNil(t, res.MFA)
		noSession(t, e, res, err)
	})
	t.Run("HandleCallback", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		op := withOIDC(t, e, true)
		rd := oidcStart(t, e, "okta")
		op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Claims: map[string]any{"amr": []string{"mfa"}}}})
		cb, err := op.Login(rd.URL, oidcUser(kate, "Contentstack Developers"))
		require.NoError(t, err)
		res, err := callback(t, e, "okta", cb)
		require.NoError(t, err)
		require.NotNil(t, res.MFA)
		noSession(t, e, res, err)
	})
	t.Run("Test SSO", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		rd := e.startTest(t)
		posted, err := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail), e.now("")))
		require.NoError(t, err)
		res, err := e.post(t, posted, relayOf(t, rd))
		require.NoError(t, err)
		require.NotNil(t, res.Test)
		assert.Nil(t, res.MFA)
		noSession(t, e, res, err)
		assert.Contains(t, res.Test.MFA, "did not assert multi-factor")
		assert.Contains(t, res.Test.MFA, "every member will be asked for a second factor")
	})
	t.Run("the token is no session", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		ch := e.challenged(t)
		_, err := e.svc.ValidateSession(ctx, ch.Token)
		require.ErrorIs(t, err, session.ErrUnknownSession)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: e.svc.SessionCookieName(), Value: ch.Token})
		_, err = e.svc.SessionFromRequest(r)
		require.ErrorIs(t, err, session.ErrUnknownSession)
		noSession(t, e, nil, nil)
	})
	t.Run("wrong, foreign and missing factors", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		_, codes, _ := e.enroll(t)
		// Another member's enrollment: their codes are not kate's.
		e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-lee", Email: "lee@acme.example", OrgRole: rolemap.RoleMember})
		res, err := e.signIn(t, user("lee@acme.example", "Contentstack Developers"), e.now(""))
		require.NoError(t, err)
		en, err := e.svc.BeginTOTPEnrollment(ctx, res.MFA.Token)
		require.NoError(t, err)
		_, leeCodes, err := e.svc.ConfirmTOTPEnrollment(ctx, res.MFA.Token, codeAt(t, en.Secret, e.clock.Now()))
		require.NoError(t, err)
		e.clock.Advance(time.Minute)
		before := len(e.eventsOf(sso.EventSignInSucceeded))
		ch := e.challenged(t)
		for _, code := range []string{"", "12345", "1234567", "abcdef", codeAt(t, en.Secret, e.clock.Now()), leeCodes[0], codes[0] + "A"} {
			res, err := e.svc.VerifyMFA(ctx, ch.Token, code)
			require.Error(t, err, "code %q", code)
			assert.Nil(t, res)
			ch = e.challenged(t) // a fresh token each time: the per-token limit is not the subject
		}
		_, _, err = e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
		require.ErrorIs(t, err, sso.ErrMFANotEnrolled, "no enrollment begun with this token")
		for _, tok := range []string{"", "nope", strings.Repeat("x", 5000)} {
			_, err := e.svc.VerifyMFA(ctx, tok, codes[1])
			require.ErrorIs(t, err, sso.ErrMFAToken)
		}
		assert.Equal(t, before, len(e.eventsOf(sso.EventSignInSucceeded)))
	})
	t.Run("store without MFAStore", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: noMFAStore{e.store}, Sessions: e.sessions,
			Now: e.clock.Now, Rand: mrand.NewChaCha8([32]byte{7})})
		require.NoError(t, err)
		e.svc = svc
		res, err := e.signIn(t, user(kate, "Contentstack Developers"), e.now(""))
		require.ErrorIs(t, err, sso.ErrUnavailable)
		assert.Nil(t, res)
		noSession(t, e, res, nil)
		// The organizations that do not require MFA sign in as before.
		e.updateOrg(t, func(o *sso.Organization) { o.MFA = sso.MFAPolicy{} })
		res, err = e.signIn(t, user(kate, "Contentstack Developers"), e.now(""))
		require.NoError(t, err)
		require.NotNil(t, res.Session)
	})
}

// noMFAStore is the memory store without MFAStore.
type noMFAStore struct{ *memory.Store }

func (noMFAStore) CreateMFAPending() {} // shadows the method: not an sso.MFAStore

// TestMFAChallengeAfterDisable: a pending sign-in of an organization that
// disabled SSO meanwhile makes no session.
func TestMFAChallengeAfterDisable(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	require.NoError(t, e.svc.Disable(ctx, e.org.ID, ownerID))
	_, err := e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrSSODisabled)
}

// TestMFAReset: the owner resets anyone's second factor, an admin anyone's
// but the owner's; the member enrolls again at the next sign-in.
func TestMFAReset(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	_, _, res := e.enroll(t)
	kateID := res.Member.UserID
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-admin", Email: "admin@acme.example", OrgRole: rolemap.RoleAdmin})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-member", Email: "member@acme.example", OrgRole: rolemap.RoleMember})
	for _, tt := range []struct {
		actor, user string
		wantErr     error
	}{
		{"u-member", kateID, sso.ErrNotAdmin},
		{kateID, kateID, sso.ErrNotAdmin},
		{"u-admin", ownerID, sso.ErrNotOwner},
		{"", kateID, sso.ErrNotAdmin},
		{"u-admin", "u-nobody", sso.ErrNotFound},
		{"u-admin", kateID, nil},
		{ownerID, kateID, sso.ErrNotFound},
	} {
		err := e.svc.ResetMFA(ctx, e.org.ID, tt.actor, tt.user)
		if tt.wantErr == nil {
			require.NoError(t, err, "%s resets %s", tt.actor, tt.user)
		} else {
			require.ErrorIs(t, err, tt.wantErr, "%s resets %s", tt.actor, tt.user)
		}
	}
	resets := e.eventsOf(sso.EventMFAReset)
	require.Len(t, resets, 1)
	assert.Equal(t, "u-admin", resets[0].Actor)
	assert.Equal(t, kateID, resets[0].UserID)

	_, err := e.svc.MFAEnrolled(ctx, e.org.ID, "u-member", kateID)
	require.ErrorIs(t, err, sso.ErrNotAdmin)
	enrolled, err := e.svc.MFAEnrolled(ctx, e.org.ID, kateID, kateID)
	require.NoError(t, err)
	assert.False(t, enrolled)
	e.clock.Advance(time.Minute)
	_, _, res = e.enroll(t)
	assert.Equal(t, kateID, res.Member.UserID)
}

// TestMFACookie: the intermediate token travels only in an HttpOnly,
// SameSite=Lax cookie, __Host- and Secure on https.
func TestMFACookie(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	res, err := e.signIn(t, user(kate, "Contentstack Developers"), e.now(""))
	require.NoError(t, err)
	c := e.svc.MFACookie(res)
	require.NotNil(t, c)
	assert.Equal(t, "__Host-orgsso_mfa", c.Name)
	assert.Equal(t, res.MFA.Token, c.Value)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.True(t, c.HttpOnly)
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, int(sso.DefaultMFATokenTTL/time.Second), c.MaxAge)
	r := httptest.NewRequest(http.MethodGet, "/mfa", nil)
	r.AddCookie(c)
	assert.Equal(t, res.MFA.Token, e.svc.MFAToken(r))
	r = httptest.NewRequest(http.MethodGet, "/mfa", nil)
	r.AddCookie(&http.Cookie{Name: "orgsso_mfa", Value: res.MFA.Token})
	assert.Empty(t, e.svc.MFAToken(r), "on https only the __Host- cookie counts")
	assert.Nil(t, e.svc.MFACookie(&sso.Result{}))
	assert.Nil(t, e.svc.MFACookie(nil))

	svc, err := sso.New(sso.Config{BaseURL: "http://localhost:8080", Store: e.store, Sessions: e.sessions, Now: e.clock.Now})
	require.NoError(t, err)
	c = svc.MFACookie(res)
	assert.Equal(t, "orgsso_mfa", c.Name)
	assert.False(t, c.Secure)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	clear := svc.ClearMFACookie()
	assert.Equal(t, "orgsso_mfa", clear.Name)
	assert.Equal(t, -1, clear.MaxAge)
}

// TestMFASecretsStayOut: the intermediate token, TOTP secret and codes never
// reach logs, events or a printed value.
func TestMFASecretsStayOut(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	ch := e.challenged(t)
	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	code := codeAt(t, en.Secret, e.clock.Now())
	_, err = e.svc.VerifyMFA(ctx, ch.Token, "999999")
	require.Error(t, err)
	res, codes, err := e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, code)
	require.NoError(t, err)
	printed := fmt.Sprint(ch, en, res) + fmt.Sprintf("%v %+v %#v %#v", ch, en, ch, en)
	e.mu.Lock()
	for _, ev := range e.events {
		printed += fmt.Sprintf("%+v", ev)
	}
	e.mu.Unlock()
	printed += e.logs.String()
	for _, secret := range append([]string{ch.Token, en.Secret, en.URL, code}, codes...) {
		assert.NotContains(t, printed, secret)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "res", res, "ch", ch, "en", en)
	assert.NotContains(t, buf.String(), ch.Token)
	assert.NotContains(t, buf.String(), en.Secret)
}

// TestMFASecretSealed: with Config.SecretKey, stores hold the TOTP secret
// sealed and bound to its member.
func TestMFASecretSealed(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	key := make([]byte, sso.SecretKeySize)
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions,
		Now: e.clock.Now, Rand: mrand.NewChaCha8([32]byte{8}), SecretKey: key})
	require.NoError(t, err)
	e.svc = svc
	secret, _, res := e.enroll(t)
	stored, err := e.store.MFAEnrollment(ctx, e.org.ID, res.Member.UserID)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stored.Secret, "orgsso-sealed:v1:"))
	assert.NotContains(t, stored.Secret, secret)
	for _, h := range stored.RecoveryHashes {
		assert.Len(t, h, 64)
	}

	// Moved to another member, the sealed secret does not open.
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-lee", Email: "lee@acme.example", OrgRole: rolemap.RoleMember})
	moved := *stored
	moved.UserID = "u-lee"
	require.NoError(t, e.store.CreateMFAEnrollment(ctx, &moved))
	e.clock.Advance(time.Minute)
	r, err := e.signIn(t, user("lee@acme.example", "Contentstack Developers"), e.now(""))
	require.NoError(t, err)
	_, err = e.svc.VerifyMFA(ctx, r.MFA.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrUnavailable)
}

// TestMFAPolicyEdits: the owner sets the policy with UpdateOrganization;
// it is validated and audited.
func TestMFAPolicyEdits(t *testing.T) {
	e := newEnv(t, nil)
	org, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.MFA = sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"mfa", "urn:acme:mfa"}}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"mfa", "urn:acme:mfa"}, org.MFA.IdPValues)
	changed := e.eventsOf(sso.EventSettingsChanged)
	require.NotEmpty(t, changed)
	assert.Equal(t, []string{"MFA"}, changed[len(changed)-1].Fields)
	clone := org.Clone()
	clone.MFA.IdPValues[0] = "x"
	assert.Equal(t, "mfa", org.MFA.IdPValues[0], "Clone copies the values")

	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, "u-someone", func(o *sso.Organization) error {
		o.MFA = sso.MFAPolicy{}
		return nil
	})
	require.ErrorIs(t, err, sso.ErrNotOwner)

	many := make([]string, sso.MaxMFAIdPValues+1)
	for i := range many {
		many[i] = fmt.Sprintf("urn:v:%d", i)
	}
	for _, tt := range []struct {
		name   string
		values []string
		ok     bool
	}{
		{"nil: defaults", nil, true},
		{"empty: none", []string{}, true},
		{"at the bound", many[:sso.MaxMFAIdPValues], true},
		{"too many", many, false},
		{"empty value", []string{"mfa", ""}, false},
		{"padded value", []string{" mfa"}, false},
		{"control character", []string{"mf\na"}, false},
		{"too long", []string{strings.Repeat("a", sso.MaxURLBytes+1)}, false},
	} {
		o := &sso.Organization{ID: "o", SSOName: "acme-o", MFA: sso.MFAPolicy{Required: true, IdPValues: tt.values}}
		err := o.Validate()
		if tt.ok {
			assert.NoError(t, err, tt.name)
		} else {
			var ce *sso.ConfigError
			require.ErrorAs(t, err, &ce, tt.name)
			assert.Equal(t, "MFA.IdPValues", ce.Field, tt.name)
		}
	}
}

// TestMFATestReport: a Test SSO round trip says whether the IdP asserted
// MFA and what the policy makes of it.
func TestMFATestReport(t *testing.T) {
	for _, tt := range []struct {
		policy sso.MFAPolicy
		class  string
		want   string
	}{
		{sso.MFAPolicy{}, "", "did not assert multi-factor authentication (authentication: [\"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport\"]); the organization does not require MFA."},
		{sso.MFAPolicy{Required: true, TrustIdP: true}, ssotest.AuthnClassMobileTwoFactor, "The IdP asserted multi-factor authentication (authentication: [\"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract\"]); the organization trusts it"},
		{sso.MFAPolicy{Required: true, TrustIdP: true}, "", "members signing in like this will be asked for a second factor here."},
		{sso.MFAPolicy{Required: true}, ssotest.AuthnClassMobileTwoFactor, "asserted multi-factor authentication (authentication: [\"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract\"]); the organization does not rely on it"},
	} {
		e := newMFAEnv(t, tt.policy)
		rd := e.startTest(t)
		posted, err := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail), e.now(tt.class)))
		require.NoError(t, err)
		res, err := e.post(t, posted, relayOf(t, rd))
		require.NoError(t, err)
		assert.Contains(t, res.Test.MFA, tt.want)
		assert.Equal(t, []string{or(tt.class, ssotest.AuthnClassPassword)}, res.Test.Identity.AuthnMethods)
	}
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func TestMFAConfig(t *testing.T) {
	st := memory.New()
	mgr := session.NewManager(st)
	for _, tt := range []struct {
		name string
		cfg  sso.Config
		ok   bool
	}{
		{"issuer with a colon", sso.Config{MFAIssuer: "App:1"}, false},
		{"issuer with a newline", sso.Config{MFAIssuer: "App\n"}, false},
		{"negative TTL", sso.Config{MFATokenTTL: -time.Second}, false},
		{"issuer", sso.Config{MFAIssuer: "Acme App"}, true},
		{"localhost with a port: the host name", sso.Config{BaseURL: "http://localhost:8080"}, true},
	} {
		cfg := tt.cfg
		cfg.Store, cfg.Sessions = st, mgr
		if cfg.BaseURL == "" {
			cfg.BaseURL = "https://app.example.com"
		}
		_, err := sso.New(cfg)
		if tt.ok {
			assert.NoError(t, err, tt.name)
		} else {
			assert.ErrorIs(t, err, sso.ErrInvalidConfig, tt.name)
		}
	}
}

// TestMFAIssuerInURL: the otpauth URL names Config.MFAIssuer, or the host
// name without its port.
func TestMFAIssuerInURL(t *testing.T) {
	for _, tt := range []struct{ base, issuer, want string }{
		{"http://localhost:8080", "", "localhost"},
		{"https://app.example.com", "Acme App", "Acme App"},
	} {
		e := newMFAEnv(t, mfaRequired)
		svc, err := sso.New(sso.Config{BaseURL: tt.base, MFAIssuer: tt.issuer, Store: e.store, Sessions: e.sessions, Now: e.clock.Now})
		require.NoError(t, err)
		ch := e.challenged(t)
		en, err := svc.BeginTOTPEnrollment(ctx, ch.Token)
		require.NoError(t, err)
		key, err := otp.NewKeyFromURL(en.URL)
		require.NoError(t, err)
		assert.Equal(t, tt.want, key.Issuer())
		assert.Equal(t, tt.want, en.Issuer)
		assert.Equal(t, kate, key.AccountName())
	}
}

// TestRemoveMemberForgetsMFA: removing a member deletes their second factor;
// added again (here by their next SSO sign-in), they enroll again, and the
// old recovery codes are worth nothing.
func TestRemoveMemberForgetsMFA(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	_, codes, res := e.enroll(t)
	uid := res.Member.UserID
	enrolled, err := e.svc.MFAEnrolled(ctx, e.org.ID, ownerID, uid)
	require.NoError(t, err)
	require.True(t, enrolled)

	require.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, res.Member.Email))
	enrolled, err = e.svc.MFAEnrolled(ctx, e.org.ID, ownerID, uid)
	require.NoError(t, err)
	assert.False(t, enrolled, "the removed member's factor is gone")

	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	assert.False(t, ch.Enrolled, "added again, the member enrolls again")
	_, err = e.svc.VerifyMFA(ctx, ch.Token, codes[0])
	assert.Error(t, err, "an old recovery code is worth nothing")
}

// TestConfirmEnrollmentFailedSessionUndone: when the session of a confirmed
// enrollment cannot be written, the enrollment is undone (nobody saw its
// recovery codes) and the pending sign-in given back: the member confirms
// again with the next code.
func TestConfirmEnrollmentFailedSessionUndone(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	ch := e.challenged(t)
	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	failing, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Now: e.clock.Now,
		Sessions: session.NewManager(ar12cHookSessions{Store: e.store}, session.WithClock(e.clock.Now))})
	require.NoError(t, err)
	_, _, err = failing.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrUnavailable)
	st, err := e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err, "the pending sign-in is back")
	assert.False(t, st.Enrolled, "the enrollment is undone")

	e.clock.Advance(30 * time.Second)
	res, codes, err := e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.NoError(t, err)
	assert.NotNil(t, res.Session)
	assert.Len(t, codes, sso.RecoveryCodeCount)
}
