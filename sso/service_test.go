package sso_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

var ctx = context.Background()

// --- Rules the organization follows (DESIGN.md), one test each. ---

func TestRuleStrictModeOnOnlyOwnerUsesPassword(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.StrictMode = true })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-dave", Email: "dave@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "alice@acme.example", OrgRole: rolemap.RoleMember})
	tests := []struct {
		email   string
		wantErr error
	}{
		{ownerEmail, nil},
		{"OWNER@acme.example", nil},
		{"dave@acme.example", sso.ErrSSORequired},
		{"alice@acme.example", sso.ErrSSORequired},
		{"stranger@acme.example", sso.ErrSSORequired},
	}
	for _, tt := range tests {
		if err := e.svc.PasswordLoginAllowed(ctx, e.org.ID, tt.email); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("PasswordLoginAllowed(%q) err = %v; want %v", tt.email, err, tt.wantErr)
		}
	}
}

func TestRuleStrictModeOffAllowWithoutSSOMembersUsePassword(t *testing.T) {
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-dave", Email: "dave@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "alice@acme.example", OrgRole: rolemap.RoleMember})
	for email, want := range map[string]error{ownerEmail: nil, "dave@acme.example": nil, "alice@acme.example": sso.ErrSSORequired} {
		err := e.svc.PasswordLoginAllowed(ctx, e.org.ID, email)
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("PasswordLoginAllowed(%q) err = %v; want %v", email, err, want)
		}
		if err != nil && !errors.Is(err, sso.ErrAccessDenied) {
			t.Errorf("PasswordLoginAllowed(%q) err = %v; want it to wrap ErrAccessDenied", email, err)
		}
	}
}

func TestRuleSSODisabledEveryoneUsesPassword(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled, o.StrictMode = false, true })
	for _, email := range []string{ownerEmail, "alice@acme.example", "nobody@else.example"} {
		if err := e.svc.PasswordLoginAllowed(ctx, e.org.ID, email); err != nil {
			t.Errorf("PasswordLoginAllowed(%q) err = %v; want nil", email, err)
		}
	}
	if err := e.svc.PasswordLoginAllowed(ctx, "org-missing", ownerEmail); !errors.Is(err, sso.ErrUnknownOrganization) {
		t.Errorf("PasswordLoginAllowed(unknown org) err = %v; want ErrUnknownOrganization", err)
	}
}

func TestRuleMappingOnProvisionsWithoutInvitation(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.signIn(t, user("alice@acme.example", "Contentstack Developers", "Everyone"), nil)
	if err != nil {
		t.Fatalf("HandleACS() err = %v", err)
	}
	m := e.member(t, "alice@acme.example")
	if m.OrgRole != rolemap.RoleMember || !reflect.DeepEqual(m.StackRoles, map[string][]string{"blt-blog": {"developer"}}) {
		t.Errorf("member = %+v; want member with developer on blt-blog", m)
	}
	if res.Member.UserID == "" || res.Session == nil || res.Token == "" || res.ReturnTo != "/dashboard" {
		t.Errorf("Result = %v; want member, session, token, ReturnTo /dashboard", res)
	}
	if got := res.Mapping.Unmatched; !reflect.DeepEqual(got, []string{"Everyone"}) {
		t.Errorf("Mapping.Unmatched = %q; want [Everyone]", got)
	}
	if n := len(e.eventsOf(sso.EventMemberProvisioned)); n != 1 {
		t.Errorf("MemberProvisioned events = %d; want 1", n)
	}
}

func TestRuleMappingOnReplacesRolesAtEverySignIn(t *testing.T) {
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-bob", Email: "bob@acme.example", OrgRole: rolemap.RoleMember,
		StackRoles: map[string][]string{"blt-old": {"editor"}}})
	if _, err := e.signIn(t, user("bob@acme.example", "Admins"), nil); err != nil {
		t.Fatal(err)
	}
	if m := e.member(t, "bob@acme.example"); m.OrgRole != rolemap.RoleAdmin || len(m.StackRoles) != 0 || m.UserID != "u-bob" {
		t.Errorf("after Admins: member = %+v; want admin, no stack roles, same user", m)
	}
	if _, err := e.signIn(t, user("bob@acme.example", "Contentstack Developers"), nil); err != nil {
		t.Fatal(err)
	}
	if m := e.member(t, "bob@acme.example"); m.OrgRole != rolemap.RoleMember || len(m.StackRoles["blt-blog"]) != 1 {
		t.Errorf("after Developers: member = %+v; want member + blog developer", m)
	}
	if n := len(e.eventsOf(sso.EventRolesChanged)); n != 2 {
		t.Errorf("RolesChanged events = %d; want 2", n)
	}
}

