package sso_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// TestBindingCookieAttributesFollowScheme: the binding cookie and the session
// cookie decide Secure from the parsed scheme of BaseURL, in any letter case;
// https also gives SameSite=None (the IdP's POST is cross-site) and the
// __Host- prefix, http (development) SameSite=Lax.
func TestBindingCookieAttributesFollowScheme(t *testing.T) {
	tests := []struct {
		baseURL    string
		secure     bool
		sameSite   http.SameSite
		namePrefix string
	}{
		{"https://app.example.com", true, http.SameSiteNoneMode, "__Host-" + sso.BindingCookiePrefix},
		{"HTTPS://APP.EXAMPLE.COM", true, http.SameSiteNoneMode, "__Host-" + sso.BindingCookiePrefix},
		{"Https://app.example.com/base/", true, http.SameSiteNoneMode, "__Host-" + sso.BindingCookiePrefix},
		{"http://localhost:8080", false, http.SameSiteLaxMode, sso.BindingCookiePrefix},
		{"HTTP://127.0.0.1:8080", false, http.SameSiteLaxMode, sso.BindingCookiePrefix},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			st := memory.New()
			svc, err := sso.New(sso.Config{BaseURL: tt.baseURL, Store: st, Sessions: session.NewManager(st),
				Now: func() time.Time { return testNow }, RequestTTL: 7 * time.Minute})
			require.NoError(t, err)
			f := newFixture(t)
			org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", Enabled: true, IdP: f.idp.IdPConfig()}
			require.NoError(t, st.SaveOrganization(ctx, org))

			rd, err := svc.StartLogin(ctx, "acme", "/")
			require.NoError(t, err)
			c := rd.Cookie
			require.NotNil(t, c)
			assert.True(t, strings.HasPrefix(c.Name, tt.namePrefix), "name %q; want prefix %q", c.Name, tt.namePrefix)
			assert.Equal(t, tt.secure, c.Secure, "Secure")
			assert.Equal(t, tt.sameSite, c.SameSite, "SameSite")
			assert.True(t, c.HttpOnly, "HttpOnly")
			assert.Equal(t, "/", c.Path, "Path covers the ACS")
			assert.Empty(t, c.Domain, "Domain")
			assert.Equal(t, 7*60, c.MaxAge, "Max-Age = RequestTTL")
			assert.NoError(t, c.Valid(), "http.Cookie.Valid")

			sess := &session.Session{ID: "s", ExpiresAt: testNow.Add(time.Hour)}
			sc := svc.SessionCookie(&sso.Result{Session: sess, Token: "tok"})
			assert.Equal(t, tt.secure, sc.Secure, "session cookie Secure")
			assert.Equal(t, http.SameSiteLaxMode, sc.SameSite, "session cookie SameSite")
		})
	}
}

// TestBindingNonceIsRandomAndStoredHashed: each sign-in gets its own cookie
// (name and value), the value carries at least 128 bits from the injected
// randomness, and the pending request keeps only its SHA-256.
func TestBindingNonceIsRandomAndStoredHashed(t *testing.T) {
	e := newEnv(t, nil)
	a := e.startRedirect(t, "/")
	b := e.startRedirect(t, "/")
	for a.Cookie.Name == b.Cookie.Name { // one slot in BindingCookieSlots
		a, b = e.startRedirect(t, "/"), e.startRedirect(t, "/")
	}
	assert.NotEqual(t, a.Cookie.Value, b.Cookie.Value, "two sign-ins share a nonce")
	raw, err := base64.RawURLEncoding.DecodeString(a.Cookie.Value)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(raw)*8, 128, "nonce bits")

	req, err := e.store.ConsumeRequest(ctx, a.RequestID)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(a.Cookie.Value))
	assert.Equal(t, hex.EncodeToString(sum[:]), req.BindingHash)
	assert.NotContains(t, req.BindingHash, a.Cookie.Value)
}

