package faultstore_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// The suites share one clock, fixed at a whole second (every store keeps
// times to the microsecond at least), and one test IdP whose key is made
// once.
var (
	suiteNow = time.Now().UTC().Truncate(time.Second)
	idpOnce  sync.Once
	idpVal   *ssotest.IdP
	idpErr   error
)

// clock is the Services', the session managers' and the IdP's clock.
func clock() time.Time { return suiteNow }

// baseURL is every Service's BaseURL.
const baseURL = "https://app.example.com"

// testIdP returns the shared test IdP.
func testIdP(t testing.TB) *ssotest.IdP {
	t.Helper()
	idpOnce.Do(func() { idpVal, idpErr = ssotest.New(ssotest.Config{Now: clock}) })
	if idpErr != nil {
		t.Fatalf("ssotest.New() err = %v", idpErr)
	}
	return idpVal
}

// replica is one application replica: a Service and its session manager
// over one store handle.
type replica struct {
	svc *sso.Service
	mgr *session.Manager
}

// replicaConfig adjusts the Config a replica's Service is built with.
type replicaConfig func(*sso.Config)

// newReplica builds a Service over st with the suite's clock.
func newReplica(t testing.TB, st sso.Store, sessions session.Store, opts ...replicaConfig) replica {
	t.Helper()
	mgr := session.NewManager(sessions, session.WithClock(clock))
	cfg := sso.Config{BaseURL: baseURL, Store: st, Sessions: mgr, Now: clock, StoreTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := sso.New(cfg)
	if err != nil {
		t.Fatalf("sso.New() err = %v", err)
	}
	return replica{svc: svc, mgr: mgr}
}

// signIn is one SP-initiated sign-in in flight: the request StartLogin
// made, the IdP's signed response to it and the browser's binding cookie.
type signIn struct {
	ssoName     string
	rd          *sso.Redirect
	relay       string
	posted      string
	assertionID string
	acsURL      string
}

// startSignIn starts a sign-in of user on r and has the IdP answer it with
// an assertion whose ID is assertionID ("" = random).
func startSignIn(t testing.TB, r replica, org *sso.Organization, user ssotest.User, assertionID string) *signIn {
	t.Helper()
	rd, err := r.svc.StartLogin(context.Background(), org.SSOName, "/")
	if err != nil {
		t.Fatalf("StartLogin(%q) err = %v", org.SSOName, err)
	}
	return answer(t, r, org, rd, user, assertionID)
}

// answer has the IdP answer the request of rd (from StartLogin or
// StartTest on r) for user.
func answer(t testing.TB, r replica, org *sso.Organization, rd *sso.Redirect, user ssotest.User, assertionID string) *signIn {
	t.Helper()
	u, err := url.Parse(rd.URL)
	if err != nil {
		t.Fatal(err)
	}
	sp := r.svc.Details(org)
	posted, err := testIdP(t).Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user, AssertionID: assertionID})
	if err != nil {
		t.Fatalf("IdP Response() err = %v", err)
	}
	return &signIn{ssoName: org.SSOName, rd: rd, relay: u.Query().Get("RelayState"), posted: posted,
		assertionID: assertionID, acsURL: sp.ACSURL}
}

// request is the ACS POST of the sign-in's response from the browser that
// started it.
func (s *signIn) request(t testing.TB) *http.Request {
	t.Helper()
	req, err := testIdP(t).PostRequest(s.acsURL, s.posted, s.relay, s.rd.Cookie)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// post delivers the sign-in's response to r's ACS.
func (s *signIn) post(t testing.TB, r replica) (*sso.Result, error) {
	t.Helper()
	return r.svc.HandleACS(context.Background(), s.ssoName, s.request(t))
}
