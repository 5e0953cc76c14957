package sso_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// certPEM returns a self-signed IdP certificate valid from notBefore to
// notAfter.
func certPEM(t testing.TB, notBefore, notAfter time.Time) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "idp.example.test"},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	key := loadKey(t, "idp.key.pem")
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestUpdateOrganizationRules(t *testing.T) {
	day := 24 * time.Hour
	expired := certPEM(t, testNow.Add(-400*day), testNow.Add(-day))
	tests := []struct {
		name    string
		actor   string
		edit    func(*sso.Organization) error
		want    error
		message string // substring of the human sentence, if any
	}{
		{"not the owner", "u-admin", func(o *sso.Organization) error { o.StrictMode = true; return nil }, sso.ErrNotOwner, ""},
		{"no actor", "", func(o *sso.Organization) error { o.StrictMode = true; return nil }, sso.ErrNotOwner, ""},
		{"enable by edit", ownerID, func(o *sso.Organization) error { o.Enabled = false; return nil }, sso.ErrNotAllowed, "Enable or Disable"},
		{"rename while enabled", ownerID, func(o *sso.Organization) error { o.SSOName = "acme2"; return nil }, sso.ErrNotAllowed, "while SSO is disabled"},
		{"change ID", ownerID, func(o *sso.Organization) error { o.ID = "other"; return nil }, sso.ErrNotAllowed, ""},
		{"change owner", ownerID, func(o *sso.Organization) error { o.OwnerID = "u-x"; return nil }, sso.ErrNotAllowed, ""},
		{"change version", ownerID, func(o *sso.Organization) error { o.Version = 99; return nil }, sso.ErrNotAllowed, ""},
		{"change epoch", ownerID, func(o *sso.Organization) error { o.SSOEpoch = 99; return nil }, sso.ErrNotAllowed, ""},
		{"timeout out of bounds", ownerID, func(o *sso.Organization) error { o.SessionTimeout = 48 * time.Hour; return nil }, sso.ErrInvalidConfig, "The session timeout must be between 1 and 24 hours."},
		{"expired certificate added", ownerID, func(o *sso.Organization) error {
			o.IdP.Certificates = append(o.IdP.Certificates, expired)
			return nil
		}, sso.ErrInvalidConfig, "IdP certificate 2 expired on 2026-02-28"},
		{"bad mapping", ownerID, func(o *sso.Organization) error {
			o.RoleMapping.Mappings = append(o.RoleMapping.Mappings, rolemap.Mapping{IdPRole: " x", OrgRole: rolemap.RoleMember})
			return nil
		}, sso.ErrInvalidConfig, "Role mapping 3"},
		{"edit fails", ownerID, func(*sso.Organization) error { return context.Canceled }, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			before := e.member(t, ownerEmail)
			_, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, tt.actor, tt.edit)
			require.ErrorIs(t, err, tt.want)
			if tt.message != "" {
				assert.Contains(t, humanMessage(err), tt.message)
			}
			got, err := e.svc.Organization(t.Context(), e.org.ID)
			require.NoError(t, err)
			assert.Equal(t, e.org, got, "nothing saved")
			assert.Equal(t, before, e.member(t, ownerEmail))
			assert.Empty(t, e.eventsOf(sso.EventSettingsChanged))
		})
	}
}

// humanMessage is what a host shows for an admin error.
func humanMessage(err error) string {
	var ce *sso.ConfigError
	var re *sso.RuleError
	switch {
	case errors.As(err, &ce):
		return ce.UserMessage()
	case errors.As(err, &re):
		return re.Rule
	}
	return sso.UserMessage(err)
}