// TestBindingRefusals: a response to an SP-initiated or test request is
// accepted only from the browser holding that request's cookie; every refusal
// leaves the request usable by its own browser.
func TestBindingRefusals(t *testing.T) {
	tests := []struct {
		name    string
		test    bool // a Test SSO round trip
		cookies func(own, other *http.Cookie) []*http.Cookie
		wantErr error
	}{
		{"login without any cookie", false, func(_, _ *http.Cookie) []*http.Cookie { return nil }, saml.CheckBinding},
		{"login with another request's cookie", false, func(_, other *http.Cookie) []*http.Cookie { return []*http.Cookie{other} }, saml.CheckBinding},
		{"login with a forged value under its name", false, func(own, _ *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: own.Name, Value: "forged"}}
		}, saml.CheckInResponseTo},
		{"login with another request's value under its name", false, func(own, other *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: own.Name, Value: other.Value}}
		}, saml.CheckInResponseTo},
		{"login with an oversized value under its name", false, func(own, _ *http.Cookie) []*http.Cookie {
			return []*http.Cookie{{Name: own.Name, Value: strings.Repeat("A", 4000)}}
		}, saml.CheckBinding},
		{"Test SSO from a non-owner browser", true, func(_, _ *http.Cookie) []*http.Cookie { return nil }, saml.CheckBinding},
		{"Test SSO with the owner's other sign-in cookie", true, func(_, other *http.Cookie) []*http.Cookie { return []*http.Cookie{other} }, saml.CheckBinding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			var own, other *sso.Redirect
			for own == nil || own.Cookie.Name == other.Cookie.Name { // distinct slots
				e.forgetCookies()
				other = e.startRedirect(t, "/other")
				if tt.test {
					own = e.startTest(t)
				} else {
					own = e.startRedirect(t, "/own")
				}
			}
			u := user(ownerEmail, "Admins")
			posted, err := e.idp.Response(e.resp(own.RequestID, u, nil))
			require.NoError(t, err)
			_, err = e.postWith(t, posted, relayOf(t, own), tt.cookies(own.Cookie, other.Cookie)...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("HandleACS() err = %v; want %v", err, tt.wantErr)
			}
			assert.Equal(t, sso.ErrorCode(tt.wantErr), sso.ErrorCode(err))

			// The owner's browser still completes its own sign-in.
			again, err := e.idp.Response(e.resp(own.RequestID, u, nil))
			require.NoError(t, err)
			res, err := e.postWith(t, again, relayOf(t, own), own.Cookie)
			require.NoError(t, err, "own browser after the refusal")
			assert.Equal(t, tt.test, res.Test != nil)
			require.Len(t, res.ClearCookies, 1)
			assert.Equal(t, own.Cookie.Name, res.ClearCookies[0].Name)
		})
	}
}

// TestBindingTwoTabs: two sign-ins started in one browser both complete, in
// either order: each clears only its own cookie.
func TestBindingTwoTabs(t *testing.T) {
	e := newEnv(t, nil)
	first := e.startRedirect(t, "/first")
	second := e.startRedirect(t, "/second")
	for second.Cookie.Name == first.Cookie.Name { // same slot: see TestBindingSlots
		e.forgetCookies()
		first, second = e.startRedirect(t, "/first"), e.startRedirect(t, "/second")
	}
	for _, rd := range []*sso.Redirect{second, first} {
		posted, err := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
		require.NoError(t, err)
		res, err := e.post(t, posted, relayOf(t, rd))
		require.NoError(t, err, "tab %s", rd.RequestID)
		assert.Equal(t, map[bool]string{true: "/first", false: "/second"}[rd == first], res.ReturnTo)
		require.Len(t, res.ClearCookies, 1)
		c := res.ClearCookies[0]
		assert.Equal(t, rd.Cookie.Name, c.Name)
		assert.Less(t, c.MaxAge, 0, "deletes")
		assert.Equal(t, rd.Cookie.Path, c.Path)
		assert.True(t, c.Secure && c.HttpOnly && c.SameSite == http.SameSiteNoneMode, "same attributes as the cookie: %v", c)
	}
	assert.Empty(t, e.cookies(), "both cookies cleared")
}