func TestRuleMappingOnNeverChangesOwnerOrExternalMembers(t *testing.T) {
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "ext@partner.example", OrgRole: rolemap.RoleAdmin, AllowWithoutSSO: true})
	for _, email := range []string{ownerEmail, "ext@partner.example"} {
		before := e.member(t, email)
		if _, err := e.signIn(t, user(email, "Contentstack Developers"), nil); err != nil {
			t.Fatalf("%s: HandleACS() err = %v", email, err)
		}
		after := e.member(t, email)
		if after.OrgRole != before.OrgRole || !reflect.DeepEqual(after.StackRoles, before.StackRoles) {
			t.Errorf("%s: roles %v %v -> %v %v; want unchanged", email, before.OrgRole, before.StackRoles, after.OrgRole, after.StackRoles)
		}
	}
	// Even roles that map to nothing do not lock the owner out.
	if _, err := e.signIn(t, user(ownerEmail, "Nothing Mapped"), nil); err != nil {
		t.Errorf("owner with unmapped roles: err = %v; want nil", err)
	}
}

func TestRuleMappingOnUnmappedRolesDenyAccess(t *testing.T) {
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-carol", Email: "carol@acme.example", OrgRole: rolemap.RoleMember})
	for _, tt := range []struct{ email string }{{"carol@acme.example"}, {"newcomer@acme.example"}} {
		_, err := e.signIn(t, user(tt.email, "Marketing"), nil)
		if !errors.Is(err, sso.ErrAccessDenied) {
			t.Errorf("%s: HandleACS() err = %v; want ErrAccessDenied", tt.email, err)
		}
	}
	if _, err := e.store.Member(ctx, e.org.ID, "newcomer@acme.example"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("denied newcomer was stored: err = %v", err)
	}
	if m := e.member(t, "carol@acme.example"); m.OrgRole != rolemap.RoleMember {
		t.Errorf("denied member changed: %+v", m)
	}
	if n := len(e.eventsOf(sso.EventSignInFailed)); n != 2 {
		t.Errorf("SignInFailed events = %d; want 2", n)
	}
}

func TestRuleDisablingMappingLeavesRoles(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.signIn(t, user("bob@acme.example", "Admins"), nil); err != nil {
		t.Fatal(err)
	}
	e.updateOrg(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
	if m := e.member(t, "bob@acme.example"); m.OrgRole != rolemap.RoleAdmin {
		t.Fatalf("disabling mapping changed a role: %+v", m)
	}
	// Signing in with mapping off keeps the role whatever the IdP says.
	if _, err := e.signIn(t, user("bob@acme.example", "Contentstack Developers"), nil); err != nil {
		t.Fatal(err)
	}
	if m := e.member(t, "bob@acme.example"); m.OrgRole != rolemap.RoleAdmin {
		t.Errorf("sign-in with mapping off changed a role: %+v", m)
	}
}

func TestRuleMappingOffOnlyExistingMembers(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "Alice@Acme.example", OrgRole: rolemap.RoleAdmin})
	if res, err := e.signIn(t, user("alice@acme.example"), nil); err != nil || res.Member.UserID != "u-alice" || res.Member.OrgRole != rolemap.RoleAdmin {
		t.Errorf("existing member: res = %v, err = %v; want u-alice, admin", res, err)
	}
	if _, err := e.signIn(t, user("stranger@acme.example", "Admins"), nil); !errors.Is(err, sso.ErrAccessDenied) {
		t.Errorf("stranger: err = %v; want ErrAccessDenied", err)
	}
}

