package sso

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/orgsso/orgsso/saml"
)

// TriggerParam is the login-page query parameter that skips the login form
// and starts SSO for an organization: /login?trigger_sso_flow=acme.
const TriggerParam = "trigger_sso_flow"

// ReturnToParam is the query parameter carrying the local path to land on
// after sign-in.
const ReturnToParam = "return_to"

// relayTest marks the RelayState of a Test SSO round trip, so the ACS of an
// organization whose SSO is disabled lets it through to validation. It is a
// hint only: the pending request decides.
const relayTest = "orgsso-test"

// StartLogin begins an SP-initiated sign-in: it remembers an AuthnRequest for
// the organization and returns where to redirect the browser, and the
// browser-binding cookie (Redirect.Cookie) the host sets on that redirect:
//
//	http.SetCookie(w, rd.Cookie)
//	http.Redirect(w, r, rd.URL, http.StatusFound)
//
// HandleACS accepts the response only from the browser that holds the cookie.
// returnTo is where to land afterwards; anything but a local path becomes "/".
//
// An organization with several enabled connections gets a Redirect without
// URL whose Choices list them: see StartLoginWith.
func (s *Service) StartLogin(ctx context.Context, ssoName, returnTo string) (*Redirect, error) {
	return s.StartLoginWith(ctx, ssoName, LoginOptions{ReturnTo: returnTo})
}

// StartTest begins a Test SSO round trip for the organization's owner, before
// or after SSO is enabled. The response it brings back is reported
// (Result.Test), not acted on: no member changes, no session. As with
// StartLogin, the host sets Redirect.Cookie: the round trip completes only in
// the owner's browser that started it.
//
// The organization is addressed by its ID, as every admin action is; an
// unknown ID is ErrNotFound.
func (s *Service) StartTest(ctx context.Context, orgID, testerUserID string) (*Redirect, error) {
	return s.StartConnectionTest(ctx, orgID, PrimaryConnection, testerUserID)
}

// StartConnectionTest is StartTest for one connection of the organization
// (PrimaryConnection for its own IdP), enabled or not: its configuration
// must be complete and valid now. An unknown connection is
// ErrUnknownConnection.
func (s *Service) StartConnectionTest(ctx context.Context, orgID, connectionID, testerUserID string) (*Redirect, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if org.SSOName == "" {
		return nil, &ConfigError{Field: "SSOName", Reason: "is not set", Message: "Choose the organization's SSO name before testing SSO."}
	}
	if testerUserID == "" || testerUserID != org.OwnerID {
		return nil, ErrNotOwner
	}
	c, ok := org.connectionView(connectionID)
	if !ok {
		return nil, ErrUnknownConnection
	}
	if connectionID == PrimaryConnection {
		if err := org.IdP.ValidateAt(s.now()); err != nil {
			return nil, samlConfigErr(err)
		}
	} else if err := c.validate(connectionField(org, connectionID), s.now(), true); err != nil {
		return nil, err
	}
	return s.start(ctx, org, c, "", testerUserID, relayTest, "")
}

// connectionField is the ConfigError field of a connection: "Connections[i]".
func connectionField(org *Organization, id string) string {
	for i := range org.Connections {
		if org.Connections[i].ID == id {
			return "Connections[" + strconv.Itoa(i) + "]"
		}
	}
	return "Connections"
}

// StartLoginFromRequest starts SSO when a login page request carries
// TriggerParam; ok is false when it does not (show the login form). The
// ReturnToParam query parameter, if any, is the landing path. As with
// StartLogin, the host sets rd.Cookie on its redirect to rd.URL.
func (s *Service) StartLoginFromRequest(ctx context.Context, r *http.Request) (rd *Redirect, ok bool, err error) {
	q := r.URL.Query()
	name := strings.TrimSpace(q.Get(TriggerParam))
	if name == "" {
		return nil, false, nil
	}
	rd, err = s.StartLogin(ctx, strings.ToLower(name), q.Get(ReturnToParam))
	return rd, true, err
}

// start remembers a pending request for a sign-in (or test) through
// connection c and returns the redirect to its IdP with the binding cookie.
func (s *Service) start(ctx context.Context, org *Organization, c Connection, returnTo, tester, relay, loginHint string) (*Redirect, error) {
	if c.Protocol == ProtocolOIDC {
		return s.startOIDC(ctx, org, c, returnTo, tester, loginHint)
	}
	if c.SAML.SSOURL == "" {
		return nil, configErr("IdP.SSOURL", "is not configured")
	}
	sp, err := s.connectionDetails(org, c.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ar, err := saml.NewAuthnRequest(saml.AuthnRequestOptions{
		SP:         sp,
		IdPSSOURL:  c.SAML.SSOURL,
		RelayState: relay,
		Now:        now,
		Rand:       lockedRand{s},
		SigningKey: s.spKeyPair,
	})
	if err != nil {
		return nil, samlConfigErr(err)
	}
	return s.remember(ctx, &PendingRequest{ID: ar.ID, OrgID: org.ID, ReturnTo: returnTo, TesterUserID: tester,
		ExpiresAt: now.Add(s.reqTTL), Connection: c.ID}, ar.URL)
}

// remember saves the pending request of a sign-in (or test) bound to a
// fresh browser nonce, and returns the redirect to url with the binding
// cookie that holds the nonce.
func (s *Service) remember(ctx context.Context, req *PendingRequest, url string) (*Redirect, error) {
	nonce, err := s.newBinding()
	if err != nil {
		return nil, err
	}
	req.BindingHash = bindingHash(nonce, req.Connection)
	if err := s.do(ctx, "SaveRequest", func(ctx context.Context) error { return s.store.SaveRequest(ctx, req) }); err != nil {
		return nil, err
	}
	return &Redirect{URL: url, RequestID: req.ID, Cookie: s.bindingCookie(req.ID, nonce, s.reqTTL)}, nil
}

// MaxReturnToBytes bounds the return path a pending request stores: a longer
// one becomes "/", so an unauthenticated client cannot make each pending
// request store kilobytes.
const MaxReturnToBytes = 512

// SafeReturnTo returns p if it is a local path ("/x") of at most
// MaxReturnToBytes, else "/". It refuses scheme-relative ("//host", "/\host")
// and absolute URLs, control characters and backslashes, which browsers may
// read as a host.
func SafeReturnTo(p string) string {
	if len(p) == 0 || p[0] != '/' || len(p) > MaxReturnToBytes {
		return "/"
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return p
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