// TestBindingIdPInitiatedNeedsNoCookie: an organization that allows
// IdP-initiated sign-in accepts an unsolicited response from a browser with no
// cookie, and has nothing to clear.
func TestBindingIdPInitiatedNeedsNoCookie(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.AllowIdPInitiated = true })
	posted, err := e.idp.Response(e.resp("", user("alice@acme.example", "Admins"), nil))
	require.NoError(t, err)
	res, err := e.postWith(t, posted, "")
	require.NoError(t, err)
	assert.Equal(t, "alice@acme.example", res.Member.Email)
	assert.Empty(t, res.ClearCookies)
	// A solicited response still needs its cookie, opt-in or not.
	rd := e.startRedirect(t, "/")
	posted, err = e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	require.NoError(t, err)
	_, err = e.postWith(t, posted, relayOf(t, rd))
	assert.ErrorIs(t, err, saml.CheckBinding)
}

// TestClearBindingCookies: after a failure, the host deletes every binding
// cookie the request carries, and only those, with the Service's attributes.
func TestClearBindingCookies(t *testing.T) {
	e := newEnv(t, nil)
	a := e.startRedirect(t, "/")
	b := e.startRedirect(t, "/")
	for b.Cookie.Name == a.Cookie.Name {
		e.forgetCookies()
		a, b = e.startRedirect(t, "/"), e.startRedirect(t, "/")
	}
	req, err := e.idp.PostRequest(e.sp.ACSURL, "garbage", "", a.Cookie, b.Cookie,
		&http.Cookie{Name: "__Host-" + sso.SessionCookieName, Value: "s"}, &http.Cookie{Name: "other", Value: "x"},
		&http.Cookie{Name: sso.BindingCookiePrefix + "plain", Value: "made by an http Service"})
	require.NoError(t, err)
	_, err = e.svc.HandleACS(ctx, "acme", req)
	require.Error(t, err)
	got := e.svc.ClearBindingCookies(req)
	require.Len(t, got, 2)
	names := map[string]bool{}
	for _, c := range got {
		names[c.Name] = true
		assert.Less(t, c.MaxAge, 0)
		assert.Equal(t, "/", c.Path)
		assert.True(t, c.Secure)
		assert.NoError(t, c.Valid())
	}
	assert.Equal(t, map[string]bool{a.Cookie.Name: true, b.Cookie.Name: true}, names)
	assert.Nil(t, e.svc.ClearBindingCookies(nil))
}

// bareStore is a Store without ConsumeMatchingRequest: only the contract's
// methods, as a host's own store might be.
type bareStore struct{ sso.Store }

// TestConsumeFallbackPutsBack: with a Store that is not a RequestConsumer,
// a response naming another organization's request, or posted from a browser
// with the wrong cookie value, does not use the request up.
func TestConsumeFallbackPutsBack(t *testing.T) {
	f := newFixture(t)
	st := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: bareStore{st}, Sessions: session.NewManager(st),
		Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	acme := &sso.Organization{ID: "org-acme", SSOName: "acme", OwnerID: "u", Enabled: true, IdP: f.idp.IdPConfig(), JITProvisioning: true}
	globex := &sso.Organization{ID: "org-globex", SSOName: "globex", OwnerID: "u", Enabled: true, IdP: f.idp.IdPConfig(), JITProvisioning: true}
	require.NoError(t, st.SaveOrganization(ctx, acme))
	require.NoError(t, st.SaveOrganization(ctx, globex))
	rd, err := svc.StartLogin(ctx, "globex", "/")
	require.NoError(t, err)
	post := func(org *sso.Organization, cookie *http.Cookie) error {
		t.Helper()
		sp := svc.Details(org)
		posted, err := f.idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user("bob@globex.example")})
		require.NoError(t, err)
		req, err := f.idp.PostRequest(sp.ACSURL, posted, "", cookie)
		require.NoError(t, err)
		_, err = svc.HandleACS(ctx, org.SSOName, req)
		return err
	}
	assert.ErrorIs(t, post(acme, rd.Cookie), saml.CheckInResponseTo, "acme naming globex's request")
	assert.ErrorIs(t, post(globex, &http.Cookie{Name: rd.Cookie.Name, Value: "forged"}), saml.CheckInResponseTo, "wrong value")
	assert.NoError(t, post(globex, rd.Cookie), "globex's own browser afterwards")
}

