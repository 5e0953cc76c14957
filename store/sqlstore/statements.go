package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/orgsso/orgsso/session"
)

// orgColumns lists the organizations columns in the order of orgRow.args and
// orgRow.dests.
const orgColumns = `id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
	idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
	role_mapping_enabled, role_delimiter, role_mappings,
	jit_provisioning, allow_idp_initiated, attributes, version, sso_epoch,
	connections, domains, idp_metadata_url, has_metadata_url, mfa_policy`

// orgValues has a placeholder per column of orgColumns.
const orgValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// memberColumns lists the members columns a Member is read from, in the
// order of memberRow.dests; memberWriteColumns those it is written to, in the
// order of memberArgs.
const (
	memberColumns      = `org_id, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso`
	memberWriteColumns = `org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso`
)

// sessionColumns lists the sessions columns in the order of sessionArgs and
// sessionRow.dests.
const sessionColumns = `id, org_id, user_id, method, created_at, expires_at, epoch, end_reason, connection_id`

// skipLocked stands, in a query, for what the dialect adds to a SELECT whose
// rows a DELETE takes: PostgreSQL's FOR UPDATE SKIP LOCKED, so concurrent
// cleaners take disjoint batches rather than wait for each other's rows;
// nothing in SQLite, whose writers take turns.
const skipLocked = `/*skip locked*/`

// schemaCookie stands, in a query, for the database's schema cookie where
// the dialect has one a restore moves: SQLite's schema_version, which the
// backup API moves on the live database (ChangeSeq folds it in); 0 on
// PostgreSQL.
const schemaCookie = `/*schema cookie*/`

