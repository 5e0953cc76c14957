package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/storetest"
)

// The sign-in transaction (sso.SignInStore): the same answers, errors and
// events whether a sign-in's writes commit together (memory and SQLite,
// which implement the port) or one by one (a store without it); a store
// failure in the transaction leaves nothing behind; no host callback runs
// inside it.

// plainStore hides the SignIn method of the store it wraps: a Service over
// it makes a sign-in's writes one by one, as over a host's own store.
type plainStore struct{ storetest.Store }

// probeStore is a memory store whose SignIn the test watches and breaks:
// it counts the transactions, says whether one is open, fails the method
// named fail inside them with an error that is no answer, or reports a
// failed commit (after rolling back) when commitFails is set.
type probeStore struct {
	*memory.Store
	signIns     atomic.Int64
	open        atomic.Bool
	fail        string
	commitFails bool
}

var errDiskOnFire = errors.New("disk on fire")

func (p *probeStore) SignIn(ctx context.Context, f func(sso.SignInTx) bool) error {
	p.signIns.Add(1)
	committed := false
	err := p.Store.SignIn(ctx, func(tx sso.SignInTx) bool {
		p.open.Store(true)
		defer p.open.Store(false)
		committed = f(&probeTx{SignInTx: tx, fail: p.fail})
		return committed && !p.commitFails
	})
	if err == nil && committed && p.commitFails {
		return errDiskOnFire
	}
	return err
}

// probeTx fails the method named fail.
type probeTx struct {
	sso.SignInTx
	fail string
}

func (t *probeTx) UseAssertion(ctx context.Context, orgID, id string, until time.Time) error {
	if t.fail == "UseAssertion" {
		return errDiskOnFire
	}
	return t.SignInTx.UseAssertion(ctx, orgID, id, until)
}

func (t *probeTx) ConsumeMatchingRequest(ctx context.Context, id, orgID, hash string) (*sso.PendingRequest, error) {
	if t.fail == "ConsumeMatchingRequest" {
		return nil, errDiskOnFire
	}
	return t.SignInTx.ConsumeMatchingRequest(ctx, id, orgID, hash)
}

func (t *probeTx) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	if t.fail == "CreateMember" {
		return nil, errDiskOnFire
	}
	return t.SignInTx.CreateMember(ctx, m)
}

func (t *probeTx) UpdateMember(ctx context.Context, m *sso.Member) error {
	if t.fail == "UpdateMember" {
		return errDiskOnFire
	}
	return t.SignInTx.UpdateMember(ctx, m)
}

func (t *probeTx) CreateSession(ctx context.Context, s *session.Session) error {
	if t.fail == "CreateSession" {
		return errDiskOnFire
	}
	return t.SignInTx.CreateSession(ctx, s)
}

// txEnv is a Service over one store, organization acme (role mapping:
// Staff is a member) and an IdP.
type txEnv struct {
	idp      *ssotest.IdP
	st       storetest.Store // the store, to look at
	svc      *sso.Service
	sessions *session.Manager
	org      *sso.Organization
	sp       sso.SPDetails
	now      time.Time

	mu     sync.Mutex
	events []sso.EventType
}

// newTxEnv builds a Service over svcStore, its sessions kept in
// sessionStore (svcStore when nil), st being what the test inspects.
func newTxEnv(t *testing.T, st storetest.Store, svcStore sso.Store, sessionStore session.Store, cfg func(*sso.Config, *txEnv)) *txEnv {
	t.Helper()
	e := &txEnv{st: st, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	var err error
	e.idp, err = ssotest.New(ssotest.Config{Now: clock})
	require.NoError(t, err)
	if sessionStore == nil {
		sessionStore = svcStore.(session.Store)
	}
	e.sessions = session.NewManager(sessionStore, session.WithClock(clock))
	c := sso.Config{BaseURL: "https://app.example.com", Store: svcStore, Sessions: e.sessions, Now: clock,
		OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev.Type)
			e.mu.Unlock()
		}}
	if cfg != nil {
		cfg(&c, e)
	}
	e.svc, err = sso.New(c)
	require.NoError(t, err)
	e.org = &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", Enabled: true, IdP: e.idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}}}
	require.NoError(t, st.SaveOrganization(context.Background(), e.org))
	e.sp = e.svc.Details(e.org)
	return e
}

// takeEvents returns the events reported since the last call.
func (e *txEnv) takeEvents() []sso.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := e.events
	e.events = nil
	return ev
}

