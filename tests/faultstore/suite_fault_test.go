package faultstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// slowTimeout is the StoreTimeout of a Service whose store is slow: a Slow
// fault blocks one call that long.
const slowTimeout = 50 * time.Millisecond

// TestFaultSuite fails, in turn, every call an operation makes to its store,
// in every mode (faultstore.Modes, where it applies), on every store, and
// checks after each faulty run, on the inner store directly and through a
// Service without faults, that nothing is half done:
//
//   - no panic, and every error is ErrUnavailable;
//   - HandleACS: no session without its assertion's replay record and its
//     consumed pending request; the same response retried is ErrReplay
//     after a success and never makes a second session; every session is
//     the stored member's; a fresh sign-in afterwards works;
//   - Enable, Disable, UpdateOrganization: the organization is the old
//     version or the new one, Version included, never a mix; a Disable that
//     failed left SSO on, or off with every SSO session refused by
//     ValidateSession;
//   - AddMember, RemoveMember: the member is there or not, unchanged, and a
//     removed member's sessions are refused;
//   - every event reports committed state;
//   - retried without faults, each operation completes, and applies once.
//
// It logs, per store, the number of cases and of violations.
func TestFaultSuite(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			start := time.Now()
			inner, _ := b.open(t)
			s := &suite{t: t, inner: inner}
			for _, sc := range scenarios() {
				s.run(t, sc)
			}
			t.Logf("%s: %d cases, %d violations, %d faults that did not fire, %d audit gaps, in %v",
				b.name, s.cases.Load(), s.violations.Load(), s.unfired.Load(), s.gaps.Load(), time.Since(start).Round(time.Millisecond))
		})
	}
}

// suite runs the cases of one store.
type suite struct {
	t                          *testing.T
	inner                      faultstore.Inner
	seq                        atomic.Int64 // case IDs
	cases, violations, unfired atomic.Int64
	gaps                       atomic.Int64 // committed changes without their event
}

// scenario is one operation the suite fails.
type scenario struct {
	name string
	// prepare makes the case's organization and whatever the operation
	// needs, through c.inner and c.clean (no faults), and returns the
	// operation.
	prepare func(c *faultCase) operation
}

// operation is a prepared operation and its checks.
type operation struct {
	// run is the operation under test, through c.svc.
	run func() error
	// check runs right after run, faults cleared: err is run's error.
	check func(err error)
	// retry runs the operation again through c.clean and checks the final
	// state: err is run's error.
	retry func(err error)
	// audit is the event that records the change the operation commits
	// ("" = none to check): after the retry, the change is committed, and
	// one of the two Services should have emitted it. A missing one is an
	// audit gap, counted and logged, not a violation: a lost
	// acknowledgement hides the commit from the Service, and the retry
	// finds nothing left to do.
	audit sso.EventType
}

// run probes the scenario without faults to learn which calls it makes,
// then runs one case per method, call number and mode.
func (s *suite) run(t *testing.T, sc scenario) {
	t.Helper()
	probe := s.newCase(t, false)
	op := sc.prepare(probe)
	probe.fs.Reset()
	var err error
	probe.protect("run", func() { err = op.run() })
	if err != nil {
		t.Fatalf("%s without faults: err = %v", sc.name, err)
	}
	trace := probe.fs.Trace()
	probe.protect("check", func() { op.check(nil) })
	probe.protect("retry", func() { op.retry(nil) })
	if probe.failed {
		t.Fatalf("%s without faults breaks the invariants", sc.name)
	}
	calls := map[faultstore.Method]int{}
	var order []faultstore.Method
	for _, m := range trace {
		if calls[m] == 0 {
			order = append(order, m)
		}
		calls[m]++
	}
	t.Logf("%s makes %d store calls: %v", sc.name, len(trace), trace)
	for _, m := range order {
		for n := 1; n <= calls[m]; n++ {
			for _, mode := range faultstore.Modes() {
				if !faultstore.Applies(m, mode) {
					continue
				}
				f := faultstore.Fault{Method: m, N: n, Mode: mode}
				t.Run(fmt.Sprintf("%s/%s#%d/%s", sc.name, m, n, mode), func(t *testing.T) {
					s.runCase(t, sc, f)
				})
			}
		}
	}
}

