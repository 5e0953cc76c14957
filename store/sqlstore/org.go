package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// Organization returns the organization with this ID, or an error wrapping
// sso.ErrNotFound. An ID longer than sso.MaxKeyBytes is an error wrapping
// ErrKeyTooLong.
func (s *Store) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization", id); err != nil {
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
// does not lowercase them. The empty name of drafts is never found. A name
// longer than sso.MaxKeyBytes is an error wrapping ErrKeyTooLong.
func (s *Store) OrganizationBySSOName(ctx context.Context, ssoName string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization by SSO name", ssoName); err != nil {
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

// OrganizationByDomain returns the organization that has verified this
// email domain (sso.DomainStore), or an error wrapping sso.ErrNotFound: an
// unknown domain, one only claimed (not verified), and the empty name. The
// domain matches exactly (bytewise) the Name of a verified sso.Domain; the
// store does not lowercase it (the Service stores and asks lowercase
// names). It reads the organization through the verified domain registry
// (verified_domains, see migration 0007) in one query. A domain longer than
// sso.MaxKeyBytes is an error wrapping ErrKeyTooLong.
func (s *Store) OrganizationByDomain(ctx context.Context, domain string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization by domain", domain); err != nil {
		return nil, err
	}
	if domain == "" || !storable(domain) {
		return nil, errorf(sso.ErrNotFound, "organization with verified domain %q", domain)
	}
	o, err := s.scanOrg(s.stmts.orgByDomain.QueryRowContext(ctx, domain))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "organization with verified domain %q", domain)
	}
	if err != nil {
		return nil, dbErr(ctx, "organization by domain", err)
	}
	return o, nil
}

// OrganizationsWithMetadataURL lists the organizations that name an IdP
// metadata URL (sso.MetadataLister): their own (IdPMetadataURL) or a SAML
// connection's (Connection.MetadataURL), those whose ID sorts after after
// ("" = from the start; the last ID of a page is the cursor of the next),
// in ascending ID order (bytewise), at most limit of them. One page is one
// query, a range of the (has_metadata_url, id) index (see migration 0008),
// which every organization write keeps in line with the URLs. None is a nil
// slice and no error. A limit outside 1..sso.MaxListLimit, an after longer
// than sso.MaxKeyBytes (ErrKeyTooLong) or one that is not valid UTF-8 or
// holds NUL is an error wrapping ErrInvalidArgument.
func (s *Store) OrganizationsWithMetadataURL(ctx context.Context, after string, limit int) ([]*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 || limit > sso.MaxListLimit {
		return nil, errorf(ErrInvalidArgument, "organizations with a metadata URL: limit %d not within 1..%d", limit, sso.MaxListLimit)
	}
	if err := checkKeys("organizations with a metadata URL: the cursor", after); err != nil {
		return nil, err
	}
	if !storable(after) {
		return nil, errorf(ErrInvalidArgument, "organizations with a metadata URL: the cursor is not valid UTF-8 or holds a NUL byte")
	}
	rows, err := s.stmts.orgsWithMetadataURL.QueryContext(ctx, true, after, limit)
	if err != nil {
		return nil, dbErr(ctx, "organizations with a metadata URL", err)
	}
	defer rows.Close()
	var list []*sso.Organization
	for rows.Next() {
		var r orgRow
		err := rows.Scan(r.dests()...)
		var o *sso.Organization
		if err == nil {
			o, err = r.decode()
		}
		if err != nil {
			return nil, dbErr(ctx, "organizations with a metadata URL", err)
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "organizations with a metadata URL", err)
	}
	return list, nil
}

func (s *Store) scanOrg(row *sql.Row) (*sso.Organization, error) {
	var r orgRow
	if err := row.Scan(r.dests()...); err != nil {
		return nil, err
	}
	return r.decode()
}

