package sso

import (
	"context"
	"errors"
	"strings"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
)

// ProvisionKey is the idempotency key of a member's provisioning: stable for
// an organization and an email (in any ASCII case), distinct across
// organizations. Config.ProvisionUser may be called more than once for one
// key; a host that creates users there returns the user it created for the
// key before.
func ProvisionKey(orgID, email string) string {
	return orgID + "\x00" + MemberEmailKey(email)
}

// AddMember adds (invites) a member to the organization: m's Email and
// UserID (the host's user) are required, OrgRole is RoleAdmin or RoleMember
// (empty = member), or RoleOwner only for the owner's own UserID.
// AllowWithoutSSO is Contentstack's "allow access without SSO": the member
// may sign in with a password while strict mode is off. The owner and admins
// may add members (ErrNotOwner / ErrNotAdmin otherwise); an email the
// organization already has is ErrMemberExists. Emits EventMemberAdded.
func (s *Service) AddMember(ctx context.Context, orgID, actorUserID string, m Member) (*Member, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, org, actorUserID, false); err != nil {
		return nil, err
	}
	m.OrgID = orgID
	if err := checkMember(org, &m); err != nil {
		return nil, err
	}
	if m.UserID == org.OwnerID && actorUserID != org.OwnerID {
		return nil, ErrNotOwner // only the owner adds the owner's own membership
	}
	if err := s.userIDFree(ctx, org, m.UserID, m.Email); err != nil {
		return nil, err
	}
	// A user added again must not get back sessions of an earlier
	// membership that a failed or raced RemoveMember left.
	if err := s.endStale(ctx, orgID, m.UserID); err != nil {
		return nil, err
	}
	got, err := s.createMember(ctx, &m)
	if errors.Is(err, ErrUserIDTaken) {
		// userIDFree's answer, given by the store: a racing AddMember or
		// first sign-in made the user a member between the check and here.
		return nil, errUserIDTaken
	}
	if err != nil {
		return nil, err
	}
	// And again now that it is committed: a sign-in of the earlier
	// membership still in flight may have stored a session in between.
	s.endStaleAfter(ctx, orgID, got.UserID)
	s.emit(ctx, Event{Type: EventMemberAdded, OrgID: org.ID, SSOName: org.SSOName, Email: got.Email, UserID: got.UserID,
		Actor: actorUserID, NewRole: got.OrgRole})
	return got, nil
}

// errUserIDTaken refuses a second membership for one user.
var errUserIDTaken = &RuleError{Field: "UserID", Rule: "That user is already a member of the organization, under another email."}

// userIDFree checks that no member of org has userID under another email:
// one user, one membership, so an email can never be bound to another
// member's (or the owner's) user. The same member again is ErrMemberExists.
// It is the early, friendly answer; the store's CreateMember decides
// (ErrUserIDTaken), atomically.
func (s *Service) userIDFree(ctx context.Context, org *Organization, userID, email string) error {
	other, err := s.loadMemberByUserID(ctx, org.ID, userID)
	switch {
	case err == nil && MemberEmailKey(other.Email) == MemberEmailKey(email):
		return ErrMemberExists
	case err == nil:
		return errUserIDTaken
	case isNotFound(err):
		return nil
	}
	return err
}

// endStale ends every session the user still has in the organization from
// an earlier membership, before a new one starts; it must succeed.
func (s *Service) endStale(ctx context.Context, orgID, userID string) error {
	// Usually there is none: look (a read) before ending (a write).
	q := session.Query{OrgID: orgID, UserID: userID, Limit: 1}
	var live []*session.Session
	err := s.do(ctx, "ListSessions", func(ctx context.Context) (err error) {
		live, err = s.sessions.List(ctx, q)
		return err
	})
	switch {
	case errors.Is(err, session.ErrNotSupported):
		return nil
	case err != nil:
		return err
	case len(live) == 0:
		return nil
	}
	_, err = s.end(ctx, session.Query{OrgID: orgID, UserID: userID}, session.EndMemberRemoved)
	return err
}

// endStaleAfter is endStale once the new membership is committed, for the
// sessions an earlier membership's sign-in in flight stored between the
// first endStale and the commit. A failure is logged: the membership stands.
func (s *Service) endStaleAfter(ctx context.Context, orgID, userID string) {
	if err := s.endStale(ctx, orgID, userID); err != nil {
		s.log.WarnContext(ctx, "orgsso: ending an earlier membership's sessions failed", "org", orgID, "err", err.Error())
	}
}