// start begins a sign-in: its request ID, RelayState and binding cookie.
func (e *txEnv) start(t *testing.T) (id, relay string, cookie *http.Cookie) {
	t.Helper()
	rd, err := e.svc.StartLogin(context.Background(), "acme", "/home")
	require.NoError(t, err)
	u, err := url.Parse(rd.URL)
	require.NoError(t, err)
	return rd.RequestID, u.Query().Get("RelayState"), rd.Cookie
}

// response is a signed response to request id for email with roles.
func (e *txEnv) response(t *testing.T, id, email string, roles ...string) string {
	t.Helper()
	posted, err := e.idp.Response(ssotest.Response{SP: e.sp, InResponseTo: id,
		User: ssotest.User{Email: email, FirstName: "Ada", LastName: "Lovelace", Roles: roles}})
	require.NoError(t, err)
	return posted
}

// post delivers posted to the ACS from a browser holding cookies.
func (e *txEnv) post(t *testing.T, posted, relay string, cookies ...*http.Cookie) (*sso.Result, error) {
	t.Helper()
	req, err := e.idp.PostRequest(e.sp.ACSURL, posted, relay, cookies...)
	require.NoError(t, err)
	return e.svc.HandleACS(context.Background(), "acme", req)
}

// requestThere reports whether request id is still pending (and leaves it
// so).
func (e *txEnv) requestThere(t *testing.T, id string) bool {
	t.Helper()
	r, err := e.st.ConsumeRequest(context.Background(), id)
	if errors.Is(err, sso.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	require.NoError(t, e.st.SaveRequest(context.Background(), r))
	return true
}

// liveSessions counts the organization's valid sessions.
func (e *txEnv) liveSessions(t *testing.T, st storetest.Store) int {
	t.Helper()
	list, err := st.ListSessions(context.Background(), session.Query{OrgID: e.org.ID}, e.now)
	require.NoError(t, err)
	return len(list)
}

// txStores are the stores every behaviour test runs on: the two paths.
func txStores() []struct {
	name string
	open func(t *testing.T) (storetest.Store, sso.Store)
} {
	return []struct {
		name string
		open func(t *testing.T) (storetest.Store, sso.Store)
	}{
		{"memory transaction", func(*testing.T) (storetest.Store, sso.Store) { st := memory.New(); return st, st }},
		{"memory one by one", func(*testing.T) (storetest.Store, sso.Store) { st := memory.New(); return st, plainStore{st} }},
		{"sqlite transaction", func(t *testing.T) (storetest.Store, sso.Store) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "orgsso.db"))
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			return st, st
		}},
		{"sqlite one by one", func(t *testing.T) (storetest.Store, sso.Store) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "orgsso.db"))
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			return st, plainStore{st}
		}},
	}
}

