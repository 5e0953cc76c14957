package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// RunSessionCache checks the session cache of sso.Service (Config.SessionCache)
// over two replicas, each a Service with its own handle (openA, openB) on one
// database and its own Run: a session B has cached is refused by B within
// the cache's staleness bound after A (or any writer of the database)
// revokes it, by signing out, RevokeSessions, RemoveMember, Disable,
// DisableConnection, a member's password access taken away or a plain
// store write; A refuses at once; and once B refused, every later check on
// B refuses (no stale accept). A replica whose change counter cannot be
// read stops serving from its cache (it fails closed) and refuses within
// the bound too; a replica with the cache off refuses at once; an expired
// session is refused without any write. The delays are logged.
func RunSessionCache(t *testing.T, openA, openB func(t *testing.T) Store) {
	t.Helper()
	ctx := t.Context()
	var nowNS atomic.Int64
	nowNS.Store(time.Now().UTC().Truncate(time.Second).UnixNano())
	clock := func() time.Time { return time.Unix(0, nowNS.Load()).UTC() }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	stA, stB := openA(t), openB(t)
	if _, ok := stB.(sso.ChangeFeed); !ok {
		t.Skipf("%T does not implement sso.ChangeFeed: no session cache", stB)
	}
	mgrA := session.NewManager(stA, session.WithClock(clock))
	newSvc := func(st sso.Store, cfg sso.SessionCacheConfig) *sso.Service {
		t.Helper()
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st,
			Sessions: session.NewManager(st.(session.Store), session.WithClock(clock)), Now: clock, SessionCache: cfg})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		return svc
	}
	svcA := newSvc(stA, sso.SessionCacheConfig{})
	svcB := newSvc(stB, sso.SessionCacheConfig{})
	bound := sso.DefaultSessionCacheMaxStaleness
	waitFresh(t, "A", svcA)
	waitFresh(t, "B", svcB)

	orgs := 0
	// newOrg stores an enabled organization with SSO through its own IdP
	// and a SAML connection "conn1", owner u-owner and member
	// alice@cache.example (u-alice, allowed to sign in without SSO), and
	// returns it.
	newOrg := func() *sso.Organization {
		t.Helper()
		orgs++
		org := &sso.Organization{ID: fmt.Sprintf("org-cache%d", orgs), SSOName: fmt.Sprintf("cache%d", orgs), OwnerID: "u-owner",
			Enabled: true, IdP: idp.IdPConfig(),
			RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}},
			Connections: []sso.Connection{{ID: "conn1", Name: "Second IdP", Protocol: sso.ProtocolSAML, Enabled: true,
				SAML: idp.IdPConfig(), Epoch: 77}},
		}
		if err := stA.CreateOrganization(ctx, org); err != nil {
			t.Fatal(err)
		}
		for _, m := range []*sso.Member{
			{OrgID: org.ID, Email: "owner@cache.example", UserID: "u-owner", OrgRole: rolemap.RoleOwner},
			{OrgID: org.ID, Email: "alice@cache.example", UserID: "u-alice", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true},
		} {
			if _, err := stA.CreateMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		return org
	}
	// newSession starts a session of u-alice on A: SSO through the
	// organization's own IdP, or through conn, or a password session.
	newSession := func(org *sso.Organization, method, conn string) string {
		t.Helper()
		p := session.Params{OrgID: org.ID, UserID: "u-alice", Method: method, TTL: time.Hour}
		if method == session.MethodSSO {
			p.Epoch, p.Connection = org.SSOEpoch, conn
			if conn != "" {
				p.Epoch = org.Connection(conn).Epoch
			}
		}
		_, token, err := mgrA.Start(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	for _, tt := range []struct {
		name         string
		method, conn string
		revoke       func(org *sso.Organization, token string) error
	}{
		{"SignOut", session.MethodSSO, "", func(org *sso.Organization, token string) error {
			r := httptest.NewRequest(http.MethodPost, "https://app.example.com/logout", nil)
			r.AddCookie(&http.Cookie{Name: svcA.SessionCookieName(), Value: token})
			_, err := svcA.SignOut(ctx, r)
			return err
		}},
		{"RevokeSessions", session.MethodSSO, "", func(org *sso.Organization, _ string) error {
			_, err := svcA.RevokeSessions(ctx, org.ID, "u-owner", "u-alice")
			return err
		}},
		{"RemoveMember", session.MethodSSO, "", func(org *sso.Organization, _ string) error {
			return svcA.RemoveMember(ctx, org.ID, "u-owner", "alice@cache.example")
		}},
		{"Disable", session.MethodSSO, "", func(org *sso.Organization, _ string) error {
			return svcA.Disable(ctx, org.ID, "u-owner")
		}},
		{"DisableConnection", session.MethodSSO, "conn1", func(org *sso.Organization, _ string) error {
			return svcA.DisableConnection(ctx, org.ID, "conn1", "u-owner")
		}},
		{"PasswordAccessRemoved", session.MethodPassword, "", func(org *sso.Organization, _ string) error {
			_, err := svcA.SetMemberAccess(ctx, org.ID, "u-owner", "alice@cache.example", false)
			return err
		}},
		{"StoreWrite", session.MethodSSO, "", func(org *sso.Organization, _ string) error {
			// A writer that is no Service (another application, an
			// operator's script) ends the session in the database.
			_, err := stA.EndSessions(ctx, session.Query{OrgID: org.ID, UserID: "u-alice"}, session.EndRevoked)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			org := newOrg()
			token := newSession(org, tt.method, tt.conn)
			warm(t, "A", svcA, token)
			warm(t, "B", svcB, token)
			if err := tt.revoke(org, token); err != nil {
				t.Fatalf("revoking on A: %v", err)
			}
			written := time.Now()
			if tt.name != "StoreWrite" {
				// A wrote through its own Service: it refuses at once.
				if _, err := svcA.ValidateSession(ctx, token); err == nil {
					t.Errorf("replica A right after its own %s: accepted; want refused", tt.name)
				}
			}
			refusedWithin(t, "B", svcB, token, written, bound)
		})
	}

	t.Run("Disabled", func(t *testing.T) {
		// A replica with the cache off reads the store at every check.
		svcC := newSvc(stB, sso.SessionCacheConfig{Disabled: true})
		if st := svcC.SessionCacheStats(); st.Enabled {
			t.Fatalf("SessionCacheStats() with the cache off = %+v; want Enabled false", st)
		}
		org := newOrg()
		token := newSession(org, session.MethodSSO, "")
		for range 3 {
			if _, err := svcC.ValidateSession(ctx, token); err != nil {
				t.Fatalf("replica C (cache off): ValidateSession err = %v", err)
			}
		}
		if _, err := svcA.RevokeSessions(ctx, org.ID, "u-owner", "u-alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := svcC.ValidateSession(ctx, token); err == nil {
			t.Error("replica C (cache off), first check after RevokeSessions on A: accepted; want refused")
		}
		if st := svcC.SessionCacheStats(); st.Hits != 0 || st.Entries != 0 {
			t.Errorf("SessionCacheStats() with the cache off = %+v; want no hits, no entries", st)
		}
	})

	t.Run("FeedDown", func(t *testing.T) {
		// Replica D's change counter stops answering (a fake feed over the
		// real store: the database itself still answers). D stops serving
		// from its cache within the bound, so it refuses a revocation it
		// cannot hear of, and serves hits again once the counter answers.
		feed := &failingFeed{Store: stB}
		svcD := newSvc(feed, sso.SessionCacheConfig{})
		waitFresh(t, "D", svcD)
		org := newOrg()
		token := newSession(org, session.MethodSSO, "")
		warm(t, "D", svcD, token)
		feed.fail.Store(true)
		if _, err := svcA.RevokeSessions(ctx, org.ID, "u-owner", "u-alice"); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, "D (counter down)", svcD, token, time.Now(), bound)
		if st := svcD.SessionCacheStats(); st.Fresh || st.Bypasses == 0 {
			t.Errorf("SessionCacheStats() with the counter down = %+v; want not Fresh, some Bypasses", st)
		}
		feed.fail.Store(false)
		waitFresh(t, "D", svcD)
		warm(t, "D (counter back)", svcD, newSession(org, session.MethodPassword, ""))
	})

	t.Run("Expiry", func(t *testing.T) {
		// Expiry needs no write: B judges it at every hit by its clock.
		org := newOrg()
		token := newSession(org, session.MethodSSO, "")
		warm(t, "B", svcB, token)
		seq, err := stB.(sso.ChangeFeed).ChangeSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nowNS.Add(int64(time.Hour))
		if _, err := svcB.ValidateSession(ctx, token); !errors.Is(err, session.ErrExpired) {
			t.Errorf("replica B at the session's ExpiresAt: err = %v; want session.ErrExpired", err)
		}
		if got, err := stB.(sso.ChangeFeed).ChangeSeq(ctx); err != nil || got != seq {
			t.Errorf("ChangeSeq after the expiry = %d, %v; want %d, unchanged", got, err, seq)
		}
	})
}