// runCase runs the scenario with fault f and checks it.
func (s *suite) runCase(t *testing.T, sc scenario, f faultstore.Fault) {
	s.cases.Add(1)
	c := s.newCase(t, f.Mode == faultstore.Slow)
	op := sc.prepare(c)
	c.fs.Reset()
	c.fs.Inject(f)
	var err error
	if !c.protect("run", func() { err = op.run() }) {
		return
	}
	c.fs.Clear()
	if len(c.fs.Hits()) == 0 {
		s.unfired.Add(1)
		t.Errorf("the fault did not fire: the calls were %v", c.fs.Trace())
	}
	if err != nil && !errors.Is(err, sso.ErrUnavailable) {
		c.violate("the error is not ErrUnavailable: %v", err)
	}
	if err != nil && sso.StatusCode(err) != 503 && errors.Is(err, sso.ErrUnavailable) {
		c.violate("StatusCode(%v) = %d; want 503", err, sso.StatusCode(err))
	}
	c.protect("check", func() { op.check(err) })
	c.protect("retry", func() { op.retry(err) })
	if op.audit != "" && !c.audited(op.audit) && !c.failed {
		s.gaps.Add(1)
		t.Logf("audit gap in %s: the change is committed, and neither the faulty run (err = %v) nor its retry emitted %s", t.Name(), err, op.audit)
	}
}

// faultCase is one run of a scenario: its own organization in the shared
// store, a Service over the faulty wrapper and one over the inner store.
type faultCase struct {
	s     *suite
	t     *testing.T
	ctx   context.Context
	id    string // "c0001": the SSO name, and part of every key
	inner faultstore.Inner
	fs    *faultstore.Store
	svc   replica // over fs
	clean replica // over inner, no faults
	org   *sso.Organization

	mu          sync.Mutex
	events      []sso.Event // the faulty Service's
	cleanEvents []sso.Event // the clean Service's
	failed      bool
}

func (s *suite) newCase(t *testing.T, slow bool) *faultCase {
	c := &faultCase{s: s, t: t, ctx: context.Background(), inner: s.inner, id: fmt.Sprintf("c%04d", s.seq.Add(1))}
	c.fs = faultstore.New(s.inner)
	timeout := 10 * time.Second
	if slow {
		timeout = slowTimeout
	}
	c.svc = newReplica(t, c.fs, c.fs, func(cfg *sso.Config) {
		cfg.StoreTimeout = timeout
		cfg.OnEvent = func(_ context.Context, e sso.Event) {
			c.mu.Lock()
			c.events = append(c.events, e)
			c.mu.Unlock()
		}
	})
	c.clean = newReplica(t, s.inner, s.inner, func(cfg *sso.Config) {
		cfg.OnEvent = func(_ context.Context, e sso.Event) {
			c.mu.Lock()
			c.cleanEvents = append(c.cleanEvents, e)
			c.mu.Unlock()
		}
	})
	return c
}

// violate reports a broken invariant.
func (c *faultCase) violate(format string, args ...any) {
	c.t.Helper()
	c.failed = true
	c.s.violations.Add(1)
	c.t.Errorf("VIOLATION: "+format, args...)
}

// protect runs f, reporting a panic as a violation; it reports whether f
// returned normally.
func (c *faultCase) protect(what string, f func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.violate("panic in %s: %v\n%s", what, p, debug.Stack())
			ok = false
		}
	}()
	f()
	return true
}

// fatal reports a failure of the test itself (not of the SDK).
func (c *faultCase) fatal(format string, args ...any) {
	c.t.Helper()
	c.failed = true
	c.t.Fatalf(format, args...)
}

// emitted reports whether the faulty Service emitted an event of type typ.
func (c *faultCase) emitted(typ sso.EventType) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.events, func(e sso.Event) bool { return e.Type == typ })
}

// audited reports whether either Service emitted an event of type typ.
func (c *faultCase) audited(typ sso.EventType) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(append(slices.Clip(c.events), c.cleanEvents...), func(e sso.Event) bool { return e.Type == typ })
}

// Case setup, through the inner store.

const ownerRole = rolemap.RoleOwner

func (c *faultCase) ownerID() string          { return "owner-" + c.id }
func (c *faultCase) email(name string) string { return name + "@" + c.id + ".example" }
func (c *faultCase) userID(name string) string {
	return "u-" + name + "-" + c.id
}