// orgRowFor checks what every write of an organization needs (a non-nil
// org with an ID, keys within sso.MaxKeyBytes, domain names included,
// storable strings, times within the years 0–9999) and returns its row.
func orgRowFor(org *sso.Organization) (*orgRow, error) {
	if org == nil {
		return nil, errorf(ErrInvalidArgument, "nil organization")
	}
	if org.ID == "" {
		return nil, errorf(ErrInvalidArgument, "organization without an ID")
	}
	if err := checkKeys("organization", org.ID, org.SSOName, org.OwnerID); err != nil {
		return nil, err
	}
	for _, d := range org.Domains {
		if err := checkKeys("organization domain", d.Name); err != nil {
			return nil, err
		}
	}
	if err := checkStorable("organization", org); err != nil {
		return nil, err
	}
	row, err := encodeOrg(org)
	if err != nil {
		return nil, errorf(ErrInvalidArgument, "organization %q: %v", org.ID, err)
	}
	return row, nil
}

// nameTaken tells a write of org that failed with err (attempt 1 or 2) what
// to answer. The only constraint an organization write can break is the SSO
// name's unique index. Rather than parse each driver's errors, look: the row
// that holds the name was committed before the violation was reported, so
// the answer is ErrSSONameTaken. If none holds it any more (it was renamed
// meanwhile), retry is true the first time.
func (s *Store) nameTaken(ctx context.Context, op string, org *sso.Organization, err error, attempt int) (retry bool, _ error) {
	if org.SSOName == "" || ctx.Err() != nil {
		return false, dbErr(ctx, op, err)
	}
	var holder string
	switch herr := s.stmts.nameHolder.QueryRowContext(ctx, org.SSOName, org.ID).Scan(&holder); {
	case herr == nil:
		return false, errorf(sso.ErrSSONameTaken, "SSO name %q", org.SSOName)
	case !errors.Is(herr, sql.ErrNoRows):
		return false, dbErr(ctx, op, errors.Join(err, herr))
	case attempt >= 2:
		return false, dbErr(ctx, op, err)
	}
	return true, nil
}

// registerDomains brings the verified domain registry (verified_domains,
// see migration 0007) in line with org, whose row tx has just written: the
// organization holds exactly its verified domains (verifiedDomains). It
// claims the domains it does not hold yet and releases those it no longer
// verifies, in domain order, so that concurrent writers never wait for each
// other in a circle. If another organization holds a domain it returns
// that domain, and the caller rolls tx back.
func (s *Store) registerDomains(ctx context.Context, tx *sql.Tx, org *sso.Organization) (taken string, _ error) {
	want := verifiedDomains(org.Domains)
	rows, err := tx.StmtContext(ctx, s.stmts.heldDomains).QueryContext(ctx, org.ID)
	if err != nil {
		return "", err
	}
	var held []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return "", err
		}
		held = append(held, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return "", err
	}
	if len(want) == 0 && len(held) == 0 {
		return "", nil
	}
	slices.Sort(held)
	all := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(want), held...))))
	for _, d := range all {
		_, wanted := slices.BinarySearch(want, d)
		_, holds := slices.BinarySearch(held, d)
		switch {
		case wanted && !holds:
			n, err := rowsAffected(tx.StmtContext(ctx, s.stmts.claimDomain).ExecContext(ctx, d, org.ID))
			if err != nil {
				return "", err
			}
			if n == 0 {
				return d, nil
			}
		case holds && !wanted:
			if _, err := rowsAffected(tx.StmtContext(ctx, s.stmts.releaseDomain).ExecContext(ctx, d, org.ID)); err != nil {
				return "", err
			}
		}
	}
	return "", nil
}

// writeOrg runs write, a statement on the organizations row of org, and
// registerDomains in one transaction, and commits only if write wrote a row
// and no other organization holds one of org's verified domains. written
// tells whether write wrote one, so an error came after it; taken is the
// domain another organization holds, if any.
func (s *Store) writeOrg(ctx context.Context, org *sso.Organization, write *sql.Stmt, args []any) (n int, written bool, taken string, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		n, err = rowsAffected(tx.StmtContext(ctx, write).ExecContext(ctx, args...))
		if err != nil || n == 0 {
			return false, err
		}
		written = true
		taken, err = s.registerDomains(ctx, tx, org)
		return taken == "", err
	})
	return n, written, taken, err
}

