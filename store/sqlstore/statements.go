package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// orgColumns lists the organizations columns in the order of orgRow.args and
// orgRow.dests.
const orgColumns = `id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
	idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
	role_mapping_enabled, role_delimiter, role_mappings,
	jit_provisioning, allow_idp_initiated, attributes`

// The SQL of every statement, with ? placeholders; every value is a
// placeholder, never text spliced into SQL.
const (
	qOrgByID = `SELECT ` + orgColumns + ` FROM organizations WHERE id = ?`
	// sso_name <> '' lets both databases use the partial unique index.
	qOrgByName = `SELECT ` + orgColumns + ` FROM organizations WHERE sso_name = ? AND sso_name <> ''`
	qSaveOrg   = `INSERT INTO organizations (` + orgColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
			attributes = excluded.attributes`
	qNameHolder = `SELECT id FROM organizations WHERE sso_name = ? AND sso_name <> '' AND id <> ?`
	qMember     = `SELECT email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso
		FROM members WHERE org_id = ? AND email_key = ?`
	qSaveMember = `INSERT INTO members
		(org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, email_key) DO UPDATE SET
			email = excluded.email,
			user_id = excluded.user_id,
			first_name = excluded.first_name,
			last_name = excluded.last_name,
			org_role = excluded.org_role,
			stack_roles = excluded.stack_roles,
			allow_without_sso = excluded.allow_without_sso`
	qSaveRequest = `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	// One statement: of concurrent callers, only the one whose DELETE
	// removed the row gets it back.
	qConsumeRequest = `DELETE FROM pending_requests WHERE id = ?
		RETURNING org_id, return_to, tester_user_id, expires_at, binding_hash`
	// The same, only for the row of this organization and binding: a
	// mismatch deletes nothing.
	qConsumeMatchingRequest = `DELETE FROM pending_requests WHERE id = ? AND org_id = ? AND binding_hash = ?
		RETURNING return_to, tester_user_id, expires_at`
	// A row already there, expired or not, is a replay: nothing is inserted.
	qUseAssertion = `INSERT INTO used_assertions (org_id, assertion_id, until)
		VALUES (?, ?, ?) ON CONFLICT (org_id, assertion_id) DO NOTHING`
	qCreateSession = `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	qSession                 = `SELECT org_id, user_id, method, created_at, expires_at FROM sessions WHERE id = ?`
	qDeleteSession           = `DELETE FROM sessions WHERE id = ?`
	qDeleteOrgSessions       = `DELETE FROM sessions WHERE org_id = ?`
	qDeleteOrgSessionsMethod = `DELETE FROM sessions WHERE org_id = ? AND method = ?`
	qDeleteExpiredSessions   = `DELETE FROM sessions WHERE expires_at <= ?`
	qCleanupRequests         = `DELETE FROM pending_requests WHERE expires_at < ?`
	qCleanupAssertions       = `DELETE FROM used_assertions WHERE until < ?`
)

// statements holds the prepared form of every query. database/sql prepares
// each on a connection the first time it runs there.
type statements struct {
	orgByID, orgByName, saveOrg, nameHolder                           *sql.Stmt
	member, saveMember                                                *sql.Stmt
	saveRequest, consumeRequest, consumeMatchingRequest, useAssertion *sql.Stmt
	createSession, session, deleteSession                             *sql.Stmt
	deleteOrgSessions, deleteOrgSessionsMethod, deleteExpiredSessions *sql.Stmt
	cleanupRequests, cleanupAssertions                                *sql.Stmt
}

// all pairs every statement with its SQL.
func (st *statements) all() []struct {
	stmt  **sql.Stmt
	query string
} {
	return []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.orgByID, qOrgByID}, {&st.orgByName, qOrgByName}, {&st.saveOrg, qSaveOrg}, {&st.nameHolder, qNameHolder},
		{&st.member, qMember}, {&st.saveMember, qSaveMember},
		{&st.saveRequest, qSaveRequest}, {&st.consumeRequest, qConsumeRequest},
		{&st.consumeMatchingRequest, qConsumeMatchingRequest}, {&st.useAssertion, qUseAssertion},
		{&st.createSession, qCreateSession}, {&st.session, qSession}, {&st.deleteSession, qDeleteSession},
		{&st.deleteOrgSessions, qDeleteOrgSessions}, {&st.deleteOrgSessionsMethod, qDeleteOrgSessionsMethod},
		{&st.deleteExpiredSessions, qDeleteExpiredSessions},
		{&st.cleanupRequests, qCleanupRequests}, {&st.cleanupAssertions, qCleanupAssertions},
	}
}

// prepare prepares every statement for the dialect.
func (st *statements) prepare(ctx context.Context, db *sql.DB, d Dialect) error {
	for _, s := range st.all() {
		stmt, err := db.PrepareContext(ctx, d.rebind(s.query))
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
