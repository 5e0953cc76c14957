package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// An assertion ID is replay-protected until Cleanup runs after its expiry.
func ExampleStore_Cleanup() {
	ctx := context.Background()
	st := memory.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	until := now.Add(5 * time.Minute)

	fmt.Println(st.UseAssertion(ctx, "org1", "_a1", until))
	err := st.UseAssertion(ctx, "org1", "_a1", until)
	fmt.Println(errors.Is(err, sso.ErrReplay))

	n, _ := st.Cleanup(ctx, now.Add(time.Minute)) // not yet expired
	fmt.Println(n)
	n, _ = st.Cleanup(ctx, until.Add(time.Second))
	fmt.Println(n)
	fmt.Println(st.UseAssertion(ctx, "org1", "_a1", until))
	// Output:
	// <nil>
	// true
	// 0
	// 1
	// <nil>
}

// An edit made on a stale copy of an organization is refused: of two admins
// who loaded Version 1, the second to save gets sso.ErrConflict.
func ExampleStore_UpdateOrganization() {
	ctx := context.Background()
	st := memory.New()
	_ = st.CreateOrganization(ctx, &sso.Organization{ID: "org1", SSOName: "acme"})

	first, _ := st.Organization(ctx, "org1")
	second, _ := st.Organization(ctx, "org1")
	first.StrictMode = true
	fmt.Println(st.UpdateOrganization(ctx, first), first.Version)
	second.JITProvisioning = true
	err := st.UpdateOrganization(ctx, second)
	fmt.Println(errors.Is(err, sso.ErrConflict), second.Version)
	// Output:
	// <nil> 2
	// true 1
}

// Of concurrent first sign-ins, one creates the member; the others get it.
func ExampleStore_CreateMember() {
	ctx := context.Background()
	st := memory.New()
	m, err := st.CreateMember(ctx, &sso.Member{OrgID: "org1", UserID: "u1", Email: "ada@example.com"})
	fmt.Println(m.UserID, err)
	m, err = st.CreateMember(ctx, &sso.Member{OrgID: "org1", UserID: "u2", Email: "ADA@example.com"})
	fmt.Println(m.UserID, errors.Is(err, sso.ErrMemberExists))
	// Output:
	// u1 <nil>
	// u1 true
}
