package sso_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// TestFaultSessionsListsOnlyValid: Service.Sessions "lists the
// organization's valid sessions", so it must not list a session that
// ValidateSession refuses. Three ways to leave such a session un-ended in
// the store, none of which reports an error that a retry would fix:
//
//   - a sign-in in flight when Disable ran makes its session after Disable
//     ended the others (its epoch is old);
//   - Enable whose ending of password sessions failed (logged, not
//     returned; Enable again changes nothing);
//   - RemoveMember whose ending of the member's sessions failed (logged,
//     not returned; RemoveMember again is ErrNotFound).
//
// Found by this test: Sessions listed what the store had not ended.
func TestFaultSessionsListsOnlyValid(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// act leaves the token's session refused but not ended in the store.
		act func(t *testing.T, e *faultEnv) (token string)
	}{
		{name: "sign-in in flight during Disable", act: func(t *testing.T, e *faultEnv) string {
			var svc *sso.Service
			svc, err := sso.New(sso.Config{
				BaseURL: "https://app.example.com", Store: e.fs, Sessions: session.NewManager(e.fs, session.WithClock(e.clock.Now)),
				Now: e.clock.Now, StoreTimeout: faultTimeout,
				ProvisionUser: func(ctx context.Context, _ *sso.Organization, _ sso.Identity) (string, error) {
					// The sign-in has loaded the organization: SSO is on.
					return "u-alice", svc.Disable(ctx, e.org.ID, ownerID)
				},
			})
			require.NoError(t, err)
			e.svc = svc
			res, err := e.signIn(t, alice, nil)
			require.NoError(t, err, "the sign-in was past the organization check when Disable ran")
			return res.Token
		}},
		{name: "Enable whose ending of password sessions failed", act: func(t *testing.T, e *faultEnv) string {
			e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
			e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-bob", Email: "bob@acme.example", OrgRole: rolemap.RoleMember})
			_, token, err := e.sessions.Create(ctx, e.org.ID, "u-bob", session.MethodPassword, time.Hour)
			require.NoError(t, err)
			e.fail(faultstore.Fault{Method: faultstore.MethodEndSessions, Mode: faultstore.FailBefore})
			require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID))
			e.fs.Reset()
			require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID), "Enable again")
			return token
		}},
		{name: "RemoveMember whose ending of sessions failed", act: func(t *testing.T, e *faultEnv) string {
			e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-bob", Email: "bob@acme.example", OrgRole: rolemap.RoleMember})
			_, token, err := e.sessions.Start(ctx, session.Params{OrgID: e.org.ID, UserID: "u-bob", Method: session.MethodSSO, TTL: time.Hour, Epoch: e.org.SSOEpoch})
			require.NoError(t, err)
			e.fail(faultstore.Fault{Method: faultstore.MethodEndSessions, Mode: faultstore.FailBefore})
			require.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, "bob@acme.example"))
			e.fs.Reset()
			require.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, "bob@acme.example"), sso.ErrNotFound, "RemoveMember again")
			return token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFaultEnv(t)
			token := tt.act(t, e)
			id := session.HashToken(token)
			list, _, err := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
			require.NoError(t, err)
			var listed bool
			for _, s := range list {
				listed = listed || s.ID == id
			}
			_, verr := e.svc.ValidateSession(ctx, token)
			require.ErrorIs(t, verr, session.ErrEnded, "ValidateSession refuses the session")
			assert.False(t, listed, "Sessions lists a session that ValidateSession refuses (%v)", verr)
		})
	}
}
