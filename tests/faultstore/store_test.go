package faultstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// fakeInner answers Organization, UpdateOrganization, Session and
// EndSessions and counts the calls that reached it; any other method
// panics (its embedded Inner is nil), which none of these tests calls.
type fakeInner struct {
	faultstore.Inner
	reached atomic.Int64
	mu      sync.Mutex
	version int64
}

func (f *fakeInner) Organization(_ context.Context, id string) (*sso.Organization, error) {
	f.reached.Add(1)
	if id != "org" {
		return nil, sso.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &sso.Organization{ID: id, Version: f.version}, nil
}

func (f *fakeInner) UpdateOrganization(_ context.Context, org *sso.Organization) error {
	f.reached.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if org.Version != f.version {
		return sso.ErrConflict
	}
	f.version++
	org.Version = f.version
	return nil
}

func (f *fakeInner) Session(context.Context, string) (*session.Session, error) {
	f.reached.Add(1)
	return &session.Session{ID: "s"}, nil
}

func (f *fakeInner) EndSessions(context.Context, session.Query, string) (int, error) {
	f.reached.Add(1)
	return 3, nil
}

func newFake() (*faultstore.Store, *fakeInner) {
	in := &fakeInner{version: 1}
	return faultstore.New(in), in
}

// TestModes checks what each mode does to one call: whether the inner store
// ran, what comes back, and what the error wraps.
func TestModes(t *testing.T) {
	cause := errors.New("connection reset")
	tests := []struct {
		mode        faultstore.Mode
		err         error
		wantReached bool
		wantIs      []error
		wantNil     bool // no value, no error
	}{
		{mode: faultstore.FailBefore, err: cause, wantIs: []error{faultstore.ErrInjected, cause}},
		{mode: faultstore.LostAck, wantReached: true, wantIs: []error{faultstore.ErrInjected}},
		{mode: faultstore.Cancelled, wantIs: []error{faultstore.ErrInjected, context.Canceled}},
		{mode: faultstore.Slow, wantIs: []error{faultstore.ErrInjected, context.DeadlineExceeded}},
		{mode: faultstore.NilResult, wantReached: true, wantNil: true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			fs, in := newFake()
			fs.Inject(faultstore.Fault{Method: faultstore.MethodOrganization, N: 1, Mode: tt.mode, Err: tt.err})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			org, err := fs.Organization(ctx, "org")
			assert.Equal(t, tt.wantReached, in.reached.Load() == 1, "inner store reached")
			assert.Nil(t, org)
			if tt.wantNil {
				assert.NoError(t, err)
			} else {
				var fe *faultstore.Error
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, faultstore.Hit{Method: faultstore.MethodOrganization, Call: 1, Mode: tt.mode},
					faultstore.Hit{Method: fe.Method, Call: fe.Call, Mode: fe.Mode})
				for _, target := range tt.wantIs {
					assert.ErrorIs(t, err, target)
				}
			}
			if tt.mode == faultstore.Slow {
				assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "a slow call returns at the deadline")
			}
			// The fault is spent: the next call goes through.
			org, err = fs.Organization(context.Background(), "org")
			require.NoError(t, err)
			assert.Equal(t, "org", org.ID)
			assert.Equal(t, []faultstore.Hit{{Method: faultstore.MethodOrganization, Call: 1, Mode: tt.mode}}, fs.Hits())
		})
	}
}

// TestLostAckCommits: the inner write happens although the caller sees an
// error.
func TestLostAckCommits(t *testing.T) {
	fs, in := newFake()
	fs.Inject(faultstore.Fault{Method: faultstore.MethodUpdateOrganization, N: 1, Mode: faultstore.LostAck})
	err := fs.UpdateOrganization(context.Background(), &sso.Organization{ID: "org", Version: 1})
	require.ErrorIs(t, err, faultstore.ErrInjected)
	org, err := in.Organization(context.Background(), "org")
	require.NoError(t, err)
	assert.Equal(t, int64(2), org.Version, "the lost write was committed")
}

