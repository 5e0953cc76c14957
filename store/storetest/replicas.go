package storetest

import (
	"context"
	"errors"
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
	signIn := func(svc *sso.Service) (string, string) {
		t.Helper()
		rd, err := svc.StartLogin(ctx, "replicas", "/")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(rd.URL)
		posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID,
			User: ssotest.User{Email: "alice@replicas.example", Roles: []string{"Staff"}}})
		if err != nil {
			t.Fatal(err)
		}
		return posted, u.Query().Get("RelayState")
	}
	post := func(svc *sso.Service, posted, relay string) (*sso.Result, error) {
		t.Helper()
		req, err := idp.PostRequest(sp.ACSURL, posted, relay)
		if err != nil {
			t.Fatal(err)
		}
		return svc.HandleACS(ctx, "replicas", req)
	}

	// A response accepted by A is a replay on B.
	posted, relay := signIn(svcA)
	res, err := post(svcA, posted, relay)
	if err != nil {
		t.Fatalf("replica A HandleACS() err = %v", err)
	}
	if _, err := post(svcB, posted, relay); !errors.Is(err, sso.ErrReplay) {
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
	// Started on B, answered on A, then a second answer on B: refused.
	posted2, relay2 := signIn(svcB)
	if _, err := post(svcA, posted2, relay2); err != nil {
		t.Errorf("request started on B, answered on A: err = %v", err)
	}

	// A session created on A validates on B.
	s, err := mgrB.Validate(ctx, res.Token)
	if err != nil || s.ID != res.Session.ID {
		t.Errorf("replica B Validate(A's token) = %v, %v", s, err)
	}

	// Disable on B ends the SSO sessions A sees.
	if err := svcB.Disable(ctx, "replicas", "u-owner"); err != nil {
		t.Fatal(err)
	}
	if _, err := mgrA.Validate(ctx, res.Token); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("replica A after Disable on B: err = %v; want ErrUnknownSession", err)
	}
	if _, err := svcA.StartLogin(ctx, "replicas", "/"); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("replica A StartLogin after Disable on B: err = %v; want ErrSSODisabled", err)
	}
}
