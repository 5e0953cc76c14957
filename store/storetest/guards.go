package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var guardTests = []test{
	{"NotFound", testNotFound},
	{"CancelledContext", testCancelledContext},
	{"InvalidValues", testInvalidValues},
	{"UnusualStrings", testUnusualStrings},
}

// testNotFound: every lookup of an unknown key wraps sso.ErrNotFound (which
// is session.ErrNotFound), also in a store holding other keys.
func testNotFound(t *testing.T, ctx context.Context, st Store) {
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, sso.ErrNotFound) || !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s err = %v; want ErrNotFound", what, err)
		}
	}
	for _, filled := range []bool{false, true} {
		if filled {
			if err := st.SaveOrganization(ctx, fullOrg("org1", "acme")); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveRequest(ctx, fullRequest("r1", "org1")); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateSession(ctx, newSession("s1", "org1", session.MethodSSO, t0)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := st.Organization(ctx, "org2")
		check("Organization(org2)", err)
		_, err = st.OrganizationBySSOName(ctx, "globex")
		check("OrganizationBySSOName(globex)", err)
		_, err = st.OrganizationByDomain(ctx, verifiedDomain("org2"))
		check("OrganizationByDomain(org2's)", err)
		_, err = st.OrganizationByDomain(ctx, claimedDomain("org1"))
		check("OrganizationByDomain(a domain org1 claims, not verified)", err)
		_, err = st.Member(ctx, "org1", "bob@example.com")
		check("Member(org1, bob)", err)
		_, err = st.Member(ctx, "org2", "ada@example.com")
		check("Member(org2, ada)", err)
		_, err = st.ConsumeRequest(ctx, "r2")
		check("ConsumeRequest(r2)", err)
		_, err = st.ConsumeMatchingRequest(ctx, "r1", "org2", bindingHashOf("r1"))
		check("ConsumeMatchingRequest(r1, org2)", err)
		_, err = st.Session(ctx, "s2")
		check("Session(s2)", err)
		check("DeleteSession(s2)", st.DeleteSession(ctx, "s2"))
		check("UpdateOrganization(org2)", st.UpdateOrganization(ctx, fullOrg("org2", "globex")))
		check("UpdateMember(org1, bob)", st.UpdateMember(ctx, fullMember("org1", "bob@example.com")))
		check("DeleteMember(org1, bob)", st.DeleteMember(ctx, "org1", "bob@example.com"))
		check("DeleteMember(org2, ada)", st.DeleteMember(ctx, "org2", "ada@example.com"))
		_, err = st.MemberByUserID(ctx, "org1", "nobody")
		check("MemberByUserID(org1, nobody)", err)
		_, err = st.MemberByUserID(ctx, "org2", "user-ada@example.com")
		check("MemberByUserID(org2, ada's user ID)", err)
	}
}

// calls lists one call of every method, with arguments that are fine.
var calls = []struct {
	name string
	do   func(ctx context.Context, st Store) error
}{
	{"Organization", func(ctx context.Context, st Store) error { _, err := st.Organization(ctx, "org1"); return err }},
	{"OrganizationBySSOName", func(ctx context.Context, st Store) error {
		_, err := st.OrganizationBySSOName(ctx, "acme")
		return err
	}},
	{"OrganizationByDomain", func(ctx context.Context, st Store) error {
		_, err := st.OrganizationByDomain(ctx, verifiedDomain("org1"))
		return err
	}},
	{"SaveOrganization", func(ctx context.Context, st Store) error { return st.SaveOrganization(ctx, fullOrg("org2", "globex")) }},
	{"Member", func(ctx context.Context, st Store) error {
		_, err := st.Member(ctx, "org1", "ada@example.com")
		return err
	}},
	{"SaveMember", func(ctx context.Context, st Store) error {
		return st.SaveMember(ctx, fullMember("org1", "bob@example.com"))
	}},
	{"SaveRequest", func(ctx context.Context, st Store) error { return st.SaveRequest(ctx, fullRequest("r2", "org1")) }},
	{"ConsumeMatchingRequest", func(ctx context.Context, st Store) error {
		_, err := st.ConsumeMatchingRequest(ctx, "r2", "org1", bindingHashOf("r2"))
		return err
	}},
	{"ConsumeRequest", func(ctx context.Context, st Store) error { _, err := st.ConsumeRequest(ctx, "r1"); return err }},
	{"UseAssertion", func(ctx context.Context, st Store) error { return st.UseAssertion(ctx, "org1", "a1", t0) }},
	{"CreateSession", func(ctx context.Context, st Store) error {
		return st.CreateSession(ctx, newSession("s2", "org1", session.MethodSSO, t0))
	}},
	{"Session", func(ctx context.Context, st Store) error { _, err := st.Session(ctx, "s1"); return err }},
	{"DeleteSession", func(ctx context.Context, st Store) error { return st.DeleteSession(ctx, "s1") }},
	{"DeleteOrgSessions", func(ctx context.Context, st Store) error { _, err := st.DeleteOrgSessions(ctx, "org1", ""); return err }},
	{"DeleteExpiredSessions", func(ctx context.Context, st Store) error {
		_, err := st.DeleteExpiredSessions(ctx, t0.Add(1e9))
		return err
	}},
	{"Cleanup", func(ctx context.Context, st Store) error { _, err := st.Cleanup(ctx, t0.Add(1e9)); return err }},
	{"CleanupBatch", func(ctx context.Context, st Store) error { _, err := st.CleanupBatch(ctx, t0.Add(1e9), 10); return err }},
	{"CreateOrganization", func(ctx context.Context, st Store) error {
		return st.CreateOrganization(ctx, fullOrg("org3", "initech"))
	}},
	{"UpdateOrganization", func(ctx context.Context, st Store) error {
		return st.UpdateOrganization(ctx, fullOrg("org1", "acme")) // saved at fullOrg's Version
	}},
	{"CreateMember", func(ctx context.Context, st Store) error {
		_, err := st.CreateMember(ctx, fullMember("org1", "carol@example.com"))
		return err
	}},
	{"UpdateMember", func(ctx context.Context, st Store) error {
		return st.UpdateMember(ctx, fullMember("org1", "ADA@example.com"))
	}},
	{"MemberByUserID", func(ctx context.Context, st Store) error {
		_, err := st.MemberByUserID(ctx, "org1", "user-ADA@example.com") // as UpdateMember left it
		return err
	}},
	{"Members", func(ctx context.Context, st Store) error { _, err := st.Members(ctx, "org1", "", 10); return err }},
	{"OrganizationsWithMetadataURL", func(ctx context.Context, st Store) error {
		_, err := st.OrganizationsWithMetadataURL(ctx, "", 10)
		return err
	}},
	{"DeleteMember", func(ctx context.Context, st Store) error { return st.DeleteMember(ctx, "org1", "bob@example.com") }},
	{"ListSessions", func(ctx context.Context, st Store) error {
		_, err := st.ListSessions(ctx, session.Query{OrgID: "org1"}, t0)
		return err
	}},
	{"EndSessions", func(ctx context.Context, st Store) error {
		_, err := st.EndSessions(ctx, session.Query{OrgID: "org1"}, session.EndRevoked)
		return err
	}},
}

// testCancelledContext: with a cancelled context every method fails with
// context.Canceled and changes nothing; then, with a live one, every method
// succeeds on the data that is still there.
func testCancelledContext(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRequest(ctx, fullRequest("r1", "org1")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, newSession("s1", "org1", session.MethodSSO, t0)); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range calls {
		if err := c.do(cancelled, st); !errors.Is(err, context.Canceled) {
			t.Errorf("%s(cancelled context) err = %v; want context.Canceled", c.name, err)
		}
	}
	for _, c := range calls {
		if err := c.do(ctx, st); err != nil {
			t.Errorf("%s() after the cancelled calls err = %v; want nil", c.name, err)
		}
	}
}

// testInvalidValues: nil values and values missing a key field are refused
// with session.ErrInvalidArgument (not a panic), and nothing refused is stored.
func testInvalidValues(t *testing.T, ctx context.Context, st Store) {
	tests := []struct {
		name string
		err  error
	}{
		{"SaveOrganization(nil)", st.SaveOrganization(ctx, nil)},
		{"SaveOrganization(no ID)", st.SaveOrganization(ctx, &sso.Organization{SSOName: "acme"})},
		{"SaveMember(nil)", st.SaveMember(ctx, nil)},
		{"SaveMember(no org)", st.SaveMember(ctx, &sso.Member{Email: "a@b"})},
		{"SaveMember(no email)", st.SaveMember(ctx, &sso.Member{OrgID: "o", UserID: "u"})},
		{"SaveRequest(nil)", st.SaveRequest(ctx, nil)},
		{"SaveRequest(no ID)", st.SaveRequest(ctx, &sso.PendingRequest{OrgID: "o"})},
		{"CreateSession(nil)", st.CreateSession(ctx, nil)},
		{"CreateSession(no ID)", st.CreateSession(ctx, &session.Session{OrgID: "o"})},
		{"CreateSession(no org)", st.CreateSession(ctx, &session.Session{ID: "s"})},
		{"CreateOrganization(nil)", st.CreateOrganization(ctx, nil)},
		{"CreateOrganization(no ID)", st.CreateOrganization(ctx, &sso.Organization{SSOName: "acme"})},
		{"UpdateOrganization(nil)", st.UpdateOrganization(ctx, nil)},
		{"UpdateOrganization(no ID)", st.UpdateOrganization(ctx, &sso.Organization{SSOName: "acme"})},
		{"CreateMember(nil)", second(st.CreateMember(ctx, nil))},
		{"CreateMember(no org)", second(st.CreateMember(ctx, &sso.Member{Email: "a@b"}))},
		{"CreateMember(no email)", second(st.CreateMember(ctx, &sso.Member{OrgID: "o", UserID: "u"}))},
		{"UpdateMember(nil)", st.UpdateMember(ctx, nil)},
		{"UpdateMember(no org)", st.UpdateMember(ctx, &sso.Member{Email: "a@b"})},
		{"UpdateMember(no email)", st.UpdateMember(ctx, &sso.Member{OrgID: "o", UserID: "u"})},
		{"Members(no org)", second(st.Members(ctx, "", "", 10))},
		{"Members(limit 0)", second(st.Members(ctx, "o", "", 0))},
		{"Members(limit -1)", second(st.Members(ctx, "o", "", -1))},
		{"Members(limit MaxListLimit+1)", second(st.Members(ctx, "o", "", sso.MaxListLimit+1))},
		{"OrganizationsWithMetadataURL(limit 0)", second(st.OrganizationsWithMetadataURL(ctx, "", 0))},
		{"OrganizationsWithMetadataURL(limit MaxListLimit+1)", second(st.OrganizationsWithMetadataURL(ctx, "", sso.MaxListLimit+1))},
		{"ListSessions(no org)", second(st.ListSessions(ctx, session.Query{}, t0))},
		{"ListSessions(limit -1)", second(st.ListSessions(ctx, session.Query{OrgID: "o", Limit: -1}, t0))},
		{"ListSessions(limit MaxListLimit+1)", second(st.ListSessions(ctx, session.Query{OrgID: "o", Limit: session.MaxListLimit + 1}, t0))},
		{"EndSessions(no org)", second(st.EndSessions(ctx, session.Query{}, session.EndRevoked))},
		{"EndSessions(no reason)", second(st.EndSessions(ctx, session.Query{OrgID: "o"}, ""))},
		{"CleanupBatch(limit 0)", second(st.CleanupBatch(ctx, t0, 0))},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, session.ErrInvalidArgument) {
			t.Errorf("%s err = %v; want ErrInvalidArgument", tt.name, tt.err)
		}
	}
	if _, err := st.OrganizationBySSOName(ctx, "acme"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("OrganizationBySSOName(acme) err = %v; want ErrNotFound", err)
	}
	if page, err := st.Members(ctx, "o", "", sso.MaxListLimit); err != nil || len(page) != 0 {
		t.Errorf("Members(o) = %+v, %v; want none", page, err)
	}
	if _, err := st.Organization(ctx, ""); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Organization(\"\") err = %v; want ErrNotFound", err)
	}
	if _, err := st.Member(ctx, "", "a@b"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Member(\"\", a@b) err = %v; want ErrNotFound", err)
	}
	if _, err := st.Member(ctx, "o", ""); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Member(o, \"\") err = %v; want ErrNotFound", err)
	}
	if _, err := st.ConsumeRequest(ctx, ""); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeRequest(\"\") err = %v; want ErrNotFound", err)
	}
	if _, err := st.ConsumeMatchingRequest(ctx, "", "", ""); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeMatchingRequest(\"\", \"\", \"\") err = %v; want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, "s"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Session(s) err = %v; want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, ""); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Session(\"\") err = %v; want ErrNotFound", err)
	}
}

