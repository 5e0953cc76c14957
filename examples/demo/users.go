package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// User is an account of the demo application itself, not of orgsso: the
// host's own user table, which orgsso never sees. Members of an organization
// (roles, "allow access without SSO") live in the orgsso store; a User is
// the member whose Member.UserID is its ID.
//
// Users belong to one organization: the same email in two organizations is
// two users. An identity provider vouches only for its own organization, so
// an SSO sign-in to one organization never reaches the user of another one,
// whatever email its IdP asserts.
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

// userTable keeps the demo's users in the demo_org_users table of the same
// SQLite file as the orgsso store.
type userTable struct{ db *sql.DB }

// openUserTable creates the demo_org_users table if it does not exist yet,
// moving in the users of an earlier demo's demo_users table, where an email
// was unique across organizations.
func openUserTable(ctx context.Context, db *sql.DB) (*userTable, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS demo_org_users (
		id            TEXT PRIMARY KEY,
		org_id        TEXT NOT NULL,
		email         TEXT NOT NULL,
		email_key     TEXT NOT NULL,
		name          TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT '',
		UNIQUE (org_id, email_key)
	)`); err != nil {
		return nil, err
	}
	var legacy int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'demo_users'`).Scan(&legacy); err != nil {
		return nil, err
	}
	if legacy > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO demo_org_users (id, org_id, email, email_key, name, password_hash)
			SELECT id, org_id, email, email_key, name, password_hash FROM demo_users`); err != nil {
			return nil, fmt.Errorf("moving demo_users: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE demo_users`); err != nil {
			return nil, err
		}
	}
	if err := rekey(ctx, tx); err != nil {
		return nil, fmt.Errorf("re-keying emails: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &userTable{db: db}, nil
}

// rekey brings the email keys earlier versions of the demo wrote (with
// strings.ToLower, which made "\u212Aate@acme.example" the user
// "kate@acme.example") to emailKey. Keys equal under the new rule were equal
// under the old one, so no two users come to share a key.
func rekey(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM demo_org_users`)
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
		if _, err := tx.ExecContext(ctx, `UPDATE demo_org_users SET email_key = ? WHERE id = ?`, k, id); err != nil {
			return err
		}
	}
	return nil
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

// ByEmail returns the organization's user with this email, compared by
// emailKey. Another organization's user with the same email is not it.
func (t *userTable) ByEmail(ctx context.Context, orgID, email string) (User, error) {
	return scanUser(t.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM demo_org_users WHERE org_id = ? AND email_key = ?`, orgID, emailKey(email)))
}

// WithPassword returns the users, of any organization, with this email and
// an app password: the accounts a password sign-in may be for.
func (t *userTable) WithPassword(ctx context.Context, email string) ([]User, error) {
	return t.query(ctx, `SELECT `+userColumns+` FROM demo_org_users WHERE email_key = ? AND password_hash != '' ORDER BY org_id`, emailKey(email))
}

// ByID returns the user with this ID.
func (t *userTable) ByID(ctx context.Context, id string) (User, error) {
	return scanUser(t.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM demo_org_users WHERE id = ?`, id))
}

// Save creates or replaces the user with u.ID. A user never moves to
// another organization: saving u.ID with another OrgID is an error.
func (t *userTable) Save(ctx context.Context, u User) error {
	res, err := t.db.ExecContext(ctx, `INSERT INTO demo_org_users (id, org_id, email, email_key, name, password_hash)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
			name = excluded.name, password_hash = excluded.password_hash
		WHERE demo_org_users.org_id = excluded.org_id`,
		u.ID, u.OrgID, u.Email, emailKey(u.Email), u.Name, u.PasswordHash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errOtherOrganization
	}
	return nil
}

// errOtherOrganization: a user ID of another organization.
var errOtherOrganization = errors.New("the user belongs to another organization")

// List returns the users of an organization, by email.
func (t *userTable) List(ctx context.Context, orgID string) ([]User, error) {
	return t.query(ctx, `SELECT `+userColumns+` FROM demo_org_users WHERE org_id = ? ORDER BY email_key`, orgID)
}

// query returns the users a SELECT of userColumns finds.
func (t *userTable) query(ctx context.Context, q string, args ...any) ([]User, error) {
	rows, err := t.db.QueryContext(ctx, q, args...)
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

// newUserID returns a new random user ID.
func newUserID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "user_" + hex.EncodeToString(b), nil
}

// emailKey is the form of an email address users are looked up by: orgsso's
// rule, sso.MemberEmailKey (ASCII case does not matter; nothing else is
// folded), so that the demo's users and orgsso's members never disagree on
// who an address is.
func emailKey(email string) string { return sso.MemberEmailKey(strings.TrimSpace(email)) }
