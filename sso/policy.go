package sso

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
)

// ErrSSORequired is PasswordLoginAllowed's answer when the member must sign in
// through the organization's IdP. It wraps ErrAccessDenied.
var ErrSSORequired = fmt.Errorf("%w: this organization requires single sign-on; use Login via SSO", ErrAccessDenied)

// denied is an ErrAccessDenied with the organization rule that refused.
type denied struct{ reason string }

func (e *denied) Error() string { return "sso: access denied: " + e.reason }
func (e *denied) Unwrap() error { return ErrAccessDenied }

// signIn applies the organization's membership rules to a verified identity
// and creates the session:
//
//   - role mapping on: a new member whose IdP roles map to something is
//     created without invitation; an existing member's roles are replaced by
//     the mapped ones at every sign-in, except the owner's and external
//     members'; roles that map to nothing deny access.
//   - role mapping off: only existing members sign in, unless JIT
//     provisioning is on (new members get role member).
//   - names are refreshed from the IdP for everyone.
//
// Before all that, the identity's values must have passed checkIdentity
// (bounds, address syntax), which gave id and refused: with anything refused
// the error is a *saml.ValidationError of saml.CheckIdentity, and nothing is stored.
func (s *Service) signIn(ctx context.Context, ops signInOps, org *Organization, c *Connection, id Identity, refused []string, returnTo string) (*Result, error) {
	res := &Result{Org: org, Connection: c.ID, Identity: id, ReturnTo: returnTo}
	if len(refused) > 0 {
		return res, identityError(refused)
	}
	if id.Email == "" {
		return res, &denied{reason: "the IdP sent no email address (email attribute or emailAddress NameID)"}
	}
	mapping := org.RoleMapping.Map(id.IdPRoles)
	res.Mapping = mapping

	m, err := ops.loadMember(ctx, org.ID, id.Email)
	switch {
	case isNotFound(err):
		m = nil
	case err != nil:
		return res, err
	}
	var provisioned bool
	var oldRole rolemap.OrgRole
	if m == nil && s.provision != nil && ops.inTx() {
		return res, errOutsideTx // ProvisionUser is a host callback
	}
	if m == nil {
		if m, err = s.newMember(ctx, org, c, id, mapping); err != nil {
			return res, err
		}
		if err := s.provisionable(ctx, org, m); err != nil {
			return res, err
		}
		if created, err := ops.createMember(ctx, m); err == nil {
			m, provisioned = created, true
			if s.provision != nil { // a host's user may have had an earlier membership
				s.endStaleAfter(ctx, org.ID, m.UserID) // before this sign-in's own session
			}
			// Reported once committed, whatever happens to the session.
			ops.emit(ctx, Event{Type: EventMemberProvisioned, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, NewRole: m.OrgRole})
		} else if errors.Is(err, ErrMemberExists) {
			m = created // a concurrent first sign-in won: its member, its user ID
		} else if errors.Is(err, ErrUserIDTaken) {
			// provisionable's denial, given by the store: the user became a
			// member under another email since the check.
			return res, errProvisionedOther
		} else {
			return res, err
		}
	}
	if !provisioned {
		changed := false
		if oldRole, changed, err = applySignIn(org, m, id, mapping); err != nil {
			return res, err
		}
		if changed {
			switch err := ops.updateMember(ctx, m); {
			case isNotFound(err):
				return res, &denied{reason: errMemberGone.Error()}
			case err != nil:
				return res, err
			}
			if oldRole != "" {
				ops.emit(ctx, Event{Type: EventRolesChanged, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, OldRole: oldRole, NewRole: m.OrgRole})
			}
		}
	}
	res.Member = m
	if mfaNeeded(org, id) {
		// No session: a pending sign-in, made by writeSignIn after this
		// sign-in's writes commit (never inside their transaction).
		res.mfaFor = &mfaTodo{org: org, conn: c, m: m}
		return res, nil
	}

	sess, token, err := ops.startSession(ctx, session.Params{OrgID: org.ID, UserID: m.UserID, Method: session.MethodSSO,
		TTL: org.EffectiveSessionTimeout(), Epoch: c.sessionEpoch(org), Connection: c.ID})
	if err != nil {
		return res, err
	}
	res.Session, res.Token = sess, token
	// Each event follows the commit it reports: the member's above, the
	// session's here.
	ops.emit(ctx, Event{Type: EventSignInSucceeded, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, NewRole: m.OrgRole})
	return res, nil
}

// newMember builds the member a first sign-in creates, if the rules allow
// one: role mapping on and the IdP roles map to something, or JIT
// provisioning on (role member).
func (s *Service) newMember(ctx context.Context, org *Organization, c *Connection, id Identity, mapping rolemap.Result) (*Member, error) {
	role := rolemap.RoleMember
	var stacks map[string][]string
	switch {
	case org.RoleMapping.Enabled && mapping.OrgRole == "":
		return nil, &denied{reason: "none of the IdP roles " + quoteRoles(id.IdPRoles) + " maps to a role"}
	case org.RoleMapping.Enabled:
		role, stacks = mapping.OrgRole, mapping.StackRoles
	case !c.JITProvisioning:
		return nil, &denied{reason: "not a member of the organization, and neither role mapping nor JIT provisioning is on"}
	}
	if org.hasVerifiedDomain() && !id.DomainVerified {
		return nil, &denied{reason: "the email's domain is not one of the organization's verified domains, and only emails under them are provisioned"}
	}
	userID, err := s.userIDFor(ctx, org, id)
	if err != nil {
		return nil, err
	}
	m := &Member{OrgID: org.ID, UserID: userID, Email: id.Email, FirstName: id.FirstName, LastName: id.LastName,
		OrgRole: role, StackRoles: stacks}
	if userID == org.OwnerID {
		m.OrgRole, m.StackRoles = rolemap.RoleOwner, nil
	}
	return m, nil
}