func TestUpdateOrganizationSavesAndAudits(t *testing.T) {
	e := newEnv(t, nil)
	year := 365 * 24 * time.Hour
	second := certPEM(t, testNow.Add(-time.Hour), testNow.Add(year))
	got, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
		o.StrictMode = true
		o.IdP.Certificates = append(o.IdP.Certificates, second)
		return nil
	})
	require.NoError(t, err)
	assert.True(t, got.StrictMode)
	assert.Equal(t, e.org.Version+1, got.Version)
	stored, err := e.svc.Organization(t.Context(), e.org.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)

	evs := e.eventsOf(sso.EventSettingsChanged)
	require.Len(t, evs, 1)
	assert.Equal(t, ownerID, evs[0].Actor)
	assert.Equal(t, []string{"IdP.Certificates", "StrictMode"}, evs[0].Fields)
	assert.NotContains(t, e.logs.String(), "BEGIN CERTIFICATE", "no certificate bytes in logs")

	// An edit that changes nothing saves nothing and says nothing.
	again, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error { o.StrictMode = true; return nil })
	require.NoError(t, err)
	assert.Equal(t, got.Version, again.Version)
	assert.Len(t, e.eventsOf(sso.EventSettingsChanged), 1)

	// The SSO name changes while disabled.
	require.NoError(t, e.svc.Disable(t.Context(), e.org.ID, ownerID))
	renamed, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error { o.SSOName = "acme-corp"; return nil })
	require.NoError(t, err)
	assert.Equal(t, "acme-corp", renamed.SSOName)
}

// TestUpdateOrganizationRetriesOnConflict: a concurrent save between the
// load and the save makes the first attempt lose; the edit runs again on the
// fresh copy, so both changes survive.
func TestUpdateOrganizationRetriesOnConflict(t *testing.T) {
	e := newEnv(t, nil)
	runs := 0
	got, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
		runs++
		if runs == 1 {
			_, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
				o.JITProvisioning = true
				return nil
			})
			require.NoError(t, err)
		}
		o.StrictMode = true
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, runs)
	assert.True(t, got.StrictMode)
	assert.True(t, got.JITProvisioning, "the concurrent edit is not lost")

	// An edit that always loses gives up with ErrConflict and saves nothing.
	_, err = e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
		_, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
			o.AllowIdPInitiated = !o.AllowIdPInitiated
			return nil
		})
		require.NoError(t, err)
		o.SessionTimeout = 2 * time.Hour
		return nil
	})
	require.ErrorIs(t, err, sso.ErrConflict)
	stored, err := e.svc.Organization(t.Context(), e.org.ID)
	require.NoError(t, err)
	assert.Zero(t, stored.SessionTimeout)
}

func TestCreateOrganization(t *testing.T) {
	e := newEnv(t, nil)
	day := 24 * time.Hour
	org := &sso.Organization{ID: "org-new", SSOName: "newco", OwnerID: "u-new"}
	require.NoError(t, e.svc.CreateOrganization(t.Context(), org))
	assert.EqualValues(t, 1, org.Version)
	require.Len(t, e.eventsOf(sso.EventOrganizationCreated), 1)

	tests := []struct {
		name string
		org  *sso.Organization
		want error
	}{
		{"nil", nil, sso.ErrInvalidConfig},
		{"no ID", &sso.Organization{SSOName: "x1", OwnerID: "u"}, sso.ErrInvalidConfig},
		{"no owner", &sso.Organization{ID: "o1", SSOName: "x1"}, sso.ErrInvalidConfig},
		{"enabled", &sso.Organization{ID: "o1", SSOName: "x1", OwnerID: "u", Enabled: true}, sso.ErrNotAllowed},
		{"duplicate ID", &sso.Organization{ID: "org-new", SSOName: "x1", OwnerID: "u"}, sso.ErrDuplicateID},
		{"name taken", &sso.Organization{ID: "o1", SSOName: "newco", OwnerID: "u"}, sso.ErrSSONameTaken},
		{"expired certificate in a draft", &sso.Organization{ID: "o1", SSOName: "x1", OwnerID: "u",
			IdP: sso.IdPConfig{Certificates: []string{certPEM(t, testNow.Add(-9*day), testNow.Add(-day))}}}, sso.ErrInvalidConfig},
		{"certificate not valid yet", &sso.Organization{ID: "o1", SSOName: "x1", OwnerID: "u",
			IdP: sso.IdPConfig{Certificates: []string{certPEM(t, testNow.Add(day), testNow.Add(9*day))}}}, sso.ErrInvalidConfig},
		{"oversized ID", &sso.Organization{ID: strings.Repeat("x", sso.MaxKeyBytes+1), SSOName: "x1", OwnerID: "u"}, sso.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, e.svc.CreateOrganization(t.Context(), tt.org), tt.want)
			_, err := e.svc.Organization(t.Context(), "o1")
			require.ErrorIs(t, err, sso.ErrNotFound)
		})
	}
}

