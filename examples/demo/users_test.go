package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/store/sqlite"
)

// TestUserEmailKeys: the demo's users are looked up by orgsso's email rule,
// so the Kelvin-sign address is not kate's account (ProvisionUser would have
// linked an IdP identity "\u212Aate@acme.example" to her).
func TestUserEmailKeys(t *testing.T) {
	_, users, closeStore, err := openStore(t.Context(), filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if err := users.Save(t.Context(), User{ID: "u-kate", OrgID: "o", Email: "kate@acme.example"}); err != nil {
		t.Fatal(err)
	}
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
		u, err := users.ByEmail(t.Context(), email)
		if !errors.Is(err, want) || (want == nil && u.ID != "u-kate") {
			t.Errorf("ByEmail(%q) = %+v, %v; want %v", email, u, err, want)
		}
	}
}

// TestUserTableRekeys: keys an earlier demo wrote with strings.ToLower are
// rewritten when the table is opened.
func TestUserTableRekeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openUserTable(t.Context(), st.DB()); err != nil {
		t.Fatal(err)
	}
	for id, email := range map[string]string{"u-kelvin": "\u212Aate@acme.example", "u-asa": "ÅSA@acme.example", "u-ada": "Ada@acme.example"} {
		if _, err := st.DB().ExecContext(t.Context(), `INSERT INTO demo_users (id, org_id, email, email_key) VALUES (?, 'o', ?, ?)`,
			id, email, strings.ToLower(email)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	_, users, closeStore, err := openStore(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	for email, want := range map[string]string{
		"\u212Aate@acme.example": "u-kelvin",
		"kate@acme.example":      "",
		"ÅSA@ACME.example":       "u-asa",
		"åsa@acme.example":       "",
		"ADA@acme.example":       "u-ada",
	} {
		u, err := users.ByEmail(t.Context(), email)
		if u.ID != want || (want == "" && !errors.Is(err, errNoUser)) {
			t.Errorf("ByEmail(%q) = %q, %v; want %q", email, u.ID, err, want)
		}
	}
}
