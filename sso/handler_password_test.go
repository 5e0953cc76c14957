package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var errWrongPassword = errors.New("host: wrong password")

// TestPasswordSignIn: the organization's rule comes before the password is
// checked, so an SSO-only account never has its password tried.
func TestPasswordSignIn(t *testing.T) {
	tests := []struct {
		name       string
		org        func(*sso.Organization)
		orgID      string
		email      string
		verifyErr  error
		wantErr    error
		wantVerify bool
	}{
		{name: "strict mode: member refused", org: func(o *sso.Organization) { o.StrictMode = true },
			email: "ext@acme.example", wantErr: sso.ErrSSORequired},
		{name: "strict mode: owner allowed", org: func(o *sso.Organization) { o.StrictMode = true },
			email: ownerEmail, wantVerify: true},
		{name: "strict off: allowed without SSO", email: "ext@acme.example", wantVerify: true},
		{name: "strict off: plain member refused", email: "alice@acme.example", wantErr: sso.ErrSSORequired},
		{name: "SSO on: not a member refused as SSO-only", email: "nobody@acme.example", wantErr: sso.ErrSSORequired},
		{name: "SSO disabled: everyone", org: func(o *sso.Organization) { o.Enabled, o.StrictMode = false, true },
			email: "alice@acme.example", wantVerify: true},
		{name: "SSO disabled: not a member", org: func(o *sso.Organization) { o.Enabled = false },
			email: "nobody@acme.example", wantErr: sso.ErrNotMember},
		{name: "email case does not matter", email: "OWNER@acme.example", wantVerify: true},
		{name: "wrong password", email: ownerEmail, verifyErr: errWrongPassword, wantErr: errWrongPassword, wantVerify: true},
		{name: "unknown organization", orgID: "org-nope", email: ownerEmail, wantErr: sso.ErrUnknownOrganization},
		{name: "email not UTF-8", email: "a\xffb@acme.example", wantErr: session.ErrInvalidArgument},
		{name: "empty email", email: " ", wantErr: session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *sso.Organization) {
				o.SessionTimeout = 2 * time.Hour
				if tt.org != nil {
					tt.org(o)
				}
			})
			e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "alice@acme.example", OrgRole: rolemap.RoleMember})
			e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "ext@acme.example", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
			orgID := tt.orgID
			if orgID == "" {
				orgID = e.org.ID
			}
			verified := false
			res, err := e.svc.PasswordSignIn(context.Background(), orgID, tt.email, func(_ context.Context, m *sso.Member) error {
				verified = true
				assert.Equal(t, e.org.ID, m.OrgID)
				return tt.verifyErr
			})
			assert.Equal(t, tt.wantVerify, verified, "verify called")
			ev := e.eventsOf(sso.EventPasswordSignInSucceeded)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, res)
				assert.Empty(t, ev, "a refused password sign-in emits nothing")
				return
			}
			require.NoError(t, err)
			if assert.Len(t, ev, 1) {
				assert.Equal(t, res.Member.UserID, ev[0].UserID)
				assert.Equal(t, res.Member.Email, ev[0].Email)
			}
			assert.Equal(t, session.MethodPassword, res.Session.Method)
			assert.Equal(t, 2*time.Hour, res.Session.ExpiresAt.Sub(res.Session.CreatedAt), "the organization's session timeout")
			assert.Equal(t, res.Member.UserID, res.Session.UserID)
			s, err := e.svc.ValidateSession(context.Background(), res.Token)
			require.NoError(t, err)
			assert.Equal(t, res.Session.ID, s.ID)
		})
	}
}

func TestPasswordSignInNilVerify(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.PasswordSignIn(context.Background(), e.org.ID, ownerEmail, nil)
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)
}

// TestHandlerPasswordSignIn: the Handler's helper sets the session cookie,
// which RequireSession then accepts; a refusal sets nothing.
func TestHandlerPasswordSignIn(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.StrictMode = true })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "alice@acme.example", OrgRole: rolemap.RoleMember})
	h := handler(t, e, sso.HandlerConfig{})
	ok := func(context.Context, *sso.Member) error { return nil }

	rec := httptest.NewRecorder()
	_, err := h.PasswordSignIn(rec, httptest.NewRequest(http.MethodPost, "/login", nil), e.org.ID, "alice@acme.example", ok)
	require.ErrorIs(t, err, sso.ErrSSORequired)
	assert.Equal(t, http.StatusForbidden, sso.StatusCode(err))
	assert.Empty(t, rec.Result().Cookies())

	rec = httptest.NewRecorder()
	res, err := h.PasswordSignIn(rec, httptest.NewRequest(http.MethodPost, "/login", nil), e.org.ID, ownerEmail, ok)
	require.NoError(t, err)
	c := cookieNamed(rec, hostSessionCookie)
	require.NotNil(t, c)
	assert.Equal(t, res.Token, c.Value)
	assert.True(t, c.HttpOnly && c.Secure)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	h.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sso.SessionFromContext(r.Context())
		w.Write([]byte(s.Method))
	})).ServeHTTP(rec, req)
	assert.Equal(t, session.MethodPassword, rec.Body.String())
}