func TestRuleMappingOffJITProvisioningCreatesMembers(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled, o.JITProvisioning = false, true })
	res, err := e.signIn(t, user("newbie@acme.example", "Admins"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Member.OrgRole != rolemap.RoleMember || len(res.Member.StackRoles) != 0 {
		t.Errorf("JIT member = %+v; want role member (IdP roles ignored with mapping off)", res.Member)
	}
}

func TestRuleNamesRefreshedAtEverySignIn(t *testing.T) {
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "ext@partner.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true, FirstName: "Old"})
	for _, email := range []string{ownerEmail, "ext@partner.example", "alice@acme.example"} {
		u := user(email, "Contentstack Developers")
		u.FirstName, u.LastName = "Renamed", "Person"
		if _, err := e.signIn(t, u, nil); err != nil {
			t.Fatal(err)
		}
		if m := e.member(t, email); m.FirstName != "Renamed" || m.LastName != "Person" {
			t.Errorf("%s: names = %q %q; want Renamed Person", email, m.FirstName, m.LastName)
		}
	}
}

func TestRuleSessionTimeoutAppliesToSSOSessions(t *testing.T) {
	tests := []struct {
		timeout time.Duration
		want    time.Duration
	}{{0, 12 * time.Hour}, {time.Hour, time.Hour}, {24 * time.Hour, 24 * time.Hour}, {90 * time.Minute, 90 * time.Minute}}
	for _, tt := range tests {
		e := newEnv(t, func(o *sso.Organization) { o.SessionTimeout = tt.timeout })
		res, err := e.signIn(t, user("alice@acme.example", "Admins"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Session.ExpiresAt.Sub(res.Session.CreatedAt); got != tt.want {
			t.Errorf("timeout %v: session lifetime = %v; want %v", tt.timeout, got, tt.want)
		}
		// Absolute: valid one nanosecond before ExpiresAt, not at it.
		e.clock.Advance(tt.want - time.Nanosecond)
		if _, err := e.sessions.Validate(ctx, res.Token); err != nil {
			t.Errorf("timeout %v: Validate just before expiry err = %v", tt.timeout, err)
		}
		e.clock.Advance(time.Nanosecond)
		if _, err := e.sessions.Validate(ctx, res.Token); !errors.Is(err, session.ErrExpired) {
			t.Errorf("timeout %v: Validate at ExpiresAt err = %v; want ErrExpired", tt.timeout, err)
		}
	}
}

func TestRuleSessionTimeoutBounds(t *testing.T) {
	for _, d := range []time.Duration{time.Minute, 59 * time.Minute, 25 * time.Hour, -time.Hour} {
		org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", SessionTimeout: d}
		if err := org.ValidateAt(testNow); !errors.Is(err, sso.ErrInvalidConfig) {
			t.Errorf("SessionTimeout %v: Validate() err = %v; want ErrInvalidConfig", d, err)
		}
	}
}

func TestRuleACSChecksOrganizationStateBeforeParsing(t *testing.T) {
	e := newEnv(t, nil)
	garbage := url.Values{"SAMLResponse": {"%%% not even base64 %%%"}}
	if _, err := e.svc.HandleACS(ctx, "nobody", postForm(t, e.sp.ACSURL, garbage)); !errors.Is(err, sso.ErrUnknownOrganization) {
		t.Errorf("unknown org: err = %v; want ErrUnknownOrganization", err)
	}
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
	if _, err := e.svc.HandleACS(ctx, "acme", postForm(t, e.sp.ACSURL, garbage)); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("disabled org: err = %v; want ErrSSODisabled", err)
	}
}

func TestRuleTestRoundTripUsesUpItsAssertionID(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startTest(t)
	posted, err := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail, "Admins"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.post(t, posted, relayOf(t, rd)); err != nil {
		t.Fatalf("test round trip err = %v", err)
	}
	if _, err := e.post(t, posted, relayOf(t, rd)); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("resubmitted test response err = %v; want ErrReplay", err)
	}
}

func TestRuleOnlyOwnerRunsTestSSO(t *testing.T) {
	e := newEnv(t, nil)
	for _, actor := range []string{"", "u-admin", "U-OWNER"} {
		if _, err := e.svc.StartTest(ctx, "org-acme", actor); !errors.Is(err, sso.ErrNotOwner) {
			t.Errorf("StartTest(%q) err = %v; want ErrNotOwner", actor, err)
		}
	}
	if _, err := e.svc.StartTest(ctx, "nope", ownerID); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("StartTest(unknown) err = %v; want ErrUnknownOrganization", err)
	}
}

func TestRuleDraftMayLackIdPConfig(t *testing.T) {
	draft := &sso.Organization{ID: "o", SSOName: "draft", OwnerID: "u"}
	if err := draft.ValidateAt(testNow); err != nil {
		t.Errorf("draft Validate() err = %v; want nil", err)
	}
	draft.Enabled = true
	if err := draft.ValidateAt(testNow); !errors.Is(err, sso.ErrInvalidConfig) {
		t.Errorf("enabled without IdP Validate() err = %v; want ErrInvalidConfig", err)
	}
	e := newEnv(t, func(o *sso.Organization) { o.Enabled, o.IdP = false, sso.IdPConfig{} })
	if err := e.svc.Enable(ctx, "org-acme", ownerID); !errors.Is(err, sso.ErrInvalidConfig) {
		t.Errorf("Enable(incomplete) err = %v; want ErrInvalidConfig", err)
	}
	if org, _ := e.store.Organization(ctx, e.org.ID); org.Enabled {
		t.Error("Enable(incomplete) saved Enabled = true")
	}
}

func TestRuleUnknownIDsAreNotFound(t *testing.T) {
	st := memory.New()
	if _, err := st.ConsumeRequest(ctx, "id-none"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeRequest err = %v; want ErrNotFound", err)
	}
	if _, err := st.Member(ctx, "org", "x@y"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Member err = %v; want ErrNotFound", err)
	}
	if _, err := st.Organization(ctx, "org"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Organization err = %v; want ErrNotFound", err)
	}
}

func TestRuleUnsafeReturnPathBecomesRoot(t *testing.T) {
	tests := map[string]string{
		"/dashboard?tab=1": "/dashboard?tab=1", "/": "/", "": "/", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example": "/", "javascript:alert(1)": "/", "dashboard": "/", "/a\\b": "/", "/a\nb": "/",
		"http:/evil": "/", " /x": "/",
	}
	for in, want := range tests {
		if got := sso.SafeReturnTo(in); got != want {
			t.Errorf("SafeReturnTo(%q) = %q; want %q", in, got, want)
		}
	}
	e := newEnv(t, nil)
	id, relay := e.start(t, "//evil.example/steal")
	posted, _ := e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), nil))
	res, err := e.post(t, posted, relay)
	if err != nil || res.ReturnTo != "/" {
		t.Errorf("open redirect: ReturnTo = %v, err = %v; want /", res, err)
	}
}

func TestRuleTestWithUnmappedRolesListsProblem(t *testing.T) {
	e := newEnv(t, nil)
	res := runTest(t, e, user(ownerEmail, "Marketing"))
	if len(res.Test.Problems) == 0 || !strings.Contains(strings.Join(res.Test.Problems, "\n"), "maps to a role") {
		t.Errorf("Problems = %q; want one saying no role maps", res.Test.Problems)
	}
}