// testUnusualStrings: strings a database may not hold (invalid UTF-8, NUL
// bytes) are either refused with an error or stored exactly; never changed
// silently. Looking one up finds it exactly or not at all.
func testUnusualStrings(t *testing.T, ctx context.Context, st Store) {
	for _, s := range []string{"bad\xffutf8", "nul\x00byte", "\xc3", "\x00"} {
		o := &sso.Organization{ID: "org-" + s, SSOName: "name-" + s, OwnerID: s,
			IdP:     sso.IdPConfig{Certificates: []string{s}},
			Domains: []sso.Domain{{Name: "d-" + s, Token: s, VerifiedAt: t0}}}
		if err := st.SaveOrganization(ctx, o); err == nil {
			if got, err := st.Organization(ctx, o.ID); err != nil || !reflect.DeepEqual(got, o) {
				t.Errorf("Organization(%q) = %#v, %v; want %#v or SaveOrganization to fail", o.ID, got, err, o)
			}
			if got, err := st.OrganizationByDomain(ctx, "d-"+s); err != nil || !reflect.DeepEqual(got, o) {
				t.Errorf("OrganizationByDomain(%q) = %#v, %v; want %#v", "d-"+s, got, err, o)
			}
		} else {
			if _, err := st.Organization(ctx, o.ID); !errors.Is(err, sso.ErrNotFound) {
				t.Errorf("Organization(%q) after a refused save err = %v; want ErrNotFound", o.ID, err)
			}
			if _, err := st.OrganizationByDomain(ctx, "d-"+s); !errors.Is(err, sso.ErrNotFound) {
				t.Errorf("OrganizationByDomain(%q) after a refused save err = %v; want ErrNotFound", "d-"+s, err)
			}
		}
		if _, err := st.OrganizationBySSOName(ctx, "other-"+s); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("OrganizationBySSOName(%q) err = %v; want ErrNotFound", "other-"+s, err)
		}
		if _, err := st.OrganizationByDomain(ctx, "other-"+s); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("OrganizationByDomain(%q) err = %v; want ErrNotFound", "other-"+s, err)
		}

		// Emails are the exception: every store refuses them alike
		// (testMemberInvalidEmail).
		m := &sso.Member{OrgID: "org1", Email: "ok@example.com", FirstName: s, StackRoles: map[string][]string{s: {s}}}
		if err := st.SaveMember(ctx, m); err == nil {
			if got, err := st.Member(ctx, m.OrgID, m.Email); err != nil || !reflect.DeepEqual(got, m) {
				t.Errorf("Member(%q) = %#v, %v; want %#v or SaveMember to fail", m.Email, got, err, m)
			}
		}
		if err := st.SaveMember(ctx, &sso.Member{OrgID: "org1", Email: s + "@example.com"}); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("SaveMember(email %q) err = %v; want ErrInvalidArgument", s+"@example.com", err)
		}
		if _, err := st.Member(ctx, "org1", "other"+s); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("Member(%q) err = %v; want ErrInvalidArgument", "other"+s, err)
		}

		r := &sso.PendingRequest{ID: "r-" + s, OrgID: s, ReturnTo: s, ExpiresAt: t0}
		if err := st.SaveRequest(ctx, r); err == nil {
			if got, err := st.ConsumeRequest(ctx, r.ID); err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
				t.Errorf("ConsumeRequest(%q) = %#v, %v; want %#v or SaveRequest to fail", r.ID, got, err, r)
			}
		}
		if _, err := st.ConsumeRequest(ctx, "other-"+s); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("ConsumeRequest(%q) err = %v; want ErrNotFound", "other-"+s, err)
		}

		sess := &session.Session{ID: "s-" + s, OrgID: s, UserID: s, Method: s}
		if err := st.CreateSession(ctx, sess); err == nil {
			if got, err := st.Session(ctx, sess.ID); err != nil || !reflect.DeepEqual(normSession(got), normSession(sess)) {
				t.Errorf("Session(%q) = %#v, %v; want %#v or CreateSession to fail", sess.ID, got, err, sess)
			}
		}
		if _, err := st.Session(ctx, "other-"+s); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Session(%q) err = %v; want ErrNotFound", "other-"+s, err)
		}
		if err := st.DeleteSession(ctx, "other-"+s); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("DeleteSession(%q) err = %v; want ErrNotFound", "other-"+s, err)
		}
		if n, err := st.DeleteOrgSessions(ctx, "other-"+s, s); n != 0 || err != nil {
			t.Errorf("DeleteOrgSessions(%q) = %d, %v; want 0, nil", "other-"+s, n, err)
		}

		// An assertion ID is recorded or refused; if recorded, it is a
		// replay the second time.
		if err := st.UseAssertion(ctx, "org1", s, t0); err == nil {
			if err := st.UseAssertion(ctx, "org1", s, t0); !errors.Is(err, sso.ErrReplay) {
				t.Errorf("UseAssertion(%q) again err = %v; want ErrReplay", s, err)
			}
		} else if errors.Is(err, sso.ErrReplay) {
			t.Errorf("UseAssertion(%q) err = %v; want nil or an invalid-argument error", s, err)
		}
	}
}

// second returns the error of a call that returns a value and an error.
func second[T any](_ T, err error) error { return err }
