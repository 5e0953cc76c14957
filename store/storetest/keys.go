package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var keyBoundsTests = []test{
	{"OversizedRefused", testOversizedKeys},
	{"MaxSizeAccepted", testMaxSizeKeys},
}

// oversizedKeys are one byte over sso.MaxKeyBytes: in ASCII, and in
// two-byte characters (257 characters, which a column bounded in
// characters would hold).
var oversizedKeys = map[string]string{
	"ASCII": strings.Repeat("k", sso.MaxKeyBytes+1),
	"UTF-8": strings.Repeat("\u00e9", sso.MaxKeyBytes/2) + "k",
}

// maxSizeKeys are exactly sso.MaxKeyBytes long.
var maxSizeKeys = map[string]string{
	"ASCII": strings.Repeat("k", sso.MaxKeyBytes),
	"UTF-8": strings.Repeat("\u00e9", sso.MaxKeyBytes/2),
}

// keyed lists every method that takes a key, once per key it takes: the
// call puts k there, and fine values ("o", "e@x.example", …) elsewhere. The
// updates aim at the organization "o0" and its member "e0@x.example", which
// testOversizedKeys creates first.
var keyed = []struct {
	name string
	call func(ctx context.Context, st Store, k string) error
}{
	{"Organization(id)", func(ctx context.Context, st Store, k string) error { _, err := st.Organization(ctx, k); return err }},
	{"OrganizationBySSOName(ssoName)", func(ctx context.Context, st Store, k string) error {
		_, err := st.OrganizationBySSOName(ctx, k)
		return err
	}},
	{"SaveOrganization(ID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: k})
	}},
	{"SaveOrganization(SSOName)", func(ctx context.Context, st Store, k string) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: "o", SSOName: k})
	}},
	{"SaveOrganization(OwnerID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: "o", OwnerID: k})
	}},
	{"CreateOrganization(ID)", func(ctx context.Context, st Store, k string) error {
		return st.CreateOrganization(ctx, &sso.Organization{ID: k})
	}},
	{"CreateOrganization(SSOName)", func(ctx context.Context, st Store, k string) error {
		return st.CreateOrganization(ctx, &sso.Organization{ID: "o", SSOName: k})
	}},
	{"CreateOrganization(OwnerID)", func(ctx context.Context, st Store, k string) error {
		return st.CreateOrganization(ctx, &sso.Organization{ID: "o", OwnerID: k})
	}},
	{"UpdateOrganization(ID)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateOrganization(ctx, &sso.Organization{ID: k, Version: 1})
	}},
	{"UpdateOrganization(SSOName)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateOrganization(ctx, &sso.Organization{ID: "o0", SSOName: k, Version: 1})
	}},
	{"UpdateOrganization(OwnerID)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateOrganization(ctx, &sso.Organization{ID: "o0", OwnerID: k, Version: 1})
	}},
	{"OrganizationByDomain(domain)", func(ctx context.Context, st Store, k string) error {
		_, err := st.OrganizationByDomain(ctx, k)
		return err
	}},
	{"SaveOrganization(Domains[i].Name, verified)", func(ctx context.Context, st Store, k string) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: "o", Domains: []sso.Domain{claimed("ok.example"), verified(k, 0)}})
	}},
	{"SaveOrganization(Domains[i].Name, claimed)", func(ctx context.Context, st Store, k string) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: "o", Domains: []sso.Domain{claimed(k)}})
	}},
	{"CreateOrganization(Domains[i].Name)", func(ctx context.Context, st Store, k string) error {
		return st.CreateOrganization(ctx, &sso.Organization{ID: "o", Domains: []sso.Domain{verified(k, 0)}})
	}},
	{"UpdateOrganization(Domains[i].Name)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateOrganization(ctx, &sso.Organization{ID: "o0", Version: 1, Domains: []sso.Domain{claimed(k)}})
	}},
	{"Member(orgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.Member(ctx, k, "e@x.example")
		return err
	}},
	{"Member(email)", func(ctx context.Context, st Store, k string) error { _, err := st.Member(ctx, "o", k); return err }},
	{"SaveMember(OrgID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveMember(ctx, &sso.Member{OrgID: k, Email: "e@x.example"})
	}},
	{"SaveMember(UserID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveMember(ctx, &sso.Member{OrgID: "o", UserID: k, Email: "e@x.example"})
	}},
	{"SaveMember(Email)", func(ctx context.Context, st Store, k string) error {
		return st.SaveMember(ctx, &sso.Member{OrgID: "o", Email: k})
	}},
	{"CreateMember(OrgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.CreateMember(ctx, &sso.Member{OrgID: k, Email: "e@x.example"})
		return err
	}},
	{"CreateMember(UserID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.CreateMember(ctx, &sso.Member{OrgID: "o", UserID: k, Email: "e@x.example"})
		return err
	}},
	{"CreateMember(Email)", func(ctx context.Context, st Store, k string) error {
		_, err := st.CreateMember(ctx, &sso.Member{OrgID: "o", Email: k})
		return err
	}},
	{"UpdateMember(OrgID)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateMember(ctx, &sso.Member{OrgID: k, Email: "e0@x.example"})
	}},
	{"UpdateMember(UserID)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateMember(ctx, &sso.Member{OrgID: "o0", UserID: k, Email: "e0@x.example"})
	}},
	{"UpdateMember(Email)", func(ctx context.Context, st Store, k string) error {
		return st.UpdateMember(ctx, &sso.Member{OrgID: "o0", Email: k})
	}},
	{"DeleteMember(orgID)", func(ctx context.Context, st Store, k string) error { return st.DeleteMember(ctx, k, "e0@x.example") }},
	{"DeleteMember(email)", func(ctx context.Context, st Store, k string) error { return st.DeleteMember(ctx, "o0", k) }},
	{"MemberByUserID(orgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.MemberByUserID(ctx, k, "u0")
		return err
	}},
	{"MemberByUserID(userID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.MemberByUserID(ctx, "o0", k)
		return err
	}},
	{"Members(orgID)", func(ctx context.Context, st Store, k string) error { _, err := st.Members(ctx, k, "", 10); return err }},
	{"OrganizationsWithMetadataURL(after)", func(ctx context.Context, st Store, k string) error {
		_, err := st.OrganizationsWithMetadataURL(ctx, k, 10)
		return err
	}},
	{"Members(after)", func(ctx context.Context, st Store, k string) error {
		_, err := st.Members(ctx, "o0", k, 10)
		return err
	}},
	{"SaveRequest(ID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveRequest(ctx, &sso.PendingRequest{ID: k, OrgID: "o", ExpiresAt: t0})
	}},
	{"SaveRequest(OrgID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", OrgID: k, ExpiresAt: t0})
	}},
	{"SaveRequest(TesterUserID)", func(ctx context.Context, st Store, k string) error {
		return st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", OrgID: "o", TesterUserID: k, ExpiresAt: t0})
	}},
	{"ConsumeRequest(id)", func(ctx context.Context, st Store, k string) error { _, err := st.ConsumeRequest(ctx, k); return err }},
	{"ConsumeMatchingRequest(id)", func(ctx context.Context, st Store, k string) error {
		_, err := st.ConsumeMatchingRequest(ctx, k, "o0", bindingHashOf("r0"))
		return err
	}},
	{"ConsumeMatchingRequest(orgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.ConsumeMatchingRequest(ctx, "r0", k, bindingHashOf("r0"))
		return err
	}},
	{"UseAssertion(orgID)", func(ctx context.Context, st Store, k string) error { return st.UseAssertion(ctx, k, "a", t0) }},
	{"UseAssertion(assertionID)", func(ctx context.Context, st Store, k string) error { return st.UseAssertion(ctx, "o", k, t0) }},
	{"CreateSession(ID)", func(ctx context.Context, st Store, k string) error {
		return st.CreateSession(ctx, newSession(k, "o", session.MethodSSO, t0))
	}},
	{"CreateSession(OrgID)", func(ctx context.Context, st Store, k string) error {
		return st.CreateSession(ctx, newSession("s", k, session.MethodSSO, t0))
	}},
	{"CreateSession(UserID)", func(ctx context.Context, st Store, k string) error {
		s := newSession("s", "o", session.MethodSSO, t0)
		s.UserID = k
		return st.CreateSession(ctx, s)
	}},
	{"Session(id)", func(ctx context.Context, st Store, k string) error { _, err := st.Session(ctx, k); return err }},
	{"DeleteSession(id)", func(ctx context.Context, st Store, k string) error { return st.DeleteSession(ctx, k) }},
	{"DeleteOrgSessions(orgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.DeleteOrgSessions(ctx, k, "")
		return err
	}},
	{"ListSessions(OrgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.ListSessions(ctx, session.Query{OrgID: k}, t0)
		return err
	}},
	{"ListSessions(UserID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.ListSessions(ctx, session.Query{OrgID: "o0", UserID: k}, t0)
		return err
	}},
	{"ListSessions(After)", func(ctx context.Context, st Store, k string) error {
		_, err := st.ListSessions(ctx, session.Query{OrgID: "o0", After: k}, t0)
		return err
	}},
	{"EndSessions(OrgID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.EndSessions(ctx, session.Query{OrgID: k}, session.EndRevoked)
		return err
	}},
	{"EndSessions(UserID)", func(ctx context.Context, st Store, k string) error {
		_, err := st.EndSessions(ctx, session.Query{OrgID: "o0", UserID: k}, session.EndRevoked)
		return err
	}},
}