// --- Branches of the Service. ---

func runTest(t *testing.T, e *env, u ssotest.User) *sso.Result {
	t.Helper()
	rd := e.startTest(t)
	posted, err := e.idp.Response(e.resp(rd.RequestID, u, nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.post(t, posted, relayOf(t, rd))
	if err != nil {
		t.Fatalf("test round trip err = %v", err)
	}
	if res.Test == nil || res.Session != nil || res.Member != nil || res.Token != "" {
		t.Fatalf("test Result = %v; want a report and no member, session or token", res)
	}
	return res
}

func relayOf(t testing.TB, rd *sso.Redirect) string {
	t.Helper()
	u, err := url.Parse(rd.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("RelayState")
}

func TestTestRoundTripWritesNothingAndWorksWhileDisabled(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled = false })
	res := runTest(t, e, user("alice@acme.example", "Contentstack Developers", "Everyone"))
	if res.Test.Mapping.OrgRole != rolemap.RoleMember || !reflect.DeepEqual(res.Test.Identity.IdPRoles, []string{"Contentstack Developers", "Everyone"}) {
		t.Errorf("report = %+v; want member mapping and both roles", res.Test)
	}
	if _, err := e.store.Member(ctx, e.org.ID, "alice@acme.example"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("test round trip stored a member: err = %v", err)
	}
	if len(e.eventsOf(sso.EventTestCompleted)) != 1 || len(e.eventsOf(sso.EventSignInSucceeded)) != 0 {
		t.Errorf("events = %+v; want one TestCompleted and no sign-in", e.events)
	}
	// A login response to a disabled org, even with the test marker, is refused.
	id, _ := e.startDisabled(t)
	posted, _ := e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, posted, relayOf(t, mustTest(t, e))); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("login response with a test RelayState to a disabled org: err = %v; want ErrSSODisabled", err)
	}
}

// startDisabled starts a login for a disabled org (StartLogin refuses) as if
// it had been started before SSO was disabled: enabled, started, disabled.
func (e *env) startDisabled(t *testing.T) (string, string) {
	t.Helper()
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = true })
	id, relay := e.start(t, "/")
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
	return id, relay
}

func mustTest(t *testing.T, e *env) *sso.Redirect {
	t.Helper()
	return e.startTest(t)
}

func TestDisableEndsSSOSessions(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.signIn(t, user("alice@acme.example", "Admins"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, pwToken, err := e.sessions.Create(ctx, e.org.ID, ownerID, session.MethodPassword, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Disable(ctx, "org-acme", "u-admin"); !errors.Is(err, sso.ErrNotOwner) {
		t.Errorf("Disable(not owner) err = %v; want ErrNotOwner", err)
	}
	if err := e.svc.Disable(ctx, "org-acme", ownerID); err != nil {
		t.Fatal(err)
	}
	var ended *session.EndedError
	if _, err := e.sessions.Validate(ctx, res.Token); !errors.As(err, &ended) || ended.Reason != session.EndSSODisabled {
		t.Errorf("SSO session after Disable: err = %v; want it ended (sso_disabled)", err)
	}
	if _, err := e.sessions.Validate(ctx, pwToken); err != nil {
		t.Errorf("password session after Disable: err = %v; want valid", err)
	}
	if m := e.member(t, "alice@acme.example"); m.OrgRole != rolemap.RoleAdmin {
		t.Errorf("Disable changed a role: %+v", m)
	}
	if _, err := e.svc.StartLogin(ctx, "acme", "/"); !errors.Is(err, sso.ErrSSODisabled) {
		t.Errorf("StartLogin after Disable err = %v; want ErrSSODisabled", err)
	}
	if ev := e.eventsOf(sso.EventSSODisabled); len(ev) != 1 || ev[0].SessionsEnded != 1 {
		t.Errorf("SSODisabled events = %+v; want one ending 1 session", ev)
	}
}

func TestEnableOwnerOnlyAndChangesNoMember(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled = false })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-a", Email: "a@acme.example", OrgRole: rolemap.RoleAdmin})
	if err := e.svc.Enable(ctx, "org-acme", "u-a"); !errors.Is(err, sso.ErrNotOwner) {
		t.Errorf("Enable(admin) err = %v; want ErrNotOwner", err)
	}
	if err := e.svc.Enable(ctx, "org-acme", ownerID); err != nil {
		t.Fatalf("Enable() err = %v", err)
	}
	if m := e.member(t, "a@acme.example"); m.OrgRole != rolemap.RoleAdmin {
		t.Errorf("Enable changed a member: %+v", m)
	}
	e.updateOrg(t, func(o *sso.Organization) {
		o.Enabled = false
		o.RoleMapping.Mappings = append(o.RoleMapping.Mappings, rolemap.Mapping{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin})
	})
	if err := e.svc.Enable(ctx, "org-acme", ownerID); !errors.Is(err, rolemap.ErrInvalidConfig) {
		t.Errorf("Enable(invalid mapping) err = %v; want rolemap.ErrInvalidConfig", err)
	}
	if n := len(e.eventsOf(sso.EventSSOEnabled)); n != 1 {
		t.Errorf("SSOEnabled events = %d; want 1", n)
	}
}

func TestResubmittedResponseIsReplay(t *testing.T) {
	e := newEnv(t, nil)
	id, relay := e.start(t, "/")
	posted, _ := e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, posted, relay); err != nil {
		t.Fatal(err)
	}
	_, err := e.post(t, posted, relay)
	if !errors.Is(err, sso.ErrReplay) {
		t.Errorf("resubmitted response err = %v; want ErrReplay", err)
	}
	if sso.UserMessage(err) == "" || strings.Contains(sso.UserMessage(err), "assertion") {
		t.Errorf("UserMessage = %q; want a generic message", sso.UserMessage(err))
	}
}

