package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// User is an account of the demo application itself, not of orgsso: the
// host's own user table, which orgsso never sees. Members of an organization
// (roles, "allow access without SSO") live in the orgsso store; a User links
// to its membership by ID (Member.UserID) and email.
type User struct {
	ID    string
	OrgID string
	Email string
	Name  string
	// PasswordHash is the app password, hashed by hashPassword; "" for a user
	// who has only ever signed in through SSO.
	PasswordHash string
}

// errNoUser is returned for an unknown user.
var errNoUser = errors.New("no such user")

// userTable keeps the demo's users in the demo_users table of the same SQLite
// file as the orgsso store.
type userTable struct{ db *sql.DB }

// openUserTable creates the demo_users table if it does not exist yet.
func openUserTable(ctx context.Context, db *sql.DB) (*userTable, error) {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS demo_users (
		id            TEXT PRIMARY KEY,
		org_id        TEXT NOT NULL,
		email         TEXT NOT NULL,
		email_key     TEXT NOT NULL UNIQUE,
		name          TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT ''
	)`)
	if err != nil {
		return nil, err
	}
	t := &userTable{db: db}
	if err := t.rekey(ctx); err != nil {
		return nil, fmt.Errorf("re-keying emails: %w", err)
	}
	return t, nil
}

// rekey brings the email keys earlier versions of the demo wrote (with
// strings.ToLower, which made "\u212Aate@acme.example" the user
// "kate@acme.example") to emailKey. Keys equal under the new rule were equal
// under the old one, so no two users come to share a key.
func (t *userTable) rekey(ctx context.Context) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM demo_users`)
	if err != nil {
		return err
	}
	stale := map[string]string{} // id -> new key
	for rows.Next() {
		var id, email, key string
		if err := rows.Scan(&id, &email, &key); err != nil {
			rows.Close()
			return err
		}
		if k := emailKey(email); k != key {
			stale[id] = k
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, k := range stale {
		if _, err := tx.ExecContext(ctx, `UPDATE demo_users SET email_key = ? WHERE id = ?`, k, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

const userColumns = `id, org_id, email, name, password_hash`

// scanUser reads one row of userColumns; no row is errNoUser.
func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errNoUser
	}
	return u, err
}

// ByEmail returns the user with this email, compared case-insensitively.
func (t *userTable) ByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(t.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM demo_users WHERE email_key = ?`, emailKey(email)))
}

// ByID returns the user with this ID.
func (t *userTable) ByID(ctx context.Context, id string) (User, error) {
	return scanUser(t.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM demo_users WHERE id = ?`, id))
}

// Save creates or replaces the user with u.ID.
func (t *userTable) Save(ctx context.Context, u User) error {
	_, err := t.db.ExecContext(ctx, `INSERT INTO demo_users (id, org_id, email, email_key, name, password_hash)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, email = excluded.email,
			email_key = excluded.email_key, name = excluded.name, password_hash = excluded.password_hash`,
		u.ID, u.OrgID, u.Email, emailKey(u.Email), u.Name, u.PasswordHash)
	return err
}

// List returns the users of an organization, by email.
func (t *userTable) List(ctx context.Context, orgID string) ([]User, error) {
	rows, err := t.db.QueryContext(ctx,
		`SELECT `+userColumns+` FROM demo_users WHERE org_id = ? ORDER BY email_key`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// emailKey is the form of an email address users are looked up by: orgsso's
// rule, sso.MemberEmailKey (ASCII case does not matter; nothing else is
// folded), so that the demo's users and orgsso's members never disagree on
// who an address is.
func emailKey(email string) string { return sso.MemberEmailKey(strings.TrimSpace(email)) }