// testOversizedKeys: every method refuses a key one byte longer than
// sso.MaxKeyBytes, wherever it is, with ErrInvalidArgument (a lookup
// included: not ErrNotFound), and writes nothing.
func testOversizedKeys(t *testing.T, ctx context.Context, st Store) {
	org := fullOrg("o0", "n0")
	if err := st.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	member := withUser(fullMember("o0", "e0@x.example"), "u0")
	if err := st.SaveMember(ctx, member); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRequest(ctx, fullRequest("r0", "o0")); err != nil {
		t.Fatal(err)
	}
	sess := newSession("s0", "o0", session.MethodSSO, t0.Add(time.Hour))
	if err := st.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	for flavour, k := range oversizedKeys {
		for _, c := range keyed {
			if err := c.call(ctx, st, k); !errors.Is(err, session.ErrInvalidArgument) {
				t.Errorf("%s with a %d-byte %s key: err = %v; want ErrInvalidArgument", c.name, len(k), flavour, err)
			}
		}
	}
	// Nothing was written.
	checkOrgs(t, ctx, st, "after the refused calls", map[string]*sso.Organization{"o0": org, "o": nil}, map[string]string{"n0": "o0"})
	checkMember(t, ctx, st, "after the refused calls", "o0", "e0@x.example", member)
	checkMember(t, ctx, st, "after the refused calls", "o", "e@x.example", nil)
	if got, err := st.Session(ctx, "s0"); err != nil || !reflect.DeepEqual(normSession(got), normSession(sess)) {
		t.Errorf("Session(s0) after the refused calls = %+v, %v; want %+v", got, err, sess)
	}
	// Of requests, assertion IDs and sessions, only r0 and s0 are stored.
	if n, err := st.Cleanup(ctx, t0.Add(24*time.Hour)); err != nil || n != 2 {
		t.Errorf("Cleanup(a day later) after the refused calls = %d, %v; want 2 (r0, s0), nil", n, err)
	}
}