func TestSecondUseOfARequestFails(t *testing.T) {
	e := newEnv(t, nil)
	rd := e.startRedirect(t, "/")
	first, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	second, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, first, relayOf(t, rd)); err != nil {
		t.Fatal(err)
	}
	// A browser that kept the cookie (its host did not clear it).
	if _, err := e.postWith(t, second, relayOf(t, rd), rd.Cookie); !errors.Is(err, saml.CheckInResponseTo) {
		t.Errorf("second response to one request err = %v; want CheckInResponseTo", err)
	}
	// The browser that cleared it, as HandleACS said.
	third, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, third, relayOf(t, rd)); !errors.Is(err, saml.CheckBinding) {
		t.Errorf("third response to one request, cookie cleared: err = %v; want CheckBinding", err)
	}
}

func TestExpiredRequestFails(t *testing.T) {
	e := newEnv(t, nil)
	id, relay := e.start(t, "/")
	e.clock.Advance(sso.DefaultRequestTTL)
	posted, _ := e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), func(r *ssotest.Response) { r.IssueInstant = e.clock.Now() }))
	if _, err := e.post(t, posted, relay); !errors.Is(err, saml.CheckInResponseTo) {
		t.Errorf("response to an expired request err = %v; want CheckInResponseTo", err)
	}
}

// TestRequestOfAnotherOrganizationFails: acme's IdP answering globex's
// request ID, posted to acme's ACS even by the browser that holds globex's
// binding cookie, is refused, and does not use globex's request up: globex's
// genuine response still signs in.
func TestRequestOfAnotherOrganizationFails(t *testing.T) {
	e := newEnv(t, nil)
	globex := e.addOrg(t, "org-globex", "globex")
	rd, err := e.svc.StartLogin(ctx, "globex", "/globex")
	if err != nil {
		t.Fatal(err)
	}
	e.keep(t, rd)
	posted, _ := e.idp.Response(e.resp(rd.RequestID, user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, posted, ""); !errors.Is(err, saml.CheckInResponseTo) {
		t.Errorf("acme response naming globex's request: err = %v; want CheckInResponseTo", err)
	}
	sp := e.svc.Details(globex)
	genuine, err := e.idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user("bob@globex.example", "Admins")})
	if err != nil {
		t.Fatal(err)
	}
	req, err := e.idp.PostRequest(sp.ACSURL, genuine, relayOf(t, rd), rd.Cookie)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.HandleACS(ctx, "globex", req)
	if err != nil || res.ReturnTo != "/globex" || res.Member.Email != "bob@globex.example" {
		t.Errorf("globex's genuine response after acme's: res = %v, err = %v; want bob signed in to /globex", res, err)
	}
}

func TestIdPInitiatedOnlyWhenAllowed(t *testing.T) {
	e := newEnv(t, nil)
	posted, _ := e.idp.Response(e.resp("", user("alice@acme.example", "Admins"), nil))
	if _, err := e.post(t, posted, ""); !errors.Is(err, saml.CheckUnsolicited) || sso.ErrorCode(err) != sso.CodeUnsolicited {
		t.Errorf("unsolicited, not allowed: err = %v (code %q); want CheckUnsolicited (code %q)", err, sso.ErrorCode(err), sso.CodeUnsolicited)
	}
	e.updateOrg(t, func(o *sso.Organization) { o.AllowIdPInitiated = true })
	posted, _ = e.idp.Response(e.resp("", user("alice@acme.example", "Admins"), nil))
	res, err := e.post(t, posted, "")
	if err != nil || res.ReturnTo != "/" {
		t.Errorf("unsolicited, allowed: res = %v, err = %v; want success to /", res, err)
	}
}

func TestStartLoginErrors(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.svc.StartLogin(ctx, "missing", "/"); !errors.Is(err, sso.ErrUnknownOrganization) {
		t.Errorf("unknown: err = %v", err)
	}
	if _, err := e.svc.StartLogin(ctx, "Not A Name!", "/"); !errors.Is(err, sso.ErrUnknownOrganization) {
		t.Errorf("bad name: err = %v", err)
	}
	rd, err := e.svc.StartLogin(ctx, "acme", "/x")
	if err != nil || !strings.HasPrefix(rd.URL, e.idp.SSOURL()+"?") || rd.RequestID == "" {
		t.Fatalf("StartLogin = %+v, %v", rd, err)
	}
	req, err := e.store.ConsumeRequest(ctx, rd.RequestID)
	if err != nil || req.ReturnTo != "/x" || req.OrgID != e.org.ID || !req.ExpiresAt.Equal(testNow.Add(10*time.Minute)) || req.TesterUserID != "" {
		t.Errorf("stored request = %+v, %v", req, err)
	}
}

