package sso_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// countingStore counts the writes a sign-in makes: members saved and
// sessions created.
type countingStore struct {
	*memory.Store
	memberSaves, sessions atomic.Int32
}

func (c *countingStore) SaveMember(ctx context.Context, m *sso.Member) error {
	c.memberSaves.Add(1)
	return c.Store.SaveMember(ctx, m)
}

func (c *countingStore) CreateSession(ctx context.Context, s *session.Session) error {
	c.sessions.Add(1)
	return c.Store.CreateSession(ctx, s)
}

// newCountingEnv is newEnv whose Service and sessions write through a
// countingStore.
func newCountingEnv(t *testing.T, mutate func(*sso.Organization)) (*env, *countingStore) {
	t.Helper()
	e := newEnv(t, mutate)
	cs := &countingStore{Store: e.store}
	e.sessions = session.NewManager(cs, session.WithClock(e.clock.Now))
	svc, err := sso.New(sso.Config{
		BaseURL:  "https://app.example.com",
		Store:    cs,
		Sessions: e.sessions,
		Now:      e.clock.Now,
		Logger:   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e, cs
}

// manyRoles returns n distinct roles, "Admins" (which maps) first.
func manyRoles(n int) []string {
	roles := []string{"Admins"}
	for i := 1; i < n; i++ {
		roles = append(roles, fmt.Sprintf("group-%d", i))
	}
	return roles
}

// identityCase is one identity an IdP sends and what the Service makes of it.
type identityCase struct {
	name string
	user ssotest.User
	// format is the NameID format; "" = emailAddress.
	format string
	// secret is a value that must never appear in an error, event or log.
	secret string
	// problem is part of the TestReport problem (and error) expected.
	problem string
}

var persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

func refusedIdentities() []identityCase {
	long := strings.Repeat("A", 200<<10)
	local64 := strings.Repeat("l", 64)
	withName := func(first, last string) ssotest.User {
		u := user("alice@acme.example", "Admins")
		u.FirstName, u.LastName = first, last
		return u
	}
	withEmail := func(email string) ssotest.User {
		u := user("alice@acme.example", "Admins")
		u.Email = email
		return u
	}
	return []identityCase{
		{name: "display name", user: withEmail("Kate <kate@acme.example>"), problem: "email: a white space, control or format character (U+0020) at byte 4; send the bare address"},
		{name: "display name without space", user: withEmail("Kate<kate@acme.example>"), problem: "email: '<' at byte 4"},
		{name: "angle brackets", user: withEmail("<kate@acme.example>"), problem: "email: '<' at byte 0"},
		{name: "quoted local part", user: withEmail(`"kate"@acme.example`), problem: `email: '"' at byte 0`},
		{name: "two addresses", user: withEmail("kate@acme.example,bob@acme.example"), problem: "email: ',' at byte 17"},
		{name: "two @", user: withEmail("kate@bob@acme.example"), problem: `email: 2 "@" signs`},
		{name: "no @", user: withEmail("kate.acme.example"), problem: `email: 0 "@" signs`},
		{name: "empty local part", user: withEmail("@acme.example"), problem: `email: nothing before the "@"`},
		{name: "empty domain", user: withEmail("kate@"), problem: `email: no domain after the "@"`},
		{name: "empty domain label", user: withEmail("kate@acme..example"), problem: "email: the domain has an empty label"},
		{name: "leading dot in domain", user: withEmail("kate@.acme.example"), problem: "email: the domain has an empty label"},
		{name: "inner space", user: withEmail("kate smith@acme.example"), problem: "email: a white space, control or format character (U+0020) at byte 4"},
		{name: "no-break space", user: withEmail("kate\u00a0@acme.example"), problem: "(U+00A0) at byte 4"},
		{name: "DEL", user: withEmail("kate\u007f@acme.example"), problem: "(U+007F) at byte 4"},
		{name: "C1 control", user: withEmail("kate\u0085@acme.example"), problem: "(U+0085) at byte 4"},
		{name: "bidi override", user: withEmail("\u202eelpmaxe.emca@etak"), problem: "(U+202E) at byte 0"},
		{name: "zero-width joiner", user: withEmail("ka\u200dte@acme.example"), problem: "(U+200D) at byte 2"},
		{name: "email 255 bytes", user: withEmail(local64 + "@" + strings.Repeat("d", 187) + ".ex"), problem: "email: 255 bytes, more than the 254 accepted"},
		{name: "local part 65 bytes", user: withEmail(local64 + "l@acme.example"), problem: `email: the part before the "@" is 65 bytes, more than the 64 accepted`},
		{name: "email 200 KB", user: withEmail(long + "@acme.example"), secret: long, problem: "email: 204813 bytes, more than the 254 accepted"},
		{name: "email from NameID with display name", user: ssotest.User{NameID: "Kate<kate@acme.example>", Roles: []string{"Admins"}}, problem: "email: '<' at byte 4"},
		{name: "first name 200 KB", user: withName(long, "Example"), secret: long, problem: "first name: 204800 bytes, more than the 256 accepted"},
		{name: "last name 257 bytes", user: withName("Alice", strings.Repeat("é", 128)+"x"), problem: "last name: 257 bytes, more than the 256 accepted"},
		{name: "first name control character", user: withName("Al\u0085ice", "Example"), problem: "first name: a control character (U+0085) at byte 2"},
		{name: "last name tab", user: withName("Alice", "Van\tExample"), problem: "last name: a control character (U+0009) at byte 3"},
		{name: "NameID 1025 bytes", user: ssotest.User{NameID: strings.Repeat("n", 1025), Email: "alice@acme.example", Roles: []string{"Admins"}},
			format: persistent, problem: "NameID: 1025 bytes, more than the 1024 accepted"},
		{name: "NameID control character", user: ssotest.User{NameID: "id\u0085x", Email: "alice@acme.example", Roles: []string{"Admins"}},
			format: persistent, problem: "NameID: a control character (U+0085) at byte 2"},
		{name: "1001 roles", user: user("alice@acme.example", manyRoles(1001)...), problem: "IdP roles: 1001 distinct roles, more than the 1000 accepted"},
		{name: "role 257 bytes", user: user("alice@acme.example", "Admins", strings.Repeat("r", 257)), problem: "IdP roles: 1 longer than the 256 bytes accepted (the longest is 257 bytes)"},
		{name: "role 200 KB", user: user("alice@acme.example", "Admins", long), secret: long, problem: "the longest is 204800 bytes"},
	}
}

// TestIdentityValuesRefused: identity values out of bounds or malformed fail
// the sign-in with CheckIdentity (an ErrInvalidResponse) before anything is
// stored; the error, the event and the log give lengths and offsets, never
// the value.
func TestIdentityValuesRefused(t *testing.T) {
	for _, tt := range refusedIdentities() {
		t.Run(tt.name, func(t *testing.T) {
			e, cs := newCountingEnv(t, nil)
			res, err := e.signIn(t, tt.user, func(r *ssotest.Response) { r.NameIDFormat = tt.format })
			if !errors.Is(err, saml.CheckIdentity) || !errors.Is(err, sso.ErrInvalidResponse) || res != nil {
				t.Fatalf("HandleACS() = %v, %v; want nil, CheckIdentity", res, err)
			}
			var ve *saml.ValidationError
			if !errors.As(err, &ve) || ve.Check != saml.CheckIdentity {
				t.Errorf("err = %#v; want a *ValidationError of CheckIdentity", err)
			}
			if !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("err = %q; want it to say %q", err, tt.problem)
			}
			if n, s := cs.memberSaves.Load(), cs.sessions.Load(); n != 0 || s != 0 {
				t.Errorf("refused sign-in saved %d members and created %d sessions; want none", n, s)
			}
			if _, err := e.store.Member(ctx, e.org.ID, "alice@acme.example"); !errors.Is(err, sso.ErrNotFound) {
				t.Errorf("Member(alice) err = %v; want ErrNotFound", err)
			}
			failed := e.eventsOf(sso.EventSignInFailed)
			if len(failed) != 1 || failed[0].Check != saml.CheckIdentity {
				t.Fatalf("failure events = %+v; want one of CheckIdentity", failed)
			}
			if strings.HasPrefix(tt.problem, "email") && failed[0].Email != "" {
				t.Errorf("event Email = %q; want the refused email left out", failed[0].Email)
			}
			const bound = 2000
			if tt.secret != "" && (strings.Contains(err.Error(), tt.secret[:300]) || strings.Contains(e.logs.String(), tt.secret[:300])) {
				t.Errorf("the refused value reached the error or the log")
			}
			if len(err.Error()) > bound || len(e.logs.String()) > 4*bound {
				t.Errorf("error is %d bytes, log %d; want them short", len(err.Error()), len(e.logs.String()))
			}
			if sso.ErrorCode(err) != sso.CodeIdentity {
				t.Errorf("ErrorCode() = %q; want %q", sso.ErrorCode(err), sso.CodeIdentity)
			}
		})
	}
}

// TestIdentityValuesAtTheirBounds: values at their bounds, internationalized
// addresses and unusual but valid ones sign in.
func TestIdentityValuesAtTheirBounds(t *testing.T) {
	local64 := strings.Repeat("l", 64)
	tests := []struct {
		name   string
		user   ssotest.User
		format string
	}{
		{name: "email 254 bytes, local part 64", user: user(local64+"@"+strings.Repeat("d", 186)+".ex", "Admins")},
		{name: "plus, apostrophe, hyphen", user: user("o'brien+sso-test@acme.example", "Admins")},
		{name: "internationalized address", user: user("kåte@bücher.example", "Admins")},
		{name: "Kelvin sign address", user: ssotest.User{Email: "\u212Aate@acme.example", FirstName: "Kelvin", LastName: "Sign", Roles: []string{"Admins"}}},
		{name: "names 256 bytes", user: ssotest.User{Email: "alice@acme.example", FirstName: strings.Repeat("ü", 128), LastName: strings.Repeat("x", 256), Roles: []string{"Admins"}}},
		{name: "names with spaces and marks", user: ssotest.User{Email: "alice@acme.example", FirstName: "Mary Ann", LastName: "O'Brien-Ñúñez", Roles: []string{"Admins"}}},
		{name: "NameID 1024 bytes", user: ssotest.User{NameID: strings.Repeat("n", 1024), Email: "alice@acme.example", Roles: []string{"Admins"}}, format: persistent},
		{name: "1000 roles", user: user("alice@acme.example", manyRoles(1000)...)},
		{name: "role 256 bytes", user: user("alice@acme.example", "Admins", strings.Repeat("r", 256))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			res, err := e.signIn(t, tt.user, func(r *ssotest.Response) { r.NameIDFormat = tt.format })
			if err != nil {
				t.Fatalf("HandleACS() err = %v; want nil", err)
			}
			if res.Member.Email != tt.user.Email || res.Identity.FirstName != tt.user.FirstName || res.Session == nil {
				t.Errorf("Result = %+v; want a session for %q", res, tt.user.Email)
			}
		})
	}
}

