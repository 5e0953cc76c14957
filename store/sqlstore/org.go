package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// Organization returns the organization with this ID, or an error wrapping
// sso.ErrNotFound.
func (s *Store) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if !storable(id) {
		return nil, errorf(sso.ErrNotFound, "organization %q", id)
	}
	o, err := s.scanOrg(s.stmts.orgByID.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "organization %q", id)
	}
	if err != nil {
		return nil, dbErr(ctx, "organization", err)
	}
	return o, nil
}

// OrganizationBySSOName returns the organization with this SSO name, or an
// error wrapping sso.ErrNotFound. Names match exactly (bytewise); the store
// does not lowercase them. The empty name of drafts is never found.
func (s *Store) OrganizationBySSOName(ctx context.Context, ssoName string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if ssoName == "" || !storable(ssoName) {
		return nil, errorf(sso.ErrNotFound, "organization with SSO name %q", ssoName)
	}
	o, err := s.scanOrg(s.stmts.orgByName.QueryRowContext(ctx, ssoName))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "organization with SSO name %q", ssoName)
	}
	if err != nil {
		return nil, dbErr(ctx, "organization by SSO name", err)
	}
	return o, nil
}

func (s *Store) scanOrg(row *sql.Row) (*sso.Organization, error) {
	var r orgRow
	if err := row.Scan(r.dests()...); err != nil {
		return nil, err
	}
	return r.decode()
}

// SaveOrganization creates org or replaces the organization with the same
// ID, in one statement. An SSO name held by another organization is an error
// wrapping sso.ErrSSONameTaken (the database's unique index decides, so two
// replicas cannot both take a name); renaming an organization frees its old
// name at once. An empty SSO name is allowed (a draft) and is not unique.
//
// The store checks only what it needs: a non-nil org with an ID, and strings
// it can store unchanged. Validating the organization (org.Validate) is the
// caller's job.
func (s *Store) SaveOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if org == nil {
		return errorf(ErrInvalidArgument, "nil organization")
	}
	if org.ID == "" {
		return errorf(ErrInvalidArgument, "organization without an ID")
	}
	if err := checkStorable("organization", org); err != nil {
		return err
	}
	row, err := encodeOrg(org)
	if err != nil {
		return errorf(ErrInvalidArgument, "organization %q: %v", org.ID, err)
	}
	// The only constraint the upsert can break is the SSO name's unique
	// index. Rather than parse each driver's errors, look: the row that
	// holds the name was committed before the violation was reported. If
	// none does any more (it was renamed meanwhile), try once more.
	for attempt := 1; ; attempt++ {
		_, err = s.stmts.saveOrg.ExecContext(ctx, row.args()...)
		if err == nil {
			return nil
		}
		if org.SSOName == "" || ctx.Err() != nil {
			return dbErr(ctx, "save organization", err)
		}
		var holder string
		switch herr := s.stmts.nameHolder.QueryRowContext(ctx, org.SSOName, org.ID).Scan(&holder); {
		case herr == nil:
			return errorf(sso.ErrSSONameTaken, "SSO name %q", org.SSOName)
		case !errors.Is(herr, sql.ErrNoRows):
			return dbErr(ctx, "save organization", errors.Join(err, herr))
		case attempt == 2:
			return dbErr(ctx, "save organization", err)
		}
	}
}

// Member returns the member of organization orgID with this email, or an
// error wrapping sso.ErrNotFound. The email matches by sso.MemberEmailKey,
// computed in Go, as in every store; one sso.ValidateMemberEmail refuses (not
// valid UTF-8, or holding NUL) is an error wrapping ErrInvalidArgument.
func (s *Store) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := sso.ValidateMemberEmail(email); err != nil {
		return nil, fmt.Errorf("sqlstore: member of organization %q: %w", orgID, err)
	}
	if !storable(orgID) {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	m := &sso.Member{OrgID: orgID}
	var role, stackRoles string
	err := s.stmts.member.QueryRowContext(ctx, orgID, sso.MemberEmailKey(email)).
		Scan(&m.Email, &m.UserID, &m.FirstName, &m.LastName, &role, &stackRoles, &m.AllowWithoutSSO)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	if err != nil {
		return nil, dbErr(ctx, "member", err)
	}
	m.OrgRole = rolemap.OrgRole(role)
	if err := json.Unmarshal([]byte(stackRoles), &m.StackRoles); err != nil {
		return nil, dbErr(ctx, "member: stack_roles", err)
	}
	return m, nil
}

// SaveMember creates m or replaces the member with the same organization ID
// and email (compared by sso.MemberEmailKey, as in Member). The email is kept
// as given. m needs an OrgID and an Email that sso.ValidateMemberEmail accepts
// (else an error wrapping ErrInvalidArgument); the store does not check that
// the organization exists.
func (s *Store) SaveMember(ctx context.Context, m *sso.Member) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if m == nil {
		return errorf(ErrInvalidArgument, "nil member")
	}
	if m.OrgID == "" || m.Email == "" {
		return errorf(ErrInvalidArgument, "member without an organization ID or email")
	}
	if err := sso.ValidateMemberEmail(m.Email); err != nil {
		return fmt.Errorf("sqlstore: member of organization %q: %w", m.OrgID, err)
	}
	if err := checkStorable("member", m); err != nil {
		return err
	}
	stackRoles, err := json.Marshal(m.StackRoles)
	if err != nil {
		return errorf(ErrInvalidArgument, "member stack roles: %v", err)
	}
	_, err = s.stmts.saveMember.ExecContext(ctx, m.OrgID, sso.MemberEmailKey(m.Email), m.Email, m.UserID,
		m.FirstName, m.LastName, string(m.OrgRole), string(stackRoles), m.AllowWithoutSSO)
	if err != nil {
		return dbErr(ctx, "save member", err)
	}
	return nil
}