// createOrg stores the case's organization (SSO on or off, JIT
// provisioning on, SSO epoch 1), changed by mutate, and its owner.
func (c *faultCase) createOrg(enabled bool, mutate func(*sso.Organization)) {
	c.t.Helper()
	org := &sso.Organization{ID: "org-" + c.id, SSOName: c.id, OwnerID: c.ownerID(), Enabled: enabled,
		IdP: testIdP(c.t).IdPConfig(), JITProvisioning: true, SSOEpoch: 1}
	if mutate != nil {
		mutate(org)
	}
	if err := c.inner.CreateOrganization(c.ctx, org); err != nil {
		c.fatal("CreateOrganization() err = %v", err)
	}
	c.org = c.stored()
	if c.org.Enabled != enabled || c.org.Version != 1 || c.org.SSOEpoch != 1 {
		c.fatal("stored organization = %+v", c.org)
	}
	c.addMember("owner", ownerRole, true)
}

// addMember stores a member named name (user ID c.userID(name), except the
// owner's).
func (c *faultCase) addMember(name string, role rolemap.OrgRole, allowWithoutSSO bool) *sso.Member {
	c.t.Helper()
	uid := c.userID(name)
	if role == ownerRole {
		uid = c.ownerID()
	}
	m := &sso.Member{OrgID: c.org.ID, UserID: uid, Email: c.email(name), FirstName: "Old", LastName: "Name",
		OrgRole: role, AllowWithoutSSO: allowWithoutSSO}
	if _, err := c.inner.CreateMember(c.ctx, m); err != nil {
		c.fatal("CreateMember(%s) err = %v", name, err)
	}
	return c.member(m.Email)
}

// startSession starts a session in the inner store and returns its token.
func (c *faultCase) startSession(userID, method string) string {
	c.t.Helper()
	p := session.Params{OrgID: c.org.ID, UserID: userID, Method: method, TTL: time.Hour}
	if method == session.MethodSSO {
		p.Epoch = c.org.SSOEpoch
	}
	_, token, err := c.clean.mgr.Start(c.ctx, p)
	if err != nil {
		c.fatal("Start() err = %v", err)
	}
	return token
}

// Reading the state, through the inner store.

// stored returns the case's organization as stored.
func (c *faultCase) stored() *sso.Organization {
	c.t.Helper()
	org, err := c.inner.Organization(c.ctx, "org-"+c.id)
	if err != nil || org == nil {
		c.fatal("Organization() = %v, %v", org, err)
	}
	return org
}

// member returns the stored member with this email, or nil.
func (c *faultCase) member(email string) *sso.Member {
	c.t.Helper()
	m, err := c.inner.Member(c.ctx, c.org.ID, email)
	switch {
	case errors.Is(err, sso.ErrNotFound):
		return nil
	case err != nil || m == nil:
		c.fatal("Member(%q) = %v, %v", email, m, err)
	}
	return m
}

// membersWith counts the stored members with this email.
func (c *faultCase) membersWith(email string) int {
	c.t.Helper()
	list, err := c.inner.Members(c.ctx, c.org.ID, "", sso.MaxListLimit)
	if err != nil {
		c.fatal("Members() err = %v", err)
	}
	n := 0
	for _, m := range list {
		if sso.MemberEmailKey(m.Email) == sso.MemberEmailKey(email) {
			n++
		}
	}
	return n
}

// sessions lists the organization's sessions that are neither ended nor
// expired, made with method.
func (c *faultCase) sessions(method string) []*session.Session {
	c.t.Helper()
	list, err := c.inner.ListSessions(c.ctx, session.Query{OrgID: c.org.ID, Method: method, Limit: session.MaxListLimit}, clock())
	if err != nil {
		c.fatal("ListSessions() err = %v", err)
	}
	return list
}

// endReason returns the EndReason of the stored session of token.
func (c *faultCase) endReason(token string) string {
	c.t.Helper()
	s, err := c.inner.Session(c.ctx, session.HashToken(token))
	if err != nil || s == nil {
		c.fatal("Session() = %v, %v", s, err)
	}
	return s.EndReason
}

// valid reports whether a Service without faults accepts the token's
// session; an unavailable store is a violation.
func (c *faultCase) valid(token string) bool {
	c.t.Helper()
	_, err := c.clean.svc.ValidateSession(c.ctx, token)
	if errors.Is(err, sso.ErrUnavailable) {
		c.violate("ValidateSession without faults: %v", err)
	}
	return err == nil
}

// sameOrg reports whether two organizations are equal in every field.
func sameOrg(a, b *sso.Organization) bool { return reflect.DeepEqual(a, b) }