// checkMember validates a member an admin adds.
func checkMember(org *Organization, m *Member) error {
	if err := ValidateMemberEmail(m.Email); err != nil || m.Email == "" || len(m.Email) > MaxEmailBytes {
		return &ConfigError{Field: "Email", Reason: "must be a valid email of at most 254 bytes", Err: err,
			Message: "Enter the member's email address."}
	}
	if m.UserID == "" || len(m.UserID) > MaxKeyBytes {
		return &ConfigError{Field: "UserID", Reason: "must be 1 to 512 bytes", Message: "The member needs a user."}
	}
	if len(m.FirstName) > MaxNameBytes || len(m.LastName) > MaxNameBytes {
		return &ConfigError{Field: "FirstName", Reason: "names are at most 256 bytes", Message: "The name is too long."}
	}
	switch {
	case m.UserID == org.OwnerID:
		m.OrgRole, m.StackRoles = rolemap.RoleOwner, nil
	case m.OrgRole == "":
		m.OrgRole = rolemap.RoleMember
	case m.OrgRole != rolemap.RoleMember && m.OrgRole != rolemap.RoleAdmin:
		return &ConfigError{Field: "OrgRole", Reason: "must be admin or member", Message: "Choose the role Admin or Member."}
	}
	return nil
}

// Member returns the organization's member with this email (ASCII case
// does not matter); ErrNotFound if there is none.
func (s *Service) Member(ctx context.Context, orgID, email string) (*Member, error) {
	if err := ValidateMemberEmail(email); err != nil {
		return nil, err
	}
	return s.loadMember(ctx, orgID, email)
}

// MemberByUserID returns the organization's member with this user ID (a
// session carries only the user ID); ErrNotFound if there is none.
func (s *Service) MemberByUserID(ctx context.Context, orgID, userID string) (*Member, error) {
	if userID == "" || len(userID) > MaxKeyBytes {
		return nil, ErrNotFound
	}
	return s.loadMemberByUserID(ctx, orgID, userID)
}

