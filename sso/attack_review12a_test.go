package sso_test

// Attacker review 12a (issue 12): the HTTP Handler (login start, chooser,
// ACS and callback, logout, RequireSession, PasswordSignIn) and MFA after
// SSO (policy branch, pending sign-in, enrollment, verification, recovery
// codes, limits). Tests named ..._Finding... fail today and pass once
// fixed; every other test is an attempt that held.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

const kateMember = "Contentstack Developers"

// ---------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------

// FINDING (high, functional/fail-closed): the Handler knows nothing of MFA.
// For an organization that requires MFA, HandleConnectionACS and
// HandleCallback return a Result with MFA set and no session; Handler.signedIn
// ignores res.MFA, calls http.SetCookie(w, SessionCookie(res)) with a nil
// cookie (a no-op) and redirects 303 to return_to. The pending sign-in's
// token never reaches the browser (no MFACookie), so the member can never
// give the second factor: RequireSession sends them to the login page, the
// IdP signs them in again, and round it goes, each lap writing an orphan
// mfa_pending row and an EventMFAChallenged. Nothing in HandlerConfig lets
// a host fix it (Destination cannot set cookies, and the token must not go
// in a URL). Smallest input: any sign-in through the Handler of an
// organization with MFA{Required: true}.
//
// Fix: in Handler.signedIn, when res.MFA != nil, set s.MFACookie(res) and
// redirect to a HandlerConfig.MFAURL (required when any organization may
// require MFA, or default MFA pages served under the prefix), never to
// res.ReturnTo.
func TestAttackReview12a_FindingHandlerDropsMFAChallenge(t *testing.T) {
	t.Run("SAML ACS", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		h := handler(t, e, sso.HandlerConfig{})
		ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme&return_to=/dashboard")
		rec := postThrough(t, e, h, ar, user(kate, kateMember), e.now(""))
		require.Len(t, e.eventsOf(sso.EventMFAChallenged), 1, "the sign-in was challenged")
		assert.Nil(t, cookieNamed(rec, hostSessionCookie), "no session, rightly")
		mfa := cookieNamed(rec, "__Host-"+sso.MFACookieName)
		assert.NotNil(t, mfa, "the challenge must reach the browser (MFACookie); got %d to %q without it: the pending sign-in is lost",
			rec.Code, rec.Header().Get("Location"))
		assert.NotEqual(t, "/dashboard", rec.Header().Get("Location"),
			"a challenged sign-in must not land on the protected page as if signed in")
	})
	t.Run("OIDC callback", func(t *testing.T) {
		e := newMFAEnv(t, mfaRequired)
		op := withOIDC(t, e, true)
		h := handler(t, e, sso.HandlerConfig{})
		rec := oidcThrough(t, e, h, op, oidcUser(kate, kateMember))
		require.Len(t, e.eventsOf(sso.EventMFAChallenged), 1)
		assert.Nil(t, cookieNamed(rec, hostSessionCookie))
		assert.NotNil(t, cookieNamed(rec, "__Host-"+sso.MFACookieName),
			"got %d to %q without the MFA cookie", rec.Code, rec.Header().Get("Location"))
	})
}

// FINDING (low): VerifyMFA uses the factor (UseMFARecoveryCode, UseMFAStep)
// before it consumes the pending sign-in and checks that the session may
// still be made (consumePending: token single use, SSO and connection on in
// the same epoch, member still there) and before the session is written.
// When any of those fails, the recovery code stays used although no session
// was made: a state change that survives a failed operation. Recovery codes
// are finite (10) and are what a member without their device has left.
// The same happens to every loser of concurrent verifications of one token
// that brought a recovery code (a double submit), and on a store failure
// at CreateSession. Smallest input: challenge, Disable, VerifyMFA(token,
// codes[0]) = ErrSSODisabled; later codes[0] is refused as used.
//
// Fix: consume the pending sign-in (and run consumePending's checks) before
// spending the factor, or spend it in the same store step/transaction as
// the consumption, and give it back (re-insert the hash) if the session
// cannot be made.
func TestAttackReview12a_FindingRecoveryCodeBurnedByFailedVerify(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	_, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	require.NoError(t, e.svc.Disable(ctx, e.org.ID, ownerID))
	_, err := e.svc.VerifyMFA(ctx, ch.Token, codes[0])
	require.ErrorIs(t, err, sso.ErrSSODisabled)
	require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID))

	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codes[0])
	assert.NoError(t, err, "the recovery code made no session: it must still work")
	if err == nil {
		assert.NotNil(t, res.Session)
	}
}