// oldOrNew checks that the stored organization is old or new, entirely,
// and returns whether it is new.
func (c *faultCase) oldOrNew(old, next *sso.Organization) (isNew bool) {
	c.t.Helper()
	st := c.stored()
	switch {
	case sameOrg(st, next):
		return true
	case sameOrg(st, old):
		return false
	}
	c.violate("half-applied change: the stored organization is neither the old version nor the new one:\nstored %+v\nold    %+v\nnew    %+v", st, old, next)
	return st.Version == next.Version
}

// The scenarios.

func scenarios() []scenario {
	return []scenario{
		{name: "acs-new-member", prepare: acsNewMember},
		{name: "acs-existing-member", prepare: acsExistingMember},
		{name: "enable", prepare: enable},
		{name: "disable", prepare: disable},
		{name: "update-organization", prepare: updateOrganization},
		{name: "add-member", prepare: addMember},
		{name: "remove-member", prepare: removeMember},
		{name: "acs-test-sso", prepare: acsTestSSO},
		{name: "set-member-access", prepare: setMemberAccess},
		{name: "revoke-sessions", prepare: revokeSessions},
		{name: "sign-out", prepare: signOut},
	}
}

// acsNewMember: the first sign-in of a new email, JIT provisioning on.
func acsNewMember(c *faultCase) operation {
	c.createOrg(true, nil)
	email := c.email("new")
	return acs(c, email, ssotest.User{Email: email, FirstName: "New", LastName: "User"}, "")
}

// acsExistingMember: a sign-in of an existing member whose name the IdP
// changed (the member is updated).
func acsExistingMember(c *faultCase) operation {
	c.createOrg(true, func(o *sso.Organization) { o.JITProvisioning = false })
	bob := c.addMember("bob", rolemap.RoleMember, false)
	return acs(c, bob.Email, ssotest.User{Email: bob.Email, FirstName: "New", LastName: "Name"}, bob.UserID)
}

// acs signs user in; userID is the member's user ID if the member exists.
func acs(c *faultCase, email string, user ssotest.User, userID string) operation {
	in := startSignIn(c.t, c.clean, c.org, user, "_a-"+c.id)
	var res *sso.Result
	var audit sso.EventType
	if userID == "" {
		audit = sso.EventMemberProvisioned
	}
	return operation{
		audit: audit,
		run: func() (err error) {
			res, err = in.post(c.t, c.svc)
			return err
		},
		check: func(err error) {
			m := c.member(email)
			if userID != "" && (m == nil || m.UserID != userID) {
				c.violate("the existing member changed: %+v; want user ID %q", m, userID)
			}
			if m != nil && m.FirstName != "Old" && m.FirstName != "New" {
				c.violate("member's first name = %q", m.FirstName)
			}
			if err == nil {
				switch {
				case res == nil || res.Session == nil || res.Member == nil:
					c.violate("HandleACS() = %+v, nil; want a session and its member", res)
					return
				case m == nil || res.Member.UserID != m.UserID || res.Session.UserID != m.UserID:
					c.violate("wrong member: result member %q, session user %q, stored member %+v", res.Member.UserID, res.Session.UserID, m)
				case !c.valid(res.Token):
					c.violate("the session HandleACS returned is not valid")
				}
			}
			if c.emitted(sso.EventSignInSucceeded) && err != nil {
				c.violate("EventSignInSucceeded emitted for a failed sign-in: %v", err)
			}
			if c.emitted(sso.EventMemberProvisioned) && m == nil {
				c.violate("EventMemberProvisioned emitted, no member stored")
			}
		},
		retry: func(err error) {
			res2, err2 := in.post(c.t, c.clean)
			if err == nil && !errors.Is(err2, sso.ErrReplay) {
				c.violate("the response was accepted, then retried: err = %v; want ErrReplay", err2)
			}
			if errors.Is(err2, sso.ErrUnavailable) {
				c.violate("retry without faults: %v", err2)
			}
			m := c.member(email)
			list := c.sessions(session.MethodSSO)
			if len(list) > 1 {
				c.violate("one response made %d sessions", len(list))
			}
			for _, s := range list {
				if m == nil || s.UserID != m.UserID {
					c.violate("session of user %q; stored member %+v", s.UserID, m)
				}
			}
			if len(list) > 0 {
				// The writes a session stands on: the replay record and
				// the consumed request.
				if err := c.inner.UseAssertion(c.ctx, c.org.ID, in.assertionID, suiteNow.Add(time.Hour)); !errors.Is(err, sso.ErrReplay) {
					c.violate("a session exists, but its assertion ID was not recorded: UseAssertion err = %v", err)
				}
				if _, err := c.inner.ConsumeRequest(c.ctx, in.rd.RequestID); !errors.Is(err, sso.ErrNotFound) {
					c.violate("a session exists, but its request was not consumed: ConsumeRequest err = %v", err)
				}
			}
			if err2 == nil && (res2.Member == nil || m == nil || res2.Member.UserID != m.UserID) {
				c.violate("retry signed in member %+v; stored %+v", res2.Member, m)
			}
			// A fresh sign-in works, as the stored member.
			fresh := startSignIn(c.t, c.clean, c.org, user, "_b-"+c.id)
			res3, err3 := fresh.post(c.t, c.clean)
			switch {
			case err3 != nil:
				c.violate("a fresh sign-in after the fault failed: %v", err3)
			case m != nil && res3.Member.UserID != m.UserID:
				c.violate("fresh sign-in as user %q; the member is %q", res3.Member.UserID, m.UserID)
			case userID != "" && res3.Member.UserID != userID:
				c.violate("fresh sign-in as user %q; want %q", res3.Member.UserID, userID)
			}
			if n := c.membersWith(email); n != 1 {
				c.violate("%d members with email %q", n, email)
			}
		},
	}
}

