package faultstore_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// Race suite sizes.
const (
	firstSignInPairs  = 100 // racing pairs of first sign-ins, idempotent hook
	nonIdempotentRuns = 50  // the same with a hook that makes a new user per call
	pairWorkers       = 1   // pairs racing at once, each on its own email (more only contend for the 2 cores)
	disableTrials     = 4   // Disable races per store
	signInsPerTrial   = 60  // sign-ins racing each Disable
	signInWorkers     = 6
	lostUpdateTrials  = 25 // rounds of concurrent edits per store, and of Disable among edits
	staleDisableTries = 10 // edits from a copy read before Disable, per store
)

// twoReplicas opens one new database of backend b and two replicas on it,
// each with its own store handle, built with opts.
func twoReplicas(t *testing.T, b backend, opts ...replicaConfig) (a, c replica, inner faultstore.Inner) {
	t.Helper()
	stA, stB := b.open(t)
	return newReplica(t, stA, stA, opts...), newReplica(t, stB, stB, opts...), stA
}

// raceOrg stores an organization with SSO on and JIT provisioning, and its
// owner.
func raceOrg(t *testing.T, st faultstore.Inner, id string) *sso.Organization {
	t.Helper()
	ctx := context.Background()
	org := &sso.Organization{ID: "org-" + id, SSOName: id, OwnerID: "owner-" + id, Enabled: true,
		IdP: testIdP(t).IdPConfig(), JITProvisioning: true, SSOEpoch: 1}
	require.NoError(t, st.CreateOrganization(ctx, org))
	_, err := st.CreateMember(ctx, &sso.Member{OrgID: org.ID, UserID: org.OwnerID, Email: "owner@" + id + ".example", OrgRole: "owner"})
	require.NoError(t, err)
	got, err := st.Organization(ctx, org.ID)
	require.NoError(t, err)
	return got
}

// provisioner is a host's ProvisionUser: it counts its calls by
// sso.ProvisionKey and, when dedupe is set, returns the user it made for a
// key before (an idempotent host); otherwise a new user every call. The
// first call of a key waits (up to rendezvousWait) for a second one, so
// that two racing first sign-ins both get past their member lookup and
// race in CreateMember, on every store.
type provisioner struct {
	dedupe  bool
	mu      sync.Mutex
	calls   map[string]int
	users   map[string]string
	arrived map[string]chan struct{}
	seq     int
}

// rendezvousWait bounds how long a first ProvisionUser call waits for a
// racing second one.
const rendezvousWait = 50 * time.Millisecond

func newProvisioner(dedupe bool) *provisioner {
	return &provisioner{dedupe: dedupe, calls: map[string]int{}, users: map[string]string{}, arrived: map[string]chan struct{}{}}
}

func (p *provisioner) provision(_ context.Context, org *sso.Organization, id sso.Identity) (string, error) {
	key := sso.ProvisionKey(org.ID, id.Email)
	p.mu.Lock()
	ch, second := p.arrived[key]
	if second {
		close(ch)
		delete(p.arrived, key)
	} else {
		ch = make(chan struct{})
		p.arrived[key] = ch
	}
	p.mu.Unlock()
	if !second {
		select {
		case <-ch:
		case <-time.After(rendezvousWait):
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[key]++
	if u, ok := p.users[key]; ok && p.dedupe {
		return u, nil
	}
	p.seq++
	u := fmt.Sprintf("user-%d", p.seq)
	p.users[key] = u
	return u, nil
}

func (p *provisioner) total() (calls, keys int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.calls {
		calls += n
	}
	return calls, len(p.calls)
}

// TestRaceFirstSignIns races, on two replicas, the first sign-ins of one
// new email (in two ASCII cases), 100 pairs with an idempotent
// ProvisionUser and 50 with one that makes a new user per call (which only
// CreateMember's winner's member can reconcile): one member is made, and
// both sign-ins carry its user ID.
func TestRaceFirstSignIns(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, dedupe := range []bool{true, false} {
				name := map[bool]string{true: "idempotent-hook", false: "non-idempotent-hook"}[dedupe]
				t.Run(name, func(t *testing.T) { raceFirstSignIns(t, b, dedupe) })
			}
		})
	}
}

