package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/postgres"
)

// Open a store shared by every replica of the application. With
// DATABASE_URL=postgres://app:…@db.internal:5432/app?sslmode=verify-full&search_path=orgsso
// the tables go to the orgsso schema (which must exist), apart from the
// application's own.
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	sessions := session.NewManager(st)
	_ = sessions // hand st and sessions to sso.New
}