// enable turns SSO on; a member without password rights has a password
// session, which must end.
func enable(c *faultCase) operation {
	c.createOrg(false, nil)
	bob := c.addMember("bob", rolemap.RoleMember, false)
	bobPwd := c.startSession(bob.UserID, session.MethodPassword)
	ownerPwd := c.startSession(c.ownerID(), session.MethodPassword)
	old := c.org
	next := old.Clone()
	next.Enabled, next.Version = true, old.Version+1
	states := func(isNew bool) {
		if got := c.valid(bobPwd); got == isNew {
			c.violate("SSO on = %v, and the password session of a member without password rights valid = %v", isNew, got)
		}
		if !c.valid(ownerPwd) {
			c.violate("the owner's password session ended")
		}
	}
	return operation{
		audit: sso.EventSSOEnabled,
		run:   func() error { return c.svc.svc.Enable(c.ctx, old.ID, c.ownerID()) },
		check: func(err error) {
			isNew := c.oldOrNew(old, next)
			if err == nil && !isNew {
				c.violate("Enable() = nil, SSO still off")
			}
			if c.emitted(sso.EventSSOEnabled) && !isNew {
				c.violate("EventSSOEnabled emitted, SSO off")
			}
			states(isNew)
		},
		retry: func(error) {
			if err := c.clean.svc.Enable(c.ctx, old.ID, c.ownerID()); err != nil {
				c.violate("Enable() retried without faults: %v", err)
			}
			if !c.oldOrNew(old, next) {
				c.violate("after the retry, SSO is off")
			}
			states(true)
		},
	}
}

// disable turns SSO off; two members have SSO sessions, the owner a
// password session.
func disable(c *faultCase) operation {
	c.createOrg(true, nil)
	bob := c.addMember("bob", rolemap.RoleMember, false)
	carol := c.addMember("carol", rolemap.RoleAdmin, false)
	ssoTokens := []string{c.startSession(bob.UserID, session.MethodSSO), c.startSession(carol.UserID, session.MethodSSO)}
	ownerPwd := c.startSession(c.ownerID(), session.MethodPassword)
	old := c.org
	next := old.Clone()
	next.Enabled, next.Version, next.SSOEpoch = false, old.Version+1, old.SSOEpoch+1
	return operation{
		audit: sso.EventSSODisabled,
		run:   func() error { return c.svc.svc.Disable(c.ctx, old.ID, c.ownerID()) },
		check: func(err error) {
			isNew := c.oldOrNew(old, next)
			if err == nil {
				if !isNew {
					c.violate("Disable() = nil, SSO still on")
				}
				for i, tok := range ssoTokens {
					if r := c.endReason(tok); r != session.EndSSODisabled {
						c.violate("Disable() = nil, SSO session %d not ended in the store (EndReason %q)", i, r)
					}
				}
			}
			if c.emitted(sso.EventSSODisabled) && !isNew {
				c.violate("EventSSODisabled emitted, SSO on")
			}
			for i, tok := range ssoTokens {
				if got := c.valid(tok); got == isNew {
					c.violate("Disable() err = %v, SSO off = %v, SSO session %d valid = %v", err, isNew, i, got)
				}
			}
			if !c.valid(ownerPwd) {
				c.violate("the owner's password session ended")
			}
		},
		retry: func(error) {
			if err := c.clean.svc.Disable(c.ctx, old.ID, c.ownerID()); err != nil {
				c.violate("Disable() retried without faults: %v", err)
			}
			if !c.oldOrNew(old, next) {
				c.violate("after the retry, SSO is on")
			}
			for i, tok := range ssoTokens {
				if r := c.endReason(tok); r != session.EndSSODisabled {
					c.violate("after the retry, SSO session %d not ended in the store (EndReason %q)", i, r)
				}
				if c.valid(tok) {
					c.violate("after the retry, SSO session %d valid", i)
				}
			}
		},
	}
}