// domainTaken is the error of an organization write refused because
// another organization has verified domain.
func domainTaken(org *sso.Organization, domain string) error {
	return errorf(sso.ErrDomainTaken, "organization %q: domain %q", org.ID, domain)
}

// SaveOrganization creates org or replaces the organization with the same
// ID, Version and SSOEpoch included, as given, in one transaction with the
// verified domain registry. An SSO name held by another organization is an
// error wrapping sso.ErrSSONameTaken (the database's unique index decides,
// so two replicas cannot both take a name); renaming an organization frees
// its old name at once. An empty SSO name is allowed (a draft) and is not
// unique. Then a verified domain (sso.Domain.Verified) another organization
// has verified is an error wrapping sso.ErrDomainTaken (the registry's
// primary key decides); a domain the organization no longer verifies is
// free at once. On error nothing is written.
//
// The store checks only what it needs: a non-nil org with an ID, keys (ID,
// SSO name, OwnerID, domain names) of at most sso.MaxKeyBytes (else
// ErrKeyTooLong), strings it can store unchanged and times within the years
// 0–9999. Validating the organization (org.Validate) is the caller's job.
func (s *Store) SaveOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	row, err := orgRowFor(org)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		_, written, taken, err := s.writeOrg(ctx, org, s.stmts.saveOrg, row.args())
		switch {
		case err == nil && taken != "":
			return domainTaken(org, taken)
		case err == nil:
			return nil
		case written:
			return dbErr(ctx, "save organization", err)
		}
		if retry, err := s.nameTaken(ctx, "save organization", org, err, attempt); !retry {
			return err
		}
	}
}

// CreateOrganization stores org as a new organization with Version 1, in one
// INSERT … ON CONFLICT (id) DO NOTHING in a transaction with the verified
// domain registry, and sets org.Version to 1; SSOEpoch is stored as given.
// In this order: an ID already stored is an error wrapping
// sso.ErrDuplicateID, an SSO name another organization holds one wrapping
// sso.ErrSSONameTaken (the unique index decides), a verified domain another
// organization holds one wrapping sso.ErrDomainTaken (the registry decides);
// in each case nothing is written and org is unchanged. It checks org as
// SaveOrganization does.
func (s *Store) CreateOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	row, err := orgRowFor(org)
	if err != nil {
		return err
	}
	row.version = 1
	for attempt := 1; ; attempt++ {
		n, written, taken, err := s.writeOrg(ctx, org, s.stmts.createOrg, row.args())
		switch {
		case err == nil && n == 0:
			return errorf(sso.ErrDuplicateID, "organization %q", org.ID)
		case err == nil && taken != "":
			return domainTaken(org, taken)
		case err == nil:
			org.Version = 1
			return nil
		case written:
			return dbErr(ctx, "create organization", err)
		}
		// An ID taken as well as a name: the ID is the first thing wrong.
		if ctx.Err() == nil {
			var one int
			switch xerr := s.stmts.orgExists.QueryRowContext(ctx, org.ID).Scan(&one); {
			case xerr == nil:
				return errorf(sso.ErrDuplicateID, "organization %q", org.ID)
			case !errors.Is(xerr, sql.ErrNoRows):
				return dbErr(ctx, "create organization", errors.Join(err, xerr))
			}
		}
		if retry, err := s.nameTaken(ctx, "create organization", org, err, attempt); !retry {
			return err
		}
	}
}