func TestStartLoginFromRequest(t *testing.T) {
	e := newEnv(t, nil)
	r, _ := http.NewRequest(http.MethodGet, "https://app.example.com/login?trigger_sso_flow=ACME&return_to=%2Freports", nil)
	rd, ok, err := e.svc.StartLoginFromRequest(ctx, r)
	if err != nil || !ok || rd == nil {
		t.Fatalf("StartLoginFromRequest = %v, %v, %v", rd, ok, err)
	}
	req, _ := e.store.ConsumeRequest(ctx, rd.RequestID)
	if req.ReturnTo != "/reports" {
		t.Errorf("ReturnTo = %q; want /reports", req.ReturnTo)
	}
	r, _ = http.NewRequest(http.MethodGet, "https://app.example.com/login", nil)
	if _, ok, err := e.svc.StartLoginFromRequest(ctx, r); ok || err != nil {
		t.Errorf("plain login page: ok = %v, err = %v; want false, nil", ok, err)
	}
}

func TestACSRejectsBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	get, _ := http.NewRequest(http.MethodGet, e.sp.ACSURL, nil)
	tests := []struct {
		name string
		req  *http.Request
		want error
	}{
		{"GET", get, saml.CheckEncoding},
		{"no SAMLResponse", postForm(t, e.sp.ACSURL, url.Values{"RelayState": {"x"}}), saml.CheckEncoding},
		{"huge body", postForm(t, e.sp.ACSURL, url.Values{"SAMLResponse": {strings.Repeat("A", 4<<20)}}), saml.CheckSize},
		{"over the response limit", postForm(t, e.sp.ACSURL, url.Values{"SAMLResponse": {strings.Repeat("A", saml.DefaultMaxResponseSize+4)}}), saml.CheckSize},
	}
	for _, tt := range tests {
		if _, err := e.svc.HandleACS(ctx, "acme", tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v; want %v", tt.name, err, tt.want)
		}
	}
}

func TestValidatorCacheFollowsConfigChanges(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.signIn(t, user("alice@acme.example", "Admins"), nil); err != nil {
		t.Fatal(err)
	}
	rotated := mustIdP(t, loadKey(t, "attacker.key.pem"))
	e.updateOrg(t, func(o *sso.Organization) { o.IdP.Certificates = []string{rotated.CertificatePEM()} })
	if _, err := e.signIn(t, user("alice@acme.example", "Admins"), nil); !errors.Is(err, saml.CheckSignature) {
		t.Errorf("old IdP key after rotation: err = %v; want CheckSignature", err)
	}
}

func TestIdentityFromEntraIDClaims(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Delimiter = "" })
	const claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
	u := ssotest.User{NameID: "8f2c-opaque-object-id", Attributes: map[string][]string{
		claims + "emailaddress": {"eve@acme.example"},
		claims + "givenname":    {"Eve"},
		claims + "surname":      {"Entra"},
		"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": {"Admins", "Contentstack Developers"},
	}}
	res, err := e.signIn(t, u, func(r *ssotest.Response) { r.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" })
	if err != nil {
		t.Fatal(err)
	}
	id := res.Identity
	if id.Email != "eve@acme.example" || id.FirstName != "Eve" || id.LastName != "Entra" || len(id.IdPRoles) != 2 || res.Member.OrgRole != rolemap.RoleAdmin {
		t.Errorf("identity = %+v, role %v; want Eve Entra, 2 roles, admin", id, res.Member.OrgRole)
	}
}

func TestCustomAttributeNames(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Attributes = sso.AttributeNames{Roles: []string{"memberships"}} })
	u := user("alice@acme.example")
	u.Attributes = map[string][]string{"memberships": {"Admins"}, "roles": {"Contentstack Developers"}}
	res, err := e.signIn(t, u, nil)
	if err != nil || !reflect.DeepEqual(res.Identity.IdPRoles, []string{"Admins"}) {
		t.Errorf("roles = %v, err = %v; want [Admins] from the custom attribute", res, err)
	}
}