// Every way a verification with a right code can still make no session
// leaves the code (recovery code or TOTP step) unspent; where the member
// may retry (the session store failed, the code lost a race), the pending
// sign-in is left too.
func TestAttackReview12a_FailedVerifySpendsNoFactor(t *testing.T) {
	for _, tt := range []struct {
		name    string
		fail    func(t *testing.T, e *env) *sso.Service // breaks the sign-in; returns the Service to verify with
		wantErr error
		retry   bool // the same token works afterwards
	}{
		{"SSO disabled", func(t *testing.T, e *env) *sso.Service {
			require.NoError(t, e.svc.Disable(ctx, e.org.ID, ownerID))
			require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID))
			return e.svc
		}, sso.ErrSSODisabled, false},
		{"member replaced", func(t *testing.T, e *env) *sso.Service {
			m, err := e.store.Member(ctx, e.org.ID, kate)
			require.NoError(t, err)
			require.NoError(t, e.store.DeleteMember(ctx, e.org.ID, kate))
			m2 := *m
			m2.UserID = "u-other"
			e.saveMember(t, &m2)
			return e.svc
		}, sso.ErrAccessDenied, false},
		{"session store failing", func(t *testing.T, e *env) *sso.Service {
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Now: e.clock.Now,
				Sessions: session.NewManager(failCreate{e.store}, session.WithClock(e.clock.Now))})
			require.NoError(t, err)
			return svc
		}, sso.ErrUnavailable, true},
	} {
		for _, kind := range []string{"recovery code", "TOTP"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				e := newMFAEnv(t, mfaRequired)
				secret, codes, enrolled := e.enroll(t)
				e.clock.Advance(time.Minute)
				code := codes[1]
				if kind == "TOTP" {
					code = codeAt(t, secret, e.clock.Now())
				}
				ch := e.challenged(t)
				svc := tt.fail(t, e)
				_, err := svc.VerifyMFA(ctx, ch.Token, code)
				require.ErrorIs(t, err, tt.wantErr)

				if tt.name == "member replaced" { // kate again, as she was
					require.NoError(t, e.store.DeleteMember(ctx, e.org.ID, kate))
					e.saveMember(t, enrolled.Member)
				}
				token := ch.Token
				if _, err := e.svc.MFAState(ctx, token); !tt.retry {
					require.ErrorIs(t, err, sso.ErrMFAToken, "a pending sign-in that can make no session is used up")
					token = e.challenged(t).Token
				} else {
					require.NoError(t, err, "the member may retry with the same token")
				}
				res, err := e.svc.VerifyMFA(ctx, token, code)
				require.NoError(t, err, "the %s made no session: it must still work", kind)
				require.NotNil(t, res.Session)
				// And it is spent now.
				_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
				require.Error(t, err)
			})
		}
	}
}

// A wrong code and a replayed TOTP code are refused before the pending
// sign-in is touched: the member retypes with the same token; a right code
// that loses the race for one TOTP step or recovery code to another
// sign-in gets its token back as well.
func TestAttackReview12a_VerifyKeepsTokenForRetry(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	_, err := e.svc.VerifyMFA(ctx, ch.Token, "000000")
	require.ErrorIs(t, err, sso.ErrMFACode)
	_, err = e.svc.VerifyMFA(ctx, ch.Token, "AAAA-BBBB-CCCC-DDDD")
	require.ErrorIs(t, err, sso.ErrMFACode)
	code := codeAt(t, secret, e.clock.Now())
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
	require.NoError(t, err)
	require.NotNil(t, res.Session)
	_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
	require.ErrorIs(t, err, sso.ErrMFAReplay)
	st, err := e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err, "a refused code leaves the token")
	assert.Equal(t, sso.MFACodeAttempts-3, st.AttemptsLeft, "every code counted")

	// Many tokens race with one recovery code: one session; every loser
	// keeps its token, which a code of its own then completes.
	e.clock.Advance(sso.MFALockWindow) // a fresh attempt window for the member
	var tokens []string
	for range 6 {
		tokens = append(tokens, e.challenged(t).Token)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() { _, errs[i] = e.svc.VerifyMFA(ctx, tok, codes[5]) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, sso.ErrMFACode, "a loser of the race: the code is used")
		res, err := e.svc.VerifyMFA(ctx, tokens[i], codes[6+i%4])
		if err == nil {
			assert.NotNil(t, res.Session)
		} else {
			require.ErrorIs(t, err, sso.ErrMFACode, "two losers may share a code of their own")
		}
	}
	assert.Equal(t, 1, won)
}

// FINDING (low; policy semantics, the lead may classify it as a design
// decision): turning MFA on (Required, or TrustIdP off, or narrowing
// IdPValues) leaves every SSO session made without the second factor
// valid until it expires (DefaultSessionTimeout), and a sign-in in flight
// while the owner saves the policy (signIn read the organization before)
// still gets a session without it. Sessions record nothing about MFA and
// the policy edit moves no epoch, so ValidateSession cannot tell. An
// attacker who phished IdP credentials keeps the session the owner's MFA
// rollout was meant to shut out. Smallest input: sign in (policy off);
// UpdateOrganization MFA{Required: true}; ValidateSession(token) = ok.
//
// Fix: record on the session whether a second factor (ours, or the IdP's
// that the policy trusted) was passed, and have sessionEnd refuse SSO
// sessions without it while the policy requires it; or move the SSO epoch
// when the policy gets stricter.
func TestAttackReview12a_FindingMFARolloutKeepsSessionsWithoutFactor(t *testing.T) {
	e := newMFAEnv(t, sso.MFAPolicy{})
	res, err := e.signIn(t, user(kate, kateMember), e.now(""))
	require.NoError(t, err)
	require.NotNil(t, res.Session, "policy off: a session without a second factor")
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.MFA = mfaRequired
		return nil
	})
	require.NoError(t, err)
	_, err = e.svc.ValidateSession(ctx, res.Token)
	assert.Error(t, err, "the organization now requires MFA; a session that never passed it must not stay valid")
}