func raceFirstSignIns(t *testing.T, b backend, dedupe bool) {
	start := time.Now()
	p := newProvisioner(dedupe)
	rA, rB, st := twoReplicas(t, b, func(c *sso.Config) { c.ProvisionUser = p.provision })
	reps := []replica{rA, rB}
	org := raceOrg(t, st, "first")
	ctx := context.Background()
	// Every pair's sign-ins are started and answered first, here.
	type pair struct {
		email string
		reqs  [2]*http.Request
	}
	n := firstSignInPairs
	if !dedupe {
		n = nonIdempotentRuns
	}
	pairs := make([]pair, n)
	for i := range pairs {
		lower := fmt.Sprintf("p%03d@first.example", i)
		upper := strings.ToUpper(lower[:1]) + lower[1:4] + "@First.example"
		pairs[i].email = lower
		for k, email := range []string{lower, upper} {
			pairs[i].reqs[k] = startSignIn(t, reps[k], org, ssotest.User{Email: email, FirstName: "AB"[k : k+1]}, "").request(t)
		}
	}
	var (
		mu                                       sync.Mutex
		duplicates, differing, failed, notWinner int
	)
	// race runs pair i: both sign-ins at once, one on each replica.
	race := func(i int) {
		var res [2]*sso.Result
		var errs [2]error
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for k := range 2 {
			wg.Go(func() {
				<-gate
				res[k], errs[k] = reps[k].svc.HandleACS(ctx, org.SSOName, pairs[i].reqs[k])
			})
		}
		close(gate)
		wg.Wait()
		list, err := st.Members(ctx, org.ID, "", sso.MaxListLimit)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("Members() err = %v", err)
			return
		}
		for k, err := range errs {
			if err != nil {
				failed++
				t.Errorf("pair %d, sign-in %d: %v", i, k, err)
			}
		}
		var stored []*sso.Member
		for _, m := range list {
			if sso.MemberEmailKey(m.Email) == sso.MemberEmailKey(pairs[i].email) {
				stored = append(stored, m)
			}
		}
		if len(stored) != 1 {
			duplicates++
			t.Errorf("pair %d: %d members for one email", i, len(stored))
			return
		}
		if errs[0] != nil || errs[1] != nil {
			return
		}
		if res[0].Member.UserID != res[1].Member.UserID || res[0].Session.UserID != res[1].Session.UserID {
			differing++
			t.Errorf("pair %d: user IDs %q and %q", i, res[0].Member.UserID, res[1].Member.UserID)
		}
		for k := range 2 {
			if res[k].Member.UserID != stored[0].UserID || res[k].Session.UserID != stored[0].UserID {
				notWinner++
				t.Errorf("pair %d, sign-in %d: user %q, session user %q; the member is %q",
					i, k, res[k].Member.UserID, res[k].Session.UserID, stored[0].UserID)
			}
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range pairWorkers {
		wg.Go(func() {
			for i := range work {
				race(i)
			}
		})
	}
	for i := range pairs {
		work <- i
	}
	close(work)
	wg.Wait()
	calls, keys := p.total()
	t.Logf("%s, %s hook: %d pairs (both sign-ins provisioned in %d): %d duplicate members, %d differing user IDs, %d results not the winner's, %d failed sign-ins; ProvisionUser called %d times for %d keys; %v",
		b.name, map[bool]string{true: "idempotent", false: "non-idempotent"}[dedupe], n, calls-keys,
		duplicates, differing, notWinner, failed, calls, keys, time.Since(start).Round(time.Millisecond))
}

// TestRaceDisable races sign-ins on two replicas against Disable on one of
// them, at a random point: afterwards no session is valid, with SSO still
// off or (every other trial) turned on again, when only the SSO epoch tells
// the sessions of in-flight sign-ins apart.
func TestRaceDisable(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			start := time.Now()
			rA, rB, st := twoReplicas(t, b)
			reps := []replica{rA, rB}
			seed := uint64(time.Now().UnixNano())
			rng := mrand.New(mrand.NewPCG(seed, 1))
			ctx := context.Background()
			var signIns, succeeded, failed, leftInStore, valid int
			for trial := range disableTrials {
				org := raceOrg(t, st, fmt.Sprintf("dis%d", trial))
				ins := make([]*signIn, signInsPerTrial)
				for j := range ins {
					ins[j] = startSignIn(t, reps[j%2], org, ssotest.User{Email: fmt.Sprintf("s%02d@dis.example", j%20)}, "")
				}
				at, by := rng.IntN(signInsPerTrial), rng.IntN(2)
				var (
					mu     sync.Mutex
					tokens []string
				)
				work := make(chan int)
				var wg sync.WaitGroup
				for range signInWorkers {
					wg.Go(func() {
						for j := range work {
							res, err := ins[j].post(t, reps[(j/2)%2]) // started on one replica, answered on either
							mu.Lock()
							if err == nil {
								tokens = append(tokens, res.Token)
							} else if !errors.Is(err, sso.ErrSSODisabled) {
								t.Errorf("trial %d, sign-in %d: %v", trial, j, err)
							}
							mu.Unlock()
						}
					})
				}
				var disableErr error
				disabled := make(chan struct{})
				for j := range ins {
					if j == at {
						go func() {
							defer close(disabled)
							disableErr = reps[by].svc.Disable(ctx, org.ID, org.OwnerID)
						}()
					}
					work <- j
				}
				close(work)
				wg.Wait()
				<-disabled
				require.NoError(t, disableErr, "trial %d: Disable", trial)
				signIns += len(ins)
				succeeded += len(tokens)
				failed += len(ins) - len(tokens)
				left, err := st.ListSessions(ctx, session.Query{OrgID: org.ID, Method: session.MethodSSO, Limit: session.MaxListLimit}, clock())
				require.NoError(t, err)
				leftInStore += len(left)
				if trial%2 == 1 {
					require.NoError(t, reps[1-by].svc.Enable(ctx, org.ID, org.OwnerID), "trial %d: Enable again", trial)
				}
				for _, tok := range tokens {
					for _, r := range reps {
						if s, err := r.svc.ValidateSession(ctx, tok); err == nil {
							valid++
							t.Errorf("trial %d: session %s valid after Disable (epoch %d)", trial, s.ID[:8], s.Epoch)
						} else if !errors.Is(err, session.ErrEnded) {
							t.Errorf("trial %d: ValidateSession err = %v; want ErrEnded", trial, err)
						}
					}
				}
				if trial%2 == 1 { // SSO works again, for new sign-ins
					res, err := startSignIn(t, rA, org, ssotest.User{Email: "after@dis.example"}, "").post(t, rB)
					require.NoError(t, err)
					_, err = rA.svc.ValidateSession(ctx, res.Token)
					require.NoError(t, err, "a sign-in after SSO was turned on again")
				}
			}
			t.Logf("%s: %d trials (seed %d), %d sign-ins: %d succeeded, %d refused (SSO off); %d SSO sessions left un-ended in the store by in-flight sign-ins; %d sessions valid afterwards; %v",
				b.name, disableTrials, seed, signIns, succeeded, failed, leftInStore, valid, time.Since(start).Round(time.Millisecond))
		})
	}
}

