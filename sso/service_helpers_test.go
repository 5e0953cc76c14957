package sso_test

import (
	"bytes"
	"context"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// testClock is a settable clock shared by the IdP, the Service and sessions.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// lockedBuffer collects log output from concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is a Service over the memory store with organization "acme" (owner
// u-owner, SSO enabled, role mapping for Contentstack-style groups) and the
// fixture IdP.
type env struct {
	*fixture
	clock    *testClock
	store    *memory.Store
	sessions *session.Manager
	svc      *sso.Service
	org      *sso.Organization
	logs     *lockedBuffer
	mu       sync.Mutex
	events   []sso.Event
	// jar is the test's one browser: the cookies StartLogin and StartTest
	// gave it (by name), sent with every post, deleted as HandleACS says.
	jar map[string]*http.Cookie
}

const (
	ownerID    = "u-owner"
	ownerEmail = "owner@acme.example"
)

func acmeMapping() rolemap.Config {
	return rolemap.Config{
		Enabled:   true,
		Delimiter: ",",
		Mappings: []rolemap.Mapping{
			{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {"developer"}}},
			{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin},
		},
	}
}

func newEnv(t testing.TB, mutate func(*sso.Organization)) *env {
	t.Helper()
	f := newFixture(t)
	e := &env{fixture: f, clock: &testClock{now: testNow}, store: memory.New(), logs: &lockedBuffer{}, jar: map[string]*http.Cookie{}}
	e.sessions = session.NewManager(e.store, session.WithClock(e.clock.Now), session.WithRand(mrand.NewChaCha8([32]byte{2})))
	svc, err := sso.New(sso.Config{
		BaseURL:  "https://app.example.com",
		Store:    e.store,
		Sessions: e.sessions,
		Now:      e.clock.Now,
		Rand:     mrand.NewChaCha8([32]byte{3}),
		Logger:   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// The test OpenID providers run on httptest, on 127.0.0.1.
		InsecureAllowPrivateNetworks: true,
		OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("sso.New() err = %v", err)
	}
	e.svc = svc
	e.org = &sso.Organization{
		ID: "org-acme", SSOName: "acme", OwnerID: ownerID, Enabled: true,
		IdP:         f.idp.IdPConfig(),
		RoleMapping: acmeMapping(),
	}
	if mutate != nil {
		mutate(e.org)
	}
	e.fixture.sp = svc.Details(e.org)
	ctx := context.Background()
	if err := e.store.SaveOrganization(ctx, e.org); err != nil {
		t.Fatal(err)
	}
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: ownerID, Email: ownerEmail, OrgRole: rolemap.RoleOwner})
	return e
}

func (e *env) saveMember(t testing.TB, m *sso.Member) {
	t.Helper()
	if err := e.store.SaveMember(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func (e *env) member(t testing.TB, email string) *sso.Member {
	t.Helper()
	m, err := e.store.Member(context.Background(), e.org.ID, email)
	if err != nil {
		t.Fatalf("Member(%q) err = %v", email, err)
	}
	return m
}

func (e *env) updateOrg(t testing.TB, mutate func(*sso.Organization)) {
	t.Helper()
	org, err := e.store.Organization(context.Background(), e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	mutate(org)
	if err := e.store.SaveOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	e.org = org
}

func (e *env) eventsOf(typ sso.EventType) []sso.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []sso.Event
	for _, ev := range e.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// start begins a sign-in in the test's browser and returns the request ID
// and RelayState.
func (e *env) start(t testing.TB, returnTo string) (id, relay string) {
	t.Helper()
	rd := e.startRedirect(t, returnTo)
	return rd.RequestID, relayOf(t, rd)
}

// startRedirect begins a sign-in in the test's browser.
func (e *env) startRedirect(t testing.TB, returnTo string) *sso.Redirect {
	t.Helper()
	rd, err := e.svc.StartLogin(context.Background(), e.org.SSOName, returnTo)
	if err != nil {
		t.Fatalf("StartLogin() err = %v", err)
	}
	e.keep(t, rd)
	return rd
}

// addOrg saves a second organization, enabled, trusting the same IdP, with
// JIT provisioning.
func (e *env) addOrg(t testing.TB, id, name string) *sso.Organization {
	t.Helper()
	org := &sso.Organization{ID: id, SSOName: name, OwnerID: "u-owner-" + name, Enabled: true,
		IdP: e.idp.IdPConfig(), JITProvisioning: true}
	if err := e.store.SaveOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org
}

// startTest begins a Test SSO round trip for the owner in the test's browser.
func (e *env) startTest(t testing.TB) *sso.Redirect {
	t.Helper()
	rd, err := e.svc.StartTest(context.Background(), e.org.ID, ownerID)
	if err != nil {
		t.Fatalf("StartTest() err = %v", err)
	}
	e.keep(t, rd)
	return rd
}

// keep puts the redirect's binding cookie in the test's browser.
func (e *env) keep(t testing.TB, rd *sso.Redirect) {
	t.Helper()
	if rd.Cookie == nil {
		t.Fatalf("Redirect.Cookie is nil; want the browser-binding cookie")
	}
	e.mu.Lock()
	e.jar[rd.Cookie.Name] = rd.Cookie
	e.mu.Unlock()
}

// cookies returns the cookies of the test's browser.
func (e *env) cookies() []*http.Cookie {
	e.mu.Lock()
	defer e.mu.Unlock()
	var cs []*http.Cookie
	for _, c := range e.jar {
		cs = append(cs, c)
	}
	return cs
}

// post delivers a response to the ACS from the test's browser, and applies
// the cookie deletions HandleACS returns.
func (e *env) post(t testing.TB, posted, relay string) (*sso.Result, error) {
	t.Helper()
	return e.postWith(t, posted, relay, e.cookies()...)
}

// postWith delivers a response to the ACS from a browser holding cookies.
func (e *env) postWith(t testing.TB, posted, relay string, cookies ...*http.Cookie) (*sso.Result, error) {
	t.Helper()
	req, err := e.idp.PostRequest(e.sp.ACSURL, posted, relay, cookies...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.HandleACS(context.Background(), e.org.SSOName, req)
	if res != nil {
		e.mu.Lock()
		for _, c := range res.ClearCookies {
			delete(e.jar, c.Name)
		}
		e.mu.Unlock()
	}
	return res, err
}

// signIn runs a whole SP-initiated sign-in for user.
func (e *env) signIn(t testing.TB, user ssotest.User, mutate func(*ssotest.Response)) (*sso.Result, error) {
	t.Helper()
	id, relay := e.start(t, "/dashboard")
	posted, err := e.idp.Response(e.resp(id, user, mutate))
	if err != nil {
		t.Fatal(err)
	}
	return e.post(t, posted, relay)
}

func (e *env) resp(inResponseTo string, user ssotest.User, mutate func(*ssotest.Response)) ssotest.Response {
	r := ssotest.Response{SP: e.sp, InResponseTo: inResponseTo, User: user}
	if mutate != nil {
		mutate(&r)
	}
	return r
}

func user(email string, roles ...string) ssotest.User {
	name := strings.SplitN(email, "@", 2)[0]
	return ssotest.User{Email: email, FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Example", Roles: roles}
}

func postForm(t testing.TB, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