// Each way of tightening the MFA policy signs out every SSO session (of the
// organization's IdP and of a connection) in the same save, and says so in
// the settings event; password sessions stay. Loosening it, or editing
// something else, ends nothing.
func TestAttackReview12a_MFATighteningEndsSSOSessions(t *testing.T) {
	trusted := sso.MFAPolicy{Required: true, TrustIdP: true}
	for _, tt := range []struct {
		name     string
		from, to sso.MFAPolicy
		ends     bool
	}{
		{"required on", sso.MFAPolicy{}, mfaRequired, true},
		{"required on, trusting the IdP", sso.MFAPolicy{TrustIdP: true}, trusted, true},
		{"trust in the IdP off", trusted, mfaRequired, true},
		{"a trusted value dropped", trusted, sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"mfa"}}, true},
		{"no trusted value left", sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"mfa"}},
			sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{}}, true},
		{"required off", mfaRequired, sso.MFAPolicy{}, false},
		{"trust in the IdP on", mfaRequired, trusted, false},
		{"a trusted value added", sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"mfa"}},
			sso.MFAPolicy{Required: true, TrustIdP: true, IdPValues: []string{"mfa", "otp"}}, false},
		{"values edited while not required", sso.MFAPolicy{TrustIdP: true}, sso.MFAPolicy{TrustIdP: true, IdPValues: []string{}}, false},
		{"values edited while not trusted", mfaRequired, sso.MFAPolicy{Required: true, IdPValues: []string{"x"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ends, tt.to.Tightens(tt.from), "Tightens")
			e := newMFAEnv(t, sso.MFAPolicy{})
			saml, err := e.signIn(t, user(kate, kateMember), e.now("")) // before a second connection brings the chooser
			require.NoError(t, err)
			op := withOIDC(t, e, true)
			oidcSignIn := func() *sso.Result {
				rd := oidcStart(t, e, "okta")
				cb, err := op.Login(rd.URL, oidcUser("bob@acme.example", kateMember))
				require.NoError(t, err)
				res, err := callback(t, e, "okta", cb)
				require.NoError(t, err)
				require.NotNil(t, res.Session)
				return res
			}
			oidc := oidcSignIn()
			pw, err := e.svc.PasswordSignIn(ctx, e.org.ID, ownerEmail, func(context.Context, *sso.Member) error { return nil })
			require.NoError(t, err)
			// The starting policy, stored as is: the sessions are the ones
			// it let through.
			e.updateOrg(t, func(o *sso.Organization) { o.MFA = tt.from })
			for _, tok := range []string{saml.Token, oidc.Token} {
				_, err = e.svc.ValidateSession(ctx, tok)
				require.NoError(t, err)
			}

			_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.MFA = tt.to; return nil })
			require.NoError(t, err)
			ev := e.eventsOf(sso.EventSettingsChanged)
			last := ev[len(ev)-1]
			assert.Equal(t, []string{"MFA"}, last.Fields, "the epochs are not reported as edited")
			for _, tok := range []string{saml.Token, oidc.Token} {
				_, err = e.svc.ValidateSession(ctx, tok)
				if !tt.ends {
					require.NoError(t, err)
					continue
				}
				var ended *session.EndedError
				require.ErrorAs(t, err, &ended)
				assert.Equal(t, session.EndMFARequired, ended.Reason)
			}
			if tt.ends {
				assert.Equal(t, 2, last.SessionsEnded)
				assert.Contains(t, last.Detail, "MFA policy")
			} else {
				assert.Zero(t, last.SessionsEnded)
			}
			_, err = e.svc.ValidateSession(ctx, pw.Token)
			assert.NoError(t, err, "the MFA policy is for SSO sign-ins: password sessions stay")
			// New sign-ins are judged by the new policy and keep their session.
			if !tt.to.Required {
				_, err = e.svc.ValidateSession(ctx, oidcSignIn().Token)
				require.NoError(t, err)
			}
		})
	}
}

// A sign-in in flight when the policy gets stricter makes no session from
// the old policy: a pending second factor (created under the old epoch) is
// refused, and the member signs in again under the new policy.
func TestAttackReview12a_MFATighteningEndsSignInsInFlight(t *testing.T) {
	e := newMFAEnv(t, sso.MFAPolicy{Required: true, TrustIdP: true})
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.MFA.TrustIdP = false; return nil })
	require.NoError(t, err)
	_, err = e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrSSODisabled, "made under the old epoch")
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err, "the code was not spent by the refused verification")
	_, err = e.svc.ValidateSession(ctx, res.Token)
	require.NoError(t, err)
}

// ---------------------------------------------------------------------------
// Handler attempts that held
// ---------------------------------------------------------------------------