// TestCertificateExpiringEvent: a certificate that expires within 30 days
// is saved, and reported.
func TestCertificateExpiringEvent(t *testing.T) {
	e := newEnv(t, nil)
	soon := certPEM(t, testNow.Add(-time.Hour), testNow.Add(10*24*time.Hour))
	_, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error {
		o.IdP.Certificates = append(o.IdP.Certificates, soon)
		return nil
	})
	require.NoError(t, err)
	evs := e.eventsOf(sso.EventCertificateExpiring)
	require.Len(t, evs, 1)
	assert.Contains(t, evs[0].Detail, "IdP certificate 2 expires on 2026-03-11")
}

// inFlight is a memory store that runs hook once, at the first UseAssertion
// (after HandleACS loaded the organization and verified the response) or,
// with afterMember, right after the first Member lookup (after the sign-in
// read the member): before the session is made.
type inFlight struct {
	*memory.Store
	hook        func()
	afterMember bool
}

func (s *inFlight) run() {
	if h := s.hook; h != nil {
		s.hook = nil
		h()
	}
}

func (s *inFlight) UseAssertion(ctx context.Context, orgID, id string, until time.Time) error {
	if !s.afterMember {
		s.run()
	}
	return s.Store.UseAssertion(ctx, orgID, id, until)
}

func (s *inFlight) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	m, err := s.Store.Member(ctx, orgID, email)
	if s.afterMember {
		s.run()
	}
	return m, err
}

// TestDisableEndsInFlightSignIn (F2): a sign-in that loaded the organization
// before Disable makes its session after Disable ended the others; that
// session is refused all the same, with the reason.
func TestDisableEndsInFlightSignIn(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.signIn(t, user("ann@acme.example", "Admins"), nil)
	require.NoError(t, err)
	early := res.Token

	st := &inFlight{Store: e.store}
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: e.sessions, Now: e.clock.Now})
	require.NoError(t, err)
	st.hook = func() { require.NoError(t, svc.Disable(context.Background(), e.org.ID, ownerID)) }
	e.svc = svc
	res, err = e.signIn(t, user("bob@acme.example", "Admins"), nil)
	require.NoError(t, err, "the sign-in was past the organization check when Disable ran")
	late := res.Token

	for _, tok := range []string{early, late} {
		_, err := svc.ValidateSession(t.Context(), tok)
		var ended *session.EndedError
		require.ErrorAs(t, err, &ended)
		assert.Equal(t, session.EndSSODisabled, ended.Reason)
	}
	// Enabling again does not bring them back: they carry the old epoch.
	require.NoError(t, svc.Enable(t.Context(), e.org.ID, ownerID))
	for _, tok := range []string{early, late} {
		_, err := svc.ValidateSession(t.Context(), tok)
		require.ErrorIs(t, err, session.ErrEnded)
	}
}

// failEnd is a memory store whose EndSessions fails.
type failEnd struct{ *memory.Store }

func (failEnd) EndSessions(context.Context, session.Query, string) (int, error) {
	return 0, errors.New("database is down")
}

// TestDisableRevokeFailure (F3): Disable saved, ending the sessions failed:
// the error says so (ErrUnavailable), SSO is off, and the sessions are
// refused regardless; Disable again ends them.
func TestDisableRevokeFailure(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.signIn(t, user("ann@acme.example", "Admins"), nil)
	require.NoError(t, err)
	broken := session.NewManager(failEnd{e.store}, session.WithClock(e.clock.Now))
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: failEnd{e.store}, Sessions: broken, Now: e.clock.Now})
	require.NoError(t, err)
	err = svc.Disable(t.Context(), e.org.ID, ownerID)
	require.ErrorIs(t, err, sso.ErrUnavailable)
	org, err := svc.Organization(t.Context(), e.org.ID)
	require.NoError(t, err)
	assert.False(t, org.Enabled)
	_, err = svc.ValidateSession(t.Context(), res.Token)
	require.ErrorIs(t, err, session.ErrEnded)

	require.NoError(t, e.svc.Disable(t.Context(), e.org.ID, ownerID), "Disable again, store healthy")
	sess, err := e.store.Session(t.Context(), session.HashToken(res.Token))
	require.NoError(t, err)
	assert.Equal(t, session.EndSSODisabled, sess.EndReason)
}