// updateOrganization edits three fields at once, strict mode among them,
// which ends the password session of a member who had password rights.
func updateOrganization(c *faultCase) operation {
	c.createOrg(true, nil)
	bob := c.addMember("bob", rolemap.RoleMember, true)
	bobPwd := c.startSession(bob.UserID, session.MethodPassword)
	old := c.org
	edit := func(o *sso.Organization) error {
		o.StrictMode, o.SessionTimeout, o.AllowIdPInitiated = true, 2*time.Hour, true
		return nil
	}
	next := old.Clone()
	_ = edit(next)
	next.Version++
	return operation{
		audit: sso.EventSettingsChanged,
		run: func() error {
			_, err := c.svc.svc.UpdateOrganization(c.ctx, old.ID, c.ownerID(), edit)
			return err
		},
		check: func(err error) {
			isNew := c.oldOrNew(old, next)
			if err == nil && !isNew {
				c.violate("UpdateOrganization() = nil, not saved")
			}
			if c.emitted(sso.EventSettingsChanged) && !isNew {
				c.violate("EventSettingsChanged emitted, not saved")
			}
			if got := c.valid(bobPwd); got == isNew {
				c.violate("strict mode = %v, password session valid = %v", isNew, got)
			}
		},
		retry: func(error) {
			got, err := c.clean.svc.UpdateOrganization(c.ctx, old.ID, c.ownerID(), edit)
			if err != nil {
				c.violate("UpdateOrganization() retried without faults: %v", err)
			} else if got.Version != next.Version {
				c.violate("after the retry, Version = %d; want %d (applied once)", got.Version, next.Version)
			}
			if !c.oldOrNew(old, next) {
				c.violate("after the retry, the edit is not saved")
			}
			if c.valid(bobPwd) {
				c.violate("after the retry, the password session is valid under strict mode")
			}
		},
	}
}

// addMember: an admin adds a member.
func addMember(c *faultCase) operation {
	c.createOrg(true, nil)
	admin := c.addMember("admin", rolemap.RoleAdmin, false)
	want := sso.Member{Email: c.email("dave"), UserID: c.userID("dave"), FirstName: "Dave", OrgRole: rolemap.RoleMember}
	// present checks the stored member is absent or exactly want.
	present := func() bool {
		m := c.member(want.Email)
		if m == nil {
			return false
		}
		if m.UserID != want.UserID || m.OrgRole != want.OrgRole || m.FirstName != want.FirstName || m.OrgID != c.org.ID {
			c.violate("stored member %+v; want %+v", m, want)
		}
		return true
	}
	return operation{
		audit: sso.EventMemberAdded,
		run: func() error {
			got, err := c.svc.svc.AddMember(c.ctx, c.org.ID, admin.UserID, want)
			if err == nil && (got == nil || got.UserID != want.UserID) {
				c.violate("AddMember() = %+v; want user %q", got, want.UserID)
			}
			return err
		},
		check: func(err error) {
			ok := present()
			if err == nil && !ok {
				c.violate("AddMember() = nil, no member stored")
			}
			if c.emitted(sso.EventMemberAdded) && !ok {
				c.violate("EventMemberAdded emitted, no member stored")
			}
		},
		retry: func(error) {
			was := present()
			_, err := c.clean.svc.AddMember(c.ctx, c.org.ID, admin.UserID, want)
			if err != nil && !(was && errors.Is(err, sso.ErrMemberExists)) {
				c.violate("AddMember() retried without faults (member stored before: %v): %v", was, err)
			}
			if !present() || c.membersWith(want.Email) != 1 {
				c.violate("after the retry, not exactly one member")
			}
		},
	}
}

