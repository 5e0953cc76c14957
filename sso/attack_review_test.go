package sso_test

// Attacker review of issue 9 (branch review). Tests that pass assert a
// refusal that held; tests that t.Skip("FINDING: …") demonstrate an open
// finding (remove the Skip to see it fail).

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// TestAttackReviewReplayFloodsEvents: a member who holds one signed response
// (already used) reposts it; every repost is a verified failure (replay),
// and verified failures bypass the failure-event limiter.
func TestAttackReviewReplayFloodsEvents(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startRedirect(t, "/")
	posted, err := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	require.NoError(t, err)
	_, err = e.post(t, posted, relayOf(t, rd))
	require.NoError(t, err)
	for range 200 {
		_, err := e.postWith(t, posted, "")
		require.ErrorIs(t, err, sso.ErrReplay)
	}
	n := len(e.eventsOf(sso.EventSignInFailed))
	t.Logf("200 reposts of one used response -> %d sign_in_failed events, %d log lines", n, strings.Count(e.logs.String(), "orgsso sign_in_failed"))
	// Was a finding of the review (200 reposts -> 200 events): replays are
	// limited like unverified failures now.
	assert.LessOrEqual(t, n, 1, "one event per window for one reposted response")
}

// TestAttackReviewPendingRequestsPerStart: every unauthenticated
// /login?trigger_sso_flow=acme gives the browser a binding cookie; however
// many a lured browser is made to start, it holds at most
// BindingCookieSlots of them (the review found one new cookie per start: a
// cookie bomb). The pending requests themselves are still one row per start
// for RequestTTL: bounding them per organization is issue 10's F9.
func TestAttackReviewPendingRequestsPerStart(t *testing.T) {
	e := newEnv(t, nil)
	names := map[string]bool{}
	for range 500 {
		rd, err := e.svc.StartLogin(ctx, "acme", "/"+strings.Repeat("a", 2000))
		require.NoError(t, err)
		names[rd.Cookie.Name] = true
	}
	assert.LessOrEqual(t, len(names), sso.BindingCookieSlots)
}

// TestAttackReviewCrossOrgRequestNotBurned: an organization whose IdP the
// attacker controls signs a response naming another organization's pending
// request and posts it (with a cookie of the right name) to its own ACS; the
// victim organization's request stays usable.
func TestAttackReviewCrossOrgRequestNotBurned(t *testing.T) {
	e := newEnv(t, nil)
	beta := e.addOrg(t, "org-beta", "beta")
	victim, err := e.svc.StartLogin(ctx, "beta", "/")
	require.NoError(t, err)
	spA := e.svc.Details(e.org)
	evil, err := e.idp.Response(ssotest.Response{SP: spA, InResponseTo: victim.RequestID, User: user("mallory@acme.example", "Admins")})
	require.NoError(t, err)
	for _, c := range []*http.Cookie{{Name: victim.Cookie.Name, Value: "forged"}, victim.Cookie} {
		req, err := e.idp.PostRequest(spA.ACSURL, evil, "", c)
		require.NoError(t, err)
		_, err = e.svc.HandleACS(ctx, "acme", req)
		require.Error(t, err)
		evil, _ = e.idp.Response(ssotest.Response{SP: spA, InResponseTo: victim.RequestID, User: user("mallory@acme.example", "Admins")})
	}
	spB := e.svc.Details(beta)
	good, err := e.idp.Response(ssotest.Response{SP: spB, InResponseTo: victim.RequestID, User: user("bob@beta.example")})
	require.NoError(t, err)
	req, err := e.idp.PostRequest(spB.ACSURL, good, "", victim.Cookie)
	require.NoError(t, err)
	res, err := e.svc.HandleACS(ctx, "beta", req)
	require.NoError(t, err, "beta's own sign-in after acme's attempts")
	assert.Equal(t, "org-beta", res.Org.ID)
}

// TestAttackReviewConcurrentPostsOneSuccess: the same response (with its
// cookie) posted 8 times at once signs in exactly once.
func TestAttackReviewConcurrentPostsOneSuccess(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startRedirect(t, "/")
	posted, err := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := e.idp.PostRequest(e.sp.ACSURL, posted, "", rd.Cookie)
			if err != nil {
				return
			}
			if _, err := e.svc.HandleACS(ctx, "acme", req); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, ok)
}

// TestAttackReviewTwoResponsesOneRequest: two distinct signed responses
// answering one request (e.g. the attacker's and the victim's) complete it
// once: the second is refused although its assertion ID is new.
func TestAttackReviewTwoResponsesOneRequest(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startRedirect(t, "/")
	a, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	b, _ := e.idp.Response(e.resp(rd.RequestID, user("mallory@acme.example", "Admins"), nil))
	_, err := e.postWith(t, a, "", rd.Cookie)
	require.NoError(t, err)
	_, err = e.postWith(t, b, "", rd.Cookie)
	require.ErrorIs(t, err, saml.CheckInResponseTo)
}

// TestAttackReviewTestRequestNotALogin: a response answering the owner's
// Test SSO request never creates a session, even posted with the cookie
// and without the test RelayState.
func TestAttackReviewTestRequestNotALogin(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startTest(t)
	posted, _ := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail, "Admins"), nil))
	res, err := e.postWith(t, posted, "", rd.Cookie)
	require.NoError(t, err)
	assert.NotNil(t, res.Test)
	assert.Nil(t, res.Session)
	assert.Empty(t, res.Token)
}

// TestAttackReviewUnsignedResponseInResponseTo: with only the assertion
// signed and IdP-initiated off, an unsolicited assertion cannot borrow a
// pending request ID through the unsigned Response.
func TestAttackReviewUnsignedResponseInResponseTo(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startRedirect(t, "/")
	posted, _ := e.idp.Response(e.resp("", user("mallory@acme.example", "Admins"), func(r *ssotest.Response) {
		r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", rd.RequestID) }
	}))
	_, err := e.postWith(t, posted, "", rd.Cookie)
	require.ErrorIs(t, err, saml.CheckInResponseTo)
}

// --- Validator: read == signed ------------------------------------------
