package sso_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// faultTimeout is the StoreTimeout of the Services these tests fail.
const faultTimeout = 50 * time.Millisecond

// faultSlack bounds how long past faultTimeout a call over a frozen store
// may take (the rest of its work, under -race on a busy machine). Without
// the timeout it would never return: a Slow fault blocks until the
// context is done.
const faultSlack = 500 * time.Millisecond

// faultEnv is newEnv's organization, IdP and browser, served by a Service
// whose store and sessions go through a faultstore wrapper of the memory
// store.
type faultEnv struct {
	*env
	fs *faultstore.Store
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := newEnv(t, nil)
	fs := faultstore.New(e.store)
	svc, err := sso.New(sso.Config{
		BaseURL:      "https://app.example.com",
		Store:        fs,
		Sessions:     session.NewManager(fs, session.WithClock(e.clock.Now)),
		Now:          e.clock.Now,
		StoreTimeout: faultTimeout,
	})
	require.NoError(t, err)
	e.svc = svc
	return &faultEnv{env: e, fs: fs}
}

// fail arms fault, forgetting the calls made so far.
func (e *faultEnv) fail(f faultstore.Fault) {
	e.fs.Reset()
	e.fs.Inject(f)
}

// signedIn signs alice in without faults and returns her result.
func (e *faultEnv) signedIn(t *testing.T) *sso.Result {
	t.Helper()
	res, err := e.signIn(t, alice, nil)
	require.NoError(t, err)
	return res
}

// requireUnavailable checks that err is the store failure of op: it wraps
// ErrUnavailable in a *StoreError naming op, and a host shows it as such.
func requireUnavailable(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIs(t, err, sso.ErrUnavailable)
	var se *sso.StoreError
	require.ErrorAs(t, err, &se)
	if op != "" {
		assert.Equal(t, op, se.Op)
	}
	assert.Equal(t, sso.CodeUnavailable, sso.ErrorCode(err))
	assert.Equal(t, http.StatusServiceUnavailable, sso.StatusCode(err))
	assert.NotErrorIs(t, err, session.ErrUnknownSession, "an outage must not read as signed out")
}

// TestFaultFrozenStoreACS: whichever store call of a sign-in freezes,
// HandleACS returns at the store timeout with ErrUnavailable.
func TestFaultFrozenStoreACS(t *testing.T) {
	tests := []struct {
		method faultstore.Method
		op     string
	}{
		{faultstore.Any, "OrganizationBySSOName"},
		{faultstore.MethodOrganizationBySSOName, "OrganizationBySSOName"},
		{faultstore.MethodUseAssertion, "UseAssertion"},
		{faultstore.MethodConsumeMatchingRequest, "ConsumeMatchingRequest"},
		{faultstore.MethodMember, "Member"},
		{faultstore.MethodCreateMember, "CreateMember"},
		{faultstore.MethodCreateSession, "CreateSession"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("frozen %q", tt.method), func(t *testing.T) {
			e := newFaultEnv(t)
			id, relay := e.start(t, "/")
			posted, err := e.idp.Response(e.resp(id, alice, nil))
			require.NoError(t, err)
			e.fail(faultstore.Fault{Method: tt.method, Mode: faultstore.Slow})
			start := time.Now()
			res, err := e.post(t, posted, relay)
			elapsed := time.Since(start)
			assert.Nil(t, res)
			requireUnavailable(t, err, tt.op)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, elapsed, faultTimeout+faultSlack, "HandleACS over a frozen store")
			assert.Len(t, e.fs.Hits(), 1, "the first frozen call ends the sign-in")
		})
	}
}

// TestFaultFrozenStoreValidateSession: whichever store call of a session
// check freezes, ValidateSession returns at the store timeout with
// ErrUnavailable, never a "no".
func TestFaultFrozenStoreValidateSession(t *testing.T) {
	tests := []struct {
		method faultstore.Method
		op     string
	}{
		{faultstore.Any, "Session"},
		{faultstore.MethodSession, "Session"},
		{faultstore.MethodOrganization, "Organization"},
		{faultstore.MethodMemberByUserID, "MemberByUserID"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("frozen %q", tt.method), func(t *testing.T) {
			e := newFaultEnv(t)
			res := e.signedIn(t)
			e.fail(faultstore.Fault{Method: tt.method, Mode: faultstore.Slow})
			start := time.Now()
			sess, err := e.svc.ValidateSession(context.Background(), res.Token)
			elapsed := time.Since(start)
			assert.Nil(t, sess)
			requireUnavailable(t, err, tt.op)
			assert.Less(t, elapsed, faultTimeout+faultSlack, "ValidateSession over a frozen store")

			// Once the store answers again, the session is valid.
			e.fs.Reset()
			_, err = e.svc.ValidateSession(context.Background(), res.Token)
			require.NoError(t, err)
		})
	}
}