// Open redirect through return_to: whatever the login link carries, the
// 303 after the ACS lands on a local path of this site.
func TestAttackReview12a_HandlerReturnToStaysLocal(t *testing.T) {
	for _, rt := range []string{
		"//evil.example/x", `/\evil.example`, "/%2F%2Fevil.example", "/\t/evil.example", "/./..//evil.example",
		"https://evil.example/", "/%5Cevil.example", "/..%2F..%2F%2Fevil.example", "/.//evil.example", "\\\\evil.example",
		"/x#//evil.example", "/" + strings.Repeat("a", 5000),
	} {
		t.Run(rt[:min(len(rt), 30)], func(t *testing.T) {
			e := newEnv(t, nil)
			h := handler(t, e, sso.HandlerConfig{})
			ar := startThrough(t, e, h, "/sso/login?"+url.Values{"trigger_sso_flow": {"acme"}, "return_to": {rt}}.Encode())
			rec := postThrough(t, e, h, ar, alice, nil)
			require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
			loc := rec.Header().Get("Location")
			u, err := url.Parse(loc)
			require.NoError(t, err)
			assert.Empty(t, u.Host, "Location %q", loc)
			assert.Empty(t, u.Scheme, "Location %q", loc)
			assert.True(t, strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, `/\`), "Location %q", loc)
		})
	}
}

// Attacker text in the login, chooser and error pages is escaped, and an
// unknown SSO name is not echoed at all.
func TestAttackReview12a_HandlerPagesEscapeAttackerText(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	for _, target := range []string{
		"/sso/login?trigger_sso_flow=" + url.QueryEscape(`<script>alert(1)</script>`),
		"/sso/login?email=" + url.QueryEscape(`"><script>x</script>@evil.example`),
		"/sso/login?error=" + url.QueryEscape(`<b>x</b>`) + "&return_to=" + url.QueryEscape(`/"><svg onload=1>`),
		"/sso/" + url.PathEscape(`<img src=x>`) + "/login",
		"/sso/acme/login?connection=" + url.QueryEscape(`<i>x</i>`),
	} {
		rec := serve(e, h, httptest.NewRequest(http.MethodGet, target, nil))
		body := rec.Body.String()
		for _, raw := range []string{"<script", "<svg", "<img", "<i>", "<b>", "evil.example"} {
			assert.NotContains(t, body, raw, "%s answered %d", target, rec.Code)
		}
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), target)
	}
	// A huge SSO name or connection: no panic, a refusal.
	for _, target := range []string{
		"/sso/login?trigger_sso_flow=" + strings.Repeat("a", 100000),
		"/sso/acme/login?connection=" + strings.Repeat("a", 100000),
		"/sso/" + strings.Repeat("a", 10000) + "/" + strings.Repeat("b", 10000) + "/callback?state=" + strings.Repeat("c", 100000),
	} {
		rec := serve(e, h, httptest.NewRequest(http.MethodGet, target, nil))
		assert.GreaterOrEqual(t, rec.Code, 400, target[:40])
		assert.Less(t, rec.Code, 500, target[:40])
	}
}

// Logout CSRF: a cross-site form post, an opaque origin, a sibling
// subdomain, and a no-cors text/plain post from another site are all
// refused, and the session survives.
func TestAttackReview12a_HandlerLogoutCrossSiteVariants(t *testing.T) {
	for _, hd := range []map[string]string{
		{"Origin": "null"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://app.example.com.evil.example"},
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com", "Content-Type": "text/plain"},
	} {
		e := newEnv(t, nil)
		h := handler(t, e, sso.HandlerConfig{})
		res, err := e.signIn(t, alice, nil)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "https://app.example.com/sso/logout", strings.NewReader("x=1"))
		for k, v := range hd {
			req.Header.Set(k, v)
		}
		req.AddCookie(e.svc.SessionCookie(res))
		rec := serve(e, h, req)
		assert.Equal(t, http.StatusForbidden, rec.Code, "%v", hd)
		_, err = e.svc.ValidateSession(ctx, res.Token)
		assert.NoError(t, err, "%v: the session survives", hd)
	}
}

// RequireSession: a forged cookie of any size and any method is "signed
// out" (never 503, never a panic, never through), and the redirect's
// return_to carries only this site's path.
func TestAttackReview12a_RequireSessionOddCookies(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{LoginURL: "https://accounts.example.com/login?next=app"})
	called := false
	app := h.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	ch := newMFAEnv(t, mfaRequired).challenged(t) // a live MFA token of another Service is no session either
	for _, v := range []string{"", "x", strings.Repeat("A", 64<<10), "%00", ch.Token} {
		req := httptest.NewRequest(http.MethodGet, "https://app.example.com/a?b=c", nil)
		req.AddCookie(&http.Cookie{Name: hostSessionCookie, Value: v})
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusSeeOther, rec.Code, "cookie of %d bytes", len(v))
		loc, err := url.Parse(rec.Header().Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "accounts.example.com", loc.Host)
		assert.Equal(t, "/a?b=c", loc.Query().Get("return_to"))
		assert.Equal(t, "app", loc.Query().Get("next"))
	}
	assert.False(t, called)
}

// PasswordSignIn under strict mode and SSO: the rule is applied before
// verify, for every spelling of an email, and a non-member is refused as
// an SSO-only member is (no member oracle); an organization ID of another
// organization does not lend its owner.
func TestAttackReview12a_PasswordSignInRules(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.StrictMode = true })
	h := handler(t, e, sso.HandlerConfig{})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "ext@partner.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-kate", Email: "kate@acme.example", OrgRole: rolemap.RoleMember})
	other := e.addOrg(t, "org-other", "other")
	verified := 0
	verify := func(context.Context, *sso.Member) error { verified++; return nil }
	for _, tt := range []struct {
		org, email string
	}{
		{e.org.ID, "ext@partner.example"}, // allowed without SSO, but strict
		{e.org.ID, "EXT@PARTNER.EXAMPLE"},
		{e.org.ID, "kate@acme.example"},
		{e.org.ID, "\u212Aate@acme.example"}, // KELVIN SIGN: not kate, not a member
		{e.org.ID, "nobody@acme.example"},
		{e.org.ID, "owner@acme.example "},      // padded: not the owner
		{e.org.ID, "owner\u0130@acme.example"}, // dotted I folds to nothing ASCII
		{other.ID, ownerEmail},                 // acme's owner at another organization
	} {
		w := httptest.NewRecorder()
		res, err := h.PasswordSignIn(w, httptest.NewRequest(http.MethodPost, "/login", nil), tt.org, tt.email, verify)
		require.ErrorIs(t, err, sso.ErrSSORequired, "%s at %s", tt.email, tt.org)
		assert.Nil(t, res)
		assert.Empty(t, w.Result().Cookies())
	}
	assert.Zero(t, verified, "verify never ran for a refused email")
	// The owner, in any ASCII case, is verified and signed in.
	w := httptest.NewRecorder()
	res, err := h.PasswordSignIn(w, httptest.NewRequest(http.MethodPost, "/login", nil), e.org.ID, "OWNER@acme.example", verify)
	require.NoError(t, err)
	assert.Equal(t, ownerID, res.Member.UserID)
	assert.Equal(t, session.MethodPassword, res.Session.Method)
	assert.Equal(t, 1, verified)
	// A failing verify makes no session and sets no cookie.
	w = httptest.NewRecorder()
	_, err = h.PasswordSignIn(w, httptest.NewRequest(http.MethodPost, "/login", nil), e.org.ID, ownerEmail,
		func(context.Context, *sso.Member) error { return errors.New("wrong password") })
	require.Error(t, err)
	assert.Empty(t, w.Result().Cookies())
	// Unknown and odd organization IDs.
	for _, id := range []string{"", "nope", strings.Repeat("o", 100000)} {
		_, err = e.svc.PasswordSignIn(ctx, id, ownerEmail, verify)
		require.Error(t, err)
		assert.Equal(t, 1, verified)
	}
}

// ---------------------------------------------------------------------------
// MFA attempts that held
// ---------------------------------------------------------------------------

