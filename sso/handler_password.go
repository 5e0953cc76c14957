package sso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/orgsso/orgsso/session"
)

// ErrNotMember: PasswordSignIn found no member of the organization with that
// email. Show it as you show a wrong password: telling them apart would let
// anyone list an organization's members.
var ErrNotMember = errors.New("sso: not a member of the organization")

// PasswordSignIn signs a member in with a password under the organization's
// rules, so a host cannot forget them. In order:
//
//  1. The email must be acceptable (not empty, and as ValidateMemberEmail has it: an error wrapping
//     session.ErrInvalidArgument), the organization must exist
//     (ErrUnknownOrganization).
//  2. PasswordLoginAllowed's rule: with SSO enabled, only the owner, and
//     with strict mode off members allowed access without SSO, may use a
//     password; anyone else gets ErrSSORequired before verify is called, so
//     an SSO-only account never has its password tried (no password oracle,
//     no lockout by guessing).
//  3. The email must be a member's (ErrNotMember).
//  4. verify checks the password against the host's user table for the
//     member (m.UserID); its error is returned as is.
//
// Then a password session is made, for the organization's session timeout
// (Organization.EffectiveSessionTimeout: DefaultSessionTimeout unless the
// organization set one). The Result holds the Org, the Member, the Session
// and its Token, ReturnTo "/": SessionCookie(res) is the cookie to set
// (Handler.PasswordSignIn sets it), and EventPasswordSignInSucceeded is
// emitted. ValidateSession keeps applying the rule: stricter settings later
// end the session.
func (s *Service) PasswordSignIn(ctx context.Context, orgID, email string, verify func(ctx context.Context, m *Member) error) (*Result, error) {
	if verify == nil {
		return nil, configErr("verify", "is nil")
	}
	if strings.TrimSpace(email) == "" {
		return nil, fmt.Errorf("sso: invalid member email: empty: %w", session.ErrInvalidArgument)
	}
	if err := ValidateMemberEmail(email); err != nil {
		return nil, err
	}
	org, err := s.loadOrg(ctx, orgID)
	if err != nil {
		if isNotFound(err) {
			return nil, ErrUnknownOrganization
		}
		return nil, err
	}
	m, err := s.loadMember(ctx, orgID, email)
	switch {
	case isNotFound(err):
		m = nil
	case err != nil:
		return nil, err
	}
	if !passwordAllowed(org, m) { // PasswordLoginAllowed's rule, on what was just read
		return nil, ErrSSORequired
	}
	if m == nil {
		return nil, ErrNotMember
	}
	if err := verify(ctx, m); err != nil {
		return nil, err
	}
	sess, token, err := s.startSession(ctx, session.Params{OrgID: org.ID, UserID: m.UserID, Method: session.MethodPassword,
		TTL: org.EffectiveSessionTimeout()})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, Event{Type: EventPasswordSignInSucceeded, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID})
	return &Result{Org: org, Member: m, Session: sess, Token: token, ReturnTo: "/"}, nil
}

// PasswordSignIn is Service.PasswordSignIn that also sets the session
// cookie on w. The host then redirects where it likes; on an error it shows
// its login form again (UserMessage(err) for ErrSSORequired; the message of
// a wrong password for ErrNotMember and verify's own errors).
func (h *Handler) PasswordSignIn(w http.ResponseWriter, r *http.Request, orgID, email string, verify func(ctx context.Context, m *Member) error) (*Result, error) {
	res, err := h.svc.PasswordSignIn(r.Context(), orgID, email, verify)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, h.svc.SessionCookie(res))
	return res, nil
}