// testMaxSizeKeys: keys of exactly sso.MaxKeyBytes bytes, in every
// position, are stored and found.
func testMaxSizeKeys(t *testing.T, ctx context.Context, st Store) {
	for flavour, k := range maxSizeKeys {
		fail := func(what string, got any, err error) {
			t.Helper()
			t.Errorf("%s keys: %s = %+v, %v", flavour, what, got, err)
		}
		// An organization: ID, SSO name, owner and a verified domain.
		o := fullOrg(k, k)
		o.OwnerID = k
		o.Domains = []sso.Domain{verified(k, 0), claimed(k)}
		if err := st.CreateOrganization(ctx, o); err != nil {
			fail("CreateOrganization()", nil, err)
		}
		if got, err := st.Organization(ctx, k); err != nil || !reflect.DeepEqual(got, o) {
			fail("Organization()", got, err)
		}
		if got, err := st.OrganizationBySSOName(ctx, k); err != nil || !reflect.DeepEqual(got, o) {
			fail("OrganizationBySSOName()", got, err)
		}
		if got, err := st.OrganizationByDomain(ctx, k); err != nil || !reflect.DeepEqual(got, o) {
			fail("OrganizationByDomain()", got, err)
		}
		if got := listMetadataOrgs(t, ctx, st, flavour+" keys", "", sso.MaxListLimit); !slices.Contains(got, k) {
			fail("OrganizationsWithMetadataURL()", got, nil)
		}
		if got := listMetadataOrgs(t, ctx, st, flavour+" keys", k, sso.MaxListLimit); slices.Contains(got, k) {
			fail("OrganizationsWithMetadataURL(after the key)", got, nil)
		}
		if err := st.UpdateOrganization(ctx, o); err != nil || o.Version != 2 {
			fail("UpdateOrganization()", o.Version, err)
		}
		if err := st.SaveOrganization(ctx, o); err != nil {
			fail("SaveOrganization()", nil, err)
		}

		// A member: organization, user ID and email.
		m := withUser(fullMember(k, k), k)
		if got, err := st.CreateMember(ctx, m); err != nil || !reflect.DeepEqual(got, m) {
			fail("CreateMember()", got, err)
		}
		if got, err := st.Member(ctx, k, k); err != nil || !reflect.DeepEqual(got, m) {
			fail("Member()", got, err)
		}
		if got, err := st.MemberByUserID(ctx, k, k); err != nil || !reflect.DeepEqual(got, m) {
			fail("MemberByUserID()", got, err)
		}
		if got, err := st.Members(ctx, k, "", 10); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], m) {
			fail("Members()", got, err)
		}
		if got, err := st.Members(ctx, k, k, 10); err != nil || len(got) != 0 {
			fail("Members(after the key)", got, err)
		}
		if err := st.UpdateMember(ctx, m); err != nil {
			fail("UpdateMember()", nil, err)
		}
		if err := st.SaveMember(ctx, m); err != nil {
			fail("SaveMember()", nil, err)
		}
		if err := st.DeleteMember(ctx, k, k); err != nil {
			fail("DeleteMember()", nil, err)
		}

		// A pending request: ID, organization and tester.
		r := fullRequest(k, k)
		r.TesterUserID = k
		if err := st.SaveRequest(ctx, r); err != nil {
			fail("SaveRequest()", nil, err)
		}
		if got, err := st.ConsumeMatchingRequest(ctx, k, k, r.BindingHash); err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
			fail("ConsumeMatchingRequest()", got, err)
		}
		if err := st.SaveRequest(ctx, r); err != nil {
			fail("SaveRequest() again", nil, err)
		}
		if got, err := st.ConsumeRequest(ctx, k); err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
			fail("ConsumeRequest()", got, err)
		}

		// An assertion ID in an organization.
		if err := st.UseAssertion(ctx, k, k, t0); err != nil {
			fail("UseAssertion()", nil, err)
		}
		if err := st.UseAssertion(ctx, k, k, t0); !errors.Is(err, sso.ErrReplay) {
			fail("UseAssertion() again (want ErrReplay)", nil, err)
		}

		// A session: ID, organization and user.
		s := newSession(k, k, session.MethodSSO, t0.Add(time.Hour))
		s.UserID = k
		if err := st.CreateSession(ctx, s); err != nil {
			fail("CreateSession()", nil, err)
		}
		if got, err := st.Session(ctx, k); err != nil || !reflect.DeepEqual(normSession(got), normSession(s)) {
			fail("Session()", got, err)
		}
		if got, err := st.ListSessions(ctx, session.Query{OrgID: k, UserID: k}, t0); err != nil || len(got) != 1 {
			fail("ListSessions()", got, err)
		}
		if got, err := st.ListSessions(ctx, session.Query{OrgID: k, After: k}, t0); err != nil || len(got) != 0 {
			fail("ListSessions(after the key)", got, err)
		}
		if n, err := st.EndSessions(ctx, session.Query{OrgID: k, UserID: k}, session.EndRevoked); err != nil || n != 1 {
			fail("EndSessions()", n, err)
		}
		if n, err := st.DeleteOrgSessions(ctx, k, ""); err != nil || n != 1 {
			fail("DeleteOrgSessions()", n, err)
		}
		if err := st.CreateSession(ctx, s); err != nil {
			fail("CreateSession() again", nil, err)
		}
		if err := st.DeleteSession(ctx, k); err != nil {
			fail("DeleteSession()", nil, err)
		}
	}
}