// errProvisionedOther denies a first sign-in whose ProvisionUser returned
// the user ID of another member: one user, one membership.
var errProvisionedOther = &denied{reason: "ProvisionUser returned the user of another member of the organization"}

// provisionable checks, before a first sign-in creates m, that its user is
// not already a member under another email (ProvisionUser linked the
// identity to an existing user: one user, one membership), and ends what
// sessions an earlier membership of that user left.
func (s *Service) provisionable(ctx context.Context, org *Organization, m *Member) error {
	if s.provision == nil {
		return nil // a fresh random user ID: no membership, no session has it
	}
	other, err := s.loadMemberByUserID(ctx, org.ID, m.UserID)
	switch {
	case err == nil && MemberEmailKey(other.Email) != MemberEmailKey(m.Email):
		return errProvisionedOther
	case err == nil:
		return nil // a racing first sign-in of this email just made it
	case !isNotFound(err) && !errors.Is(err, errNoAdminStore):
		return err
	}
	return s.endStale(ctx, org.ID, m.UserID)
}

// applySignIn applies a sign-in to an existing member m: mapped roles
// replace theirs (not the owner's or an external member's), names are
// refreshed. It reports the old role when the roles changed, and whether
// anything changed.
func applySignIn(org *Organization, m *Member, id Identity, mapping rolemap.Result) (oldRole rolemap.OrgRole, changed bool, err error) {
	switch {
	case m.UserID == org.OwnerID || m.AllowWithoutSSO:
		// The owner and external members keep their roles whatever the IdP says.
	case org.RoleMapping.Enabled:
		if mapping.OrgRole == "" {
			return "", false, &denied{reason: "none of the IdP roles " + quoteRoles(id.IdPRoles) + " maps to a role"}
		}
		if m.OrgRole != mapping.OrgRole || !sameStackRoles(m.StackRoles, mapping.StackRoles) {
			oldRole, changed = m.OrgRole, true
			m.OrgRole, m.StackRoles = mapping.OrgRole, mapping.StackRoles
		}
	}
	if m.UserID == org.OwnerID && m.OrgRole != rolemap.RoleOwner {
		m.OrgRole, changed = rolemap.RoleOwner, true
	}
	if id.FirstName != "" && id.FirstName != m.FirstName {
		m.FirstName, changed = id.FirstName, true
	}
	if id.LastName != "" && id.LastName != m.LastName {
		m.LastName, changed = id.LastName, true
	}
	return oldRole, changed, nil
}

// startSession creates a session within the store timeout.
func (s *Service) startSession(ctx context.Context, p session.Params) (sess *session.Session, token string, err error) {
	err = s.do(ctx, "CreateSession", func(ctx context.Context) (err error) {
		sess, token, err = s.sessions.Start(ctx, p)
		return err
	})
	return sess, token, err
}

func (s *Service) userIDFor(ctx context.Context, org *Organization, id Identity) (string, error) {
	if s.provision == nil {
		return s.newUserID()
	}
	uid, err := s.provision(ctx, org, id)
	if err == nil && uid == "" {
		err = fmt.Errorf("sso: ProvisionUser returned an empty user ID")
	}
	return uid, err
}

func sameStackRoles(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]string])
}

// PasswordLoginAllowed says whether the member with this email may sign in to
// the organization with a password: nil, or an error saying why not
// (ErrSSORequired). SSO disabled: everyone may. Enabled: the owner may; with
// strict mode on, nobody else; with it off, members marked "allow access
// without SSO" may.
//
// The member is found by MemberEmailKey, as in every store: ASCII case does
// not matter, and nothing else is folded, so "\u212Aate@acme.example" is not
// the member "kate@acme.example". An email ValidateMemberEmail refuses (not
// valid UTF-8, or holding NUL) is an error wrapping session.ErrInvalidArgument,
// whatever the organization's state.
func (s *Service) PasswordLoginAllowed(ctx context.Context, orgID, email string) error {
	if err := ValidateMemberEmail(email); err != nil {
		return err
	}
	org, err := s.loadOrg(ctx, orgID)
	if err != nil {
		if isNotFound(err) {
			return ErrUnknownOrganization
		}
		return err
	}
	if !org.Enabled {
		return nil
	}
	m, err := s.loadMember(ctx, orgID, email)
	switch {
	case isNotFound(err):
		m = nil
	case err != nil:
		return err
	}
	if !passwordAllowed(org, m) {
		return ErrSSORequired
	}
	return nil
}