// UpdateOrganization replaces the stored organization with org's ID if its
// stored Version is org.Version, in one UPDATE … WHERE id = ? AND version = ?
// that also adds one to the version, in a transaction with the verified
// domain registry: of any number of concurrent updates from one version, in
// any number of processes, exactly one finds the row. On success
// org.Version is the new version. Otherwise nothing is written, org is
// unchanged, and the error wraps, in this order, sso.ErrNotFound (no
// organization has the ID), sso.ErrConflict (the stored Version differs),
// sso.ErrSSONameTaken or sso.ErrDomainTaken (a domain org verifies another
// organization has verified). Every field but the version is stored as
// given, SSOEpoch included. It checks org as SaveOrganization does.
func (s *Store) UpdateOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	row, err := orgRowFor(org)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		n, written, taken, err := s.writeOrg(ctx, org, s.stmts.updateOrg, row.updateArgs())
		switch {
		case err != nil && written:
			return dbErr(ctx, "update organization", err)
		case err != nil:
			if retry, err := s.nameTaken(ctx, "update organization", org, err, attempt); !retry {
				return err
			}
			continue
		case taken != "":
			return domainTaken(org, taken)
		}
		if n == 1 {
			org.Version++
			return nil
		}
		// No row had the ID and version: tell which is wrong.
		var stored int64
		switch err := s.stmts.orgVersion.QueryRowContext(ctx, org.ID).Scan(&stored); {
		case errors.Is(err, sql.ErrNoRows):
			return errorf(sso.ErrNotFound, "organization %q", org.ID)
		case err != nil:
			return dbErr(ctx, "update organization", err)
		case stored != org.Version || attempt >= 2:
			return errorf(sso.ErrConflict, "organization %q has version %d, not %d", org.ID, stored, org.Version)
		}
		// The version matches now: the organization was created between
		// the two statements. Try once more.
	}
}

// memberRow is a member as its row stores it, for scanning.
type memberRow struct {
	m          sso.Member
	role       string
	stackRoles string // JSON
}

// dests returns pointers to the row's fields in the order of memberColumns.
func (r *memberRow) dests() []any {
	return []any{&r.m.OrgID, &r.m.Email, &r.m.UserID, &r.m.FirstName, &r.m.LastName, &r.role, &r.stackRoles, &r.m.AllowWithoutSSO}
}

// scanMember reads one member from a row of memberColumns.
func scanMember(scan func(dest ...any) error) (*sso.Member, error) {
	var r memberRow
	if err := scan(r.dests()...); err != nil {
		return nil, err
	}
	return r.decode()
}

func (r *memberRow) decode() (*sso.Member, error) {
	m := r.m
	m.OrgRole = rolemap.OrgRole(r.role)
	if err := unmarshalStackRoles(r.stackRoles, &m.StackRoles); err != nil {
		return nil, fmt.Errorf("stack_roles: %w", err)
	}
	return &m, nil
}

// checkEmail checks an email argument of a member method: one
// sso.ValidateMemberEmail refuses, or longer than sso.MaxKeyBytes, is an
// error wrapping ErrInvalidArgument.
func checkEmail(orgID, email string) error {
	if err := sso.ValidateMemberEmail(email); err != nil {
		return fmt.Errorf("sqlstore: member of organization %q: %w", orgID, err)
	}
	return checkKeys("member email", email)
}

// Member returns the member of organization orgID with this email, or an
// error wrapping sso.ErrNotFound. The email matches by sso.MemberEmailKey,
// computed in Go, as in every store; one sso.ValidateMemberEmail refuses (not
// valid UTF-8, or holding NUL) is an error wrapping ErrInvalidArgument, and
// so is a key longer than sso.MaxKeyBytes (ErrKeyTooLong).
func (s *Store) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	return runner{s: s}.memberByEmail(ctx, orgID, email)
}

