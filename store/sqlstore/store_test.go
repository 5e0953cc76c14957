package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// The store is tested on real databases in store/sqlite and store/postgres
// (this package imports no driver); these tests need none.

// noDB is a connector whose connections always fail.
type noDB struct{}

var errNoDB = errors.New("no database here")

func (noDB) Connect(context.Context) (driver.Conn, error) { return nil, errNoDB }
func (noDB) Driver() driver.Driver                        { return nil }

func TestNewInvalid(t *testing.T) {
	db := sql.OpenDB(noDB{})
	defer db.Close()
	var nilCtx context.Context
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		db      *sql.DB
		d       sqlstore.Dialect
		wantErr error
	}{
		{"nil context", nilCtx, db, sqlstore.SQLite, sqlstore.ErrInvalidArgument},
		{"nil db", t.Context(), nil, sqlstore.SQLite, sqlstore.ErrInvalidArgument},
		{"zero dialect", t.Context(), db, 0, sqlstore.ErrInvalidArgument},
		{"unknown dialect", t.Context(), db, 3, sqlstore.ErrInvalidArgument},
		{"cancelled context", cancelled, db, sqlstore.Postgres, context.Canceled},
		{"database fails", t.Context(), db, sqlstore.Postgres, errNoDB},
	}
	for _, tt := range tests {
		st, err := sqlstore.New(tt.ctx, tt.db, tt.d)
		if st != nil || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: New() = %v, %v; want nil, %v", tt.name, st, err, tt.wantErr)
		}
	}
	if _, err := sqlstore.New(t.Context(), db, sqlstore.SQLite); !errors.Is(err, sqlstore.ErrMigration) {
		t.Errorf("New(failing database) err = %v; want ErrMigration", err)
	}
}

// TestNilStore: every method of a nil *Store fails cleanly.
func TestNilStore(t *testing.T) {
	var st *sqlstore.Store
	ctx := t.Context()
	now := time.Now()
	_, e1 := st.Organization(ctx, "o")
	_, e2 := st.OrganizationBySSOName(ctx, "acme")
	_, e3 := st.Member(ctx, "o", "e")
	_, e4 := st.ConsumeRequest(ctx, "r")
	_, e5 := st.Session(ctx, "s")
	_, e6 := st.DeleteOrgSessions(ctx, "o", "")
	_, e7 := st.DeleteExpiredSessions(ctx, now)
	_, e8 := st.Cleanup(ctx, now)
	_, e9 := st.CleanupBatch(ctx, now, 10)
	_, e10 := st.CreateMember(ctx, &sso.Member{OrgID: "o", Email: "e"})
	_, e11 := st.MemberByUserID(ctx, "o", "u")
	_, e12 := st.Members(ctx, "o", "", 10)
	_, e13 := st.ListSessions(ctx, session.Query{OrgID: "o"}, now)
	_, e14 := st.EndSessions(ctx, session.Query{OrgID: "o"}, session.EndRevoked)
	_, e15 := st.ConsumeMatchingRequest(ctx, "r", "o", "h")
	for i, err := range []error{
		e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15,
		st.CreateOrganization(ctx, &sso.Organization{ID: "o"}),
		st.UpdateOrganization(ctx, &sso.Organization{ID: "o"}),
		st.UpdateMember(ctx, &sso.Member{OrgID: "o", Email: "e"}),
		st.DeleteMember(ctx, "o", "e"),
		st.SaveOrganization(ctx, &sso.Organization{ID: "o"}),
		st.SaveMember(ctx, &sso.Member{OrgID: "o", Email: "e"}),
		st.SaveRequest(ctx, &sso.PendingRequest{ID: "r"}),
		st.UseAssertion(ctx, "o", "a", now),
		st.CreateSession(ctx, &session.Session{ID: "s", OrgID: "o"}),
		st.DeleteSession(ctx, "s"),
		st.Close(),
	} {
		if !errors.Is(err, sqlstore.ErrInvalidArgument) {
			t.Errorf("call %d on a nil *Store err = %v; want ErrInvalidArgument", i, err)
		}
	}
	if st.DB() != nil || st.Dialect() != 0 {
		t.Error("DB() or Dialect() of a nil *Store is not zero")
	}
}
