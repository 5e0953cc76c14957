package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/rolemap"
)

// relyingParties caches one oidc.RelyingParty per organization and OIDC
// connection, rebuilt (discovery again) when the connection's settings
// change.
type cachedRP struct {
	cfg OIDCConfig
	uri string
	rp  *oidc.RelyingParty
	// err and retryAt remember a failed discovery (rp nil).
	err     error
	retryAt time.Time
}

func (c cachedRP) matches(cfg OIDCConfig, redirect string) bool {
	return c.uri == redirect && c.cfg.Issuer == cfg.Issuer && c.cfg.ClientID == cfg.ClientID &&
		c.cfg.ClientSecret == cfg.ClientSecret && slices.Equal(c.cfg.Scopes, cfg.Scopes) &&
		c.cfg.RolesClaim == cfg.RolesClaim && c.cfg.UserInfo == cfg.UserInfo
}

// discoveryRetry is how long a failed discovery of a connection is not
// tried again for unauthenticated sign-in starts (the owner's Test SSO
// always retries).
const discoveryRetry = 30 * time.Second

// relyingParty returns the relying party of an OIDC connection, running
// discovery the first time and whenever its settings changed. Concurrent
// callers share one discovery; a failure is remembered for discoveryRetry
// unless retry is set, so unauthenticated starts cannot make the Service
// fetch a failing (or slow) provider on every request.
func (s *Service) relyingParty(ctx context.Context, org *Organization, c *Connection, retry bool) (*oidc.RelyingParty, error) {
	redirect, err := s.RedirectURL(org, c.ID)
	if err != nil {
		return nil, err
	}
	key := org.ID + "\x00" + c.ID
	s.mu.Lock()
	cached, ok := s.rps[key]
	s.mu.Unlock()
	if ok && cached.matches(c.OIDC, redirect) {
		if cached.rp != nil {
			return cached.rp, nil
		}
		if !retry && s.now().Before(cached.retryAt) {
			return nil, cached.err
		}
	}
	// Only callers with the same settings share a discovery: a start that
	// loaded the organization after an issuer change never gets the old
	// provider's relying party. The discovery runs detached from the first
	// caller's context (a visitor who hangs up cancels nothing for the
	// others), bounded by the HTTP client's timeout.
	flight := key + "\x00" + c.OIDC.fingerprint(redirect)
	ch := s.discovery.DoChan(flight, func() (any, error) {
		return s.discover(context.WithoutCancel(ctx), key, redirect, c)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err() // this caller gave up; the discovery goes on for the others
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oidc.RelyingParty), nil
	}
}

// discover runs discovery for an OIDC connection and caches the outcome.
func (s *Service) discover(ctx context.Context, key, redirect string, c *Connection) (*oidc.RelyingParty, error) {
	scopes := []string{"openid"}
	if c.OIDC.Scopes == nil {
		scopes = append(scopes, "email", "profile")
	}
	for _, sc := range c.OIDC.Scopes {
		if sc != "openid" {
			scopes = append(scopes, sc)
		}
	}
	rp, err := oidc.Discover(ctx, oidc.Config{
		Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: c.OIDC.ClientSecret,
		RedirectURL: redirect, Scopes: scopes, RolesClaim: c.OIDC.RolesClaim, UserInfo: c.OIDC.UserInfo,
		ClockSkew: s.skew, Now: s.now, Rand: lockedRand{s}, HTTPClient: s.httpClient,
	})
	entry := cachedRP{cfg: c.OIDC.clone(), uri: redirect, rp: rp}
	if err != nil {
		entry.rp, entry.err, entry.retryAt = nil, err, s.now().Add(discoveryRetry)
	}
	s.mu.Lock()
	s.rps[key] = entry
	s.mu.Unlock()
	return rp, err
}