// TestNthCall: only the Nth call of the method, counted from Inject, fails;
// calls of other methods do not count.
func TestNthCall(t *testing.T) {
	fs, _ := newFake()
	ctx := context.Background()
	_, err := fs.Organization(ctx, "org") // before Inject: not counted by the fault
	require.NoError(t, err)
	fs.Inject(faultstore.Fault{Method: faultstore.MethodOrganization, N: 3, Mode: faultstore.FailBefore})
	var got []bool
	for range 5 {
		_, err := fs.Organization(ctx, "org")
		got = append(got, err != nil)
		_, _ = fs.Session(ctx, "s") // another method: not counted
	}
	assert.Equal(t, []bool{false, false, true, false, false}, got)
	assert.Equal(t, 6, fs.Calls(faultstore.MethodOrganization))
	assert.Equal(t, 5, fs.Calls(faultstore.MethodSession))
	assert.Equal(t, 11, fs.Calls(faultstore.Any))
	assert.Equal(t, []faultstore.Hit{{Method: faultstore.MethodOrganization, Call: 4, Mode: faultstore.FailBefore}}, fs.Hits())
	assert.Zero(t, fs.Pending())
}

// TestEveryCall: N = 0 with Any fails every call until Clear.
func TestEveryCall(t *testing.T) {
	fs, in := newFake()
	fs.Inject(faultstore.Fault{Mode: faultstore.Cancelled})
	ctx := context.Background()
	for range 3 {
		_, err := fs.Organization(ctx, "org")
		require.ErrorIs(t, err, context.Canceled)
		_, err = fs.EndSessions(ctx, session.Query{OrgID: "org"}, "x")
		require.ErrorIs(t, err, context.Canceled)
	}
	assert.Zero(t, in.reached.Load())
	assert.Zero(t, fs.Pending(), "a persistent fault is not pending")
	fs.Clear()
	n, err := fs.EndSessions(ctx, session.Query{OrgID: "org"}, "x")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []faultstore.Method{
		faultstore.MethodOrganization, faultstore.MethodEndSessions,
		faultstore.MethodOrganization, faultstore.MethodEndSessions,
		faultstore.MethodOrganization, faultstore.MethodEndSessions,
		faultstore.MethodEndSessions,
	}, fs.Trace())
	fs.Reset()
	assert.Zero(t, fs.Calls(faultstore.Any))
	assert.Empty(t, fs.Hits())
}

// TestNilResultOnCount: NilResult changes nothing for a method that returns
// no pointer, as Applies says.
func TestNilResultOnCount(t *testing.T) {
	fs, _ := newFake()
	fs.Inject(faultstore.Fault{Method: faultstore.MethodEndSessions, N: 1, Mode: faultstore.NilResult})
	n, err := fs.EndSessions(context.Background(), session.Query{OrgID: "org"}, "x")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.False(t, faultstore.Applies(faultstore.MethodEndSessions, faultstore.NilResult))
	assert.True(t, faultstore.Applies(faultstore.MethodSession, faultstore.NilResult))
	for _, m := range faultstore.Methods() {
		for _, mode := range faultstore.Modes() {
			if mode != faultstore.NilResult {
				assert.True(t, faultstore.Applies(m, mode), "%s %s", m, mode)
			}
		}
	}
}

// TestTwoFaultsOneCall: when two faults pick one call, the first injected
// fails it and both are spent.
func TestTwoFaultsOneCall(t *testing.T) {
	fs, _ := newFake()
	fs.Inject(faultstore.Fault{Method: faultstore.MethodOrganization, N: 1, Mode: faultstore.FailBefore})
	fs.Inject(faultstore.Fault{Method: faultstore.Any, N: 1, Mode: faultstore.Cancelled})
	_, err := fs.Organization(context.Background(), "org")
	require.ErrorIs(t, err, faultstore.ErrInjected)
	require.NotErrorIs(t, err, context.Canceled)
	assert.Zero(t, fs.Pending())
	_, err = fs.Organization(context.Background(), "org")
	require.NoError(t, err)
}

// TestConcurrent: exactly one of many concurrent calls hits a one-shot
// fault (run with -race).
func TestConcurrent(t *testing.T) {
	fs, _ := newFake()
	fs.Inject(faultstore.Fault{Method: faultstore.MethodOrganization, N: 50, Mode: faultstore.FailBefore})
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := fs.Organization(context.Background(), "org"); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), failed.Load())
	assert.Equal(t, 100, fs.Calls(faultstore.MethodOrganization))
}

// TestErrorText names the method, the call and the mode.
func TestErrorText(t *testing.T) {
	err := &faultstore.Error{Method: faultstore.MethodSession, Call: 2, Mode: faultstore.Slow, Err: context.DeadlineExceeded}
	assert.Equal(t, "faultstore: injected slow fault in Session call 2: context deadline exceeded", err.Error())
	assert.Equal(t, "mode(9)", faultstore.Mode(9).String())
	assert.False(t, faultstore.Applies(faultstore.MethodSession, faultstore.Mode(9)))
}