// TestSignInTxSameBehaviour: on each path, a sign-in's writes, answers and
// events are the same: the first sign-in provisions and signs in, a
// resubmitted response is a replay and makes no second session, a
// response posted without the binding cookie uses its assertion ID but not
// the request, a denied sign-in uses both, and a returning member's
// changed name is saved.
func TestSignInTxSameBehaviour(t *testing.T) {
	for _, tc := range txStores() {
		t.Run(tc.name, func(t *testing.T) {
			st, svcStore := tc.open(t)
			e := newTxEnv(t, st, svcStore, st, nil)
			ctx := context.Background()

			// A first sign-in.
			id, relay, cookie := e.start(t)
			posted := e.response(t, id, "ada@acme.example", "Staff")
			res, err := e.post(t, posted, relay, cookie)
			require.NoError(t, err)
			assert.Equal(t, []sso.EventType{sso.EventMemberProvisioned, sso.EventSignInSucceeded}, e.takeEvents())
			got, err := e.svc.ValidateSession(ctx, res.Token)
			require.NoError(t, err)
			assert.Equal(t, res.Member.UserID, got.UserID)
			assert.Equal(t, "/home", res.ReturnTo)
			assert.Len(t, res.ClearCookies, 1)
			assert.False(t, e.requestThere(t, id), "the request is used up")

			// The same response again: a replay, no second session.
			_, err = e.post(t, posted, relay, cookie)
			require.ErrorIs(t, err, sso.ErrReplay)
			assert.Equal(t, []sso.EventType{sso.EventSignInFailed}, e.takeEvents())
			assert.Equal(t, 1, e.liveSessions(t, st))

			// Without the binding cookie: refused, its assertion ID used,
			// the request left for the genuine browser.
			id, relay, cookie = e.start(t)
			posted = e.response(t, id, "ada@acme.example", "Staff")
			_, err = e.post(t, posted, relay)
			require.ErrorIs(t, err, saml.CheckBinding)
			assert.True(t, e.requestThere(t, id))
			_, err = e.post(t, posted, relay, cookie)
			require.ErrorIs(t, err, sso.ErrReplay, "the assertion ID was used by the refused post")
			res, err = e.post(t, e.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
			require.NoError(t, err, "a new response to the request that stayed")
			assert.Equal(t, got.UserID, res.Member.UserID)
			e.takeEvents()

			// Denied (no role maps): the request and the assertion are used.
			id, relay, cookie = e.start(t)
			posted = e.response(t, id, "bob@acme.example", "Visitors")
			_, err = e.post(t, posted, relay, cookie)
			require.ErrorIs(t, err, sso.ErrAccessDenied)
			assert.Equal(t, []sso.EventType{sso.EventSignInFailed}, e.takeEvents())
			assert.False(t, e.requestThere(t, id), "a denied sign-in used up its request")
			_, err = e.post(t, posted, relay, cookie)
			require.ErrorIs(t, err, sso.ErrReplay)
			e.takeEvents()
			_, err = st.Member(ctx, e.org.ID, "bob@acme.example")
			require.ErrorIs(t, err, sso.ErrNotFound)

			// A returning member whose name changed: saved with the session.
			id, relay, cookie = e.start(t)
			posted, err = e.idp.Response(ssotest.Response{SP: e.sp, InResponseTo: id,
				User: ssotest.User{Email: "ADA@acme.example", FirstName: "Augusta", LastName: "King", Roles: []string{"Staff"}}})
			require.NoError(t, err)
			res, err = e.post(t, posted, relay, cookie)
			require.NoError(t, err)
			assert.Equal(t, []sso.EventType{sso.EventSignInSucceeded}, e.takeEvents())
			m, err := st.Member(ctx, e.org.ID, "ada@acme.example")
			require.NoError(t, err)
			assert.Equal(t, "Augusta", m.FirstName)
			assert.Equal(t, got.UserID, res.Session.UserID)
			assert.Equal(t, 3, e.liveSessions(t, st))
		})
	}
}

// TestSignInTxStoreFailureRollsBack: a store failure at any write of the
// transaction is ErrUnavailable and leaves nothing: the request is still
// pending, the assertion ID unused (the same response then signs in), no
// member, no session, and no event but the failure.
func TestSignInTxStoreFailureRollsBack(t *testing.T) {
	for _, op := range []string{"UseAssertion", "ConsumeMatchingRequest", "CreateMember", "CreateSession", "commit"} {
		t.Run(op, func(t *testing.T) {
			p := &probeStore{Store: memory.New(), fail: op, commitFails: op == "commit"}
			e := newTxEnv(t, p.Store, p, p, nil)
			id, relay, cookie := e.start(t)
			posted := e.response(t, id, "ada@acme.example", "Staff")
			res, err := e.post(t, posted, relay, cookie)
			require.ErrorIs(t, err, sso.ErrUnavailable)
			assert.Nil(t, res)
			var se *sso.StoreError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, []sso.EventType{sso.EventSignInFailed}, e.takeEvents())
			assert.True(t, e.requestThere(t, id), "the request was consumed by a sign-in that failed")
			_, err = e.st.Member(context.Background(), e.org.ID, "ada@acme.example")
			require.ErrorIs(t, err, sso.ErrNotFound)
			assert.Equal(t, 0, e.liveSessions(t, e.st))

			p.fail, p.commitFails = "", false
			res, err = e.post(t, posted, relay, cookie)
			require.NoError(t, err, "the same response once the store works")
			_, err = e.svc.ValidateSession(context.Background(), res.Token)
			require.NoError(t, err)
			assert.Equal(t, []sso.EventType{sso.EventMemberProvisioned, sso.EventSignInSucceeded}, e.takeEvents())
		})
	}
}

