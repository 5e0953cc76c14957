package storetest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// RunReplicas checks that two application replicas, each with its own Store
// handle on one shared database and its own sso.Service, agree: a response
// accepted by one is a replay on the other, a request consumed on one cannot
// be consumed on the other, a session created on one validates on the other,
// and disabling SSO on one ends the sessions the other sees.
func RunReplicas(t *testing.T, openA, openB func(t *testing.T) Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	stA, stB := openA(t), openB(t)
	mgrA := session.NewManager(stA, session.WithClock(clock))
	mgrB := session.NewManager(stB, session.WithClock(clock))
	newSvc := func(st Store, mgr *session.Manager) *sso.Service {
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: mgr, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	svcA, svcB := newSvc(stA, mgrA), newSvc(stB, mgrB)
	org := &sso.Organization{ID: "org-replicas", SSOName: "replicas", OwnerID: "u-owner", Enabled: true, IdP: idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}}}
	if err := stA.SaveOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	sp := svcA.Details(org)
	// start begins a sign-in on svc; answer is the IdP's response to it.
	start := func(svc *sso.Service) *sso.Redirect {
		t.Helper()
		rd, err := svc.StartLogin(ctx, "replicas", "/")
		if err != nil {
			t.Fatal(err)
		}
		return rd
	}
	answer := func(rd *sso.Redirect) string {
		t.Helper()
		posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID,
			User: ssotest.User{Email: "alice@replicas.example", Roles: []string{"Staff"}}})
		if err != nil {
			t.Fatal(err)
		}
		return posted
	}
	// post delivers posted to svc's ACS, from a browser holding cookie.
	post := func(svc *sso.Service, rd *sso.Redirect, posted string, cookie *http.Cookie) (*sso.Result, error) {
		t.Helper()
		u, _ := url.Parse(rd.URL)
		req, err := idp.PostRequest(sp.ACSURL, posted, u.Query().Get("RelayState"), cookie)
		if err != nil {
			t.Fatal(err)
		}
		return svc.HandleACS(ctx, "replicas", req)
	}

	// A response accepted by A is a replay on B.
	rd := start(svcA)
	posted := answer(rd)
	res, err := post(svcA, rd, posted, rd.Cookie)
	if err != nil {
		t.Fatalf("replica A HandleACS() err = %v", err)
	}
	if _, err := post(svcB, rd, posted, rd.Cookie); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("replica B, same response: err = %v; want ErrReplay", err)
	}

	// A request consumed on one cannot be consumed on the other.
	if err := stA.SaveRequest(ctx, &sso.PendingRequest{ID: "id-shared", OrgID: org.ID, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := stB.ConsumeRequest(ctx, "id-shared"); err != nil {
		t.Errorf("replica B ConsumeRequest err = %v", err)
	}
	if _, err := stA.ConsumeRequest(ctx, "id-shared"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("replica A second ConsumeRequest err = %v; want ErrNotFound", err)
	}
	// Started on B, answered on A: the browser binding made on B holds on A.
	// Posted without the cookie it is refused and the request stays; a
	// response posted with it is accepted, and then the request is used.
	rd2 := start(svcB)
	if _, err := post(svcA, rd2, answer(rd2), nil); !errors.Is(err, sso.CheckBinding) {
		t.Errorf("request started on B, answered on A without its cookie: err = %v; want CheckBinding", err)
	}
	if _, err := post(svcA, rd2, answer(rd2), rd2.Cookie); err != nil {
		t.Errorf("request started on B, answered on A: err = %v", err)
	}
	if _, err := post(svcB, rd2, answer(rd2), rd2.Cookie); !errors.Is(err, sso.CheckInResponseTo) {
		t.Errorf("request started on B, answered on A, answered again on B: err = %v; want CheckInResponseTo", err)
	}

	// A session created on A validates on B.
	s, err := mgrB.Validate(ctx, res.Token)
	if err != nil || s.ID != res.Session.ID {
		t.Errorf("replica B Validate(A's token) = %v, %v", s, err)
	}

	// Disable on B ends the SSO sessions A sees.
	if err := svcB.Disable(ctx, "org-replicas", "u-owner"); err != nil {
		t.Fatal(err)
	}
	if _, err := mgrA.Validate(ctx, res.Token); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("replica A after Disable on B: err = %v; want ErrUnknownSession", err)
	}
	if _, err := svcA.StartLogin(ctx, "replicas", "/"); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("replica A StartLogin after Disable on B: err = %v; want ErrSSODisabled", err)
	}
}