// memberByEmail is Member, run by r.
func (r runner) memberByEmail(ctx context.Context, orgID, email string) (*sso.Member, error) {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkEmail(orgID, email); err != nil {
		return nil, err
	}
	if err := checkKeys("member", orgID); err != nil {
		return nil, err
	}
	if !storable(orgID) {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	m, err := r.member(ctx, orgID, sso.MemberEmailKey(email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	if err != nil {
		return nil, dbErr(ctx, "member", err)
	}
	return m, nil
}

// member reads the member with this organization and email key, run by
// r; sql.ErrNoRows if there is none.
func (r runner) member(ctx context.Context, orgID, key string) (*sso.Member, error) {
	return scanMember(r.queryRow(ctx, r.s.stmts.member, orgID, key).Scan)
}

// memberArgs checks m as every member write does (a non-nil member with an
// OrgID and an Email sso.ValidateMemberEmail accepts, keys within
// sso.MaxKeyBytes, storable strings) and returns its values in the order of
// memberWriteColumns.
func memberArgs(m *sso.Member) ([]any, error) {
	if m == nil {
		return nil, errorf(ErrInvalidArgument, "nil member")
	}
	if m.OrgID == "" || m.Email == "" {
		return nil, errorf(ErrInvalidArgument, "member without an organization ID or email")
	}
	if err := checkEmail(m.OrgID, m.Email); err != nil {
		return nil, err
	}
	if err := checkKeys("member", m.OrgID, m.UserID); err != nil {
		return nil, err
	}
	if err := checkStorable("member", m); err != nil {
		return nil, err
	}
	stackRoles, err := marshalStackRoles(m.StackRoles)
	if err != nil {
		return nil, errorf(ErrInvalidArgument, "member stack roles: %v", err)
	}
	return []any{m.OrgID, sso.MemberEmailKey(m.Email), m.Email, m.UserID,
		m.FirstName, m.LastName, string(m.OrgRole), stackRoles, m.AllowWithoutSSO}, nil
}

// SaveMember creates m or replaces the member with the same organization ID
// and email (compared by sso.MemberEmailKey, as in Member). The email is kept
// as given. m needs an OrgID and an Email that sso.ValidateMemberEmail accepts
// (else an error wrapping ErrInvalidArgument), and keys (OrgID, UserID,
// Email) of at most sso.MaxKeyBytes (ErrKeyTooLong); the store does not
// check that the organization exists. Unlike CreateMember it does not refuse
// a UserID another member holds (hosts have stored such members); the same
// transaction keeps the user ID registry naming one holder of each user ID.
func (s *Store) SaveMember(ctx context.Context, m *sso.Member) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	args, err := memberArgs(m)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		if _, err := rowsAffected(tx.StmtContext(ctx, s.stmts.saveMember).ExecContext(ctx, args...)); err != nil {
			return false, err
		}
		return true, s.registerMember(ctx, tx, m.OrgID, args[1].(string), m.UserID)
	})
	if err != nil {
		return dbErr(ctx, "save member", err)
	}
	return nil
}

// registerMember brings the user ID registry in line with the member that
// tx has just written with this email key and user ID: what the member held
// under another user ID is released (and handed on), and its user ID is
// registered to it unless another member holds it already (SaveMember's
// several members with one user ID).
func (s *Store) registerMember(ctx context.Context, tx *sql.Tx, orgID, key, userID string) error {
	if err := s.releaseUserIDs(ctx, tx, orgID, key, userID); err != nil {
		return err
	}
	if userID == "" {
		return nil
	}
	_, err := rowsAffected(tx.StmtContext(ctx, s.stmts.registerUserID).ExecContext(ctx, orgID, userID, key))
	return err
}

// releaseUserIDs removes from the registry the user IDs but keep that the
// member with this email key holds, in tx, and hands each on to the member
// that still has it, if any.
func (s *Store) releaseUserIDs(ctx context.Context, tx *sql.Tx, orgID, key, keep string) error {
	rows, err := tx.StmtContext(ctx, s.stmts.releaseUserIDs).QueryContext(ctx, orgID, key, keep)
	if err != nil {
		return err
	}
	var released []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		released = append(released, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	handOn := tx.StmtContext(ctx, s.stmts.handOnUserID)
	for _, id := range released {
		if _, err := rowsAffected(handOn.ExecContext(ctx, orgID, id)); err != nil {
			return err
		}
	}
	return nil
}

// createMemberAttempts bounds CreateMember's retries when the member it
// found in the way is removed before it can read it.
const createMemberAttempts = 5

// CreateMember stores m if its organization has no member with m's email key
// and none with m's UserID, and returns a copy of m. If it has one with the
// email key, it writes nothing and returns that member with an error
// wrapping sso.ErrMemberExists; otherwise a member with the (non-empty)
// UserID under another email key is an error wrapping sso.ErrUserIDTaken,
// nothing written.
//
// One transaction inserts the member (INSERT … ON CONFLICT DO NOTHING) and
// claims its user ID in the registry (member_users, whose primary key is
// (org_id, user_id); see migration 0005); a claim held by another email key
// rolls both back. So of concurrent creators of one email, in any number of
// processes, exactly one creates the member and the others read the
// winner's, and of concurrent creators of one user ID under several emails
// at most one succeeds (PostgreSQL makes a conflicting insert wait for the
// transaction in its way; SQLite runs one writer at a time). If the member
// in the way is removed before it is read, CreateMember tries again, a few
// times, then gives up with an error wrapping sso.ErrConflict. m is checked
// as SaveMember checks it.
func (s *Store) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	return runner{s: s}.createMember(ctx, m)
}

