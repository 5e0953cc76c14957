package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlite"
)

// Open a store in a file, keep an organization and a session in it, and
// see the replay cache refuse an assertion ID the second time.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "orgsso-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := sqlite.Open(ctx, filepath.Join(dir, "data", "orgsso.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	if err := st.SaveOrganization(ctx, &sso.Organization{ID: "org_1", SSOName: "acme", OwnerID: "user_1"}); err != nil {
		log.Fatal(err)
	}
	org, err := st.OrganizationBySSOName(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(org.ID)

	sessions := session.NewManager(st)
	_, token, err := sessions.Create(ctx, org.ID, "user_1", session.MethodSSO, 12*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	s, err := sessions.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.UserID)

	until := time.Now().Add(5 * time.Minute)
	fmt.Println(st.UseAssertion(ctx, org.ID, "_assertion1", until))
	fmt.Println(errors.Is(st.UseAssertion(ctx, org.ID, "_assertion1", until), sso.ErrReplay))
	// Output:
	// org_1
	// user_1
	// <nil>
	// true
}