// An attacker who phished the member's IdP password (a pending token of
// theirs) cannot replace a second factor the member has: beginning is
// refused, and an enrollment begun before the member enrolled cannot be
// confirmed after; the member's own factor still works and the attacker's
// secret never does.
func TestAttackReview12a_MFAEnrollmentNotOverwritten(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	atk := e.challenged(t)
	atkEn, err := e.svc.BeginTOTPEnrollment(ctx, atk.Token)
	require.NoError(t, err)

	secret, _, _ := e.enroll(t) // the member enrolls meanwhile
	_, _, err = e.svc.ConfirmTOTPEnrollment(ctx, atk.Token, codeAt(t, atkEn.Secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFAEnrolled)

	e.clock.Advance(time.Minute)
	atk2 := e.challenged(t)
	_, err = e.svc.BeginTOTPEnrollment(ctx, atk2.Token)
	require.ErrorIs(t, err, sso.ErrMFAEnrolled)
	_, err = e.svc.VerifyMFA(ctx, atk2.Token, codeAt(t, atkEn.Secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFACode, "the attacker's secret is not the member's")
	res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
}

// sqliteMFAEnv is newMFAEnv whose Service runs over a SQLite store (the
// fixture IdP and clock stay); replicas more Services over the same file.
func sqliteMFAEnv(t *testing.T, replicas int) (*env, []*sso.Service, *sqlstore.Store) {
	t.Helper()
	e := newMFAEnv(t, mfaRequired)
	path := filepath.Join(t.TempDir(), "orgsso.db")
	var svcs []*sso.Service
	var first *sqlstore.Store
	for i := range replicas + 1 {
		st, err := sqlite.Open(ctx, path)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		if first == nil {
			first = st
			require.NoError(t, st.SaveOrganization(ctx, e.org))
			require.NoError(t, st.SaveMember(ctx, &sso.Member{OrgID: e.org.ID, UserID: ownerID, Email: ownerEmail, OrgRole: rolemap.RoleOwner}))
		}
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Now: e.clock.Now,
			Rand: mrand.NewChaCha8([32]byte{byte(40 + i)})})
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	e.svc = svcs[0]
	return e, svcs[1:], first
}

// Two tokens of one member who has no factor yet (the member and an
// attacker with their IdP password) race to confirm: one enrollment, one
// session, and the enrollment is the winner's; on memory and SQLite.
func TestAttackReview12a_MFARacedEnrollmentsOneWins(t *testing.T) {
	for _, onSQLite := range []bool{false, true} {
		t.Run(fmt.Sprintf("sqlite=%t", onSQLite), func(t *testing.T) {
			var e *env
			if onSQLite {
				e, _, _ = sqliteMFAEnv(t, 0)
			} else {
				e = newMFAEnv(t, mfaRequired)
			}
			const n = 6
			type cand struct {
				tok, secret string
			}
			var cands []cand
			for range n {
				ch := e.challenged(t)
				en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
				require.NoError(t, err)
				cands = append(cands, cand{ch.Token, en.Secret})
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var won []cand
			for _, c := range cands {
				wg.Go(func() {
					res, _, err := e.svc.ConfirmTOTPEnrollment(ctx, c.tok, codeAt(t, c.secret, e.clock.Now()))
					if err == nil {
						mu.Lock()
						won = append(won, c)
						mu.Unlock()
						assert.NotNil(t, res.Session)
					} else {
						assert.True(t, errors.Is(err, sso.ErrMFAEnrolled) || errors.Is(err, sso.ErrMFAToken), "err = %v", err)
					}
				})
			}
			wg.Wait()
			require.Len(t, won, 1, "exactly one enrollment wins")
			e.clock.Advance(time.Minute)
			for _, c := range cands {
				_, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, c.secret, e.clock.Now()))
				if c == won[0] {
					require.NoError(t, err, "the winner's factor is the member's")
					e.clock.Advance(30 * time.Second)
				} else {
					require.ErrorIs(t, err, sso.ErrMFACode, "a loser's secret is not enrolled")
				}
			}
		})
	}
}