func TestNoEmailIsDenied(t *testing.T) {
	e := newEnv(t, nil)
	u := ssotest.User{NameID: "opaque-123", Roles: []string{"Admins"}}
	_, err := e.signIn(t, u, func(r *ssotest.Response) { r.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" })
	if !errors.Is(err, sso.ErrAccessDenied) {
		t.Errorf("err = %v; want ErrAccessDenied", err)
	}
}

func TestProvisionUserHook(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.JITProvisioning, o.RoleMapping.Enabled = true, false })
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions, Now: e.clock.Now,
		ProvisionUser: func(_ context.Context, org *sso.Organization, id sso.Identity) (string, error) {
			return "host-" + id.Email, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	res, err := e.signIn(t, user("zed@acme.example"), nil)
	if err != nil || res.Member.UserID != "host-zed@acme.example" {
		t.Errorf("member = %v, err = %v; want host user ID", res, err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	st := memory.New()
	mgr := session.NewManager(st)
	tests := []struct {
		name string
		cfg  sso.Config
	}{
		{"no base URL", sso.Config{Store: st, Sessions: mgr}},
		{"relative base URL", sso.Config{BaseURL: "/app", Store: st, Sessions: mgr}},
		{"base URL with query", sso.Config{BaseURL: "https://a.example/?x=1", Store: st, Sessions: mgr}},
		{"base URL with an empty query", sso.Config{BaseURL: "https://a.example/?", Store: st, Sessions: mgr}},
		{"base URL with an empty fragment", sso.Config{BaseURL: "https://a.example/#", Store: st, Sessions: mgr}},
		{"base URL with credentials", sso.Config{BaseURL: "https://u:p@a.example", Store: st, Sessions: mgr}},
		{"no store", sso.Config{BaseURL: "https://a.example", Sessions: mgr}},
		{"no sessions, and a store that cannot keep them", sso.Config{BaseURL: "https://a.example", Store: struct{ sso.Store }{st}}},
		{"negative skew", sso.Config{BaseURL: "https://a.example", Store: st, Sessions: mgr, ClockSkew: -1}},
	}
	for _, tt := range tests {
		if _, err := sso.New(tt.cfg); !errors.Is(err, sso.ErrInvalidConfig) {
			t.Errorf("%s: New() err = %v; want ErrInvalidConfig", tt.name, err)
		}
	}
}

func TestDetailsAndMetadata(t *testing.T) {
	e := newEnv(t, nil)
	d := e.svc.Details(e.org)
	if d.ACSURL != "https://app.example.com/sso/acme/acs" || d.EntityID != "https://app.example.com/sso/acme/metadata" || d.NameIDFormat != saml.NameIDFormatEmail {
		t.Errorf("Details() = %+v", d)
	}
	md, err := e.svc.Metadata(e.org)
	if err != nil || !strings.Contains(string(md), d.ACSURL) {
		t.Errorf("Metadata() = %q, %v", md, err)
	}
	byName, err := e.svc.MetadataFor(ctx, "acme")
	if err != nil || string(byName) != string(md) {
		t.Errorf("MetadataFor(acme) = %q, %v; want Metadata(org)", byName, err)
	}
	if _, err := e.svc.MetadataFor(ctx, "ghost"); !errors.Is(err, sso.ErrUnknownOrganization) {
		t.Errorf("MetadataFor(ghost) err = %v; want ErrUnknownOrganization", err)
	}
}

func TestUserMessageIsSafe(t *testing.T) {
	errs := []error{
		&saml.ValidationError{Check: saml.CheckAudience, Want: "https://app.example.com/secret", Got: "evil"},
		sso.ErrReplay, sso.ErrUnknownOrganization, sso.ErrSSODisabled, sso.ErrAccessDenied, sso.ErrSSORequired,
		sso.ErrNotOwner, errors.New("db: connection refused to 10.0.0.3"),
		&saml.ValidationError{Check: saml.CheckExpired},
	}
	for _, err := range errs {
		msg := sso.UserMessage(err)
		if msg == "" || strings.Contains(msg, "audience") || strings.Contains(msg, "evil") || strings.Contains(msg, "10.0.0.3") || strings.Contains(msg, "app.example.com") {
			t.Errorf("UserMessage(%v) = %q; want a safe, non-empty message", err, msg)
		}
	}
	if sso.UserMessage(nil) != "" {
		t.Error("UserMessage(nil) not empty")
	}
}

func TestLogsAndStringsNeverHoldSecrets(t *testing.T) {
	e := newEnv(t, nil)
	id, relay := e.start(t, "/")
	posted, _ := e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), nil))
	res, err := e.post(t, posted, relay)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.post(t, posted, relay) // a failure, logged
	_, _ = e.signIn(t, user("alice@acme.example", "Admins"), func(r *ssotest.Response) { r.Audience = "x" })
	logs := e.logs.String()
	for name, secret := range map[string]string{"response": posted[100:160], "token": res.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
	if !strings.Contains(logs, "check=audience") || !strings.Contains(logs, "sign_in_succeeded") {
		t.Errorf("logs lack the operator detail:\n%s", logs)
	}
	for _, s := range []string{res.String(), res.GoString()} {
		if strings.Contains(s, res.Token) {
			t.Errorf("Result string holds the token: %s", s)
		}
	}
	cfg := sso.Config{BaseURL: "https://a", SPKeyPair: e.spKP}
	if s := cfg.String(); !strings.Contains(s, "[REDACTED]") || strings.Contains(s, "PrivateKey") {
		t.Errorf("Config.String() = %s", s)
	}
}

// TestConcurrentSignInsAndReplays: 100 sign-ins, each response posted twice
// at once, on one Service: exactly one of each pair wins.
func TestConcurrentSignInsAndReplays(t *testing.T) {
	e := newEnv(t, nil)
	const n = 100
	type job struct {
		posted, relay string
		cookie        *http.Cookie
	}
	jobs := make([]job, n)
	for i := range jobs {
		rd := e.startRedirect(t, "/")
		posted, err := e.idp.Response(e.resp(rd.RequestID, user("user"+string(rune('a'+i%26))+"@acme.example", "Admins"), nil))
		if err != nil {
			t.Fatal(err)
		}
		jobs[i] = job{posted, relayOf(t, rd), rd.Cookie}
	}
	var ok, replays, other atomic.Int64
	var wg sync.WaitGroup
	for _, j := range jobs {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := e.idp.PostRequest(e.sp.ACSURL, j.posted, j.relay, j.cookie)
				_, err := e.svc.HandleACS(ctx, "acme", req)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, sso.ErrReplay):
					replays.Add(1)
				default:
					other.Add(1)
					t.Errorf("HandleACS() err = %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() != n || replays.Load() != n || other.Load() != 0 {
		t.Errorf("ok, replays, other = %d, %d, %d; want %d, %d, 0", ok.Load(), replays.Load(), other.Load(), n, n)
	}
}

func TestSessionCookieRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.signIn(t, user("alice@acme.example", "Admins"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.svc.SessionCookie(res)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !c.Expires.Equal(res.Session.ExpiresAt) || c.Value != res.Token {
		t.Fatalf("SessionCookie() = %+v", c)
	}
	r, _ := http.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	if _, err := e.svc.SessionFromRequest(r); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("no cookie: err = %v; want ErrUnknownSession", err)
	}
	r.AddCookie(c)
	s, err := e.svc.SessionFromRequest(r)
	if err != nil || s.ID != res.Session.ID {
		t.Errorf("SessionFromRequest() = %v, %v; want the session", s, err)
	}
	if e.svc.SessionCookie(&sso.Result{Test: &sso.TestReport{}}) != nil {
		t.Error("SessionCookie(test result) should be nil")
	}
}

func TestErrorCodeRoundTrip(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{nil, ""},
		{sso.ErrSSORequired, sso.CodeSSORequired},
		{sso.ErrUnknownOrganization, sso.CodeUnknownOrg},
		{sso.ErrSSODisabled, sso.CodeSSODisabled},
		{sso.ErrNotOwner, sso.CodeNotOwner},
		{sso.ErrAccessDenied, sso.CodeAccessDenied},
		{sso.ErrReplay, sso.CodeReplay},
		{&saml.ValidationError{Check: saml.CheckExpired}, sso.CodeExpired},
		{&saml.ValidationError{Check: saml.CheckAudience}, sso.CodeInvalidResponse},
		{errors.New("disk full"), sso.CodeFailed},
		{fmt.Errorf("wrapped: %w", sso.ErrAccessDenied), sso.CodeAccessDenied},
		{&saml.ValidationError{Check: saml.CheckInResponseTo}, sso.CodeExpired},
		{&saml.ValidationError{Check: saml.CheckUnsolicited}, sso.CodeUnsolicited},
		{&saml.ValidationError{Check: saml.CheckBinding}, sso.CodeBinding},
		{&saml.ValidationError{Check: saml.CheckIdentity}, sso.CodeIdentity},
		{fmt.Errorf("wrapped: %w", &saml.ValidationError{Check: saml.CheckBinding}), sso.CodeBinding},
	}
	for _, tt := range tests {
		if got := sso.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q; want %q", tt.err, got, tt.code)
		}
		if got, want := sso.MessageFor(sso.ErrorCode(tt.err)), sso.UserMessage(tt.err); got != want {
			t.Errorf("MessageFor(ErrorCode(%v)) = %q; want UserMessage %q", tt.err, got, want)
		}
	}
	if sso.MessageFor("<script>") != sso.MessageFor(sso.CodeFailed) {
		t.Error("unknown code should give the generic message")
	}
}

