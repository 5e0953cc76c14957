package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// call is one method call with arguments that are fine unless the test
// replaces the store or context.
type call struct {
	name string
	do   func(st *memory.Store, ctx context.Context) error
}

var calls = []call{
	{"Organization", func(st *memory.Store, ctx context.Context) error {
		_, err := st.Organization(ctx, "o")
		return ignoreNotFound(err)
	}},
	{"OrganizationBySSOName", func(st *memory.Store, ctx context.Context) error {
		_, err := st.OrganizationBySSOName(ctx, "acme")
		return ignoreNotFound(err)
	}},
	{"SaveOrganization", func(st *memory.Store, ctx context.Context) error {
		return st.SaveOrganization(ctx, &sso.Organization{ID: "o"})
	}},
	{"Member", func(st *memory.Store, ctx context.Context) error {
		_, err := st.Member(ctx, "o", "e")
		return ignoreNotFound(err)
	}},
	{"SaveMember", func(st *memory.Store, ctx context.Context) error {
		return st.SaveMember(ctx, &sso.Member{OrgID: "o", Email: "e"})
	}},
	{"SaveRequest", func(st *memory.Store, ctx context.Context) error {
		return st.SaveRequest(ctx, &sso.PendingRequest{ID: "r"})
	}},
	{"ConsumeRequest", func(st *memory.Store, ctx context.Context) error {
		_, err := st.ConsumeRequest(ctx, "r")
		return ignoreNotFound(err)
	}},
	{"UseAssertion", func(st *memory.Store, ctx context.Context) error { return st.UseAssertion(ctx, "o", "a", t0) }},
	{"CreateSession", func(st *memory.Store, ctx context.Context) error {
		return st.CreateSession(ctx, &session.Session{ID: "s", OrgID: "o"})
	}},
	{"Session", func(st *memory.Store, ctx context.Context) error {
		_, err := st.Session(ctx, "s")
		return ignoreNotFound(err)
	}},
	{"DeleteSession", func(st *memory.Store, ctx context.Context) error { return ignoreNotFound(st.DeleteSession(ctx, "s")) }},
	{"DeleteOrgSessions", func(st *memory.Store, ctx context.Context) error {
		_, err := st.DeleteOrgSessions(ctx, "o", "")
		return err
	}},
	{"DeleteExpiredSessions", func(st *memory.Store, ctx context.Context) error {
		_, err := st.DeleteExpiredSessions(ctx, t0)
		return err
	}},
	{"Cleanup", func(st *memory.Store, ctx context.Context) error { _, err := st.Cleanup(ctx, t0); return err }},
	{"CleanupBatch", func(st *memory.Store, ctx context.Context) error { _, err := st.CleanupBatch(ctx, t0, 10); return err }},
	{"CreateOrganization", func(st *memory.Store, ctx context.Context) error {
		return st.CreateOrganization(ctx, &sso.Organization{ID: "o2"})
	}},
	{"UpdateOrganization", func(st *memory.Store, ctx context.Context) error {
		return ignoreNotFound(st.UpdateOrganization(ctx, &sso.Organization{ID: "o3"}))
	}},
	{"CreateMember", func(st *memory.Store, ctx context.Context) error {
		_, err := st.CreateMember(ctx, &sso.Member{OrgID: "o", Email: "e2"})
		return err
	}},
	{"UpdateMember", func(st *memory.Store, ctx context.Context) error {
		return ignoreNotFound(st.UpdateMember(ctx, &sso.Member{OrgID: "o", Email: "e3"}))
	}},
	{"DeleteMember", func(st *memory.Store, ctx context.Context) error {
		return ignoreNotFound(st.DeleteMember(ctx, "o", "e4"))
	}},
	{"MemberByUserID", func(st *memory.Store, ctx context.Context) error {
		_, err := st.MemberByUserID(ctx, "o", "u")
		return ignoreNotFound(err)
	}},
	{"Members", func(st *memory.Store, ctx context.Context) error { _, err := st.Members(ctx, "o", "", 10); return err }},
	{"ListSessions", func(st *memory.Store, ctx context.Context) error {
		_, err := st.ListSessions(ctx, session.Query{OrgID: "o"}, t0)
		return err
	}},
	{"EndSessions", func(st *memory.Store, ctx context.Context) error {
		_, err := st.EndSessions(ctx, session.Query{OrgID: "o"}, session.EndRevoked)
		return err
	}},
}

func ignoreNotFound(err error) error {
	if errors.Is(err, sso.ErrNotFound) {
		return nil
	}
	return err
}

// TestEveryMethodGuards: every method fails cleanly, without panicking, on a
// nil store, a nil context or a cancelled one, and works on a zero Store.
func TestEveryMethodGuards(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	var nilCtx context.Context
	tests := []struct {
		name    string
		st      *memory.Store
		ctx     context.Context
		wantErr error
	}{
		{name: "nil store", st: nil, ctx: t.Context(), wantErr: memory.ErrInvalidArgument},
		{name: "nil context", st: memory.New(), ctx: nilCtx, wantErr: memory.ErrInvalidArgument},
		{name: "cancelled context", st: memory.New(), ctx: cancelled, wantErr: context.Canceled},
		{name: "zero Store works", st: &memory.Store{}, ctx: t.Context()},
		{name: "New works", st: memory.New(), ctx: t.Context()},
	}
	for _, tt := range tests {
		for _, c := range calls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				if err := c.do(tt.st, tt.ctx); !errors.Is(err, tt.wantErr) {
					t.Errorf("%s() err = %v; want %v", c.name, err, tt.wantErr)
				}
			})
		}
	}
}
