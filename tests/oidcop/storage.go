package oidcop

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes of what the storage keeps.
const (
	authRequestLifetime = 10 * time.Minute // from the authorization request to the code
	codeLifetime        = time.Minute      // from the code to its exchange
	accessTokenLifetime = 5 * time.Minute
	idTokenLifetime     = time.Hour
)

// storage is the smallest op.Storage (plus op.CanSetUserinfoFromRequest) a
// code-flow provider needs, in memory, guarded by one mutex.
type storage struct {
	issuer     string
	loginURL   string
	rolesClaim string
	key        signingKey

	mu       sync.Mutex
	clients  map[string]*client
	users    map[string]*User // by Username
	subjects map[string]*User // by ID
	requests map[string]*authRequest
	codes    map[string]issuedCode // live codes
	spent    map[string]string     // exchanged code -> its request ID
	tokens   map[string]*accessToken
	refusal  *oidc.Error
}

type issuedCode struct {
	requestID string
	expires   time.Time
}

type accessToken struct {
	id, clientID, subject, requestID string
	audience, scopes                 []string
	expires                          time.Time
}

func newStorage(issuer string, key *rsa.PrivateKey, rolesClaim string) (*storage, error) {
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("oidcop: signing key: %w", err)
	}
	if isStandardClaim(rolesClaim) {
		return nil, fmt.Errorf("oidcop: RolesClaim %q is a standard claim", rolesClaim)
	}
	return &storage{
		issuer:     issuer,
		loginURL:   issuer + loginPath,
		rolesClaim: rolesClaim,
		key:        signingKey{id: base64.RawURLEncoding.EncodeToString(thumb), key: key},
		clients:    map[string]*client{},
		users:      map[string]*User{},
		subjects:   map[string]*User{},
		requests:   map[string]*authRequest{},
		codes:      map[string]issuedCode{},
		spent:      map[string]string{},
		tokens:     map[string]*accessToken{},
	}, nil
}

func (s *storage) addClient(c Client) error {
	if err := c.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.clients[c.ID]; dup {
		return fmt.Errorf("oidcop: client %q registered twice", c.ID)
	}
	method := oidc.AuthMethodBasic
	if c.AuthMethod == AuthMethodPost {
		method = oidc.AuthMethodPost
	}
	s.clients[c.ID] = &client{
		id:           c.ID,
		secret:       c.Secret,
		redirectURIs: slices.Clone(c.RedirectURIs),
		authMethod:   method,
		loginURL:     s.loginURL,
		claimsInID:   !c.UserinfoOnly,
	}
	return nil
}

func (s *storage) addUser(u User) error {
	if err := u.normalize(); err != nil {
		return err
	}
	if _, clash := u.Claims[s.rolesClaim]; clash {
		return fmt.Errorf("oidcop: user %q: Claims must not set the roles claim %q", u.Username, s.rolesClaim)
	}
	u.Roles = slices.Clone(u.Roles)
	claims := make(map[string]any, len(u.Claims))
	for k, v := range u.Claims {
		claims[k] = v
	}
	u.Claims = claims
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.users[u.Username]; dup {
		return fmt.Errorf("oidcop: user %q added twice", u.Username)
	}
	if _, dup := s.subjects[u.ID]; dup {
		return fmt.Errorf("oidcop: user ID %q used twice", u.ID)
	}
	s.users[u.Username] = &u
	s.subjects[u.ID] = &u
	return nil
}

func (s *storage) setRefusal(e *oidc.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusal = e
}

// checkLogin checks the login form of an authorization request: on success
// the request is done (authenticated) for the user, unless a refusal was
// pending, which it returns (and clears).
func (s *storage) checkLogin(requestID, username, password string) (*authRequest, *oidc.Error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[requestID]
	if !ok || time.Now().After(req.created.Add(authRequestLifetime)) {
		return nil, nil, errors.New("the sign-in request has expired; start again")
	}
	u, ok := s.users[username]
	if !ok || u.Password != password {
		return req, nil, errors.New("wrong username or password")
	}
	if refusal := s.refusal; refusal != nil {
		s.refusal = nil
		delete(s.requests, requestID) // answered: it can no longer be completed
		return req, refusal, nil
	}
	req.subject = u.ID
	req.authTime = time.Now()
	req.done = true
	return req, nil, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- op.AuthStorage ---

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired() // no login session here
	}
	req := &authRequest{
		id:           newID(),
		created:      time.Now(),
		clientID:     r.ClientID,
		redirectURI:  r.RedirectURI,
		state:        r.State,
		nonce:        r.Nonce,
		scopes:       slices.Clone([]string(r.Scopes)),
		responseType: r.ResponseType,
		responseMode: r.ResponseMode,
	}
	if r.CodeChallenge != "" {
		req.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	cp := *req // op reads it without our lock
	return &cp, nil
}

