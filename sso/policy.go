package sso

import (
	"context"
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
// the error is a *ValidationError of CheckIdentity, and nothing is stored.
func (s *Service) signIn(ctx context.Context, org *Organization, id Identity, refused []string, returnTo string) (*Result, error) {
	res := &Result{Org: org, Identity: id, ReturnTo: returnTo}
	if len(refused) > 0 {
		return res, identityError(refused)
	}
	if id.Email == "" {
		return res, &denied{reason: "the IdP sent no email address (email attribute or emailAddress NameID)"}
	}
	mapping := org.RoleMapping.Map(id.IdPRoles)
	res.Mapping = mapping

	m, err := s.store.Member(ctx, org.ID, id.Email)
	switch {
	case isNotFound(err):
		m = nil
	case err != nil:
		return res, err
	}

	var provisioned bool
	var oldRole rolemap.OrgRole
	switch {
	case m == nil:
		role := rolemap.RoleMember
		var stacks map[string][]string
		switch {
		case org.RoleMapping.Enabled && mapping.OrgRole == "":
			return res, &denied{reason: "none of the IdP roles " + quoteRoles(id.IdPRoles) + " maps to a role"}
		case org.RoleMapping.Enabled:
			role, stacks = mapping.OrgRole, mapping.StackRoles
		case !org.JITProvisioning:
			return res, &denied{reason: "not a member of the organization, and neither role mapping nor JIT provisioning is on"}
		}
		userID, err := s.userIDFor(ctx, org, id)
		if err != nil {
			return res, err
		}
		m = &Member{OrgID: org.ID, UserID: userID, Email: id.Email, OrgRole: role, StackRoles: stacks}
		if userID == org.OwnerID {
			m.OrgRole, m.StackRoles = rolemap.RoleOwner, nil
		}
		provisioned = true
	case m.UserID == org.OwnerID || m.AllowWithoutSSO:
		// The owner and external members keep their roles whatever the IdP says.
	case org.RoleMapping.Enabled:
		if mapping.OrgRole == "" {
			return res, &denied{reason: "none of the IdP roles " + quoteRoles(id.IdPRoles) + " maps to a role"}
		}
		if m.OrgRole != mapping.OrgRole || !sameStackRoles(m.StackRoles, mapping.StackRoles) {
			oldRole = m.OrgRole
			m.OrgRole, m.StackRoles = mapping.OrgRole, mapping.StackRoles
		}
	}
	if m.UserID == org.OwnerID {
		m.OrgRole = rolemap.RoleOwner
	}
	if id.FirstName != "" {
		m.FirstName = id.FirstName
	}
	if id.LastName != "" {
		m.LastName = id.LastName
	}
	if err := s.store.SaveMember(ctx, m); err != nil {
		return res, err
	}
	res.Member = m
	switch {
	case provisioned:
		s.emit(ctx, Event{Type: EventMemberProvisioned, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, NewRole: m.OrgRole})
	case oldRole != "":
		s.emit(ctx, Event{Type: EventRolesChanged, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, OldRole: oldRole, NewRole: m.OrgRole})
	}

	sess, token, err := s.sessions.Create(ctx, org.ID, m.UserID, session.MethodSSO, org.EffectiveSessionTimeout())
	if err != nil {
		return res, err
	}
	res.Session, res.Token = sess, token
	s.emit(ctx, Event{Type: EventSignInSucceeded, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID, NewRole: m.OrgRole})
	return res, nil
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

// Enable turns SSO on for the organization. Only the owner may; the IdP
// configuration must be complete and the role mapping valid. No member
// changes.
func (s *Service) Enable(ctx context.Context, ssoName, actorUserID string) error {
	return s.setEnabled(ctx, ssoName, actorUserID, true)
}

// Disable turns SSO off: members use passwords again, and the organization's
// SSO sessions end. Only the owner may. No role changes.
func (s *Service) Disable(ctx context.Context, ssoName, actorUserID string) error {
	return s.setEnabled(ctx, ssoName, actorUserID, false)
}

func (s *Service) setEnabled(ctx context.Context, ssoName, actor string, on bool) error {
	org, err := s.lookup(ctx, ssoName)
	if err != nil {
		return err
	}
	if actor == "" || actor != org.OwnerID {
		return ErrNotOwner
	}
	org.Enabled = on
	if on {
		if err := org.ValidateAt(s.now()); err != nil {
			return err
		}
	}
	if err := s.store.SaveOrganization(ctx, org); err != nil {
		return err
	}
	if on {
		s.emit(ctx, Event{Type: EventSSOEnabled, OrgID: org.ID, SSOName: org.SSOName, UserID: actor})
		return nil
	}
	n, err := s.sessions.RevokeOrg(ctx, org.ID, session.MethodSSO)
	s.emit(ctx, Event{Type: EventSSODisabled, OrgID: org.ID, SSOName: org.SSOName, UserID: actor, SessionsEnded: n})
	return err
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
	org, err := s.store.Organization(ctx, orgID)
	if err != nil {
		if isNotFound(err) {
			return ErrUnknownOrganization
		}
		return err
	}
	if !org.Enabled {
		return nil
	}
	m, err := s.store.Member(ctx, orgID, email)
	switch {
	case isNotFound(err):
		m = nil
	case err != nil:
		return err
	}
	if m != nil && org.OwnerID != "" && m.UserID == org.OwnerID {
		return nil
	}
	if org.StrictMode {
		return ErrSSORequired
	}
	if m != nil && m.AllowWithoutSSO {
		return nil
	}
	return ErrSSORequired
}