// One TOTP code and one recovery code, brought concurrently by many tokens
// on two replicas over one SQLite file: each makes one session at most.
func TestAttackReview12a_MFAReplayAcrossReplicas(t *testing.T) {
	e, reps, _ := sqliteMFAEnv(t, 1)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	svcs := []*sso.Service{e.svc, reps[0]}
	for _, code := range []string{codeAt(t, secret, e.clock.Now()), codes[3]} {
		var tokens []string
		for range 6 {
			tokens = append(tokens, e.challenged(t).Token)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i, tok := range tokens {
			wg.Go(func() {
				res, err := svcs[i%2].VerifyMFA(ctx, tok, code)
				if err == nil {
					require.NotNil(t, res.Session)
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 1, ok, "code %q made %d sessions", code, ok)
	}
}

// The member's lock holds whatever case the IdP writes the email in: both
// spellings are one member, one count.
func TestAttackReview12a_MFALockAcrossEmailCase(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	var err error
	for _, email := range []string{kate, strings.ToUpper(kate)} {
		res, serr := e.signIn(t, user(email, kateMember), e.now(""))
		require.NoError(t, serr)
		require.NotNil(t, res.MFA)
		for range sso.MFACodeAttempts {
			_, err = e.svc.VerifyMFA(ctx, res.MFA.Token, "000000")
		}
	}
	require.ErrorIs(t, err, sso.ErrMFALocked)
	res, serr := e.signIn(t, user("Kate@Acme.Example", kateMember), e.now(""))
	require.NoError(t, serr)
	_, err = e.svc.VerifyMFA(ctx, res.MFA.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrMFALocked)
}

// Codes that only look like codes: full-width and other Unicode digits,
// signs, padding with other separators. Each is refused and counted.
func TestAttackReview12a_MFAOddCodes(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	good := codeAt(t, secret, e.clock.Now())
	full := strings.Map(func(r rune) rune { return r - '0' + '０' }, good)
	arabic := strings.Map(func(r rune) rune { return r - '0' + '٠' }, good)
	for _, c := range []string{full, arabic, "+" + good[1:], good + "\x00", good[:3] + "\u00a0" + good[3:], " " + good + "0",
		strings.Replace(codes[0], "-", "\u2010", -1)} {
		ch := e.challenged(t)
		_, err := e.svc.VerifyMFA(ctx, ch.Token, c)
		require.ErrorIs(t, err, sso.ErrMFACode, "%q", c)
		st, err := e.svc.MFAState(ctx, ch.Token)
		require.NoError(t, err)
		assert.Equal(t, sso.MFACodeAttempts-1, st.AttemptsLeft, "counted")
		e.clock.Advance(sso.MFALockWindow) // keep the member's window out of it
	}
}

// amr must be a JSON array of strings from the ID token: a string "mfa" is
// a malformed token (refused), and values are compared exactly.
func TestAttackReview12a_MFAAmrShapes(t *testing.T) {
	trusted := sso.MFAPolicy{Required: true, TrustIdP: true}
	for _, tt := range []struct {
		name      string
		amr       any
		challenge bool
		refused   bool
	}{
		{"string", "mfa", false, true},
		{"upper case", []string{"MFA"}, true, false},
		{"padded", []string{" mfa"}, true, false},
		{"object", map[string]any{"mfa": true}, false, true},
		{"nested", []any{[]string{"mfa"}}, false, true},
		{"number", []any{1}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newMFAEnv(t, trusted)
			op := withOIDC(t, e, true)
			rd := oidcStart(t, e, "okta")
			op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Claims: map[string]any{"amr": tt.amr}}})
			cb, err := op.Login(rd.URL, oidcUser(kate, kateMember))
			require.NoError(t, err)
			res, err := callback(t, e, "okta", cb)
			if tt.refused {
				require.Error(t, err)
				assert.Nil(t, res)
				list, _, lerr := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
				require.NoError(t, lerr)
				assert.Empty(t, list)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, res.MFA, "not an MFA value: challenged")
			assert.Nil(t, res.Session)
		})
	}
}

// A pending OIDC sign-in ends with the connection's session (connection,
// epoch, TTL), and a connection switched off and on meanwhile (a new
// epoch) makes none.
func TestAttackReview12a_MFASessionOfConnection(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t) // through the IdP, before a second connection brings the chooser
	op := withOIDC(t, e, true)
	e.updateOrg(t, func(o *sso.Organization) { o.SessionTimeout = 3 * time.Hour })
	oidcMFA := func() *sso.MFAChallenge {
		rd := oidcStart(t, e, "okta")
		cb, err := op.Login(rd.URL, oidcUser(kate, kateMember))
		require.NoError(t, err)
		res, err := callback(t, e, "okta", cb)
		require.NoError(t, err)
		require.NotNil(t, res.MFA)
		return res.MFA
	}
	e.clock.Advance(time.Minute)
	ch := oidcMFA()
	e.clock.Advance(2 * time.Minute)
	res, err := e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.NoError(t, err)
	assert.Equal(t, "okta", res.Session.Connection)
	assert.Equal(t, "okta", res.Connection)
	assert.Equal(t, e.clock.Now().Add(3*time.Hour), res.Session.ExpiresAt)
	assert.Equal(t, session.MethodSSO, res.Session.Method)
	_, err = e.svc.ValidateSession(ctx, res.Token)
	require.NoError(t, err)

	e.clock.Advance(time.Minute)
	ch = oidcMFA()
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "okta", ownerID))
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "okta", ownerID))
	_, err = e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrSSODisabled, "the connection's epoch moved")
}

// The token stays out of the printed Result and challenge (through their
// pointers, as the Service returns them), failure errors, events and logs.
func TestAttackReview12a_MFATokenNotPrinted(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	res, err := e.signIn(t, user(kate, kateMember), e.now(""))
	require.NoError(t, err)
	tok := res.MFA.Token
	_, err = e.svc.VerifyMFA(ctx, tok, "000000")
	var me *sso.MFAError
	require.ErrorAs(t, err, &me)
	printed := fmt.Sprintf("%v %+v %#v %v %+v %s %+v", res, res, res, *res, *res, err, *me)
	printed += fmt.Sprintf("%+v %#v", res.MFA, res.MFA)
	e.mu.Lock()
	for _, ev := range e.events {
		printed += fmt.Sprintf("%+v %v", ev, ev.Err)
	}
	e.mu.Unlock()
	printed += e.logs.String()
	assert.NotContains(t, printed, tok)
}

// FINDING (low): MFAChallenge and TOTPEnrollment redact only through a
// pointer: String, GoString and LogValue have pointer receivers, so a
// host that prints or logs the value (fmt "%+v" of *res.MFA, slog.Any of
// *en, a struct of its own holding the value) prints the intermediate
// token and the TOTP secret and otpauth URL in clear. Config, by contrast,
// has value receivers. Smallest input: fmt.Sprintf("%+v", *res.MFA).
//
// Fix: value receivers for String, GoString and LogValue on MFAChallenge
// and TOTPEnrollment (a nil pointer still prints "<nil>" through fmt).
func TestAttackReview12a_FindingMFASecretsPrintedByValue(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	ch := e.challenged(t)
	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("mfa", "challenge", *ch, "enrollment", *en)
	printed := fmt.Sprintf("%+v %v %+v", *ch, *en, struct{ C sso.MFAChallenge }{*ch}) + buf.String()
	for _, secret := range []string{ch.Token, en.Secret} {
		assert.NotContains(t, printed, secret)
	}
}