// TestFailureEventsLimited: failures of unverified posts are reported once
// per window per organization and kind, the rest counted in the next one's
// Suppressed; failures after verification (denied, replay, binding) are
// always reported; nothing from an unverified post reaches an event or log.
func TestFailureEventsLimited(t *testing.T) {
	e := newEnv(t, nil)
	garbage := func(text string) error {
		t.Helper()
		_, err := e.svc.HandleACS(ctx, "acme", postForm(t, e.sp.ACSURL, map[string][]string{"SAMLResponse": {text}}))
		require.Error(t, err)
		return err
	}
	lure := "URGENT: re-enter your owner password at https://evil.example"
	for range 50 {
		garbage(base64.StdEncoding.EncodeToString([]byte("<x>" + lure + "</x>")))
	}
	failed := e.eventsOf(sso.EventSignInFailed)
	require.Len(t, failed, 1, "50 unverified failures of one kind in one window")
	assert.Zero(t, failed[0].Suppressed)
	assert.Empty(t, failed[0].Email)

	// Another kind of the same organization has its own window.
	garbage("%%% not base64 %%%")
	require.Len(t, e.eventsOf(sso.EventSignInFailed), 2)

	// Verified failures always: a denied identity, and a response from
	// another browser.
	for range 3 {
		_, err := e.signIn(t, user("carol@acme.example", "Marketing"), nil)
		require.ErrorIs(t, err, sso.ErrAccessDenied)
	}
	rd := e.startRedirect(t, "/")
	posted, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	_, err := e.postWith(t, posted, relayOf(t, rd))
	require.ErrorIs(t, err, saml.CheckBinding)
	failed = e.eventsOf(sso.EventSignInFailed)
	require.Len(t, failed, 6)
	for _, ev := range failed[2:5] {
		assert.Equal(t, "carol@acme.example", ev.Email, "a verified failure names its verified identity")
	}
	assert.Equal(t, saml.CheckBinding, failed[5].Check)

	// After the window, the next unverified failure reports what was held.
	e.clock.Advance(sso.DefaultFailureEventWindow)
	garbage(base64.StdEncoding.EncodeToString([]byte("<x/>")))
	failed = e.eventsOf(sso.EventSignInFailed)
	require.Len(t, failed, 7)
	assert.Equal(t, 49, failed[6].Suppressed)
	assert.Equal(t, "org-acme", failed[6].OrgID)

	logs := e.logs.String()
	assert.Equal(t, 7, strings.Count(logs, "orgsso sign_in_failed"), "logs follow the events")
	assert.Contains(t, logs, "suppressed=49")
	assert.NotContains(t, logs, "evil.example")
	for _, ev := range e.eventsOf(sso.EventSignInFailed) {
		assert.NotContains(t, ev.Err.Error(), "evil.example")
	}
}