// removeMember: an admin removes a member who has an SSO and a password
// session.
func removeMember(c *faultCase) operation {
	c.createOrg(true, nil)
	admin := c.addMember("admin", rolemap.RoleAdmin, false)
	bob := c.addMember("bob", rolemap.RoleMember, true)
	tokens := []string{c.startSession(bob.UserID, session.MethodSSO), c.startSession(bob.UserID, session.MethodPassword)}
	states := func(removed bool) {
		for i, tok := range tokens {
			if got := c.valid(tok); got == removed {
				c.violate("member removed = %v, session %d valid = %v", removed, i, got)
			}
		}
	}
	gone := func() bool {
		m := c.member(bob.Email)
		if m != nil && !reflect.DeepEqual(m, bob) {
			c.violate("the member changed: %+v; was %+v", m, bob)
		}
		return m == nil
	}
	return operation{
		audit: sso.EventMemberRemoved,
		run:   func() error { return c.svc.svc.RemoveMember(c.ctx, c.org.ID, admin.UserID, bob.Email) },
		check: func(err error) {
			removed := gone()
			if err == nil && !removed {
				c.violate("RemoveMember() = nil, member still stored")
			}
			if c.emitted(sso.EventMemberRemoved) && !removed {
				c.violate("EventMemberRemoved emitted, member still stored")
			}
			states(removed)
		},
		retry: func(error) {
			was := gone()
			err := c.clean.svc.RemoveMember(c.ctx, c.org.ID, admin.UserID, bob.Email)
			if err != nil && !(was && errors.Is(err, sso.ErrNotFound)) {
				c.violate("RemoveMember() retried without faults (removed before: %v): %v", was, err)
			}
			if !gone() {
				c.violate("after the retry, the member is stored")
			}
			states(true)
		},
	}
}

// acsTestSSO: the owner's Test SSO round trip before SSO is enabled. It
// writes nothing but the replay record and the consumed request: no member,
// no session.
func acsTestSSO(c *faultCase) operation {
	c.createOrg(false, nil)
	rd, err := c.clean.svc.StartTest(c.ctx, c.org.ID, c.ownerID())
	if err != nil {
		c.fatal("StartTest() err = %v", err)
	}
	in := answer(c.t, c.clean, c.org, rd, ssotest.User{Email: c.email("owner"), FirstName: "New"}, "_a-"+c.id)
	nothingWritten := func() {
		if n := len(c.sessions("")); n != 0 {
			c.violate("a test round trip made %d sessions", n)
		}
		if m := c.member(c.email("owner")); m == nil || m.FirstName != "Old" {
			c.violate("a test round trip changed the owner's member: %+v", m)
		}
		if st := c.stored(); !sameOrg(st, c.org) {
			c.violate("a test round trip changed the organization: %+v", st)
		}
	}
	return operation{
		run: func() error {
			res, err := in.post(c.t, c.svc)
			if err == nil && (res.Test == nil || res.Session != nil || res.Member != nil) {
				c.violate("test round trip result %+v", res)
			}
			return err
		},
		check: func(error) { nothingWritten() },
		retry: func(err error) {
			_, err2 := in.post(c.t, c.clean)
			if err == nil && !errors.Is(err2, sso.ErrReplay) {
				c.violate("the test response was accepted, then retried: err = %v; want ErrReplay", err2)
			}
			if errors.Is(err2, sso.ErrUnavailable) {
				c.violate("retry without faults: %v", err2)
			}
			nothingWritten()
		},
	}
}

// setMemberAccess: an admin takes password sign-in away from a member who
// has a password session, with SSO on: the session must end.
func setMemberAccess(c *faultCase) operation {
	c.createOrg(true, nil)
	admin := c.addMember("admin", rolemap.RoleAdmin, false)
	bob := c.addMember("bob", rolemap.RoleMember, true)
	pwd := c.startSession(bob.UserID, session.MethodPassword)
	// changed checks the member is unchanged or changed exactly.
	changed := func() bool {
		m := c.member(bob.Email)
		if m == nil {
			c.violate("the member is gone")
			return false
		}
		want := *bob
		want.AllowWithoutSSO = m.AllowWithoutSSO
		if !reflect.DeepEqual(m, &want) {
			c.violate("the member changed more than its access: %+v; was %+v", m, bob)
		}
		return !m.AllowWithoutSSO
	}
	return operation{
		audit: sso.EventMemberChanged,
		run: func() error {
			_, err := c.svc.svc.SetMemberAccess(c.ctx, c.org.ID, admin.UserID, bob.Email, false)
			return err
		},
		check: func(err error) {
			isNew := changed()
			if err == nil && !isNew {
				c.violate("SetMemberAccess() = nil, access unchanged")
			}
			if c.emitted(sso.EventMemberChanged) && !isNew {
				c.violate("EventMemberChanged emitted, access unchanged")
			}
			if got := c.valid(pwd); got == isNew {
				c.violate("password rights taken = %v, password session valid = %v", isNew, got)
			}
		},
		retry: func(error) {
			if _, err := c.clean.svc.SetMemberAccess(c.ctx, c.org.ID, admin.UserID, bob.Email, false); err != nil {
				c.violate("SetMemberAccess() retried without faults: %v", err)
			}
			if !changed() {
				c.violate("after the retry, the member keeps password rights")
			}
			if c.valid(pwd) {
				c.violate("after the retry, the password session is valid")
			}
		},
	}
}