// ResetMFA: an admin of another organization, and a member of this one,
// cannot remove a member's factor; IDs of odd sizes are refused.
func TestAttackReview12a_MFAResetAuthorization(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	_, _, res := e.enroll(t)
	kateID := res.Member.UserID
	other := e.addOrg(t, "org-other", "other")
	require.NoError(t, e.store.SaveMember(ctx, &sso.Member{OrgID: other.ID, UserID: "u-eve", Email: "eve@other.example", OrgRole: rolemap.RoleAdmin}))
	for _, tt := range []struct{ org, actor, user string }{
		{other.ID, "u-eve", kateID},       // admin elsewhere
		{other.ID, other.OwnerID, kateID}, // owner elsewhere: their org has no such enrollment
		{e.org.ID, "u-eve", kateID},       // not a member here
		{e.org.ID, kateID + " ", kateID},  // a near user ID
		{e.org.ID, strings.ToUpper(ownerID), kateID},
	} {
		_ = e.svc.ResetMFA(ctx, tt.org, tt.actor, tt.user)
	}
	enrolled, err := e.svc.MFAEnrolled(ctx, e.org.ID, ownerID, kateID)
	require.NoError(t, err)
	assert.True(t, enrolled, "nobody but acme's owner or admins may reset kate's factor")
	assert.Empty(t, e.eventsOf(sso.EventMFAReset))
}

// Concurrent verifications of one token with the right TOTP code: one
// session, and the token is spent for every other caller (memory).
func TestAttackReview12a_MFAOneTokenOneSessionUnderRace(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	for round := range 5 {
		e.clock.Advance(time.Minute)
		ch := e.challenged(t)
		code := codeAt(t, secret, e.clock.Now())
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 8 {
			wg.Go(func() {
				if _, err := e.svc.VerifyMFA(ctx, ch.Token, code); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, ok, "round %d", round)
	}
}

// FINDING (medium): the session cookie is named "orgsso_session" on https
// too, without the __Host- prefix that the binding and MFA cookies carry
// "so that a sibling subdomain cannot plant its own sign-in in the browser
// (login CSRF)". Anyone who runs script or sets headers on any sibling
// subdomain (a user-content host, a marketing site, a takeover) can set
// orgsso_session=<their own session token>; Domain=example.com;
// Path=/reports in the victim's browser. The browser then sends it first
// (longer path) beside the victim's own cookie, SessionFromRequest reads
// the first, and RequireSession lets the victim in as the attacker: what
// they type (a support ticket, an uploaded document, a connected account)
// goes to the attacker's account. Session fixation with no sign-in in the
// victim's browser at all. Smallest input: Cookie: orgsso_session=ATTACKER;
// orgsso_session=VICTIM.
//
// Fix: on https, name the session cookie "__Host-orgsso_session" (as
// bindingCookieName and mfaCookieName do) in SessionCookie,
// clearSessionCookie and SignOut, and read only that name in
// SessionFromRequest and SignOut; keep the plain name for http BaseURLs.
func TestAttackReview12a_FindingSessionCookieNotHostPrefixed(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	victim, err := e.signIn(t, alice, nil)
	require.NoError(t, err)
	attacker, err := e.signIn(t, user("mallory@acme.example", kateMember), nil)
	require.NoError(t, err)
	own := e.svc.SessionCookie(victim)
	assert.True(t, strings.HasPrefix(own.Name, "__Host-"), "session cookie %q on https: a sibling subdomain can set one of the same name", own.Name)

	var seen *session.Session
	app := h.RequireSession(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen, _ = sso.SessionFromContext(r.Context()) }))
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/reports", nil)
	// What a sibling subdomain can plant (Domain=example.com, a longer
	// Path), sent first, then the victim's own cookie.
	req.Header.Set("Cookie", "orgsso_session="+attacker.Token+"; "+own.Name+"="+own.Value)
	app.ServeHTTP(httptest.NewRecorder(), req)
	require.NotNil(t, seen)
	assert.Equal(t, victim.Member.UserID, seen.UserID, "the victim's browser is signed in as the attacker (%s)", attacker.Member.Email)

	// The planted cookie alone is no session, and signing out with it
	// revokes nothing (not even the attacker's own session).
	req = httptest.NewRequest(http.MethodGet, "https://app.example.com/reports", nil)
	req.Header.Set("Cookie", "orgsso_session="+attacker.Token)
	_, err = e.svc.SessionFromRequest(req)
	require.ErrorIs(t, err, session.ErrUnknownSession)
	clear, err := e.svc.SignOut(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, own.Name, clear.Name, "SignOut clears the __Host- cookie")
	_, err = e.svc.ValidateSession(ctx, attacker.Token)
	assert.NoError(t, err)
}