// TestTestSSOReportsIdentityProblems: a Test SSO round trip does not fail on
// refused identity values: the report lists them, leaves the values out, and
// the round trip writes nothing.
func TestTestSSOReportsIdentityProblems(t *testing.T) {
	for _, tt := range refusedIdentities() {
		t.Run(tt.name, func(t *testing.T) {
			e, cs := newCountingEnv(t, nil)
			rd := e.startTest(t)
			posted, err := e.idp.Response(e.resp(rd.RequestID, tt.user, func(r *ssotest.Response) { r.NameIDFormat = tt.format }))
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.post(t, posted, relayOf(t, rd))
			if err != nil || res.Test == nil {
				t.Fatalf("test round trip = %v, %v; want a report", res, err)
			}
			problems := strings.Join(res.Test.Problems, "\n")
			if !strings.Contains(problems, tt.problem) {
				t.Errorf("Problems = %q; want one saying %q", res.Test.Problems, tt.problem)
			}
			if len(problems) > 2000 || (tt.secret != "" && strings.Contains(problems, tt.secret[:300])) {
				t.Errorf("Problems are %d bytes; want them short, without the value", len(problems))
			}
			id := res.Test.Identity
			for _, v := range append([]string{id.Email, id.FirstName, id.LastName, id.NameID}, id.IdPRoles...) {
				if len(v) > 256 && v != id.NameID || len(v) > 1024 {
					t.Errorf("report Identity holds a %d-byte value; want refused values left out", len(v))
				}
			}
			if len(id.IdPRoles) > sso.MaxRoles || res.Identity.Email != id.Email {
				t.Errorf("report Identity = %d roles, Result.Identity.Email %q; want the checked identity in both", len(id.IdPRoles), res.Identity.Email)
			}
			if n, s := cs.memberSaves.Load(), cs.sessions.Load(); n != 0 || s != 0 {
				t.Errorf("test round trip saved %d members and created %d sessions; want none", n, s)
			}
			if ev := e.eventsOf(sso.EventTestCompleted); len(ev) != 1 || len(ev[0].Email) > sso.MaxEmailBytes {
				t.Errorf("test events = %d, email %d bytes; want one, with a checked email", len(ev), len(ev[0].Email))
			}
		})
	}
}

