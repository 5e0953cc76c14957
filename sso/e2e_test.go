package sso_test

// End-to-end sign-in over HTTP: a host application (e2eHost) on an httptest
// server, a scripted browser, and a real identity provider on its own server:
// crewjam/saml's samlidp (independent of our code), then our ssotest IdP.
// Everything runs on the wall clock, as crewjam's IdP does.

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

const (
	e2eOrgID      = "org-acme"
	e2eOwnerID    = "u-owner"
	e2eOwnerEmail = "owner@acme.example"
	// e2eEduPersonAffiliation is the attribute crewjam's samlidp sends a
	// user's groups in (FriendlyName eduPersonAffiliation, URI name format).
	e2eEduPersonAffiliation = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
)

// e2eMapping maps IdP groups to roles: engineering and blog-editors give
// member with stack roles, it-admins gives admin.
func e2eMapping() rolemap.Config {
	return rolemap.Config{
		Enabled: true,
		Mappings: []rolemap.Mapping{
			{IdPRole: "engineering", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {"developer"}}},
			{IdPRole: "blog-editors", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {"editor"}, "blt-docs": {"editor"}}},
			{IdPRole: "it-admins", OrgRole: rolemap.RoleAdmin},
		},
	}
}

// e2eDraft saves organization acme as the owner creates it: SSO name, role
// mapping, attribute names; no IdP yet, SSO disabled. The owner is a member.
func e2eDraft(t *testing.T, h *e2eHost, attrs sso.AttributeNames) *sso.Organization {
	t.Helper()
	org := &sso.Organization{
		ID:          e2eOrgID,
		SSOName:     "acme",
		OwnerID:     e2eOwnerID,
		RoleMapping: e2eMapping(),
		Attributes:  attrs,
	}
	if err := org.Validate(); err != nil {
		t.Fatalf("draft Validate() err = %v", err)
	}
	if err := h.store.SaveOrganization(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	owner := &sso.Member{OrgID: e2eOrgID, UserID: e2eOwnerID, Email: e2eOwnerEmail, FirstName: "Olivia", LastName: "Owner", OrgRole: rolemap.RoleOwner}
	if err := h.store.SaveMember(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	return org
}

// e2eCrewjamEnv is the host with organization acme set up against a crewjam
// IdP, the way an owner does it: SP metadata served by the host is registered
// at the IdP; the IdP's metadata is imported into the organization; SSO is
// enabled.
type e2eCrewjamEnv struct {
	host *e2eHost
	idp  *e2eCrewjam
}

func newE2ECrewjamEnv(t *testing.T, signatureMethod string, spKP *tls.Certificate) *e2eCrewjamEnv {
	t.Helper()
	e := &e2eCrewjamEnv{idp: newE2ECrewjam(t, signatureMethod), host: newE2EHost(t, spKP)}
	org := e2eDraft(t, e.host, sso.AttributeNames{Roles: []string{e2eEduPersonAffiliation}})

	spMD := e2eFetch(t, e.host.URL+"/sso/acme/metadata")
	if want := `entityID="` + e.host.URL + `/sso/acme/metadata"`; !strings.Contains(string(spMD), want) {
		t.Fatalf("SP metadata lacks %s:\n%s", want, spMD)
	}
	e.idp.addService("acme", spMD)

	cfg, err := sso.ParseIdPMetadata(e.idp.metadata())
	if err != nil {
		t.Fatalf("ParseIdPMetadata(crewjam metadata) err = %v", err)
	}
	if cfg.EntityID != e.idp.URL+"/metadata" || cfg.SSOURL != e.idp.URL+"/sso" || len(cfg.Certificates) != 1 {
		t.Fatalf("ParseIdPMetadata(crewjam metadata) = entity %q, SSO URL %q, %d certificates; want %q, %q, 1",
			cfg.EntityID, cfg.SSOURL, len(cfg.Certificates), e.idp.URL+"/metadata", e.idp.URL+"/sso")
	}
	org.IdP = cfg
	if err := e.host.store.SaveOrganization(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	if err := e.host.svc.Enable(t.Context(), e2eOrgID, e2eOwnerID); err != nil {
		t.Fatalf("Enable() err = %v", err)
	}
	return e
}

// signIn runs a browser from /login?trigger_sso_flow=acme&return_to=/me
// through the IdP's login form (user, password) and its auto-post form to
// wherever the host sends it. It returns the browser, the auto-post page and
// the final page.
func (e *e2eCrewjamEnv) signIn(t *testing.T, user, password string) (*e2eBrowser, *e2ePage, *e2ePage) {
	t.Helper()
	b := newE2EBrowser(t, map[string]string{e.host.URL: "app", e.idp.URL: "idp"})
	loginForm := b.get(e.host.URL + "/login?trigger_sso_flow=acme&return_to=/me")
	if loginForm.Status != http.StatusOK || !strings.Contains(loginForm.Body, `name="password"`) {
		t.Fatalf("IdP login page: status %d\n%s", loginForm.Status, e2eCut(loginForm.Body, 2000))
	}
	autoPost := b.submit(loginForm, map[string]string{"user": user, "password": password})
	if autoPost.Status != http.StatusOK || !strings.Contains(autoPost.Body, `name="SAMLResponse"`) {
		t.Fatalf("IdP answer to the login form: status %d\n%s", autoPost.Status, e2eCut(autoPost.Body, 2000))
	}
	return b, autoPost, b.submit(autoPost, nil)
}

// e2eCheckSSOSession checks that the browser holds a valid SSO session cookie
// of the host for the member with this email, and returns the session.
func e2eCheckSSOSession(t *testing.T, h *e2eHost, b *e2eBrowser, email string) *session.Session {
	t.Helper()
	token := b.cookie(h.URL, e2eCookie)
	if token == "" {
		t.Fatalf("the browser holds no %s cookie", e2eCookie)
	}
	sess, err := h.sessions.Validate(t.Context(), token)
	if err != nil {
		t.Fatalf("sessions.Validate(cookie) err = %v", err)
	}
	m, err := h.store.Member(t.Context(), e2eOrgID, email)
	if err != nil {
		t.Fatalf("store.Member(%q) err = %v", email, err)
	}
	if sess.OrgID != e2eOrgID || sess.UserID != m.UserID || sess.Method != session.MethodSSO {
		t.Errorf("session = org %q user %q method %q; want %q %q %q", sess.OrgID, sess.UserID, sess.Method, e2eOrgID, m.UserID, session.MethodSSO)
	}
	if got := sess.ExpiresAt.Sub(sess.CreatedAt); got != sso.DefaultSessionTimeout {
		t.Errorf("session lifetime = %v; want %v", got, sso.DefaultSessionTimeout)
	}
	if d := time.Since(sess.CreatedAt); d < 0 || d > time.Minute {
		t.Errorf("session CreatedAt = %v, %v from now; want about now", sess.CreatedAt, d)
	}
	return sess
}

// e2eWantLines fails unless every line is in body.
func e2eWantLines(t *testing.T, what, body string, lines ...string) {
	t.Helper()
	have := strings.Split(body, "\n")
	for _, l := range lines {
		if !slices.Contains(have, l) {
			t.Errorf("%s lacks line %q:\n%s", what, l, body)
		}
	}
}

// e2eBinding checks that the Set-Cookie headers of a sign-in set one
// browser-binding cookie (a value, HttpOnly, Path=/, Max-Age the request TTL,
// SameSite=Lax on this http host) and later deleted it, and returns the other
// Set-Cookie headers.
func e2eBinding(t *testing.T, setCookies []string) []string {
	t.Helper()
	var rest []string
	var set, cleared *http.Cookie
	for _, raw := range setCookies {
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", raw, err)
		}
		switch {
		case !strings.HasPrefix(c.Name, sso.BindingCookiePrefix):
			rest = append(rest, raw)
		case set == nil:
			set = c
		case c.Name == set.Name && cleared == nil:
			cleared = c
		default:
			t.Errorf("unexpected binding Set-Cookie %q", raw)
		}
	}
	switch {
	case set == nil:
		t.Errorf("Set-Cookie = %q; want a browser-binding cookie set", setCookies)
	case set.Value == "" || !set.HttpOnly || set.Path != "/" || set.MaxAge != int(sso.DefaultRequestTTL/time.Second) ||
		set.Secure || set.SameSite != http.SameSiteLaxMode:
		t.Errorf("binding cookie = %q; want a value, HttpOnly, Path=/, Max-Age=%d, SameSite=Lax, not Secure (http)",
			set.String(), int(sso.DefaultRequestTTL/time.Second))
	case cleared == nil || cleared.MaxAge >= 0 && !strings.Contains(cleared.Raw, "Max-Age=0"):
		t.Errorf("Set-Cookie = %q; want the binding cookie %s deleted after the ACS", setCookies, set.Name)
	}
	return rest
}

func e2eWantHops(t *testing.T, b *e2eBrowser, want ...string) map[string][]string {
	t.Helper()
	hops, cookies := b.takeHops()
	if !slices.Equal(hops, want) {
		t.Errorf("hops = %q; want %q", hops, want)
	}
	return cookies
}

// TestE2ECrewjamSignIn signs users in through crewjam's samlidp: alice's
// groups map to member with stack roles, bob's to admin, carol's to nothing
// (403 with the safe message, ErrAccessDenied), and a resubmitted response is
// a replay.
func TestE2ECrewjamSignIn(t *testing.T) {
	t.Parallel()
	e := newE2ECrewjamEnv(t, saml.AlgRSASHA256, nil)
	e.idp.addUser("alice", "alice-password", "alice@acme.example", "Alice", "Liddell", "engineering", "blog-editors", "all-staff")
	e.idp.addUser("bob", "bob-password", "bob@acme.example", "Bob", "Builder", "it-admins", "all-staff")
	e.idp.addUser("carol", "carol-password", "carol@acme.example", "Carol", "Danvers", "contractors")

	var (
		aliceBrowser  *e2eBrowser
		aliceAutoPost *e2ePage
	)
	t.Run("alice is a member with stack roles", func(t *testing.T) {
		b, autoPost, me := e.signIn(t, "alice", "alice-password")
		aliceBrowser, aliceAutoPost = b, autoPost
		cookies := e2eWantHops(t, b,
			"GET app/login 302", "GET idp/sso 200", "POST idp/sso 200", "POST app/sso/acme/acs 303", "GET app/me 200")
		if me.URL.Path != "/me" || me.Status != http.StatusOK {
			t.Fatalf("landed on %s with status %d; want /me 200\n%s", me.URL, me.Status, me.Body)
		}
		e2eWantLines(t, "/me", me.Body,
			"email: alice@acme.example", "org: "+e2eOrgID, "method: sso", "role: member",
			"stack roles: blt-blog=developer,editor; blt-docs=editor")

		sc := e2eBinding(t, cookies["app"])
		if len(sc) != 1 || !strings.HasPrefix(sc[0], e2eCookie+"=") || !strings.Contains(sc[0], "HttpOnly") || !strings.Contains(sc[0], "Path=/") {
			t.Errorf("host Set-Cookie = %q; want one HttpOnly %s cookie for /", sc, e2eCookie)
		}
		sess := e2eCheckSSOSession(t, e.host, b, "alice@acme.example")
		if !strings.Contains(me.Body, "user: "+sess.UserID+"\n") {
			t.Errorf("/me does not name the session's user %q:\n%s", sess.UserID, me.Body)
		}

		m, err := e.host.store.Member(t.Context(), e2eOrgID, "alice@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		wantStacks := map[string][]string{"blt-blog": {"developer", "editor"}, "blt-docs": {"editor"}}
		if m.OrgRole != rolemap.RoleMember || !reflect.DeepEqual(m.StackRoles, wantStacks) || m.FirstName != "Alice" || m.LastName != "Liddell" {
			t.Errorf("member = %+v; want member %v, Alice Liddell", m, wantStacks)
		}

		// What crewjam sent: both signatures RSA-SHA256 over SHA-256
		// digests (as configured), the groups as eduPersonAffiliation.
		x := e2eSAMLResponseXML(t, autoPost)
		if n := strings.Count(x, `SignatureMethod Algorithm="`+saml.AlgRSASHA256+`"`); n != 2 {
			t.Errorf("response has %d RSA-SHA256 signatures; want 2 (Response and Assertion)", n)
		}
		if strings.Contains(x, "xmldsig#rsa-sha1") || strings.Contains(x, "xmldsig#sha1") {
			t.Errorf("response uses SHA-1:\n%s", x)
		}
		if !strings.Contains(x, `FriendlyName="eduPersonAffiliation" Name="`+e2eEduPersonAffiliation+`"`) {
			t.Errorf("response carries no eduPersonAffiliation attribute:\n%s", x)
		}
		if errs := e.host.acsErrors(); len(errs) != 0 {
			t.Errorf("ACS errors = %v; want none", errs)
		}
	})

	t.Run("resubmitted response is a replay", func(t *testing.T) {
		if aliceAutoPost == nil {
			t.Fatal("alice's sign-in did not get as far as the auto-post form")
		}
		page := aliceBrowser.submit(aliceAutoPost, nil)
		cookies := e2eWantHops(t, aliceBrowser, "POST app/sso/acme/acs 403")
		if want := sso.UserMessage(sso.ErrReplay) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
		errs := e.host.acsErrors()
		if len(errs) != 1 || !errors.Is(errs[0], sso.ErrReplay) {
			t.Errorf("ACS errors = %v; want one ErrReplay", errs)
		}
		if len(cookies["app"]) != 0 {
			t.Errorf("replay set cookies %q", cookies["app"])
		}
		e2eCheckSSOSession(t, e.host, aliceBrowser, "alice@acme.example")
	})

	t.Run("bob is an admin", func(t *testing.T) {
		b, _, me := e.signIn(t, "bob", "bob-password")
		if me.URL.Path != "/me" || me.Status != http.StatusOK {
			t.Fatalf("landed on %s with status %d; want /me 200\n%s", me.URL, me.Status, me.Body)
		}
		e2eWantLines(t, "/me", me.Body, "email: bob@acme.example", "role: admin", "stack roles: ")
		e2eCheckSSOSession(t, e.host, b, "bob@acme.example")
		if token, alice := b.cookie(e.host.URL, e2eCookie), aliceBrowser.cookie(e.host.URL, e2eCookie); token == alice {
			t.Error("bob got alice's session token")
		}
	})

	t.Run("carol's groups map to nothing", func(t *testing.T) {
		before := len(e.host.acsErrors())
		b, _, page := e.signIn(t, "carol", "carol-password")
		cookies := e2eWantHops(t, b,
			"GET app/login 302", "GET idp/sso 200", "POST idp/sso 200", "POST app/sso/acme/acs 403")
		if want := sso.UserMessage(sso.ErrAccessDenied) + "\n"; page.Status != http.StatusForbidden || page.Body != want {
			t.Errorf("ACS answer = %d %q; want 403 %q", page.Status, page.Body, want)
		}
		errs := e.host.acsErrors()
		if len(errs) != before+1 || !errors.Is(errs[len(errs)-1], sso.ErrAccessDenied) {
			t.Fatalf("ACS errors = %v; want a new ErrAccessDenied", errs[before:])
		}
		if rest := e2eBinding(t, cookies["app"]); len(rest) != 0 || b.cookie(e.host.URL, e2eCookie) != "" {
			t.Errorf("carol got a session cookie: %q", rest)
		}
		if me := b.get(e.host.URL + "/me"); me.Status != http.StatusUnauthorized {
			t.Errorf("/me for carol = %d; want 401", me.Status)
		}
		if _, err := e.host.store.Member(t.Context(), e2eOrgID, "carol@acme.example"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("store.Member(carol) err = %v; want ErrNotFound (no member made)", err)
		}
	})
}

// TestE2ECrewjamDefaultSHA1IsRefused leaves crewjam at its default signature
// method, RSA-SHA1 (with SHA-1 digests): the organization, which did not
// choose SHA-1, refuses the response with the algorithm check.
func TestE2ECrewjamDefaultSHA1IsRefused(t *testing.T) {
	t.Parallel()
	e := newE2ECrewjamEnv(t, "", nil)
	e.idp.addUser("alice", "alice-password", "alice@acme.example", "Alice", "Liddell", "engineering")

	b, autoPost, page := e.signIn(t, "alice", "alice-password")
	x := e2eSAMLResponseXML(t, autoPost)
	if !strings.Contains(x, `SignatureMethod Algorithm="`+saml.AlgRSASHA1+`"`) {
		t.Fatalf("crewjam's default did not sign with RSA-SHA1:\n%s", x)
	}
	if want := sso.UserMessage(sso.ErrInvalidResponse) + "\n"; page.Status != http.StatusForbidden || page.Body != want {
		t.Errorf("ACS answer = %d %q; want 403 %q", page.Status, page.Body, want)
	}
	errs := e.host.acsErrors()
	if len(errs) != 1 || !errors.Is(errs[0], sso.ErrInvalidResponse) || e2eCheck(errs[0]) != saml.CheckAlgorithm {
		t.Errorf("ACS errors = %v; want one ErrInvalidResponse from check %q", errs, string(saml.CheckAlgorithm))
	}
	if b.cookie(e.host.URL, e2eCookie) != "" {
		t.Error("a SHA-1 signed response made a session")
	}
}

// TestE2ECrewjamEncryptedAssertion gives the Service an SP key pair: the SP
// metadata then lists an encryption certificate, crewjam encrypts the
// assertion (AES-128-CBC, RSA-OAEP) and the Service decrypts it.
func TestE2ECrewjamEncryptedAssertion(t *testing.T) {
	t.Parallel()
	key, cert := e2eKeyPair(t, "orgsso SP")
	spKP := &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	e := newE2ECrewjamEnv(t, saml.AlgRSASHA256, spKP)
	e.idp.addUser("alice", "alice-password", "alice@acme.example", "Alice", "Liddell", "blog-editors")

	b, autoPost, me := e.signIn(t, "alice", "alice-password")
	x := e2eSAMLResponseXML(t, autoPost)
	if !strings.Contains(x, "EncryptedAssertion") || strings.Contains(x, "eduPersonAffiliation") {
		t.Errorf("crewjam did not encrypt the assertion:\n%s", e2eCut(x, 3000))
	}
	for _, alg := range []string{"http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"} {
		if !strings.Contains(x, `Algorithm="`+alg+`"`) {
			t.Errorf("encrypted assertion does not use %s:\n%s", alg, e2eCut(x, 3000))
		}
	}
	if me.URL.Path != "/me" || me.Status != http.StatusOK {
		t.Fatalf("landed on %s with status %d; want /me 200\n%s\nACS errors: %v", me.URL, me.Status, me.Body, e.host.acsErrors())
	}
	e2eWantLines(t, "/me", me.Body, "email: alice@acme.example", "role: member", "stack roles: blt-blog=editor; blt-docs=editor")
	e2eCheckSSOSession(t, e.host, b, "alice@acme.example")
}

// TestE2ESSOTestIdP runs the product flow against the ssotest IdP on its own
// server: Test SSO by the owner before enabling (a report, nothing saved),
// refused for anyone else; sign-in refused while disabled; enable; sign-in;
// the same response posted again is a replay.
func TestE2ESSOTestIdP(t *testing.T) {
	t.Parallel()
	idpSrv := httptest.NewUnstartedServer(nil)
	idpURL := "http://" + idpSrv.Listener.Addr().String()
	idp, err := ssotest.New(ssotest.Config{EntityID: idpURL + "/metadata", SSOURL: idpURL + "/sso"})
	if err != nil {
		t.Fatalf("ssotest.New() err = %v", err)
	}
	idpSrv.Config.Handler = idp
	idpSrv.Start()
	t.Cleanup(idpSrv.Close)

	h := newE2EHost(t, nil)
	org := e2eDraft(t, h, sso.AttributeNames{})
	org.IdP = idp.IdPConfig()
	if err := h.store.SaveOrganization(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{h.URL: "app", idpURL: "idp"}
	login := func(u ssotest.User) {
		idp.SetLogin(func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) { return u, nil })
	}

	t.Run("owner runs Test SSO before enabling", func(t *testing.T) {
		b := newE2EBrowser(t, labels)
		h.passwordSignIn(t, b, e2eOrgID, e2eOwnerID, e2eOwnerEmail)
		login(ssotest.User{Email: e2eOwnerEmail, FirstName: "Olivia", LastName: "Okta", Roles: []string{"engineering", "all-staff"}})
		autoPost := b.get(h.URL + "/admin/sso/acme/test")
		report := b.submit(autoPost, nil)
		cookies := e2eWantHops(t, b, "GET app/admin/sso/acme/test 302", "GET idp/sso 200", "POST app/sso/acme/acs 200")
		e2eWantLines(t, "report", report.Body,
			"Test SSO report", "email: "+e2eOwnerEmail, "name: Olivia Okta", "idp roles: engineering, all-staff",
			"org role: member", "stack roles: blt-blog=developer", "unmatched: all-staff")
		if strings.Contains(report.Body, "problem:") {
			t.Errorf("report lists problems:\n%s", report.Body)
		}
		if rest := e2eBinding(t, cookies["app"]); len(rest) != 0 {
			t.Errorf("Test SSO set cookies %q; want no session", rest)
		}
		m, err := h.store.Member(t.Context(), e2eOrgID, e2eOwnerEmail)
		if err != nil {
			t.Fatal(err)
		}
		if m.OrgRole != rolemap.RoleOwner || m.LastName != "Owner" || len(m.StackRoles) != 0 {
			t.Errorf("owner after Test SSO = %+v; want unchanged (owner, Olivia Owner)", m)
		}
		if errs := h.acsErrors(); len(errs) != 0 {
			t.Errorf("ACS errors = %v; want none", errs)
		}
	})

	t.Run("Test SSO reports roles that map to nothing", func(t *testing.T) {
		b := newE2EBrowser(t, labels)
		h.passwordSignIn(t, b, e2eOrgID, e2eOwnerID, e2eOwnerEmail)
		login(ssotest.User{Email: e2eOwnerEmail, FirstName: "Olivia", LastName: "Owner", Roles: []string{"contractors"}})
		report := b.submit(b.get(h.URL+"/admin/sso/acme/test"), nil)
		if report.Status != http.StatusOK {
			t.Fatalf("report status %d: %s", report.Status, report.Body)
		}
		e2eWantLines(t, "report", report.Body, "org role: ", "unmatched: contractors")
		if !strings.Contains(report.Body, "problem: ") || !strings.Contains(report.Body, `"contractors"`) {
			t.Errorf("report does not name the unmapped role as a problem:\n%s", report.Body)
		}
	})

	t.Run("Test SSO completes only in the owner's browser", func(t *testing.T) {
		owner := newE2EBrowser(t, labels)
		h.passwordSignIn(t, owner, e2eOrgID, e2eOwnerID, e2eOwnerEmail)
		login(ssotest.User{Email: "mallory@acme.example", FirstName: "Mallory", LastName: "M", Roles: []string{"engineering"}})
		autoPost := owner.get(h.URL + "/admin/sso/acme/test")
		owner.takeHops()
		// Another browser (not the owner's, without its binding cookie)
		// posts the IdP's answer.
		other := newE2EBrowser(t, labels)
		h.passwordSignIn(t, other, e2eOrgID, "u-erin", "erin@acme.example")
		before := len(h.acsErrors())
		page := other.submit(autoPost, nil)
		e2eWantHops(t, other, "POST app/sso/acme/acs 403")
		if want := sso.UserMessage(saml.CheckBinding) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
		if errs := h.acsErrors(); len(errs) != before+1 || !errors.Is(errs[len(errs)-1], saml.CheckBinding) {
			t.Errorf("new ACS errors = %v; want one CheckBinding", errs[before:])
		}
	})

	t.Run("only the owner runs Test SSO", func(t *testing.T) {
		if err := h.store.SaveMember(t.Context(), &sso.Member{OrgID: e2eOrgID, UserID: "u-erin", Email: "erin@acme.example", OrgRole: rolemap.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		b := newE2EBrowser(t, labels)
		h.passwordSignIn(t, b, e2eOrgID, "u-erin", "erin@acme.example")
		page := b.get(h.URL + "/admin/sso/acme/test")
		e2eWantHops(t, b, "GET app/admin/sso/acme/test 403")
		if want := sso.UserMessage(sso.ErrNotOwner) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
	})

	t.Run("sign-in is refused while SSO is disabled", func(t *testing.T) {
		b := newE2EBrowser(t, labels)
		page := b.get(h.URL + "/login?trigger_sso_flow=acme&return_to=/me")
		e2eWantHops(t, b, "GET app/login 403")
		if want := sso.UserMessage(sso.ErrSSODisabled) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
	})

	if err := h.svc.Enable(t.Context(), e2eOrgID, e2eOwnerID); err != nil {
		t.Fatalf("Enable() err = %v", err)
	}

	var (
		daveBrowser  *e2eBrowser
		daveAutoPost *e2ePage
	)
	t.Run("dave signs in", func(t *testing.T) {
		b := newE2EBrowser(t, labels)
		login(ssotest.User{Email: "dave@acme.example", FirstName: "Dave", LastName: "Lister", Roles: []string{"engineering", "blog-editors"}})
		autoPost := b.get(h.URL + "/login?trigger_sso_flow=acme&return_to=/me")
		me := b.submit(autoPost, nil)
		daveBrowser, daveAutoPost = b, autoPost
		cookies := e2eWantHops(t, b, "GET app/login 302", "GET idp/sso 200", "POST app/sso/acme/acs 303", "GET app/me 200")
		e2eWantLines(t, "/me", me.Body,
			"email: dave@acme.example", "org: "+e2eOrgID, "method: sso", "role: member",
			"stack roles: blt-blog=developer,editor; blt-docs=editor")
		if sc := e2eBinding(t, cookies["app"]); len(sc) != 1 || !strings.Contains(sc[0], "HttpOnly") {
			t.Errorf("host Set-Cookie = %q; want one HttpOnly cookie", sc)
		}
		e2eCheckSSOSession(t, h, b, "dave@acme.example")
	})

	t.Run("login CSRF: another browser posting someone's response is refused", func(t *testing.T) {
		// The attacker signs in at the IdP as themself and, instead of
		// posting the answer, makes the victim's browser post it.
		attacker := newE2EBrowser(t, labels)
		login(ssotest.User{Email: "mallory@acme.example", FirstName: "Mallory", LastName: "M", Roles: []string{"engineering"}})
		autoPost := attacker.get(h.URL + "/login?trigger_sso_flow=acme&return_to=/me")
		attacker.takeHops()
		victim := newE2EBrowser(t, labels)
		before := len(h.acsErrors())
		page := victim.submit(autoPost, nil)
		cookies := e2eWantHops(t, victim, "POST app/sso/acme/acs 403")
		if want := sso.UserMessage(saml.CheckBinding) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
		if errs := h.acsErrors(); len(errs) != before+1 || !errors.Is(errs[len(errs)-1], saml.CheckBinding) {
			t.Errorf("new ACS errors = %v; want one CheckBinding", errs[before:])
		}
		if len(cookies["app"]) != 0 || victim.cookie(h.URL, e2eCookie) != "" {
			t.Errorf("the victim got cookies %q", cookies["app"])
		}
		if _, err := h.store.Member(t.Context(), e2eOrgID, "mallory@acme.example"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("store.Member(mallory) err = %v; want ErrNotFound (nothing provisioned)", err)
		}
	})

	t.Run("the same response posted again is a replay", func(t *testing.T) {
		if daveAutoPost == nil {
			t.Fatal("dave's sign-in did not get as far as the auto-post form")
		}
		before := len(h.acsErrors())
		page := daveBrowser.submit(daveAutoPost, nil)
		cookies := e2eWantHops(t, daveBrowser, "POST app/sso/acme/acs 403")
		if want := sso.UserMessage(sso.ErrReplay) + "\n"; page.Body != want {
			t.Errorf("body = %q; want %q", page.Body, want)
		}
		errs := h.acsErrors()
		if len(errs) != before+1 || !errors.Is(errs[len(errs)-1], sso.ErrReplay) {
			t.Errorf("new ACS errors = %v; want one ErrReplay", errs[before:])
		}
		if len(cookies["app"]) != 0 {
			t.Errorf("replay set cookies %q", cookies["app"])
		}
		e2eCheckSSOSession(t, h, daveBrowser, "dave@acme.example")
	})
}