// The SQL of every statement, with ? placeholders; every value is a
// placeholder, never text spliced into SQL.
const (
	qOrgByID = `SELECT ` + orgColumns + ` FROM organizations WHERE id = ?`
	// sso_name <> '' lets both databases use the partial unique index.
	qOrgByName = `SELECT ` + orgColumns + ` FROM organizations WHERE sso_name = ? AND sso_name <> ''`
	qSaveOrg   = `INSERT INTO organizations (` + orgColumns + `) VALUES ` + orgValues + `
		ON CONFLICT (id) DO UPDATE SET
			sso_name = excluded.sso_name,
			owner_id = excluded.owner_id,
			enabled = excluded.enabled,
			idp_entity_id = excluded.idp_entity_id,
			idp_sso_url = excluded.idp_sso_url,
			idp_certificates = excluded.idp_certificates,
			idp_signature_algorithm = excluded.idp_signature_algorithm,
			strict_mode = excluded.strict_mode,
			session_timeout_ns = excluded.session_timeout_ns,
			role_mapping_enabled = excluded.role_mapping_enabled,
			role_delimiter = excluded.role_delimiter,
			role_mappings = excluded.role_mappings,
			jit_provisioning = excluded.jit_provisioning,
			allow_idp_initiated = excluded.allow_idp_initiated,
			attributes = excluded.attributes,
			version = excluded.version,
			sso_epoch = excluded.sso_epoch,
			connections = excluded.connections,
			domains = excluded.domains,
			idp_metadata_url = excluded.idp_metadata_url,
			has_metadata_url = excluded.has_metadata_url,
			mfa_policy = excluded.mfa_policy`
	// An ID already stored inserts nothing (ErrDuplicateID); an SSO name
	// another organization holds breaks the unique index.
	qCreateOrg = `INSERT INTO organizations (` + orgColumns + `) VALUES ` + orgValues + `
		ON CONFLICT (id) DO NOTHING`
	// The compare-and-swap: one statement, so of concurrent updates from
	// one version exactly one finds its row (PostgreSQL re-checks the WHERE
	// on the row a concurrent update committed; SQLite runs one writer at a
	// time). Arguments: orgRow.updateArgs.
	qUpdateOrg = `UPDATE organizations SET
			sso_name = ?,
			owner_id = ?,
			enabled = ?,
			idp_entity_id = ?,
			idp_sso_url = ?,
			idp_certificates = ?,
			idp_signature_algorithm = ?,
			strict_mode = ?,
			session_timeout_ns = ?,
			role_mapping_enabled = ?,
			role_delimiter = ?,
			role_mappings = ?,
			jit_provisioning = ?,
			allow_idp_initiated = ?,
			attributes = ?,
			sso_epoch = ?,
			connections = ?,
			domains = ?,
			idp_metadata_url = ?,
			has_metadata_url = ?,
			mfa_policy = ?,
			version = version + 1
		WHERE id = ? AND version = ?`
	qOrgVersion = `SELECT version FROM organizations WHERE id = ?`
	qNameHolder = `SELECT id FROM organizations WHERE sso_name = ? AND sso_name <> '' AND id <> ?`
	qOrgExists  = `SELECT 1 FROM organizations WHERE id = ?`

	// The verified domain registry (verified_domains, see migration 0007),
	// written in the transaction of the organization write, after the
	// organization's row: its writers take turns on that row, so the
	// domains the organization holds stay as read until the transaction
	// ends. A claim inserts nothing if another organization holds the
	// domain (PostgreSQL waits for a concurrent claim or release and
	// re-checks).
	qOrgByDomain = `SELECT ` + orgColumns + ` FROM organizations
		WHERE id = (SELECT org_id FROM verified_domains WHERE domain = ?)`
	qHeldDomains = `SELECT domain FROM verified_domains WHERE org_id = ?`
	// OrganizationsWithMetadataURL: one range of the (has_metadata_url, id)
	// index (see migration 0008), in ID order. The first argument is true.
	qOrgsWithMetadataURL = `SELECT ` + orgColumns + ` FROM organizations
		WHERE has_metadata_url = ? AND id > ? ORDER BY id LIMIT ?`
	qClaimDomain   = `INSERT INTO verified_domains (domain, org_id) VALUES (?, ?) ON CONFLICT (domain) DO NOTHING`
	qReleaseDomain = `DELETE FROM verified_domains WHERE domain = ? AND org_id = ?`

	qMember     = `SELECT ` + memberColumns + ` FROM members WHERE org_id = ? AND email_key = ?`
	qSaveMember = `INSERT INTO members (` + memberWriteColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, email_key) DO UPDATE SET
			email = excluded.email,
			user_id = excluded.user_id,
			first_name = excluded.first_name,
			last_name = excluded.last_name,
			org_role = excluded.org_role,
			stack_roles = excluded.stack_roles,
			allow_without_sso = excluded.allow_without_sso`
	// Insert-if-absent: a member already there (committed, or committed by
	// the concurrent insert PostgreSQL waits for) inserts nothing.
	qCreateMember = `INSERT INTO members (` + memberWriteColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, email_key) DO NOTHING`
	// Arguments: memberArgs without its first two (org_id, email_key), then
	// org_id and email_key.
	qUpdateMember = `UPDATE members SET
			email = ?,
			user_id = ?,
			first_name = ?,
			last_name = ?,
			org_role = ?,
			stack_roles = ?,
			allow_without_sso = ?
		WHERE org_id = ? AND email_key = ?`
	qDeleteMember = `DELETE FROM members WHERE org_id = ? AND email_key = ?`

	// The user ID registry (member_users, see migration 0005), written in
	// the transaction of the member write. A claim inserts the row, or
	// locks the row there (a no-op update: PostgreSQL waits for a
	// concurrent claim and re-checks), and returns the holder's email key.
	qClaimUserID = `INSERT INTO member_users (org_id, user_id, email_key) VALUES (?, ?, ?)
		ON CONFLICT (org_id, user_id) DO UPDATE SET email_key = member_users.email_key
		RETURNING email_key`
	// Whether the holder a claim found still has the user ID, and taking
	// the row over when it has not (a replica of schema 4 removed it or
	// changed its user ID during a rolling upgrade).
	qHolderHolds = `SELECT 1 FROM members WHERE org_id = ? AND email_key = ? AND user_id = ?`
	qTakeUserID  = `UPDATE member_users SET email_key = ? WHERE org_id = ? AND user_id = ?`
	// A member, under another email key, that holds the user ID whatever
	// the registry says (rows a writer of schema 4 stored after the
	// migration, during a rolling upgrade).
	qOtherHolder = `SELECT 1 FROM members WHERE org_id = ? AND user_id = ? AND email_key <> ? LIMIT 1`
	// Registers a member that SaveMember or UpdateMember wrote, unless
	// another member holds the user ID already.
	qRegisterUserID = `INSERT INTO member_users (org_id, user_id, email_key) VALUES (?, ?, ?)
		ON CONFLICT (org_id, user_id) DO NOTHING`
	// Releases what the member with this email key holds but a user ID
	// (the one it has now; '' releases everything).
	qReleaseUserIDs = `DELETE FROM member_users WHERE org_id = ? AND email_key = ? AND user_id <> ?
		RETURNING user_id`
	// Hands a released user ID on to the member that still holds it, if
	// any (several members with one user ID: SaveMember's legacy rows), the
	// one with the lowest email key.
	qHandOnUserID = `INSERT INTO member_users (org_id, user_id, email_key)
		SELECT org_id, user_id, MIN(email_key) FROM members WHERE org_id = ? AND user_id = ?
		GROUP BY org_id, user_id
		ON CONFLICT (org_id, user_id) DO NOTHING`
	// The lowest email key of the user comes from the (org_id, user_id,
	// email_key) index, the row by the primary key: ORDER BY email_key
	// LIMIT 1 let SQLite walk the organization's members in key order.
	qMemberByUserID = `SELECT ` + memberColumns + ` FROM members WHERE org_id = ? AND email_key =
		(SELECT MIN(email_key) FROM members WHERE org_id = ? AND user_id = ?)`
	qMembers = `SELECT ` + memberColumns + ` FROM members WHERE org_id = ? AND email_key > ?
		ORDER BY email_key LIMIT ?`

	qSaveRequest = `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash,
			connection_id, nonce, code_verifier)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	// One statement: of concurrent callers, only the one whose DELETE
	// removed the row gets it back.
	qConsumeRequest = `DELETE FROM pending_requests WHERE id = ?
		RETURNING org_id, return_to, tester_user_id, expires_at, binding_hash, connection_id, nonce, code_verifier`
	// The same, only for the row of this organization and binding: a
	// mismatch deletes nothing.
	qConsumeMatchingRequest = `DELETE FROM pending_requests WHERE id = ? AND org_id = ? AND binding_hash = ?
		RETURNING return_to, tester_user_id, expires_at, connection_id, nonce, code_verifier`
	// A row already there, expired or not, is a replay: nothing is inserted.
	qUseAssertion = `INSERT INTO used_assertions (org_id, assertion_id, until)
		VALUES (?, ?, ?) ON CONFLICT (org_id, assertion_id) DO NOTHING`

	qCreateSession = `INSERT INTO sessions (` + sessionColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	qSession                 = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ?`
	qDeleteSession           = `DELETE FROM sessions WHERE id = ?`
	qDeleteOrgSessions       = `DELETE FROM sessions WHERE org_id = ?`
	qDeleteOrgSessionsMethod = `DELETE FROM sessions WHERE org_id = ? AND method = ?`

	// The cleanup batches: each DELETE takes at most LIMIT rows, found
	// through the expiry index, by primary key (the tables are WITHOUT
	// ROWID in SQLite, which has no DELETE … LIMIT in its default build).
	// Each runs as its own statement, so it holds SQLite's write lock only
	// for one batch.
	qCleanupRequests = `DELETE FROM pending_requests WHERE id IN
		(SELECT id FROM pending_requests WHERE expires_at < ? LIMIT ? ` + skipLocked + `)`
	qCleanupAssertions = `DELETE FROM used_assertions WHERE (org_id, assertion_id) IN
		(SELECT org_id, assertion_id FROM used_assertions WHERE until < ? LIMIT ? ` + skipLocked + `)`
	qCleanupSessions = `DELETE FROM sessions WHERE id IN
		(SELECT id FROM sessions WHERE expires_at <= ? LIMIT ? ` + skipLocked + `)`

	// The change counter (see migration 0009): triggers raise it.
	// With it, the schema cookie and the schema version (see ChangeSeq).
	qChangeSeq = `SELECT seq, ` + schemaCookie + `, (SELECT COALESCE(MAX(version), 0) FROM schema_migrations)
		FROM change_counter WHERE id = 1`
	// InvalidateCaches: a large raise, and on PostgreSQL its notification
	// (the tables are in the current schema, as the listener assumes).
	qInvalidateCaches = `UPDATE change_counter SET seq = seq + ? WHERE id = 1 RETURNING seq`
	qNotifyChange     = `SELECT pg_notify('orgsso_changes', current_schema() || ' ' || $1)`
)

// sessionFilter is one of the eight shapes of a session.Query: by
// organization, and by user, method and connection when they are not empty.
// Each has statements of its own, so every one uses the best index.
type sessionFilter int

const (
	byUser       sessionFilter = 1 << iota // Query.UserID is set
	byMethod                               // Query.Method is set
	byConnection                           // Query.Connection is set
)

// filterOf returns the shape of q.
func filterOf(q session.Query) sessionFilter {
	var f sessionFilter
	if q.UserID != "" {
		f |= byUser
	}
	if q.Method != "" {
		f |= byMethod
	}
	if q.Connection != "" {
		f |= byConnection
	}
	return f
}

// where returns the WHERE condition of the shape; its placeholders take
// filterArgs.
func (f sessionFilter) where() string {
	w := `org_id = ?`
	if f&byUser != 0 {
		w += ` AND user_id = ?`
	}
	if f&byMethod != 0 {
		w += ` AND method = ?`
	}
	if f&byConnection != 0 {
		w += ` AND connection_id = ?`
	}
	return w
}

// filterArgs returns the values of f.where's placeholders for q.
func (f sessionFilter) filterArgs(q session.Query) []any {
	args := []any{q.OrgID}
	if f&byUser != 0 {
		args = append(args, q.UserID)
	}
	if f&byMethod != 0 {
		args = append(args, q.Method)
	}
	if f&byConnection != 0 {
		args = append(args, q.Connection)
	}
	return args
}

// listSessionsSQL lists the sessions of shape f: filterArgs, then now, the
// cursor and the limit.
func (f sessionFilter) listSessionsSQL() string {
	return `SELECT ` + sessionColumns + ` FROM sessions WHERE ` + f.where() + `
		AND end_reason = '' AND expires_at > ? AND id > ? ORDER BY id LIMIT ?`
}

// endSessionsSQL ends the sessions of shape f: the reason, then filterArgs.
func (f sessionFilter) endSessionsSQL() string {
	return `UPDATE sessions SET end_reason = ? WHERE ` + f.where() + ` AND end_reason = ''`
}

// sessionFilters is how many shapes there are.
const sessionFilters = 8

// statements holds the prepared form of every query. database/sql prepares
// each on a connection the first time it runs there.
type statements struct {
	orgByID, orgByName, saveOrg, nameHolder                           *sql.Stmt
	createOrg, updateOrg, orgVersion, orgExists                       *sql.Stmt
	orgByDomain, heldDomains, claimDomain, releaseDomain              *sql.Stmt
	orgsWithMetadataURL                                               *sql.Stmt
	member, saveMember                                                *sql.Stmt
	createMember, updateMember, deleteMember, memberByUserID, members *sql.Stmt
	claimUserID, holderHolds, takeUserID, otherHolder, registerUserID *sql.Stmt
	releaseUserIDs, handOnUserID                                      *sql.Stmt
	saveRequest, consumeRequest, consumeMatchingRequest, useAssertion *sql.Stmt
	createSession, session, deleteSession                             *sql.Stmt
	deleteOrgSessions, deleteOrgSessionsMethod                        *sql.Stmt
	listSessions, endSessions                                         [sessionFilters]*sql.Stmt
	cleanupRequests, cleanupAssertions, cleanupSessions               *sql.Stmt
	changeSeq                                                         *sql.Stmt
}

// stmtSQL pairs a statement with its SQL.
type stmtSQL struct {
	stmt  **sql.Stmt
	query string
}

// all pairs every statement with its SQL.
func (st *statements) all() []stmtSQL {
	all := []stmtSQL{
		{&st.orgByID, qOrgByID}, {&st.orgByName, qOrgByName}, {&st.saveOrg, qSaveOrg}, {&st.nameHolder, qNameHolder},
		{&st.createOrg, qCreateOrg}, {&st.updateOrg, qUpdateOrg}, {&st.orgVersion, qOrgVersion}, {&st.orgExists, qOrgExists},
		{&st.orgByDomain, qOrgByDomain}, {&st.heldDomains, qHeldDomains}, {&st.claimDomain, qClaimDomain},
		{&st.releaseDomain, qReleaseDomain}, {&st.orgsWithMetadataURL, qOrgsWithMetadataURL},
		{&st.member, qMember}, {&st.saveMember, qSaveMember},
		{&st.createMember, qCreateMember}, {&st.updateMember, qUpdateMember}, {&st.deleteMember, qDeleteMember},
		{&st.memberByUserID, qMemberByUserID}, {&st.members, qMembers},
		{&st.claimUserID, qClaimUserID}, {&st.holderHolds, qHolderHolds}, {&st.takeUserID, qTakeUserID},
		{&st.otherHolder, qOtherHolder}, {&st.registerUserID, qRegisterUserID},
		{&st.releaseUserIDs, qReleaseUserIDs}, {&st.handOnUserID, qHandOnUserID},
		{&st.saveRequest, qSaveRequest}, {&st.consumeRequest, qConsumeRequest},
		{&st.consumeMatchingRequest, qConsumeMatchingRequest}, {&st.useAssertion, qUseAssertion},
		{&st.createSession, qCreateSession}, {&st.session, qSession}, {&st.deleteSession, qDeleteSession},
		{&st.deleteOrgSessions, qDeleteOrgSessions}, {&st.deleteOrgSessionsMethod, qDeleteOrgSessionsMethod},
		{&st.cleanupRequests, qCleanupRequests}, {&st.cleanupAssertions, qCleanupAssertions},
		{&st.cleanupSessions, qCleanupSessions},
		{&st.changeSeq, qChangeSeq},
	}
	for f := range sessionFilter(sessionFilters) {
		all = append(all, stmtSQL{&st.listSessions[f], f.listSessionsSQL()}, stmtSQL{&st.endSessions[f], f.endSessionsSQL()})
	}
	return all
}

// prepare prepares every statement for the dialect.
func (st *statements) prepare(ctx context.Context, db *sql.DB, d Dialect) error {
	for _, s := range st.all() {
		stmt, err := db.PrepareContext(ctx, d.sql(s.query))
		if err != nil {
			return err
		}
		*s.stmt = stmt
	}
	return nil
}

// close closes every prepared statement.
func (st *statements) close() error {
	var errs []error
	for _, s := range st.all() {
		if *s.stmt != nil {
			errs = append(errs, (*s.stmt).Close())
		}
	}
	return errors.Join(errs...)
}