// TestKelvinSignIsNotK is the regression test of the identity-merging
// finding: with the member kate@acme.example, an IdP asserting
// "\u212Aate@acme.example" (Kelvin sign) does not sign in as kate; it is a
// different member (role mapping provisions one) or refused (it maps no
// member). ASCII case still does not matter.
func TestKelvinSignIsNotK(t *testing.T) {
	const kelvin = "\u212Aate@acme.example"
	kelvinUser := func(roles ...string) ssotest.User {
		return ssotest.User{Email: kelvin, FirstName: "Kelvin", LastName: "Sign", Roles: roles}
	}
	kate := &sso.Member{OrgID: "org-acme", UserID: "u-kate", Email: "kate@acme.example", FirstName: "Kate", LastName: "Original", OrgRole: rolemap.RoleAdmin}

	t.Run("role mapping provisions another member", func(t *testing.T) {
		e := newEnv(t, nil)
		e.saveMember(t, kate)
		res, err := e.signIn(t, kelvinUser("Contentstack Developers"), nil)
		if err != nil {
			t.Fatalf("HandleACS() err = %v; want a new member", err)
		}
		if res.Member.UserID == kate.UserID || res.Session.UserID == kate.UserID || res.Member.Email != kelvin {
			t.Errorf("signed in as %+v (session user %s); want a member of its own, not kate", res.Member, res.Session.UserID)
		}
		if got := e.member(t, "kate@acme.example"); got.FirstName != "Kate" || got.LastName != "Original" || got.OrgRole != rolemap.RoleAdmin {
			t.Errorf("kate after the Kelvin-sign sign-in = %+v; want her unchanged", got)
		}
	})
	t.Run("no mapping, no JIT: refused", func(t *testing.T) {
		e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
		e.saveMember(t, kate)
		res, err := e.signIn(t, kelvinUser(), nil)
		if !errors.Is(err, sso.ErrAccessDenied) || res != nil {
			t.Fatalf("HandleACS() = %v, %v; want ErrAccessDenied", res, err)
		}
		// kate herself, in any ASCII case, still signs in.
		res, err = e.signIn(t, user("KATE@Acme.Example"), nil)
		if err != nil || res.Member.UserID != kate.UserID {
			t.Errorf("HandleACS(KATE@Acme.Example) = %v, %v; want kate", res, err)
		}
	})
	t.Run("dotted capital I is not i", func(t *testing.T) {
		e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
		e.saveMember(t, &sso.Member{OrgID: "org-acme", UserID: "u-ivan", Email: "ivan@acme.example", OrgRole: rolemap.RoleAdmin})
		if res, err := e.signIn(t, ssotest.User{Email: "\u0130van@acme.example", FirstName: "Ivan"}, nil); !errors.Is(err, sso.ErrAccessDenied) {
			t.Errorf("HandleACS(İvan@) = %v, %v; want ErrAccessDenied, not ivan", res, err)
		}
	})
}