// createMember is CreateMember, run by r.
func (r runner) createMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	args, err := memberArgs(m)
	if err != nil {
		return nil, err
	}
	key := args[1].(string)
	for range createMemberAttempts {
		var exists, taken bool
		err := r.inTx(ctx, func(tx *sql.Tx) (bool, error) {
			n, err := rowsAffected(tx.StmtContext(ctx, s.stmts.createMember).ExecContext(ctx, args...))
			if err != nil || n == 0 {
				exists = n == 0
				return false, err
			}
			if m.UserID == "" {
				return true, nil
			}
			var holder string
			if err := tx.StmtContext(ctx, s.stmts.claimUserID).QueryRowContext(ctx, m.OrgID, m.UserID, key).Scan(&holder); err != nil {
				return false, err
			}
			var one int
			if holder != key {
				// The claim locked the row: its holder cannot change now.
				switch err := tx.StmtContext(ctx, s.stmts.holderHolds).QueryRowContext(ctx, m.OrgID, holder, m.UserID).Scan(&one); {
				case err == nil:
					taken = true
					return false, nil
				case !errors.Is(err, sql.ErrNoRows):
					return false, err
				}
				// A stale row (see migration 0005): take it over.
				if _, err := rowsAffected(tx.StmtContext(ctx, s.stmts.takeUserID).ExecContext(ctx, key, m.OrgID, m.UserID)); err != nil {
					return false, err
				}
			}
			switch err := tx.StmtContext(ctx, s.stmts.otherHolder).QueryRowContext(ctx, m.OrgID, m.UserID, key).Scan(&one); {
			case err == nil:
				taken = true
				return false, nil
			case !errors.Is(err, sql.ErrNoRows):
				return false, err
			}
			return true, nil
		})
		switch {
		case err != nil:
			return nil, dbErr(ctx, "create member", err)
		case taken:
			return nil, errorf(sso.ErrUserIDTaken, "user %q, member %q of organization %q", m.UserID, m.Email, m.OrgID)
		case !exists:
			return cloneMember(m), nil
		}
		existing, err := r.member(ctx, m.OrgID, key)
		if errors.Is(err, sql.ErrNoRows) {
			continue // removed in between: the email is free again
		}
		if err != nil {
			return nil, dbErr(ctx, "create member", err)
		}
		return existing, errorf(sso.ErrMemberExists, "member %q of organization %q", m.Email, m.OrgID)
	}
	return nil, errorf(sso.ErrConflict, "member %q of organization %q was created and removed concurrently %d times",
		m.Email, m.OrgID, createMemberAttempts)
}

// UpdateMember replaces the member with m's organization and email key (the
// email as given, every other field too), in one UPDATE; if there is none
// (it was removed), it writes nothing and returns an error wrapping
// sso.ErrNotFound: it never creates one. m is checked as SaveMember checks
// it.
func (s *Store) UpdateMember(ctx context.Context, m *sso.Member) error {
	return runner{s: s}.updateMember(ctx, m)
}

// updateMember is UpdateMember, run by r.
func (r runner) updateMember(ctx context.Context, m *sso.Member) error {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return err
	}
	args, err := memberArgs(m)
	if err != nil {
		return err
	}
	var n int
	err = r.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		n, err = rowsAffected(tx.StmtContext(ctx, s.stmts.updateMember).ExecContext(ctx, append(args[2:], args[0], args[1])...))
		if err != nil || n == 0 {
			return false, err
		}
		return true, s.registerMember(ctx, tx, m.OrgID, args[1].(string), m.UserID)
	})
	if err != nil {
		return dbErr(ctx, "update member", err)
	}
	if n == 0 {
		return errorf(sso.ErrNotFound, "member %q of organization %q", m.Email, m.OrgID)
	}
	return nil
}

