package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/storetest"
)

// TestTwoReplicas: two Services, each with its own handle, on one file.
func TestTwoReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	storetest.RunReplicas(t,
		func(t *testing.T) storetest.Store { return open(t, path) },
		func(t *testing.T) storetest.Store { return open(t, path) })
}

// TestRestartKeepsState is the demo's setup: organizations, members and
// sessions written through a Service survive closing and reopening the file.
func TestRestartKeepsState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	now := time.Now().UTC()
	clock := func() time.Time { return now }

	st, err := openNoCleanup(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	org := &sso.Organization{ID: "org-acme", SSOName: "acme", OwnerID: "u-owner", StrictMode: true, SessionTimeout: 2 * time.Hour,
		RoleMapping: rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{
			{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blog": {"developer"}}}}}}
	member := &sso.Member{OrgID: org.ID, UserID: "u-alice", Email: "Alice@Acme.example", FirstName: "Alice", OrgRole: rolemap.RoleMember,
		StackRoles: map[string][]string{"blog": {"developer"}}}
	if err := st.SaveOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMember(ctx, member); err != nil {
		t.Fatal(err)
	}
	_, token, err := session.NewManager(st, session.WithClock(clock)).Create(ctx, org.ID, "u-alice", session.MethodSSO, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := open(t, path)
	gotOrg, err := st2.OrganizationBySSOName(ctx, "acme")
	if err != nil || gotOrg.OwnerID != "u-owner" || !gotOrg.StrictMode || gotOrg.SessionTimeout != 2*time.Hour || len(gotOrg.RoleMapping.Mappings) != 1 {
		t.Errorf("organization after restart = %+v, %v", gotOrg, err)
	}
	gotM, err := st2.Member(ctx, org.ID, "alice@acme.example")
	if err != nil || gotM.UserID != "u-alice" || gotM.StackRoles["blog"][0] != "developer" {
		t.Errorf("member after restart = %+v, %v", gotM, err)
	}
	if _, err := session.NewManager(st2, session.WithClock(clock)).Validate(ctx, token); err != nil {
		t.Errorf("session after restart: err = %v", err)
	}
	if _, err := st2.Member(ctx, org.ID, "bob@acme.example"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("unknown member after restart: err = %v", err)
	}
}