// failingFeed is a Store whose change counter fails while fail is set.
// It hides any sso.ChangeWatcher of the store, so that only polls tell
// the Service of changes.
type failingFeed struct {
	Store
	fail atomic.Bool
}

// errFeedDown is failingFeed's error.
var errFeedDown = errors.New("storetest: the change counter is down")

// ChangeSeq fails while f.fail is set, else reads the store's counter.
func (f *failingFeed) ChangeSeq(ctx context.Context) (int64, error) {
	if f.fail.Load() {
		return 0, errFeedDown
	}
	return f.Store.(sso.ChangeFeed).ChangeSeq(ctx)
}

// freshWait bounds how long waitFresh waits for a Service's first poll.
const freshWait = 10 * time.Second

// waitFresh waits until svc's Run has read the change counter.
func waitFresh(t *testing.T, name string, svc *sso.Service) {
	t.Helper()
	for deadline := time.Now().Add(freshWait); !svc.SessionCacheStats().Fresh; {
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: session cache not fresh %v after Run started: %+v", name, freshWait, svc.SessionCacheStats())
		}
		time.Sleep(time.Millisecond)
	}
}

// warm validates token on svc until a check is answered from the cache
// (the first reads the store, the next is a hit unless a change dropped
// the cache in between, as other tests' writes may).
func warm(t *testing.T, name string, svc *sso.Service, token string) {
	t.Helper()
	for range 100 {
		before := svc.SessionCacheStats().Hits
		if _, err := svc.ValidateSession(t.Context(), token); err != nil {
			t.Fatalf("replica %s: ValidateSession before the revocation: err = %v", name, err)
		}
		if svc.SessionCacheStats().Hits > before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("replica %s: no cache hit in 100 checks: %+v", name, svc.SessionCacheStats())
}

// afterRefusal is how long refusedWithin keeps checking after the first
// refusal: more than one poll interval of the default bound.
const afterRefusal = 400 * time.Millisecond

// refusedWithin checks token on svc every millisecond until it is refused,
// then for afterRefusal more. Every accepted check must have started
// within bound of written (when the revoking write had returned): that is
// the cache's guarantee, whatever the scheduling. Every check after the
// first refusal must refuse too.
func refusedWithin(t *testing.T, name string, svc *sso.Service, token string, written time.Time, bound time.Duration) {
	t.Helper()
	ctx := t.Context()
	var (
		refusedAt, lastAccept time.Time
		staleAccepts, after   int
	)
	for deadline := written.Add(bound + 5*time.Second); ; time.Sleep(time.Millisecond) {
		start := time.Now()
		_, err := svc.ValidateSession(ctx, token)
		switch {
		case err == nil && refusedAt.IsZero():
			lastAccept = start
		case err == nil:
			staleAccepts++
		case errors.Is(err, sso.ErrUnavailable):
			t.Fatalf("replica %s: ValidateSession err = %v; want an answer", name, err)
		case refusedAt.IsZero():
			refusedAt = start
		}
		if !refusedAt.IsZero() {
			after++
			if time.Since(refusedAt) > afterRefusal {
				break
			}
		}
		if refusedAt.IsZero() && start.After(deadline) {
			t.Fatalf("replica %s: still accepted %v after the revocation; want refused within %v", name, start.Sub(written), bound)
		}
	}
	if !lastAccept.IsZero() && lastAccept.Sub(written) > bound {
		t.Errorf("replica %s accepted the session %v after the revocation; want refused within %v", name, lastAccept.Sub(written), bound)
	}
	if staleAccepts > 0 {
		t.Errorf("replica %s accepted the session %d times (of %d checks) after it first refused it; want 0", name, staleAccepts, after)
	}
	t.Logf("replica %s refused %v after the revocation; %d checks after that, %d accepted", name, refusedAt.Sub(written).Round(time.Microsecond), after, staleAccepts)
}

// BenchSessionCheck measures sso.Service.ValidateSession, the check behind
// every page view, over st: sub-benchmark "cached" with the session cache
// on, Run keeping it fresh and every session already cached (a warm
// replica), "uncached" with the cache off (the session, its organization
// and its member read from st at every check). Both cycle through 100
// sessions of one organization. A cached run reports hit/op, the share of
// its checks answered from the cache.
func BenchSessionCheck(b *testing.B, st Store) {
	ctx := b.Context()
	now := t0
	clock := func() time.Time { return now }
	org := &sso.Organization{ID: "org-bench", SSOName: "bench", OwnerID: "u-owner", Enabled: true, SSOEpoch: 3}
	if err := st.CreateOrganization(ctx, org); err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateMember(ctx, &sso.Member{OrgID: org.ID, Email: "alice@bench.example", UserID: "u-alice"}); err != nil {
		b.Fatal(err)
	}
	mgr := session.NewManager(st, session.WithClock(clock))
	toks := make([]string, 100)
	for i := range toks {
		var err error
		if _, toks[i], err = mgr.Start(ctx, session.Params{OrgID: org.ID, UserID: "u-alice", Method: session.MethodSSO,
			TTL: time.Hour, Epoch: org.SSOEpoch}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct {
		name string
		cfg  sso.SessionCacheConfig
	}{
		{"cached", sso.SessionCacheConfig{}},
		{"uncached", sso.SessionCacheConfig{Disabled: true}},
	} {
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: mgr, Now: clock, SessionCache: bb.cfg})
		if err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(runCtx) }()
		if !bb.cfg.Disabled {
			for deadline := time.Now().Add(freshWait); !svc.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatalf("session cache not fresh %v after Run started", freshWait)
				}
			}
		}
		for _, tok := range toks { // warm
			if _, err := svc.ValidateSession(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			before := svc.SessionCacheStats()
			i := 0
			for b.Loop() {
				if _, err := svc.ValidateSession(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if !bb.cfg.Disabled {
				after := svc.SessionCacheStats()
				b.ReportMetric(float64(after.Hits-before.Hits)/float64(i), "hit/op")
			}
		})
		cancel()
		<-done
	}
}