// The session cookie's name follows BaseURL's scheme (in any letter case):
// on https "__Host-orgsso_session" (Secure, Path "/", no Domain), which
// SessionCookie, ClearSessionCookie and SignOut set and only which
// SessionFromRequest, SignOut and RequireSession read; on http (local
// development) the plain name, which a Secure __Host- cookie cannot be.
func TestAttackReview12a_SessionCookieNameFollowsScheme(t *testing.T) {
	for _, tt := range []struct {
		baseURL, name, other string
		secure               bool
	}{
		{"https://app.example.com", "__Host-orgsso_session", "orgsso_session", true},
		{"HTTPS://APP.EXAMPLE.COM/base/", "__Host-orgsso_session", "orgsso_session", true},
		{"http://localhost:8080", "orgsso_session", "__Host-orgsso_session", false},
		{"HTTP://127.0.0.1:8080", "orgsso_session", "__Host-orgsso_session", false},
	} {
		t.Run(tt.baseURL, func(t *testing.T) {
			st := memory.New()
			svc, err := sso.New(sso.Config{BaseURL: tt.baseURL, Store: st, Sessions: session.NewManager(st)})
			require.NoError(t, err)
			require.NoError(t, st.SaveOrganization(ctx, &sso.Organization{ID: "o", SSOName: "acme", OwnerID: ownerID, IdP: newFixture(t).idp.IdPConfig()}))
			require.NoError(t, st.SaveMember(ctx, &sso.Member{OrgID: "o", UserID: ownerID, Email: ownerEmail, OrgRole: rolemap.RoleOwner}))
			verify := func(context.Context, *sso.Member) error { return nil }
			res, err := svc.PasswordSignIn(ctx, "o", ownerEmail, verify)
			require.NoError(t, err)

			assert.Equal(t, tt.name, svc.SessionCookieName())
			c := svc.SessionCookie(res)
			assert.Equal(t, tt.name, c.Name)
			assert.Equal(t, tt.secure, c.Secure, "Secure")
			assert.Equal(t, "/", c.Path)
			assert.Empty(t, c.Domain)
			assert.True(t, c.HttpOnly)
			assert.NoError(t, c.Valid())
			cl := svc.ClearSessionCookie()
			assert.Equal(t, tt.name, cl.Name)
			assert.Equal(t, tt.secure, cl.Secure)
			assert.Equal(t, "/", cl.Path)
			assert.Less(t, cl.MaxAge, 0)

			h, err := svc.Handler(sso.HandlerConfig{})
			require.NoError(t, err)
			through := false
			app := h.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { through = true }))
			withCookie := func(name string) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/reports", nil)
				r.AddCookie(&http.Cookie{Name: name, Value: res.Token})
				return r
			}

			// The other name is no session: not read, not signed out.
			_, err = svc.SessionFromRequest(withCookie(tt.other))
			require.ErrorIs(t, err, session.ErrUnknownSession)
			app.ServeHTTP(httptest.NewRecorder(), withCookie(tt.other))
			assert.False(t, through, "RequireSession let %s through", tt.other)
			clear, err := svc.SignOut(ctx, withCookie(tt.other))
			require.NoError(t, err)
			assert.Equal(t, tt.name, clear.Name)
			_, err = svc.ValidateSession(ctx, res.Token)
			require.NoError(t, err, "SignOut with %s revoked the session", tt.other)

			// This Service's name is.
			s, err := svc.SessionFromRequest(withCookie(tt.name))
			require.NoError(t, err)
			assert.Equal(t, ownerID, s.UserID)
			app.ServeHTTP(httptest.NewRecorder(), withCookie(tt.name))
			assert.True(t, through)
			_, err = svc.SignOut(ctx, withCookie(tt.name))
			require.NoError(t, err)
			_, err = svc.ValidateSession(ctx, res.Token)
			require.ErrorIs(t, err, session.ErrUnknownSession, "signed out")
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, withCookie(tt.name))
			require.NotNil(t, cookieNamed(rec, tt.name), "RequireSession clears the dead cookie by its name")
			assert.Less(t, cookieNamed(rec, tt.name).MaxAge, 0)
		})
	}
}

// With TrustIdP, the MFA class must come from the signed assertion: a
// class changed, an AuthnStatement added to the signed assertion or beside
// it in the Response, or a second (unsigned) assertion asserting MFA,
// after signing, never yields a session without the second factor.
func TestAttackReview12a_MFAClassAfterSigning(t *testing.T) {
	trusted := sso.MFAPolicy{Required: true, TrustIdP: true}
	stmt := func() *etree.Element {
		st := etree.NewElement("saml:AuthnStatement")
		st.CreateAttr("AuthnInstant", testNow.UTC().Format(time.RFC3339))
		st.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(ssotest.AuthnClassMobileTwoFactor)
		return st
	}
	for _, tt := range []struct {
		name   string
		tamper func(doc *etree.Document)
	}{
		{"class rewritten", func(doc *etree.Document) {
			for _, el := range doc.FindElements("//AuthnContextClassRef") {
				el.SetText(ssotest.AuthnClassMobileTwoFactor)
			}
		}},
		{"statement added in the assertion", func(doc *etree.Document) {
			doc.FindElement("//Assertion").AddChild(stmt())
		}},
		{"statement added in the response", func(doc *etree.Document) {
			doc.Root().AddChild(stmt())
		}},
		{"unsigned copy of the assertion asserting MFA", func(doc *etree.Document) {
			a := doc.FindElement("//Assertion").Copy()
			a.CreateAttr("ID", "_evil")
			if sig := a.FindElement("Signature"); sig != nil {
				a.RemoveChild(sig)
			}
			for _, el := range a.FindElements("//AuthnContextClassRef") {
				el.SetText(ssotest.AuthnClassMobileTwoFactor)
			}
			doc.Root().InsertChildAt(0, a)
		}},
		{"comment inside the class", func(doc *etree.Document) {
			el := doc.FindElement("//AuthnContextClassRef")
			el.SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:")
			el.CreateComment("x")
			el.CreateText("MobileTwoFactorContract")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newMFAEnv(t, trusted)
			res, err := e.signIn(t, user(kate, kateMember), func(r *ssotest.Response) {
				e.now("")(r)
				r.AfterSign = tt.tamper
			})
			t.Logf("err = %v", err)
			if err == nil {
				require.NotNil(t, res.MFA, "accepted: then only with the challenge")
				require.Nil(t, res.Session)
			}
			list, _, lerr := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
			require.NoError(t, lerr)
			assert.Empty(t, list)
		})
	}
}

// A pending sign-in of a member who was removed, or whose email now
// belongs to another user, makes no session, even with the right factor.
func TestAttackReview12a_MFAPendingOfReplacedMember(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, res := e.enroll(t)
	e.clock.Advance(time.Minute)
	ch := e.challenged(t)
	require.NoError(t, e.store.DeleteMember(ctx, e.org.ID, kate))
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-new-kate", Email: kate, OrgRole: rolemap.RoleAdmin})
	_, err := e.svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, sso.ErrAccessDenied)
	list, _, err := e.svc.Sessions(ctx, e.org.ID, ownerID, "u-new-kate", "", 0)
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.NotEqual(t, "u-new-kate", res.Member.UserID)
}