// TestFailureEventsUnknownOrganization: posts to SSO names no organization
// has are limited too, and a name that is not a valid SSO name never reaches
// an event or a log.
func TestFailureEventsUnknownOrganization(t *testing.T) {
	e := newEnv(t, nil)
	names := []string{"URGENT re-enter your password at https://evil.example", strings.Repeat("x", 10000), "ghost", "ghost-2"}
	for _, name := range names {
		_, err := e.svc.HandleACS(ctx, name, postForm(t, e.sp.ACSURL, map[string][]string{"SAMLResponse": {"x"}}))
		require.ErrorIs(t, err, sso.ErrUnknownOrganization)
		assert.NotContains(t, err.Error(), "evil.example")
		assert.Less(t, len(err.Error()), 200)
	}
	failed := e.eventsOf(sso.EventSignInFailed)
	require.Len(t, failed, 1, "one window for unknown organizations")
	assert.Empty(t, failed[0].SSOName, "an invalid name is not echoed")
	assert.Empty(t, failed[0].OrgID)
	assert.NotContains(t, e.logs.String(), "evil.example")
	assert.NotContains(t, e.logs.String(), "xxxxxxxxxx")
}

// TestTestSSOWarnsAboutAESCBCEndToEnd: a Test SSO whose IdP encrypts the
// assertion with AES-CBC (still accepted) reports it as a problem with the
// way to AES-GCM; AES-GCM and a clear assertion do not.
func TestTestSSOWarnsAboutAESCBCEndToEnd(t *testing.T) {
	tests := []struct {
		method string // "" = not encrypted
		warn   bool
	}{
		{ssotest.EncryptionAES128CBC, true},
		{ssotest.EncryptionAES256CBC, true},
		{ssotest.EncryptionAES256GCM, false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e := newEnv(t, nil)
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions,
				Now: e.clock.Now, SPKeyPair: e.spKP})
			require.NoError(t, err)
			e.svc = svc
			rd := e.startTest(t)
			posted, err := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail, "Admins"), func(r *ssotest.Response) {
				if tt.method != "" {
					r.EncryptFor, r.EncryptionMethod = e.spCert, tt.method
				}
			}))
			require.NoError(t, err)
			res, err := e.post(t, posted, relayOf(t, rd))
			require.NoError(t, err)
			problems := strings.Join(res.Test.Problems, "\n")
			if tt.warn {
				assert.Contains(t, problems, "AES-CBC")
				assert.Contains(t, problems, "choose AES-256-GCM (aes256-gcm) as the assertion encryption algorithm in the IdP")
			} else {
				assert.NotContains(t, problems, "AES-CBC")
			}
		})
	}
}

// TestBindingSlots: however many sign-ins a page makes one browser start,
// it holds at most BindingCookieSlots binding cookies (no cookie bombing);
// of two sign-ins in one slot, the newer completes and the older must be
// started again.
func TestBindingSlots(t *testing.T) {
	e := newEnv(t, nil)
	bySlot := map[string][]*sso.Redirect{}
	for range 200 {
		rd := e.startRedirect(t, "/")
		bySlot[rd.Cookie.Name] = append(bySlot[rd.Cookie.Name], rd)
	}
	assert.LessOrEqual(t, len(e.cookies()), sso.BindingCookieSlots)
	assert.Len(t, bySlot, sso.BindingCookieSlots, "200 starts use every slot")
	for _, rds := range bySlot {
		if len(rds) < 2 {
			continue
		}
		older, newer := rds[0], rds[len(rds)-1]
		posted, err := e.idp.Response(e.resp(older.RequestID, user("alice@acme.example", "Admins"), nil))
		require.NoError(t, err)
		_, err = e.post(t, posted, relayOf(t, older))
		// Its cookie now holds the newer nonce: no request matches it.
		assert.ErrorIs(t, err, sso.ErrInvalidResponse, "the older sign-in of a slot")
		posted, err = e.idp.Response(e.resp(newer.RequestID, user("alice@acme.example", "Admins"), nil))
		require.NoError(t, err)
		_, err = e.post(t, posted, relayOf(t, newer))
		assert.NoError(t, err, "the newer sign-in of a slot")
		break
	}
}

// forgetCookies empties the test's browser.
func (e *env) forgetCookies() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.jar)
}