// TestSignInTxUpdateFailureKeepsMember: a store failure when a returning
// member's change is saved rolls the member back with the rest.
func TestSignInTxUpdateFailureKeepsMember(t *testing.T) {
	p := &probeStore{Store: memory.New()}
	e := newTxEnv(t, p.Store, p, p, nil)
	id, relay, cookie := e.start(t)
	_, err := e.post(t, e.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
	require.NoError(t, err)
	before, err := p.Member(context.Background(), e.org.ID, "ada@acme.example")
	require.NoError(t, err)
	e.takeEvents()

	p.fail = "UpdateMember"
	id, relay, cookie = e.start(t)
	posted, err := e.idp.Response(ssotest.Response{SP: e.sp, InResponseTo: id,
		User: ssotest.User{Email: "ada@acme.example", FirstName: "Augusta", LastName: "King", Roles: []string{"Staff"}}})
	require.NoError(t, err)
	_, err = e.post(t, posted, relay, cookie)
	require.ErrorIs(t, err, sso.ErrUnavailable)
	after, err := p.Member(context.Background(), e.org.ID, "ada@acme.example")
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.True(t, e.requestThere(t, id))
	assert.Equal(t, 1, e.liveSessions(t, p.Store))
	assert.Equal(t, []sso.EventType{sso.EventSignInFailed}, e.takeEvents())
}

// TestSignInTxCallbacksOutside: ProvisionUser and OnEvent never run while
// the transaction is open. A first sign-in that needs ProvisionUser rolls
// its transaction back and signs in one write at a time; a returning
// member's sign-in commits in one transaction.
func TestSignInTxCallbacksOutside(t *testing.T) {
	p := &probeStore{Store: memory.New()}
	var provisions atomic.Int64
	e := newTxEnv(t, p.Store, p, p, func(c *sso.Config, e *txEnv) {
		onEvent := c.OnEvent
		c.OnEvent = func(ctx context.Context, ev sso.Event) {
			if p.open.Load() {
				t.Errorf("OnEvent(%s) ran inside the sign-in transaction", ev.Type)
			}
			onEvent(ctx, ev)
		}
		c.ProvisionUser = func(context.Context, *sso.Organization, sso.Identity) (string, error) {
			if p.open.Load() {
				t.Error("ProvisionUser ran inside the sign-in transaction")
			}
			provisions.Add(1)
			return "host-user-1", nil
		}
	})
	id, relay, cookie := e.start(t)
	res, err := e.post(t, e.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
	require.NoError(t, err)
	assert.Equal(t, "host-user-1", res.Member.UserID)
	assert.Equal(t, int64(1), provisions.Load())
	assert.Equal(t, int64(1), p.signIns.Load(), "one transaction, rolled back")
	assert.Equal(t, []sso.EventType{sso.EventMemberProvisioned, sso.EventSignInSucceeded}, e.takeEvents())

	id, relay, cookie = e.start(t)
	res, err = e.post(t, e.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
	require.NoError(t, err)
	assert.Equal(t, "host-user-1", res.Session.UserID)
	assert.Equal(t, int64(1), provisions.Load(), "a returning member is not provisioned")
	assert.Equal(t, int64(2), p.signIns.Load())
	assert.Equal(t, 2, e.liveSessions(t, p.Store))
}

// TestSignInTxOtherSessionStore: when Config.Sessions keeps sessions in
// another store, the sign-in does not use the Store's transaction (the
// session would land in the wrong store): its session is the manager's.
func TestSignInTxOtherSessionStore(t *testing.T) {
	p := &probeStore{Store: memory.New()}
	other := memory.New()
	e := newTxEnv(t, p.Store, p, other, nil)
	id, relay, cookie := e.start(t)
	res, err := e.post(t, e.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
	require.NoError(t, err)
	assert.Equal(t, int64(0), p.signIns.Load())
	_, err = other.Session(context.Background(), res.Session.ID)
	require.NoError(t, err, "the session is in the manager's store")
	_, err = p.Session(context.Background(), res.Session.ID)
	require.ErrorIs(t, err, session.ErrNotFound)
}

// TestSignInTxConcurrentFirstSignIns: racing first sign-ins of one email
// (each with its own request) on a transactional store make one member;
// every sign-in gets a session for its user ID.
func TestSignInTxConcurrentFirstSignIns(t *testing.T) {
	for _, tc := range txStores() {
		t.Run(tc.name, func(t *testing.T) {
			st, svcStore := tc.open(t)
			e := newTxEnv(t, st, svcStore, st, nil)
			const n = 8
			type in struct {
				posted, relay string
				cookie        *http.Cookie
			}
			ins := make([]in, n)
			for i := range ins {
				id, relay, cookie := e.start(t)
				ins[i] = in{e.response(t, id, "ada@acme.example", "Staff"), relay, cookie}
			}
			users := make([]string, n)
			var wg sync.WaitGroup
			for i := range ins {
				wg.Go(func() {
					req, err := e.idp.PostRequest(e.sp.ACSURL, ins[i].posted, ins[i].relay, ins[i].cookie)
					if err != nil {
						t.Error(err)
						return
					}
					res, err := e.svc.HandleACS(context.Background(), "acme", req)
					if err != nil {
						t.Errorf("sign-in %d: %v", i, err)
						return
					}
					users[i] = res.Session.UserID
				})
			}
			wg.Wait()
			m, err := st.Member(context.Background(), e.org.ID, "ada@acme.example")
			require.NoError(t, err)
			for i, u := range users {
				assert.Equal(t, m.UserID, u, "sign-in %d", i)
			}
			assert.Equal(t, n, e.liveSessions(t, st))
		})
	}
}