// revokeSessions: an admin ends every session of a member.
func revokeSessions(c *faultCase) operation {
	c.createOrg(true, nil)
	admin := c.addMember("admin", rolemap.RoleAdmin, false)
	bob := c.addMember("bob", rolemap.RoleMember, true)
	tokens := []string{c.startSession(bob.UserID, session.MethodSSO), c.startSession(bob.UserID, session.MethodPassword)}
	ownerTok := c.startSession(c.ownerID(), session.MethodPassword)
	// ended reports whether the store ended all of bob's sessions (or
	// none: a half-done EndSessions is a violation).
	ended := func() bool {
		n := 0
		for _, tok := range tokens {
			if r := c.endReason(tok); r == session.EndRevoked {
				n++
			} else if r != "" {
				c.violate("session ended with reason %q", r)
			}
		}
		if n != 0 && n != len(tokens) {
			c.violate("%d of %d sessions ended", n, len(tokens))
		}
		if c.endReason(ownerTok) != "" {
			c.violate("another user's session ended")
		}
		return n == len(tokens)
	}
	return operation{
		audit: sso.EventSessionsEnded,
		run: func() error {
			n, err := c.svc.svc.RevokeSessions(c.ctx, c.org.ID, admin.UserID, bob.UserID)
			if err == nil && n != len(tokens) {
				c.violate("RevokeSessions() = %d; want %d", n, len(tokens))
			}
			return err
		},
		check: func(err error) {
			isNew := ended()
			if err == nil && !isNew {
				c.violate("RevokeSessions() = nil, sessions not ended")
			}
			if c.emitted(sso.EventSessionsEnded) && !isNew {
				c.violate("EventSessionsEnded emitted, sessions not ended")
			}
			for i, tok := range tokens {
				if got := c.valid(tok); got == isNew {
					c.violate("sessions ended = %v, session %d valid = %v", isNew, i, got)
				}
			}
		},
		retry: func(error) {
			if _, err := c.clean.svc.RevokeSessions(c.ctx, c.org.ID, admin.UserID, bob.UserID); err != nil {
				c.violate("RevokeSessions() retried without faults: %v", err)
			}
			if !ended() {
				c.violate("after the retry, sessions not ended")
			}
			if !c.valid(ownerTok) {
				c.violate("another user's session is not valid")
			}
		},
	}
}

// signOut: a member signs out.
func signOut(c *faultCase) operation {
	c.createOrg(true, nil)
	bob := c.addMember("bob", rolemap.RoleMember, false)
	tok := c.startSession(bob.UserID, session.MethodSSO)
	other := c.startSession(bob.UserID, session.MethodSSO)
	req := httptest.NewRequest(http.MethodPost, baseURL+"/logout", nil)
	req.AddCookie(&http.Cookie{Name: c.svc.svc.SessionCookieName(), Value: tok})
	return operation{
		run: func() error {
			cookie, err := c.svc.svc.SignOut(c.ctx, req)
			if cookie == nil || cookie.MaxAge >= 0 {
				c.violate("SignOut() cookie = %v; want one that clears the session cookie, error or not", cookie)
			}
			return err
		},
		check: func(err error) {
			if got := c.valid(tok); err == nil && got {
				c.violate("SignOut() = nil, the session is still valid")
			}
			if !c.valid(other) {
				c.violate("SignOut() ended another session")
			}
		},
		retry: func(error) {
			if _, err := c.clean.svc.SignOut(c.ctx, req); err != nil {
				c.violate("SignOut() retried without faults: %v", err)
			}
			if c.valid(tok) {
				c.violate("after the retry, the session is valid")
			}
		},
	}
}