// fingerprint identifies the settings a relying party is built from (the
// secret only by its hash).
func (c OIDCConfig) fingerprint(redirect string) string {
	h := sha256.New()
	for _, f := range append([]string{redirect, c.Issuer, c.ClientID, string(c.ClientSecret), c.RolesClaim, strconv.FormatBool(c.UserInfo), strconv.FormatBool(c.Scopes == nil)}, c.Scopes...) {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c OIDCConfig) clone() OIDCConfig {
	c.Scopes = slices.Clone(c.Scopes)
	return c
}

// startOIDC begins a sign-in (or a test) through an OIDC connection: the
// pending request is keyed by the state, keeps the nonce and the PKCE
// verifier, and is bound to the browser like a SAML request.
func (s *Service) startOIDC(ctx context.Context, org *Organization, c Connection, returnTo, tester, loginHint string) (*Redirect, error) {
	rp, err := s.relyingParty(ctx, org, &c, tester != "")
	if err != nil {
		return nil, err
	}
	var params oidc.AuthParams
	if loginHint != "" && len(loginHint) <= MaxEmailBytes && ValidateMemberEmail(loginHint) == nil {
		params.LoginHint = loginHint
	}
	ar, err := rp.AuthRequest(params)
	if err != nil {
		return nil, err
	}
	return s.remember(ctx, &PendingRequest{ID: ar.State, OrgID: org.ID, ReturnTo: returnTo, TesterUserID: tester,
		ExpiresAt: s.now().Add(s.reqTTL), Connection: c.ID, Nonce: ar.Nonce, CodeVerifier: Secret(ar.CodeVerifier)}, ar.URL)
}

// HandleCallback completes a sign-in through an OIDC connection at its
// redirect URI ({BaseURL}/sso/{name}/{id}/callback, see RedirectURL): the
// provider redirects the browser there with code and state. In order: the
// organization and connection must exist (ErrUnknownConnection for one that
// is not OIDC); the state must name a pending request of this connection
// bound to this browser (the request is used up); SSO must be on for the
// organization and the connection unless the request is a Test SSO; the code
// is exchanged with the PKCE verifier and the ID token verified (issuer,
// audience, azp, expiry and issued-at with the clock skew, nonce, signature
// by the provider's key set and the algorithm allow-list); its email is
// trusted only when email_verified is true. Then the organization's rules
// apply as for SAML (HandleACS), and a test returns Result.Test.
//
// Failures are *oidc.ValidationError naming an oidc.Check (wrapping
// oidc.ErrInvalidToken, or oidc.ErrProvider when the provider failed), or
// this package's errors; ErrorCode and UserMessage give what to show.
func (s *Service) HandleCallback(ctx context.Context, ssoName, connectionID string, r *http.Request) (*Result, error) {
	return s.reported(ctx, ssoName)(s.handleCallback(ctx, ssoName, connectionID, r))
}

func (s *Service) handleCallback(ctx context.Context, ssoName, connID string, r *http.Request) (*Result, bool, error) {
	part, conn, err := s.connectionFor(ctx, ssoName, connID, ProtocolOIDC)
	if err != nil {
		return part, false, err
	}
	org := part.Org
	if r == nil || r.URL == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return part, false, &oidc.ValidationError{Check: oidc.CheckAuthorization, Reason: "the callback accepts only a GET with the query the provider sent"}
	}
	if len(r.URL.RawQuery) > 16<<10 {
		return part, false, &oidc.ValidationError{Check: oidc.CheckAuthorization, Reason: "the callback query is larger than 16 KiB"}
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(state) > MaxKeyBytes || len(q["state"]) != 1 {
		return part, false, &oidc.ValidationError{Check: oidc.CheckState, Reason: "the callback has no single state of an acceptable length"}
	}
	req, err := s.consumeState(ctx, org, conn.ID, state, r)
	if err != nil {
		return part, false, err
	}
	test := req.TesterUserID != ""
	if !test && (!org.Enabled || !conn.Enabled) {
		return part, false, ErrSSODisabled
	}
	rp, err := s.relyingParty(ctx, org, &conn, false)
	if err != nil {
		return part, false, err
	}
	claims, err := rp.Finish(ctx, q, &oidc.AuthRequest{State: req.ID, Nonce: req.Nonce, CodeVerifier: string(req.CodeVerifier)})
	if err != nil {
		return part, false, err
	}
	id, unverified := identityOfClaims(org, &conn, claims)
	checked, refused := checkIdentity(id)
	checked.DomainVerified = org.DomainVerified(checked.Email)
	id.DomainVerified = checked.DomainVerified
	part.Identity = checked
	var problems []string
	switch {
	case unverified && test:
		problems = []string{"the provider did not mark the email as verified (email_verified): sign-ins would be refused; verify the user's email at the provider"}
	case unverified:
		return part, true, &denied{reason: "the provider did not verify the email (email_verified is not true)"}
	}
	// The member and the session are written in one transaction where the
	// store allows (writeSignIn); the request was consumed above, before the
	// code exchange.
	res, err := s.writeSignIn(ctx, part, func(ops signInOps) (*Result, error) {
		return s.complete(ctx, ops, part, &conn, req, id, checked, refused, problems)
	})
	return res, true, err
}

// consumeState takes the pending request of an OIDC callback: of this
// organization and connection, bound to the posting browser.
func (s *Service) consumeState(ctx context.Context, org *Organization, connID, state string, r *http.Request) (*PendingRequest, error) {
	hash, ok := s.bindingOf(r, state, connID)
	if !ok {
		return nil, &oidc.ValidationError{Check: oidc.CheckState, Reason: "the browser does not hold the binding cookie of the sign-in this callback answers: it was started in another browser, or the cookie expired or was blocked"}
	}
	req, err := s.consumeMatching(ctx, state, org.ID, hash)
	switch {
	case isNotFound(err):
		return nil, &oidc.ValidationError{Check: oidc.CheckState, Reason: "the state names no pending sign-in of this connection bound to this browser: unknown, expired, already used, or another connection's"}
	case err != nil:
		return nil, err
	case !s.now().Before(req.ExpiresAt):
		return nil, &oidc.ValidationError{Check: oidc.CheckState, Reason: "the sign-in this callback answers has expired"}
	case req.Nonce == "" || req.CodeVerifier == "":
		return nil, &oidc.ValidationError{Check: oidc.CheckState, Reason: "the pending request is not an OIDC sign-in"}
	}
	return req, nil
}

// identityOfClaims reads the identity from verified ID token claims. The
// email counts only when the provider verified it: unverified reports an
// email that was sent but not verified (it is left out of the identity).
func identityOfClaims(org *Organization, c *Connection, cl *oidc.Claims) (id Identity, unverified bool) {
	id = Identity{NameID: cl.Subject, FirstName: strings.TrimSpace(cl.GivenName), LastName: strings.TrimSpace(cl.FamilyName),
		AuthnMethods: slices.Clone(cl.AuthMethods)}
	if email, err := cl.VerifiedEmail(); err == nil {
		id.Email = strings.TrimSpace(email)
	} else if cl.Email != "" {
		unverified = true
	}
	if id.FirstName == "" && id.LastName == "" && cl.Name != "" {
		first, last, _ := strings.Cut(strings.TrimSpace(cl.Name), " ")
		id.FirstName, id.LastName = first, strings.TrimSpace(last)
	}
	id.IdPRoles = rolemap.ParseRoles(cl.Roles, org.RoleMapping.Delimiter)
	id.Attributes = map[string][]string{}
	for k, v := range map[string]string{"sub": cl.Subject, "email": cl.Email, "given_name": cl.GivenName, "family_name": cl.FamilyName, "name": cl.Name} {
		if v != "" {
			id.Attributes[k] = []string{v}
		}
	}
	if c.OIDC.RolesClaim != "" && len(cl.Roles) > 0 {
		id.Attributes[c.OIDC.RolesClaim] = slices.Clone(cl.Roles)
	}
	return id, unverified
}