// TestFaultSessionFromRequestOutage: a session cookie checked during an
// outage is ErrUnavailable (show an error page), not ErrUnknownSession
// (which a host reads as "signed out").
func TestFaultSessionFromRequestOutage(t *testing.T) {
	tests := []struct {
		method faultstore.Method
		mode   faultstore.Mode
	}{
		{faultstore.MethodSession, faultstore.FailBefore},
		{faultstore.MethodSession, faultstore.LostAck},
		{faultstore.MethodSession, faultstore.Cancelled},
		{faultstore.MethodSession, faultstore.Slow},
		{faultstore.MethodOrganization, faultstore.FailBefore},
		{faultstore.MethodMemberByUserID, faultstore.Cancelled},
	}
	for _, tt := range tests {
		t.Run(string(tt.method)+"/"+tt.mode.String(), func(t *testing.T) {
			e := newFaultEnv(t)
			res := e.signedIn(t)
			r := httptest.NewRequest(http.MethodGet, "https://app.example.com/dashboard", nil)
			r.AddCookie(e.svc.SessionCookie(res))
			e.fail(faultstore.Fault{Method: tt.method, Mode: tt.mode})
			sess, err := e.svc.SessionFromRequest(r)
			assert.Nil(t, sess)
			requireUnavailable(t, err, string(tt.method))
		})
	}
}

// TestFaultNilNil: a store that returns neither a value nor an error breaks
// its contract; every operation reading through it reports ErrUnavailable,
// and none panics.
func TestFaultNilNil(t *testing.T) {
	ctx := context.Background()
	adminID := "u-admin"
	// A prepare func sets the operation up without faults and returns it.
	type prepare func(t *testing.T, e *faultEnv) func() error
	signIn := func(t *testing.T, e *faultEnv) func() error {
		id, relay := e.start(t, "/")
		posted, err := e.idp.Response(e.resp(id, alice, nil))
		require.NoError(t, err)
		return func() error {
			_, err := e.post(t, posted, relay)
			return err
		}
	}
	// signInMember signs alice in as an existing member.
	signInMember := func(t *testing.T, e *faultEnv) func() error {
		e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: alice.Email, OrgRole: rolemap.RoleMember})
		return signIn(t, e)
	}
	validate := func(t *testing.T, e *faultEnv) func() error {
		res := e.signedIn(t)
		return func() error {
			_, err := e.svc.ValidateSession(ctx, res.Token)
			return err
		}
	}
	tests := []struct {
		method  faultstore.Method
		name    string
		prepare prepare
	}{
		{faultstore.MethodOrganizationBySSOName, "HandleACS", signIn},
		{faultstore.MethodOrganizationBySSOName, "StartLogin", func(_ *testing.T, e *faultEnv) func() error {
			return func() error {
				_, err := e.svc.StartLogin(ctx, e.org.SSOName, "/")
				return err
			}
		}},
		{faultstore.MethodOrganizationBySSOName, "MetadataFor", func(_ *testing.T, e *faultEnv) func() error {
			return func() error {
				_, err := e.svc.MetadataFor(ctx, e.org.SSOName)
				return err
			}
		}},
		{faultstore.MethodConsumeMatchingRequest, "HandleACS", signIn},
		{faultstore.MethodMember, "HandleACS", signInMember},
		{faultstore.MethodMember, "PasswordLoginAllowed", func(_ *testing.T, e *faultEnv) func() error {
			return func() error { return e.svc.PasswordLoginAllowed(ctx, e.org.ID, ownerEmail) }
		}},
		{faultstore.MethodCreateMember, "HandleACS", signIn},
		{faultstore.MethodMemberByUserID, "ValidateSession", validate},
		{faultstore.MethodMemberByUserID, "AddMember", func(_ *testing.T, e *faultEnv) func() error {
			return func() error {
				_, err := e.svc.AddMember(ctx, e.org.ID, adminID, sso.Member{Email: "dave@acme.example", UserID: "u-dave"})
				return err
			}
		}},
		{faultstore.MethodMemberByUserID, "MemberByUserID", func(_ *testing.T, e *faultEnv) func() error {
			return func() error {
				_, err := e.svc.MemberByUserID(ctx, e.org.ID, ownerID)
				return err
			}
		}},
		{faultstore.MethodOrganization, "ValidateSession", validate},
		{faultstore.MethodOrganization, "UpdateOrganization", func(_ *testing.T, e *faultEnv) func() error {
			return func() error {
				_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
					o.StrictMode = true
					return nil
				})
				return err
			}
		}},
		{faultstore.MethodOrganization, "Disable", func(_ *testing.T, e *faultEnv) func() error {
			return func() error { return e.svc.Disable(ctx, e.org.ID, ownerID) }
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.method)+"/"+tt.name, func(t *testing.T) {
			e := newFaultEnv(t)
			e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: adminID, Email: "admin@acme.example", OrgRole: rolemap.RoleAdmin})
			op := tt.prepare(t, e)
			e.fail(faultstore.Fault{Method: tt.method, Mode: faultstore.NilResult})
			var err error
			require.NotPanics(t, func() { err = op() })
			require.NotEmpty(t, e.fs.Hits(), "the nil result was never returned")
			requireUnavailable(t, err, string(tt.method))
			assert.ErrorContains(t, err, "no value and no error")
		})
	}
}