// TestErrorCodeMessagesSayWhatToDo: an unsolicited response, a response from
// another browser and unacceptable identity values each have their own
// message, distinct from every other code's; unsolicited no longer reads as
// "expired".
func TestErrorCodeMessagesSayWhatToDo(t *testing.T) {
	tests := []struct {
		code string
		want []string // substrings
	}{
		{sso.CodeUnsolicited, []string{"started at your identity provider", "does not allow", "from the app"}},
		{sso.CodeBinding, []string{"again in this browser"}},
		{sso.CodeIdentity, []string{"email address or name"}},
	}
	codes := []string{sso.CodeSSORequired, sso.CodeUnknownOrg, sso.CodeSSODisabled, sso.CodeNotOwner, sso.CodeAccessDenied,
		sso.CodeReplay, sso.CodeExpired, sso.CodeUnsolicited, sso.CodeBinding, sso.CodeIdentity, sso.CodeInvalidResponse, sso.CodeFailed}
	for _, tt := range tests {
		msg := sso.MessageFor(tt.code)
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("MessageFor(%q) = %q; want it to contain %q", tt.code, msg, w)
			}
		}
		for _, other := range codes {
			if other != tt.code && sso.MessageFor(other) == msg {
				t.Errorf("MessageFor(%q) = MessageFor(%q) = %q; want distinct", tt.code, other, msg)
			}
		}
	}
}