// TestStricterRulesEndPasswordSessions (F8): enabling SSO, turning strict
// mode on, or taking "allow access without SSO" away ends the password
// sessions of the members who lost password sign-in, never the owner's.
func TestStricterRulesEndPasswordSessions(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled = false })
	ctx := t.Context()
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "ext@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-dev", Email: "dev@acme.example", OrgRole: rolemap.RoleMember})
	tokens := map[string]string{}
	for _, uid := range []string{ownerID, "u-ext", "u-dev"} {
		_, tok, err := e.sessions.Create(ctx, e.org.ID, uid, session.MethodPassword, time.Hour)
		require.NoError(t, err)
		tokens[uid] = tok
	}
	valid := func() (out []string) {
		for _, uid := range []string{ownerID, "u-ext", "u-dev"} {
			if _, err := e.svc.ValidateSession(ctx, tokens[uid]); err == nil {
				out = append(out, uid)
			} else {
				require.ErrorIs(t, err, session.ErrEnded)
			}
		}
		return out
	}
	require.Equal(t, []string{ownerID, "u-ext", "u-dev"}, valid())

	require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID))
	assert.Equal(t, []string{ownerID, "u-ext"}, valid())
	ev := e.eventsOf(sso.EventSSOEnabled)
	require.Len(t, ev, 1)
	assert.Equal(t, 1, ev[0].SessionsEnded)

	_, err := e.svc.SetMemberAccess(ctx, e.org.ID, ownerID, "ext@acme.example", false)
	require.NoError(t, err)
	assert.Equal(t, []string{ownerID}, valid())
	sess, err := e.store.Session(ctx, session.HashToken(tokens["u-ext"]))
	require.NoError(t, err)
	assert.Equal(t, session.EndPasswordRevoked, sess.EndReason, "ended in the store, not only refused")

	// Strict mode: the external member's password session, made again after
	// access was given back, ends too.
	_, err = e.svc.SetMemberAccess(ctx, e.org.ID, ownerID, "ext@acme.example", true)
	require.NoError(t, err)
	_, tok, err := e.sessions.Create(ctx, e.org.ID, "u-ext", session.MethodPassword, time.Hour)
	require.NoError(t, err)
	tokens["u-ext"] = tok
	assert.Equal(t, []string{ownerID, "u-ext"}, valid())
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.StrictMode = true; return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{ownerID}, valid())
}