// TestFaultNilSessionIsUnavailable: a session store whose Session returns
// neither a session nor an error breaks its contract, which is an outage
// (ErrUnavailable, HTTP 503: show an error page), not "no such session"
// (which a host reads as signed out). Found by this test: session.Manager's
// Validate read nil, nil as session.ErrUnknownSession, and ValidateSession
// and SessionFromRequest passed that on.
func TestFaultNilSessionIsUnavailable(t *testing.T) {
	e := newFaultEnv(t)
	res := e.signedIn(t)
	r := httptest.NewRequest(http.MethodGet, "https://app.example.com/dashboard", nil)
	r.AddCookie(e.svc.SessionCookie(res))
	e.fail(faultstore.Fault{Method: faultstore.MethodSession, Mode: faultstore.NilResult})
	var err error
	require.NotPanics(t, func() { _, err = e.svc.ValidateSession(context.Background(), res.Token) })
	t.Run("ValidateSession", func(t *testing.T) { requireUnavailable(t, err, "Session") })
	require.NotPanics(t, func() { _, err = e.svc.SessionFromRequest(r) })
	t.Run("SessionFromRequest", func(t *testing.T) { requireUnavailable(t, err, "Session") })
}

// TestFaultOutageIsNotAnAnswer: errors.Is(err, ErrUnavailable) for every
// failure mode of a store call, and never for the ports' answers.
func TestFaultOutageIsNotAnAnswer(t *testing.T) {
	for _, mode := range faultstore.Modes() {
		if !faultstore.Applies(faultstore.MethodOrganizationBySSOName, mode) {
			continue
		}
		t.Run(mode.String(), func(t *testing.T) {
			e := newFaultEnv(t)
			e.fail(faultstore.Fault{Method: faultstore.MethodOrganizationBySSOName, N: 1, Mode: mode})
			_, err := e.svc.StartLogin(context.Background(), e.org.SSOName, "/")
			requireUnavailable(t, err, "OrganizationBySSOName")
		})
	}
	t.Run("answer", func(t *testing.T) {
		e := newFaultEnv(t)
		e.fail(faultstore.Fault{Method: faultstore.MethodOrganizationBySSOName, N: 1, Mode: faultstore.FailBefore, Err: sso.ErrNotFound})
		_, err := e.svc.StartLogin(context.Background(), e.org.SSOName, "/")
		require.ErrorIs(t, err, sso.ErrUnknownOrganization)
		require.False(t, errors.Is(err, sso.ErrUnavailable))
	})
}