// Members lists the organization's members by email (ASCII case-folded), at
// most limit (0 = DefaultListLimit, at most MaxListLimit), after cursor (""
// = from the start). next is the cursor of the following page; it is "" on
// the last page (with limit MaxListLimit, a full page always gives one).
// Only the owner and admins may list (ErrNotAdmin).
func (s *Service) Members(ctx context.Context, orgID, actorUserID, cursor string, limit int) (list []*Member, next string, err error) {
	if s.admin == nil {
		return nil, "", &StoreError{Op: "Members", Err: errNoAdminStore}
	}
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	if err := s.authorize(ctx, org, actorUserID, false); err != nil {
		return nil, "", err
	}
	limit, err = listLimit(limit)
	if err != nil {
		return nil, "", err
	}
	ask := min(limit+1, MaxListLimit) // one more, to know whether a next page exists
	err = s.do(ctx, "Members", func(ctx context.Context) (err error) {
		list, err = s.admin.Members(ctx, orgID, cursor, ask)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(list) > limit || (len(list) == limit && ask == limit) {
		list = list[:limit]
		next = MemberEmailKey(list[limit-1].Email)
	}
	return list, next, nil
}

// SetMemberAccess sets whether the member may sign in without SSO
// ("allow access without SSO"). Taking it away from a member of an
// organization with SSO enabled ends their password sessions. The owner and
// admins may; the owner's access is not theirs to set (a *RuleError). Emits
// EventMemberChanged.
func (s *Service) SetMemberAccess(ctx context.Context, orgID, actorUserID, email string, allowWithoutSSO bool) (*Member, error) {
	return s.changeMember(ctx, orgID, actorUserID, email, func(org *Organization, m *Member) ([]string, error) {
		if m.UserID == org.OwnerID {
			return nil, &RuleError{Field: "AllowWithoutSSO", Rule: "The owner may always sign in with a password."}
		}
		if m.AllowWithoutSSO == allowWithoutSSO {
			return nil, nil
		}
		m.AllowWithoutSSO = allowWithoutSSO
		return []string{"AllowWithoutSSO"}, nil
	})
}

// SetMemberRoles sets a member's organization role (RoleAdmin or RoleMember)
// and stack roles. Where role mapping owns them (mapping enabled, and the
// member neither the owner nor external) they are the IdP's to set, and this
// is a *RuleError; the owner's role never changes. The owner and admins may.
// Emits EventMemberChanged.
func (s *Service) SetMemberRoles(ctx context.Context, orgID, actorUserID, email string, role rolemap.OrgRole, stackRoles map[string][]string) (*Member, error) {
	return s.changeMember(ctx, orgID, actorUserID, email, func(org *Organization, m *Member) ([]string, error) {
		switch {
		case m.UserID == org.OwnerID:
			return nil, &RuleError{Field: "OrgRole", Rule: "The owner's role does not change."}
		case org.RoleMapping.Enabled && !m.AllowWithoutSSO:
			return nil, &RuleError{Field: "OrgRole", Rule: "Role mapping is on: this member's roles come from the identity provider at each sign-in."}
		case role != rolemap.RoleAdmin && role != rolemap.RoleMember:
			return nil, &ConfigError{Field: "OrgRole", Reason: "must be admin or member", Message: "Choose the role Admin or Member."}
		}
		var fields []string
		if m.OrgRole != role {
			fields = append(fields, "OrgRole")
		}
		if !sameStackRoles(m.StackRoles, stackRoles) {
			fields = append(fields, "StackRoles")
		}
		m.OrgRole, m.StackRoles = role, cloneStackRoles(stackRoles)
		return fields, nil
	})
}

// changeMember loads a member, applies change, and saves and reports what it
// changed. The member must still exist when saved (ErrNotFound otherwise).
func (s *Service) changeMember(ctx context.Context, orgID, actor, email string,
	change func(*Organization, *Member) ([]string, error)) (*Member, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, org, actor, false); err != nil {
		return nil, err
	}
	m, err := s.Member(ctx, orgID, email)
	if err != nil {
		return nil, err
	}
	before := *m
	fields, err := change(org, m)
	if err != nil || len(fields) == 0 {
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	if !passwordAllowed(org, &before) && passwordAllowed(org, m) {
		// Password sign-in comes back: first end what was refused until now.
		if _, err := s.endPasswordSessions(ctx, org, m.UserID); err != nil {
			return nil, err
		}
	}
	if err := s.updateMember(ctx, m); err != nil {
		return nil, err
	}
	ended := 0
	if !passwordAllowed(org, m) {
		ended = s.endPasswordSessionsAfter(ctx, org, m.UserID)
	}
	s.emit(ctx, Event{Type: EventMemberChanged, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID,
		Actor: actor, Fields: fields, NewRole: m.OrgRole, SessionsEnded: ended, Detail: memberDetail(m, fields)})
	return m, nil
}

// RemoveMember removes a member from the organization and ends all their
// sessions in it (session.EndMemberRemoved; ValidateSession refuses any that
// a sign-in in flight creates afterwards, as the member is gone), and
// deletes their second factor (Organization.MFA): added again, they enroll
// again. The owner and admins may; the owner cannot be removed (a
// *RuleError). An unknown email is ErrNotFound. Emits EventMemberRemoved.
func (s *Service) RemoveMember(ctx context.Context, orgID, actorUserID, email string) error {
	if s.admin == nil {
		return &StoreError{Op: "DeleteMember", Err: errNoAdminStore}
	}
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, org, actorUserID, false); err != nil {
		return err
	}
	m, err := s.Member(ctx, orgID, email)
	if err != nil {
		return err
	}
	if m.UserID == org.OwnerID {
		return &RuleError{Field: "Email", Rule: "The owner cannot be removed from the organization."}
	}
	if err := s.do(ctx, "DeleteMember", func(ctx context.Context) error { return s.admin.DeleteMember(ctx, orgID, email) }); err != nil {
		return err
	}
	// If ending them fails, ValidateSession refuses them all the same (the
	// member is gone), and adding the user again ends them first.
	n := s.endSessions(ctx, session.Query{OrgID: orgID, UserID: m.UserID}, session.EndMemberRemoved)
	s.forgetMFA(ctx, orgID, m.UserID)
	s.emit(ctx, Event{Type: EventMemberRemoved, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID,
		Actor: actorUserID, SessionsEnded: n})
	return nil
}

// forgetMFA deletes a removed member's second factor (secret and recovery
// codes): a factor outlives no membership, so a user added again enrolls
// again. A failure is logged: the member is gone all the same, and the
// enrollment can be deleted again by ResetMFA.
func (s *Service) forgetMFA(ctx context.Context, orgID, userID string) {
	if s.mfa == nil {
		return
	}
	if err := s.do(ctx, "DeleteMFAEnrollment", func(ctx context.Context) error {
		return s.mfa.DeleteMFAEnrollment(ctx, orgID, userID)
	}); err != nil && !isNotFound(err) {
		s.log.WarnContext(ctx, "orgsso: deleting a removed member's second factor failed", "org", orgID, "err", err.Error())
	}
}

// errMemberGone is why a sign-in of a member removed while it ran is refused.
var errMemberGone = errors.New("the member was removed while signing in")

// memberDetail says in plain words what a member change set.
func memberDetail(m *Member, fields []string) string {
	var parts []string
	for _, f := range fields {
		switch f {
		case "AllowWithoutSSO":
			if m.AllowWithoutSSO {
				parts = append(parts, "may sign in without SSO")
			} else {
				parts = append(parts, "must sign in with SSO")
			}
		case "OrgRole":
			parts = append(parts, "role "+string(m.OrgRole))
		case "StackRoles":
			parts = append(parts, "stack roles changed")
		}
	}
	return strings.Join(parts, "; ")
}