func TestMembersAdministration(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	admin, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{UserID: "u-admin", Email: "Admin@Acme.example", OrgRole: rolemap.RoleAdmin})
	require.NoError(t, err)
	assert.Equal(t, e.org.ID, admin.OrgID)
	_, err = e.svc.AddMember(ctx, e.org.ID, "u-admin", sso.Member{UserID: "u-ext", Email: "ext@acme.example", AllowWithoutSSO: true})
	require.NoError(t, err, "admins invite")
	_, err = e.svc.AddMember(ctx, e.org.ID, "u-ext", sso.Member{UserID: "u-x", Email: "x@acme.example"})
	require.ErrorIs(t, err, sso.ErrNotAdmin, "members do not")
	_, err = e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{UserID: "u-other", Email: "admin@ACME.example"})
	require.ErrorIs(t, err, sso.ErrMemberExists)
	_, err = e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{UserID: "u-y", Email: "y@acme.example", OrgRole: rolemap.RoleOwner})
	require.ErrorIs(t, err, sso.ErrInvalidConfig)

	page, next, err := e.svc.Members(ctx, e.org.ID, ownerID, "", 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	rest, last, err := e.svc.Members(ctx, e.org.ID, ownerID, next, 2)
	require.NoError(t, err)
	assert.Empty(t, last)
	var emails []string
	for _, m := range slices.Concat(page, rest) {
		emails = append(emails, m.Email)
	}
	assert.Equal(t, []string{"Admin@Acme.example", "ext@acme.example", ownerEmail}, emails)

	m, err := e.svc.MemberByUserID(ctx, e.org.ID, "u-ext")
	require.NoError(t, err)
	assert.Equal(t, "ext@acme.example", m.Email)

	// Role mapping owns the roles of members who sign in with SSO.
	_, err = e.svc.SetMemberRoles(ctx, e.org.ID, ownerID, "admin@acme.example", rolemap.RoleMember, nil)
	require.ErrorIs(t, err, sso.ErrNotAllowed)
	m, err = e.svc.SetMemberRoles(ctx, e.org.ID, ownerID, "ext@acme.example", rolemap.RoleAdmin, map[string][]string{"blt": {"dev"}})
	require.NoError(t, err)
	assert.Equal(t, rolemap.RoleAdmin, m.OrgRole)

	// Remove: sessions end with the reason; the owner stays.
	_, tok, err := e.sessions.Create(ctx, e.org.ID, "u-ext", session.MethodPassword, time.Hour)
	require.NoError(t, err)
	require.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, "u-admin", ownerEmail), sso.ErrNotAllowed)
	require.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, "u-nobody", "ext@acme.example"), sso.ErrNotAdmin)
	require.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, "u-admin", "EXT@acme.example"))
	require.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, "u-admin", "ext@acme.example"), sso.ErrNotFound)
	_, err = e.svc.ValidateSession(ctx, tok)
	var ended *session.EndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, session.EndMemberRemoved, ended.Reason)
	ev := e.eventsOf(sso.EventMemberRemoved)
	require.Len(t, ev, 1)
	assert.Equal(t, "u-admin", ev[0].Actor)
	assert.Equal(t, 1, ev[0].SessionsEnded)
}

// TestRemovedMemberInFlightSignIn: a member removed after their sign-in read
// them gets no valid session: either the update finds them gone, or the
// session is refused because they are.
func TestRemovedMemberInFlightSignIn(t *testing.T) {
	for _, rename := range []bool{false, true} {
		e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
		e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ann", Email: "ann@acme.example", FirstName: "Ann", LastName: "Example", OrgRole: rolemap.RoleMember})
		st := &inFlight{Store: e.store, afterMember: true}
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: e.sessions, Now: e.clock.Now})
		require.NoError(t, err)
		st.hook = func() {
			require.NoError(t, svc.RemoveMember(context.Background(), e.org.ID, ownerID, "ann@acme.example"))
		}
		e.svc = svc
		u := user("ann@acme.example")
		if rename {
			u.FirstName = "Anne" // the sign-in has something to update
		}
		res, err := e.signIn(t, u, nil)
		if rename {
			require.ErrorIs(t, err, sso.ErrAccessDenied)
			_, err = e.store.Member(t.Context(), e.org.ID, "ann@acme.example")
			require.ErrorIs(t, err, sso.ErrNotFound, "the update did not re-create her")
			continue
		}
		require.NoError(t, err)
		_, err = svc.ValidateSession(t.Context(), res.Token)
		var ended *session.EndedError
		require.ErrorAs(t, err, &ended)
		assert.Equal(t, session.EndMemberRemoved, ended.Reason)
	}
}

