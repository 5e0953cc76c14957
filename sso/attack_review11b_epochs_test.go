package sso_test

// Attacker review 11b (second pass): connection epochs. A failing assertion
// is a finding (see the report), a passing one an attempt that held.

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// ar11bLegacyStore hides every optional interface of the memory store: the
// Service sees only sso.Store.
type ar11bLegacyStore struct{ sso.Store }

// ar11bMidSignIn signs kim in through contoso with steps run after the
// sign-in loaded the organization (from ProvisionUser), over st.
func ar11bMidSignIn(t *testing.T, e *env, st sso.Store, steps func(ctx context.Context, svc *sso.Service)) (*sso.Service, *sso.Result) {
	t.Helper()
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	var svc *sso.Service
	svc = ar11Service(t, e, func(c *sso.Config) {
		if st != nil {
			c.Store = st
		}
		c.ProvisionUser = func(ctx context.Context, _ *sso.Organization, _ sso.Identity) (string, error) {
			steps(ctx, svc)
			return "u-kim", nil
		}
	})
	e.svc = svc
	res, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso"}, "contoso", user("kim@contoso.example", "Contentstack Developers"))
	require.NoError(t, err)
	return svc, res
}

// Held: a sign-in through a connection in flight while the organization's
// SSO is disabled and enabled again: its session carries the connection's
// old epoch (Disable redrew it) and stays refused.
func TestAttackReview11bInFlightAcrossOrgDisableEnable(t *testing.T) {
	e := newEnv(t, nil)
	svc, res := ar11bMidSignIn(t, e, nil, func(ctx context.Context, svc *sso.Service) {
		require.NoError(t, svc.Disable(ctx, e.org.ID, ownerID))
		require.NoError(t, svc.Enable(ctx, e.org.ID, ownerID))
	})
	_, err := svc.ValidateSession(context.Background(), res.Token)
	assert.ErrorIs(t, err, session.ErrEnded)
}

// Held: in flight while the connection is disabled, removed, re-added under
// its ID (another IdP) and enabled: refused at every step.
func TestAttackReview11bInFlightAcrossRemoveReadd(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy store=%v", legacy), func(t *testing.T) {
			e := newEnv(t, nil)
			var st sso.Store
			if legacy {
				st = ar11bLegacyStore{e.store}
			}
			svc, res := ar11bMidSignIn(t, e, st, func(ctx context.Context, svc *sso.Service) {
				require.NoError(t, svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID))
				_, err := svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.Connections = nil; return nil })
				require.NoError(t, err)
				_, err = svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
					o.Connections = []sso.Connection{{ID: "contoso", Name: "Contoso 2", Protocol: sso.ProtocolSAML, SAML: contosoIdP(t).IdPConfig()}}
					return nil
				})
				require.NoError(t, err)
				require.NoError(t, svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
			})
			_, err := svc.ValidateSession(context.Background(), res.Token)
			assert.ErrorIs(t, err, session.ErrEnded)
		})
	}
}

// Held: an edit cannot set a connection's Epoch: not on an existing one (to
// the epoch of an ended session), not on a new one, not by removing and
// re-adding it in one edit.
func TestAttackReview11bEditCannotSetEpoch(t *testing.T) {
	e := newEnv(t, nil)
	withContoso(t, e, contosoIdP(t))
	ctx := context.Background()
	old := e.org.Connection("contoso").Epoch
	require.NotZero(t, old)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID))
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
	for name, edit := range map[string]func(o *sso.Organization){
		"existing": func(o *sso.Organization) { o.Connection("contoso").Epoch = old },
		"new": func(o *sso.Organization) {
			o.Connections = append(o.Connections, sso.Connection{ID: "x", Name: "X", Protocol: sso.ProtocolSAML, SAML: contosoIdP(t).IdPConfig(), Epoch: old})
		},
		"readd": func(o *sso.Organization) {
			c := *o.Connection("contoso")
			c.Epoch = old
			o.Connections = []sso.Connection{c}
		},
	} {
		_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { edit(o); return nil })
		var re *sso.RuleError
		assert.True(t, errors.As(err, &re), "%s: %v", name, err)
	}
	org, _ := e.svc.Organization(ctx, e.org.ID)
	assert.NotEqual(t, old, org.Connection("contoso").Epoch)
}

// Held: DisableConnection whose EndSessions fails: the session is refused
// all the same, and stays refused after the connection is enabled again.
func TestAttackReview11bFailedEndSessionsThenReenable(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	res, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso"}, "contoso", user("kim@contoso.example", "Contentstack Developers"))
	require.NoError(t, err)
	ctx := context.Background()
	// A session manager whose End always fails.
	failing := session.NewManager(failingEnder{e.store})
	svc := ar11Service(t, e, func(c *sso.Config) { c.Sessions = failing })
	err = svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID)
	t.Logf("DisableConnection with failing EndSessions: %v", err)
	_, err = e.svc.ValidateSession(ctx, res.Token)
	assert.ErrorIs(t, err, session.ErrEnded)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
	_, err = e.svc.ValidateSession(ctx, res.Token)
	assert.ErrorIs(t, err, session.ErrEnded, "the session the failed sweep left revives on re-enable")
}

type failingEnder struct{ *memory.Store }

func (f failingEnder) EndSessions(context.Context, session.Query, string) (int, error) {
	return 0, errors.New("store down")
}