// orgEdit is one of the concurrent edits of TestRaceLostUpdates: each sets
// its own field.
type orgEdit struct {
	name string
	set  func(*sso.Organization)
	has  func(*sso.Organization) bool
}

func orgEdits() []orgEdit {
	return []orgEdit{
		{name: "SessionTimeout", set: func(o *sso.Organization) { o.SessionTimeout = 2 * time.Hour },
			has: func(o *sso.Organization) bool { return o.SessionTimeout == 2*time.Hour }},
		{name: "AllowIdPInitiated", set: func(o *sso.Organization) { o.AllowIdPInitiated = true },
			has: func(o *sso.Organization) bool { return o.AllowIdPInitiated }},
		{name: "JITProvisioning", set: func(o *sso.Organization) { o.JITProvisioning = false },
			has: func(o *sso.Organization) bool { return !o.JITProvisioning }},
		{name: "Attributes.FirstName", set: func(o *sso.Organization) { o.Attributes.FirstName = []string{"givenName"} },
			has: func(o *sso.Organization) bool { return slices.Equal(o.Attributes.FirstName, []string{"givenName"}) }},
	}
}

// TestRaceLostUpdates races edits of different fields from two replicas:
// each edit is saved (and present afterwards) or ErrConflict (and absent),
// never silently lost; Version counts the saves. Then an edit from a copy
// read before Disable cannot turn SSO back on.
func TestRaceLostUpdates(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			start := time.Now()
			rA, rB, st := twoReplicas(t, b)
			reps := []replica{rA, rB}
			ctx := context.Background()
			var edits, saved, conflicts, lost, retried int
			for trial := range lostUpdateTrials {
				org := raceOrg(t, st, fmt.Sprintf("lu%d", trial))
				es := orgEdits()
				errs := make([]error, len(es))
				var runs atomic.Int64
				gate := make(chan struct{})
				var wg sync.WaitGroup
				for k, e := range es {
					wg.Go(func() {
						<-gate
						_, errs[k] = reps[k%2].svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
							runs.Add(1)
							time.Sleep(time.Duration(k) * 300 * time.Microsecond) // between the read and the save
							e.set(o)
							return nil
						})
					})
				}
				close(gate)
				wg.Wait()
				final, err := st.Organization(ctx, org.ID)
				require.NoError(t, err)
				ok := 0
				for k, e := range es {
					edits++
					switch {
					case errs[k] == nil && e.has(final):
						saved++
						ok++
					case errors.Is(errs[k], sso.ErrConflict) && !e.has(final):
						conflicts++
					default:
						lost++
						t.Errorf("trial %d: edit %s: err = %v, present = %v", trial, e.name, errs[k], e.has(final))
					}
				}
				retried += int(runs.Load()) - len(es)
				assert.Equal(t, int64(1+ok), final.Version, "trial %d: Version counts the saves", trial)
				assert.True(t, final.Enabled)
			}
			t.Logf("%s: %d trials, %d concurrent edits: %d saved, %d ErrConflict, %d lost; %d edit re-runs after a conflict; %v",
				b.name, lostUpdateTrials, edits, saved, conflicts, lost, retried, time.Since(start).Round(time.Millisecond))
			disableAmongEdits(t, st, reps)
			staleAfterDisable(t, st, rA, rB)
		})
	}
}