// DeleteMember removes the member of organization orgID with this email
// (by sso.MemberEmailKey), or returns an error wrapping sso.ErrNotFound if
// there is none. The email is checked as Member checks it.
func (s *Store) DeleteMember(ctx context.Context, orgID, email string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkEmail(orgID, email); err != nil {
		return err
	}
	if err := checkKeys("delete member", orgID); err != nil {
		return err
	}
	if !storable(orgID) {
		return errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	key := sso.MemberEmailKey(email)
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		n, err = rowsAffected(tx.StmtContext(ctx, s.stmts.deleteMember).ExecContext(ctx, orgID, key))
		if err != nil || n == 0 {
			return false, err
		}
		return true, s.releaseUserIDs(ctx, tx, orgID, key, "")
	})
	if err != nil {
		return dbErr(ctx, "delete member", err)
	}
	if n == 0 {
		return errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	return nil
}

// MemberByUserID returns the member of organization orgID with this user ID
// (the one with the lowest email key, in byte order, if several have it),
// or an error wrapping sso.ErrNotFound; an empty userID is never found, not
// even a member saved without a UserID. One query, on the (org_id, user_id,
// email_key) index. Keys longer than sso.MaxKeyBytes are an error wrapping
// ErrKeyTooLong.
func (s *Store) MemberByUserID(ctx context.Context, orgID, userID string) (*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("member by user ID", orgID, userID); err != nil {
		return nil, err
	}
	if userID == "" || !storable(orgID) || !storable(userID) {
		return nil, errorf(sso.ErrNotFound, "member with user ID %q of organization %q", userID, orgID)
	}
	m, err := scanMember(s.stmts.memberByUserID.QueryRowContext(ctx, orgID, orgID, userID).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "member with user ID %q of organization %q", userID, orgID)
	}
	if err != nil {
		return nil, dbErr(ctx, "member by user ID", err)
	}
	return m, nil
}

// Members lists the members of organization orgID in ascending
// sso.MemberEmailKey order (bytewise), those whose key sorts after
// sso.MemberEmailKey(after) ("" = from the start; the last Email of a page,
// or its key, is the cursor of the next), at most limit of them. One page is
// one query (WHERE email_key > ? ORDER BY email_key LIMIT ?). An
// organization without members lists none (a nil slice) without error. An
// empty orgID, a limit outside 1..sso.MaxListLimit (0 included: the Service
// maps 0 to sso.DefaultListLimit) or an after that sso.ValidateMemberEmail
// refuses is an error wrapping ErrInvalidArgument; a key longer than
// sso.MaxKeyBytes one wrapping ErrKeyTooLong.
func (s *Store) Members(ctx context.Context, orgID, after string, limit int) ([]*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if orgID == "" {
		return nil, errorf(ErrInvalidArgument, "members: empty organization ID")
	}
	if limit < 1 || limit > sso.MaxListLimit {
		return nil, errorf(ErrInvalidArgument, "members: limit %d not within 1..%d", limit, sso.MaxListLimit)
	}
	if err := checkKeys("members", orgID, after); err != nil {
		return nil, err
	}
	if err := sso.ValidateMemberEmail(after); err != nil {
		return nil, fmt.Errorf("sqlstore: members: the cursor: %w", err)
	}
	if !storable(orgID) {
		return nil, nil // no stored member has such a key
	}
	rows, err := s.stmts.members.QueryContext(ctx, orgID, sso.MemberEmailKey(after), limit)
	if err != nil {
		return nil, dbErr(ctx, "members", err)
	}
	defer rows.Close()
	var list []*sso.Member
	for rows.Next() {
		m, err := scanMember(rows.Scan)
		if err != nil {
			return nil, dbErr(ctx, "members", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "members", err)
	}
	return list, nil
}

// listLimit returns the page size a listing asked for: def for 0, limit if
// it is within 1..maxLimit, else an error wrapping ErrInvalidArgument.
func listLimit(limit, def, maxLimit int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > maxLimit:
		return 0, errorf(ErrInvalidArgument, "list limit %d not within 1..%d", limit, maxLimit)
	}
	return limit, nil
}