func TestSessionsAdministration(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	a, err := e.signIn(t, user("ann@acme.example", "Admins"), nil)
	require.NoError(t, err)
	b, err := e.signIn(t, user("bob@acme.example", "Contentstack Developers"), nil)
	require.NoError(t, err)

	list, next, err := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	assert.Empty(t, next)
	own, _, err := e.svc.Sessions(ctx, e.org.ID, b.Member.UserID, b.Member.UserID, "", 0)
	require.NoError(t, err, "a user lists their own")
	require.Len(t, own, 1)
	_, _, err = e.svc.Sessions(ctx, e.org.ID, b.Member.UserID, "", "", 0)
	require.ErrorIs(t, err, sso.ErrNotAdmin, "a member does not list everyone's")

	n, err := e.svc.RevokeSessions(ctx, e.org.ID, a.Member.UserID, b.Member.UserID)
	require.NoError(t, err, "an admin ends another's sessions")
	assert.Equal(t, 1, n)
	_, err = e.svc.ValidateSession(ctx, b.Token)
	require.ErrorIs(t, err, session.ErrEnded)

	// Sign-out clears the cookie whatever the state.
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(e.svc.SessionCookie(a))
	c, err := e.svc.SignOut(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, -1, c.MaxAge)
	_, err = e.svc.ValidateSession(ctx, a.Token)
	require.ErrorIs(t, err, session.ErrUnknownSession)
	c, err = e.svc.SignOut(ctx, r)
	require.NoError(t, err, "signing out twice is fine")
	assert.Equal(t, "__Host-orgsso_session", c.Name, "https: the __Host- name")
}

// TestProvisionKey: stable per organization and email, ASCII case folded.
func TestProvisionKey(t *testing.T) {
	assert.Equal(t, sso.ProvisionKey("org-a", "Ann@X.example"), sso.ProvisionKey("org-a", "ann@x.example"))
	assert.NotEqual(t, sso.ProvisionKey("org-a", "ann@x.example"), sso.ProvisionKey("org-b", "ann@x.example"))
	assert.NotEqual(t, sso.ProvisionKey("org-a", "b@x"), sso.ProvisionKey("org-ab", "@x"), "no ambiguity at the join")
}

// TestSignInEventsAfterCommit (F7): every event follows the commit it
// reports. When the session cannot be made, the member that was committed is
// reported once (member_provisioned) and the sign-in is not
// (sign_in_succeeded); the retry finds the member, provisions nobody and
// reports the sign-in.
func TestSignInEventsAfterCommit(t *testing.T) {
	e := newEnv(t, nil)
	calls := map[string]int{}
	failing := session.NewManager(failCreate{e.store}, session.WithClock(e.clock.Now))
	cfg := sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: failing, Now: e.clock.Now,
		OnEvent: func(_ context.Context, ev sso.Event) { e.events = append(e.events, ev) },
		ProvisionUser: func(_ context.Context, org *sso.Organization, id sso.Identity) (string, error) {
			calls[sso.ProvisionKey(org.ID, id.Email)]++
			return "host-" + sso.MemberEmailKey(id.Email), nil
		}}
	svc, err := sso.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	_, err = e.signIn(t, user("New@acme.example", "Admins"), nil)
	require.ErrorIs(t, err, sso.ErrUnavailable)
	assert.Len(t, e.eventsOf(sso.EventMemberProvisioned), 1, "the committed member is reported")
	assert.Empty(t, e.eventsOf(sso.EventSignInSucceeded), "the failed sign-in is not")

	cfg.Sessions = e.sessions
	svc, err = sso.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	res, err := e.signIn(t, user("new@acme.example", "Admins"), nil)
	require.NoError(t, err)
	assert.Equal(t, "host-new@acme.example", res.Member.UserID)
	assert.Len(t, e.eventsOf(sso.EventMemberProvisioned), 1, "not provisioned twice")
	assert.Len(t, e.eventsOf(sso.EventSignInSucceeded), 1)
	assert.Equal(t, map[string]int{sso.ProvisionKey(e.org.ID, "new@acme.example"): 1}, calls,
		"the member was saved by the first attempt, so the retry does not provision again")
}

type failCreate struct{ *memory.Store }

func (failCreate) CreateSession(context.Context, *session.Session) error {
	return errors.New("disk full")
}

