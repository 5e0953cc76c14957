package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// RunReplicas checks that two application replicas, each with its own Store
// handle on one shared database and its own sso.Service, agree: a response
// accepted by one is a replay on the other, a request consumed on one cannot
// be consumed on the other, a session created on one validates on the other,
// and disabling SSO on one ends the sessions the other sees. The atomic
// writes of sso.AdminStore and session.Lister hold across the two handles
// too: an organization update from a stale Version is a conflict, one member
// is created of concurrent creators, an ended session is ended for both, and
// one handle's cleanup removes what the other stored.
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
	replicaAdmin(t, ctx, stA, stB)
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
	if _, err := post(svcA, rd2, answer(rd2), nil); !errors.Is(err, saml.CheckBinding) {
		t.Errorf("request started on B, answered on A without its cookie: err = %v; want CheckBinding", err)
	}
	if _, err := post(svcA, rd2, answer(rd2), rd2.Cookie); err != nil {
		t.Errorf("request started on B, answered on A: err = %v", err)
	}
	if _, err := post(svcB, rd2, answer(rd2), rd2.Cookie); !errors.Is(err, saml.CheckInResponseTo) {
		t.Errorf("request started on B, answered on A, answered again on B: err = %v; want CheckInResponseTo", err)
	}

	// A session created on A validates on B.
	s, err := mgrB.Validate(ctx, res.Token)
	if err != nil || s.ID != res.Session.ID {
		t.Errorf("replica B Validate(A's token) = %v, %v", s, err)
	}

	// Disable on B ends the SSO sessions A sees (ended, with the reason, as
	// the store is a session.Lister: not deleted).
	if err := svcB.Disable(ctx, "org-replicas", "u-owner"); err != nil {
		t.Fatal(err)
	}
	var ended *session.EndedError
	if _, err := mgrA.Validate(ctx, res.Token); !errors.As(err, &ended) || ended.Reason != session.EndSSODisabled {
		t.Errorf("replica A after Disable on B: err = %v; want an *EndedError with reason %q", err, session.EndSSODisabled)
	}
	if _, err := svcA.StartLogin(ctx, "replicas", "/"); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("replica A StartLogin after Disable on B: err = %v; want ErrSSODisabled", err)
	}
}

// replicaAdmin checks the atomic writes across two handles on one database,
// on keys of its own.
func replicaAdmin(t *testing.T, ctx context.Context, stA, stB Store) {
	t.Helper()
	both := []Store{stA, stB}
	// Organizations: one ID, and updates from one Version, across handles.
	if err := stA.CreateOrganization(ctx, fullOrg("org-cas", "cas")); err != nil {
		t.Fatal(err)
	}
	if err := stB.CreateOrganization(ctx, fullOrg("org-cas", "cas-b")); !errors.Is(err, sso.ErrDuplicateID) {
		t.Errorf("replica B CreateOrganization(A's ID) err = %v; want ErrDuplicateID", err)
	}
	onB, err := stB.Organization(ctx, "org-cas")
	if err != nil || onB.Version != 1 {
		t.Fatalf("replica B Organization(org-cas) = %+v, %v; want Version 1", onB, err)
	}
	if err := stA.UpdateOrganization(ctx, withVersion(fullOrg("org-cas", "cas"), 1)); err != nil {
		t.Errorf("replica A UpdateOrganization(Version 1) err = %v", err)
	}
	if err := stB.UpdateOrganization(ctx, onB); !errors.Is(err, sso.ErrConflict) {
		t.Errorf("replica B UpdateOrganization(its stale Version 1) err = %v; want ErrConflict", err)
	}
	errs := race(func(i int) error {
		return both[i%2].UpdateOrganization(ctx, withVersion(fullOrg("org-cas", orgName(i)), 2))
	})
	if winner := oneWinner(t, "UpdateOrganization(Version 2) on both replicas", errs, sso.ErrConflict); winner >= 0 {
		for _, st := range both {
			if got, err := st.Organization(ctx, "org-cas"); err != nil || !reflect.DeepEqual(got, withVersion(fullOrg("org-cas", orgName(winner)), 3)) {
				t.Errorf("Organization(org-cas) after the race = %+v, %v; want the winner's, at Version 3", got, err)
			}
		}
	}

	// Members: one of concurrent creators on both handles creates it.
	members := make([]*sso.Member, racers)
	for i := range members {
		members[i] = withUser(fullMember("org-cas", raceEmail(i)), orgName(i))
	}
	got := make([]*sso.Member, racers)
	errs = race(func(i int) error {
		var err error
		got[i], err = both[i%2].CreateMember(ctx, members[i])
		return err
	})
	if winner := oneWinner(t, "CreateMember() on both replicas", errs, sso.ErrMemberExists); winner >= 0 {
		for i, m := range got {
			if !reflect.DeepEqual(m, members[winner]) {
				t.Errorf("CreateMember() on replica %c = %+v; want the winner's %+v", 'A'+i%2, m, members[winner])
				break
			}
		}
	}

	// One user ID: of concurrent creators under their own emails on both
	// handles, one creates its member.
	for i := range members {
		members[i] = withUser(fullMember("org-cas", fmt.Sprintf("uid%03d@example.com", i)), "u-cas")
	}
	errs = race(func(i int) error {
		_, err := both[i%2].CreateMember(ctx, members[i])
		return err
	})
	if winner := oneWinner(t, "CreateMember(u-cas) on both replicas", errs, sso.ErrUserIDTaken); winner >= 0 {
		if m, err := stB.MemberByUserID(ctx, "org-cas", "u-cas"); err != nil || !reflect.DeepEqual(m, members[winner]) {
			t.Errorf("MemberByUserID(u-cas) after the race = %+v, %v; want the winner's %+v", m, err, members[winner])
		}
	}

	// Sessions: ended on one handle, ended for the other; cleaned up on one,
	// gone for the other.
	if err := stA.CreateSession(ctx, newSession("s-cas", "org-cas", session.MethodSSO, t0)); err != nil {
		t.Fatal(err)
	}
	if n, err := stB.EndSessions(ctx, session.Query{OrgID: "org-cas"}, session.EndRevoked); err != nil || n != 1 {
		t.Errorf("replica B EndSessions(org-cas) = %d, %v; want 1", n, err)
	}
	if s, err := stA.Session(ctx, "s-cas"); err != nil || s.EndReason != session.EndRevoked {
		t.Errorf("replica A Session(s-cas) = %+v, %v; want it ended by B", s, err)
	}
	if n, err := stB.CleanupBatch(ctx, t0, 10); err != nil || n != 1 {
		t.Errorf("replica B CleanupBatch(t0) = %d, %v; want 1 (A's session)", n, err)
	}
	if _, err := stA.Session(ctx, "s-cas"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("replica A Session(s-cas) after B's cleanup err = %v; want ErrNotFound", err)
	}
}