// disableAmongEdits races Disable on one replica against edits of the
// settings on both: Disable either takes effect (SSO off, epoch moved on,
// every saved edit kept) or fails with ErrConflict and leaves SSO on. It
// logs how often Disable lost to the edits.
func disableAmongEdits(t *testing.T, st faultstore.Inner, reps []replica) {
	ctx := context.Background()
	start := time.Now()
	var disabled, conflicted, wrong int
	for trial := range lostUpdateTrials {
		org := raceOrg(t, st, fmt.Sprintf("dae%d", trial))
		es := orgEdits()
		errs := make([]error, len(es))
		var disableErr error
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for k, e := range es {
			wg.Go(func() {
				<-gate
				_, errs[k] = reps[k%2].svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
					time.Sleep(time.Duration(k) * 300 * time.Microsecond)
					e.set(o)
					return nil
				})
			})
		}
		wg.Go(func() {
			<-gate
			disableErr = reps[trial%2].svc.Disable(ctx, org.ID, org.OwnerID)
		})
		close(gate)
		wg.Wait()
		final, err := st.Organization(ctx, org.ID)
		require.NoError(t, err)
		saves := 0
		for k, e := range es {
			switch {
			case errs[k] == nil && e.has(final):
				saves++
			case errors.Is(errs[k], sso.ErrConflict) && !e.has(final):
			default:
				wrong++
				t.Errorf("trial %d: edit %s: err = %v, present = %v", trial, e.name, errs[k], e.has(final))
			}
		}
		switch {
		case disableErr == nil && !final.Enabled && final.SSOEpoch == org.SSOEpoch+1:
			disabled++
			saves++
		case errors.Is(disableErr, sso.ErrConflict) && final.Enabled && final.SSOEpoch == org.SSOEpoch:
			conflicted++
		default:
			wrong++
			t.Errorf("trial %d: Disable err = %v; stored Enabled %v, epoch %d", trial, disableErr, final.Enabled, final.SSOEpoch)
		}
		assert.Equal(t, int64(1+saves), final.Version, "trial %d: Version counts the saves", trial)
	}
	t.Logf("Disable racing 4 edits, %d trials: %d disabled, %d ErrConflict (SSO left on; the caller must retry), %d inconsistent; %v",
		lostUpdateTrials, disabled, conflicted, wrong, time.Since(start).Round(time.Millisecond))
}

// staleAfterDisable: an admin save prepared from a copy read before Disable
// never turns SSO back on, whether the copy is saved directly (ErrConflict),
// handed back by an edit (a rule refuses it), or its edit races Disable (it
// is re-run on the disabled organization).
func staleAfterDisable(t *testing.T, st faultstore.Inner, rA, rB replica) {
	ctx := context.Background()
	for i := range staleDisableTries {
		org := raceOrg(t, st, fmt.Sprintf("stale%d", i))
		stale := org.Clone()

		// The edit reads the organization, then Disable runs on the other
		// replica before the save: the save conflicts and the edit is run
		// again on the disabled organization.
		var runs int
		got, err := rA.svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
			runs++
			if runs == 1 {
				require.NoError(t, rB.svc.Disable(ctx, org.ID, org.OwnerID))
			}
			o.SessionTimeout = 3 * time.Hour
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, runs, "the edit runs again after the conflict")
		assert.False(t, got.Enabled, "the save after Disable turned SSO on")
		assert.Equal(t, 3*time.Hour, got.SessionTimeout)
		assert.Equal(t, stale.SSOEpoch+1, got.SSOEpoch)

		// The stale copy saved directly through the port: ErrConflict.
		stale.SessionTimeout = 4 * time.Hour
		require.ErrorIs(t, st.UpdateOrganization(ctx, stale), sso.ErrConflict)

		// The stale copy handed back by an edit: refused by the rules.
		_, err = rA.svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
			*o = *stale.Clone()
			return nil
		})
		require.ErrorIs(t, err, sso.ErrNotAllowed)

		final, err := st.Organization(ctx, org.ID)
		require.NoError(t, err)
		require.False(t, final.Enabled, "SSO turned back on by a stale save")
		require.Equal(t, 3*time.Hour, final.SessionTimeout)
		require.Equal(t, int64(3), final.Version)
	}
	t.Logf("%d edits from copies read before Disable: SSO stayed off in all", 3*staleDisableTries)
}