func TestConfigErrorUserMessage(t *testing.T) {
	tests := []struct {
		err  *sso.ConfigError
		want string
	}{
		{&sso.ConfigError{Field: "IdP.Certificates[0]", Reason: "not a PEM block"}, "IdP certificate 1 not a PEM block."},
		{&sso.ConfigError{Field: "IdP.SSOURL", Reason: "must use https"}, "The IdP single sign-on URL must use https."},
		{&sso.ConfigError{Field: "X", Reason: "r", Message: "Plain."}, "Plain."},
		{&sso.ConfigError{Field: "RoleMapping", Reason: "role mapping rejected", Err: &rolemap.MappingError{Index: 0, Reason: "identifier is empty"}},
			"Role mapping 1: identifier is empty."},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.UserMessage())
	}
}

func TestReportFailure(t *testing.T) {
	assert.Nil(t, sso.ReportFailure(nil))
	r := sso.ReportFailure(&saml.ValidationError{Check: saml.CheckSignature, Reason: "digest mismatch"})
	assert.Equal(t, saml.CheckSignature, r.Check)
	assert.Contains(t, r.Fix, "signing certificate")
	assert.NotContains(t, r.Problem+r.Fix, "digest mismatch", "operator detail stays in the log")
	r = sso.ReportFailure(sso.ErrUnavailable)
	assert.Empty(t, r.Check)
	assert.NotEmpty(t, r.Fix)
}

func TestStatusCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{&sso.StoreError{Op: "Member", Err: context.DeadlineExceeded}, 503},
		{sso.ErrConflict, 409},
		{&sso.RuleError{Field: "x", Rule: "y"}, 403},
		{sso.ErrNotFound, 404},
		{&sso.ConfigError{Field: "x"}, 400},
		{&session.EndedError{Reason: "x"}, 401},
		{errors.New("other"), 500},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sso.StatusCode(tt.err), "%v", tt.err)
	}
	assert.Equal(t, sso.CodeUnavailable, sso.ErrorCode(&sso.StoreError{Op: "Member", Err: errors.New("x")}))
}

func TestReturnToBounded(t *testing.T) {
	assert.Equal(t, "/", sso.SafeReturnTo("/"+strings.Repeat("a", sso.MaxReturnToBytes)))
	long := "/" + strings.Repeat("a", sso.MaxReturnToBytes-1)
	assert.Equal(t, long, sso.SafeReturnTo(long))
}

// TestAdminMessagesArePlain: the sentences a settings page shows name no Go
// error text and count from 1.
func TestAdminMessagesArePlain(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled = false })
	tests := []struct {
		name string
		edit func(*sso.Organization)
		want string
	}{
		{"uppercase name", func(o *sso.Organization) { o.SSOName = "Acme" }, "The SSO name may contain only lowercase letters a-z, digits and hyphens."},
		{"edge hyphen", func(o *sso.Organization) { o.SSOName = "-ab" }, "The SSO name must not start or end with a hyphen."},
		{"too many certificates", func(o *sso.Organization) {
			for range 11 {
				o.IdP.Certificates = append(o.IdP.Certificates, o.IdP.Certificates[0])
			}
		}, "Keep at most 10 IdP certificates."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error { tt.edit(o); return nil })
			assert.Equal(t, tt.want, humanMessage(err))
		})
	}
	_, err := sso.ParseIdPMetadata([]byte("<nope/>"))
	assert.Contains(t, humanMessage(err), "paste the SAML 2.0 metadata XML")
	_, err = e.svc.UpdateOrganization(t.Context(), e.org.ID, ownerID, func(o *sso.Organization) error { o.IdP.Certificates = nil; return nil })
	require.NoError(t, err, "a draft may lack certificates")
	err = e.svc.Enable(t.Context(), e.org.ID, ownerID)
	assert.Equal(t, "Add the IdP's signing certificate.", humanMessage(err))
}

// TestMembersLastPage: a full last page has no next cursor.
func TestMembersLastPage(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.AddMember(t.Context(), e.org.ID, ownerID, sso.Member{UserID: "u-b", Email: "b@acme.example"})
	require.NoError(t, err)
	list, next, err := e.svc.Members(t.Context(), e.org.ID, ownerID, "", 2)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	assert.Empty(t, next)
	list, next, err = e.svc.Members(t.Context(), e.org.ID, ownerID, "", 1)
	require.NoError(t, err)
	assert.Len(t, list, 1)
	assert.Equal(t, "b@acme.example", next)
}
