package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/store/sqlite"
)

// openTestUsers opens a user table in a new database.
func openTestUsers(t *testing.T) *userTable {
	t.Helper()
	_, tbl, closeStore, err := openStore(t.Context(), filepath.Join(t.TempDir(), "demo.db"), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { closeStore() })
	return tbl.users
}

// TestUserEmailKeys: the demo's users are looked up by orgsso's email rule,
// so the Kelvin-sign address is not kate's account (ProvisionUser would have
// linked an IdP identity "\u212Aate@acme.example" to her).
func TestUserEmailKeys(t *testing.T) {
	users := openTestUsers(t)
	require.NoError(t, users.Save(t.Context(), User{ID: "u-kate", OrgID: "o", Email: "kate@acme.example"}))
	for email, want := range map[string]error{
		"kate@acme.example":                  nil,
		" KATE@Acme.Example ":                nil,
		"\u212Aate@acme.example":             errNoUser,
		"kate\xff@acme.example":              errNoUser,
		"kate@acme.example\u0307":            errNoUser,
		"\u212AATE@ACME.EXAMPLE":             errNoUser,
		"kate@acme.example.":                 errNoUser,
		strings.ToUpper("kate@acme.example"): nil,
	} {
		u, err := users.ByEmail(t.Context(), "o", email)
		if !errors.Is(err, want) || (want == nil && u.ID != "u-kate") {
			t.Errorf("ByEmail(%q) = %+v, %v; want %v", email, u, err, want)
		}
	}
}

// TestUsersPerOrganization: one email is one user per organization; a
// lookup in one organization never finds another's user, and a user never
// moves to another organization.
func TestUsersPerOrganization(t *testing.T) {
	ctx := t.Context()
	users := openTestUsers(t)
	a := User{ID: "u-a", OrgID: "org-a", Email: "pat@example.com", Name: "Pat A", PasswordHash: "hash-a"}
	b := User{ID: "u-b", OrgID: "org-b", Email: "PAT@example.com", Name: "Pat B"}
	require.NoError(t, users.Save(ctx, a))
	require.NoError(t, users.Save(ctx, b))

	got, err := users.ByEmail(ctx, "org-b", "pat@example.com")
	require.NoError(t, err)
	assert.Equal(t, b, got)
	_, err = users.ByEmail(ctx, "org-c", "pat@example.com")
	assert.ErrorIs(t, err, errNoUser)

	with, err := users.WithPassword(ctx, "Pat@Example.com")
	require.NoError(t, err)
	assert.Equal(t, []User{a}, with, "only users with a password")

	moved := a
	moved.OrgID, moved.Name = "org-b", "Renamed"
	assert.ErrorIs(t, users.Save(ctx, moved), errOtherOrganization)
	got, err = users.ByID(ctx, "u-a")
	require.NoError(t, err)
	assert.Equal(t, a, got, "a refused save changed the user")

	assert.Error(t, users.Save(ctx, User{ID: "u-a2", OrgID: "org-a", Email: "pat@example.com"}), "a second user with the same email in one organization")
}

// TestUserTableMigrates: the users of an earlier demo's demo_users table
// (an email unique across organizations, keys written with
// strings.ToLower) move to demo_org_users, re-keyed, when the table is
// opened.
func TestUserTableMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	st, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(t.Context(), `CREATE TABLE demo_users (
		id            TEXT PRIMARY KEY,
		org_id        TEXT NOT NULL,
		email         TEXT NOT NULL,
		email_key     TEXT NOT NULL UNIQUE,
		name          TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT ''
	)`)
	require.NoError(t, err)
	for id, email := range map[string]string{"u-kelvin": "\u212Aate@acme.example", "u-asa": "ÅSA@acme.example", "u-ada": "Ada@acme.example"} {
		_, err := st.DB().ExecContext(t.Context(), `INSERT INTO demo_users (id, org_id, email, email_key) VALUES (?, 'o', ?, ?)`,
			id, email, strings.ToLower(email))
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())

	_, tbl, closeStore, err := openStore(t.Context(), path, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer closeStore()
	for email, want := range map[string]string{
		"\u212Aate@acme.example": "u-kelvin",
		"kate@acme.example":      "",
		"ÅSA@ACME.example":       "u-asa",
		"åsa@acme.example":       "",
		"ADA@acme.example":       "u-ada",
	} {
		u, err := tbl.users.ByEmail(t.Context(), "o", email)
		if u.ID != want || (want == "" && !errors.Is(err, errNoUser)) {
			t.Errorf("ByEmail(%q) = %q, %v; want %q", email, u.ID, err, want)
		}
	}
	var legacy int
	require.NoError(t, tbl.users.db.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_master WHERE name = 'demo_users'`).Scan(&legacy))
	assert.Zero(t, legacy, "demo_users is still there")
}