// TestPasswordLoginAllowedEmailRule: PasswordLoginAllowed finds members by
// the same rule as the stores: ASCII case only, and invalid UTF-8 refused.
func TestPasswordLoginAllowedEmailRule(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.StrictMode = false })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-kate", Email: "kate@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ivan", Email: "ivan@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	tests := []struct {
		email   string
		wantErr error
	}{
		{"kate@acme.example", nil},
		{"KATE@ACME.EXAMPLE", nil},
		{"OWNER@acme.example", nil},
		{"\u212Aate@acme.example", sso.ErrSSORequired},
		{"\u0130van@acme.example", sso.ErrSSORequired},
		{"ivan@acme.example", nil},
		{"kate\xff@acme.example", session.ErrInvalidArgument},
		{"kate\x00@acme.example", session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		if err := e.svc.PasswordLoginAllowed(ctx, e.org.ID, tt.email); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("PasswordLoginAllowed(%q) err = %v; want %v", tt.email, err, tt.wantErr)
		}
	}
	// Invalid UTF-8 is refused whatever the organization's state.
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
	if err := e.svc.PasswordLoginAllowed(ctx, e.org.ID, "kate\xff@acme.example"); !errors.Is(err, session.ErrInvalidArgument) {
		t.Errorf("PasswordLoginAllowed(invalid UTF-8, SSO disabled) err = %v; want ErrInvalidArgument", err)
	}
}

// TestFailureEventsCarryCheckedEmail: a sign-in that fails after the
// identity is read (here: it answers a request this browser holds no cookie
// of) reports an email in its event only if the email passes the identity
// check.
func TestFailureEventsCarryCheckedEmail(t *testing.T) {
	long := strings.Repeat("URGENT re-enter your password at https://evil.example ", 4000) + "@acme.example"
	for _, email := range []string{long, "Kate <kate@acme.example>", "alice@acme.example"} {
		e := newEnv(t, nil)
		posted, err := e.idp.Response(e.resp("id-unknown", user("alice@acme.example", "Admins"), func(r *ssotest.Response) { r.User.Email = email }))
		if err != nil {
			t.Fatal(err)
		}
		_, relay := e.start(t, "/")
		if _, err := e.post(t, posted, relay); !errors.Is(err, saml.CheckBinding) && !errors.Is(err, saml.CheckInResponseTo) {
			t.Fatalf("HandleACS(unknown request) err = %v; want CheckBinding or CheckInResponseTo", err)
		}
		failed := e.eventsOf(sso.EventSignInFailed)
		want := ""
		if email == "alice@acme.example" {
			want = email
		}
		if len(failed) != 1 || failed[0].Email != want {
			t.Errorf("failure events = %d, email %.40q; want one, email %q", len(failed), failed[0].Email, want)
		}
		if strings.Contains(e.logs.String(), "URGENT") {
			t.Errorf("the refused email reached the log")
		}
	}
}