// AuthRequestByCode answers a live code. An exchanged code is refused, and
// the access tokens issued for it are revoked (RFC 6749 section 4.1.2).
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if requestID, ok := s.spent[code]; ok {
		for id, t := range s.tokens {
			if t.requestID == requestID {
				delete(s.tokens, id)
			}
		}
		return nil, errors.New("code already used")
	}
	c, ok := s.codes[code]
	if !ok {
		return nil, errors.New("code unknown")
	}
	if time.Now().After(c.expires) {
		delete(s.codes, code)
		return nil, errors.New("code expired")
	}
	req, ok := s.requests[c.requestID]
	if !ok {
		return nil, errors.New("code unknown")
	}
	cp := *req
	return &cp, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return errors.New("auth request not found")
	}
	s.codes[code] = issuedCode{requestID: id, expires: time.Now().Add(codeLifetime)}
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: the code is spent.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, c := range s.codes {
		if c.requestID == id {
			delete(s.codes, code)
			s.spent[code] = id
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	t := &accessToken{
		id:       newID(),
		subject:  r.GetSubject(),
		audience: slices.Clone(r.GetAudience()),
		scopes:   slices.Clone(r.GetScopes()),
		expires:  time.Now().Add(accessTokenLifetime),
	}
	if req, ok := r.(*authRequest); ok {
		t.clientID, t.requestID = req.clientID, req.id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

var errNoRefresh = errors.New("refresh tokens are not supported")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNoRefresh
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenOrID]
	if !ok {
		return nil // unknown tokens are "revoked" already (RFC 7009)
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenOrID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{&s.key}}, nil
}

// --- op.OPStorage ---

func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errors.New("client not found")
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || c.secret != secret {
		return errors.New("invalid client_id or client_secret")
	}
	return nil
}

// SetUserinfoFromScopes is the legacy hook; SetUserinfoFromRequest does the
// work for ID tokens.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[r.GetClientID()]
	if !ok {
		return errors.New("client not found")
	}
	return s.fillUserinfo(info, r.GetSubject(), scopes, c.claimsInID)
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token invalid or expired")
	}
	return s.fillUserinfo(info, t.subject, t.scopes, true)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expires) || !slices.Contains(t.audience, clientID) {
		return errors.New("token not active for this client")
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(info, t.subject, t.scopes, true); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil // access tokens are opaque
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// fillUserinfo sets the claims of subject that scopes ask for; with extras,
// also the roles claim and User.Claims. The caller holds s.mu.
func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string, extras bool) error {
	u, ok := s.subjects[subject]
	if !ok {
		return errors.New("user not found")
	}
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			info.Subject = u.ID
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopeProfile:
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.Name = joinName(u.GivenName, u.FamilyName)
			info.PreferredUsername = u.Username
		}
	}
	if !extras {
		return nil
	}
	if len(u.Roles) > 0 {
		info.AppendClaims(s.rolesClaim, slices.Clone(u.Roles))
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

func joinName(given, family string) string {
	switch {
	case given == "":
		return family
	case family == "":
		return given
	}
	return given + " " + family
}

// --- the request, client and key types op reads ---

type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	created                                 time.Time

	// set by checkLogin under storage.mu, before op reads them
	subject  string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type client struct {
	id, secret   string
	redirectURIs []string
	authMethod   oidc.AuthMethod
	loginURL     string
	claimsInID   bool
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return c.authMethod }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?" + authRequestIDParam + "=" + id
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return idTokenLifetime }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *client) IsScopeAllowed(string) bool           { return false } // only the standard scopes
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return c.claimsInID }
func (c *client) ClockSkew() time.Duration             { return 0 }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }
