package sso

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
)

// DefaultRequestTTL is how long an AuthnRequest waits for its response.
const DefaultRequestTTL = 10 * time.Minute

// Config configures a Service. Zero and nil fields mean safe defaults; New
// rejects what cannot work.
type Config struct {
	// BaseURL is where the application is served, e.g. https://app.example.com.
	// ACS URLs and entity IDs derive from it. Required.
	BaseURL string
	// Store keeps organizations, members, pending requests and used
	// assertion IDs. Required.
	Store Store
	// Sessions makes and checks the sessions of successful sign-ins. nil =
	// a session.Manager over Store (which must then implement session.Store,
	// as every store in orgsso/store does: otherwise New fails naming
	// Sessions), with the Service's clock (Now) and, when Rand is set, its
	// randomness. Set it to give the Manager options of its own.
	Sessions *session.Manager
	// Now is the clock of every time decision. nil = time.Now.
	Now func() time.Time
	// Rand supplies request IDs and generated user IDs. nil = crypto/rand.
	Rand io.Reader
	// SPKeyPair, when set, signs AuthnRequests, decrypts encrypted assertions
	// and is published in SP metadata. Its String never prints the key.
	SPKeyPair *tls.Certificate
	// Logger receives operator logs. It never receives a SAML response, a
	// token or a key. nil = no logs.
	Logger *slog.Logger
	// OnEvent, when set, is called synchronously for every Event.
	OnEvent func(ctx context.Context, e Event)
	// ClockSkew tolerated on NotBefore / NotOnOrAfter. 0 = saml.DefaultClockSkew.
	ClockSkew time.Duration
	// MaxResponseSize bounds the posted SAMLResponse. 0 = saml.DefaultMaxResponseSize.
	MaxResponseSize int64
	// RequestTTL is the lifetime of a pending AuthnRequest and of its
	// browser-binding cookie. 0 = DefaultRequestTTL.
	RequestTTL time.Duration
	// FailureEventWindow is how often, at most, a sign-in failure that came
	// before signature verification is reported (event and log) per
	// organization and kind; the others are counted in Event.Suppressed.
	// 0 = DefaultFailureEventWindow.
	FailureEventWindow time.Duration
	// ProvisionUser returns the host's user ID for a member orgsso is about to
	// create (just-in-time or through role mapping); the host may create its
	// user here. nil = a random ID "user_" + 32 hex digits.
	//
	// It is called at least once per new member, and may be called again for
	// the same person: when the member's save fails and the user signs in
	// again, or when two first sign-ins of one email race (the loser's user
	// ID is then not used). Make it idempotent on ProvisionKey(org.ID,
	// id.Email), stable for the organization and email: return the user
	// created for that key before, if any. Never link the identity to an
	// existing host user by email alone: an organization's IdP vouches only
	// for its own organization, so an email asserted by organization B's
	// IdP must not become organization A's user of that email.
	ProvisionUser func(ctx context.Context, org *Organization, id Identity) (userID string, err error)
	// StoreTimeout bounds every store call: a store that does not answer in
	// time is ErrUnavailable, as is any store failure that is not an
	// answer. 0 = DefaultStoreTimeout.
	StoreTimeout time.Duration
	// CleanupBudget bounds how long one Cleanup deletes, in batches of
	// CleanupBatchSize; what is left waits for the next. 0 =
	// DefaultCleanupBudget.
	CleanupBudget time.Duration
	// CleanupInterval is how often Run calls Cleanup. 0 =
	// DefaultCleanupInterval.
	CleanupInterval time.Duration
	// SecretKey, when set, seals the OIDC client secrets of organizations
	// at rest (AES-256-GCM, bound to the organization and connection):
	// stores only ever see ciphertext. SecretKeySize random bytes; keep it
	// outside the database. Without it secrets are stored as given. A
	// secret stored before a key was set is read as is and sealed at the
	// next save. Its String never prints it.
	SecretKey []byte
	// Resolver looks up the DNS TXT records that verify an organization's
	// email domains (VerifyDomain). nil = net.DefaultResolver.
	Resolver Resolver
	// HTTPClient makes the requests to OIDC providers (discovery, keys,
	// token, userinfo). nil = a client with a 10-second timeout whose
	// dialer refuses loopback, private and link-local addresses (an
	// organization's owner chooses these URLs). A host's own client keeps
	// its transport; the Service still refuses URLs naming localhost or a
	// non-public literal address, and the client's dialer owns the rest.
	HTTPClient *http.Client
	// InsecureAllowPrivateNetworks lets the Service fetch from loopback,
	// private and link-local addresses: for development and tests against
	// a provider on localhost. Off (the default), ErrPrivateAddress.
	InsecureAllowPrivateNetworks bool
	// MetadataRefreshInterval is how often Run refreshes IdP
	// configurations from their metadata URLs. 0 =
	// DefaultMetadataRefreshInterval.
	MetadataRefreshInterval time.Duration
	// SessionCache configures the cache of ValidateSession's verdicts: on
	// by default over a Store with a ChangeFeed (every store in
	// orgsso/store), kept fresh by Run. See SessionCacheConfig for the
	// staleness bound and the off switch.
	SessionCache SessionCacheConfig
	// MFATokenTTL is how long a sign-in that needs its second factor
	// waits for it (MFAPolicy). 0 = DefaultMFATokenTTL.
	MFATokenTTL time.Duration
	// MFAIssuer names the application in members' authenticator apps
	// (the otpauth issuer). "" = BaseURL's host name. It may not hold a
	// colon.
	MFAIssuer string
}

// Service runs SSO for every organization of an application: sign-in start,
// the ACS, Test SSO, enable/disable and the password-login policy. It is safe
// for concurrent use; build it once with New.
type Service struct {
	baseURL    string
	secure     bool // BaseURL is https: cookies are Secure
	store      Store
	sessions   *session.Manager
	now        func() time.Time
	rand       io.Reader
	randMu     sync.Mutex
	spKeyPair  *tls.Certificate
	spCert     *x509.Certificate
	log        *slog.Logger
	onEvent    func(context.Context, Event)
	skew       time.Duration
	maxSize    int64
	reqTTL     time.Duration
	failures   *failureLimiter
	provision  func(context.Context, *Organization, Identity) (string, error)
	admin      AdminStore // the Store, when it implements AdminStore; else nil
	sealer     *sealer    // nil without Config.SecretKey
	resolver   Resolver
	httpClient *http.Client

	storeTimeout, cleanupBudget, cleanupInterval, metadataInterval time.Duration

	cache     *sessionCache // nil when Config.SessionCache is off or the Store has no ChangeFeed
	mfa       MFAStore      // the Store, when it implements MFAStore; else nil
	mfaTTL    time.Duration
	mfaIssuer string

	mu         sync.Mutex
	validators map[string]cachedValidator // by organization ID and connection ID
	rps        map[string]cachedRP        // OIDC relying parties, by organization ID and connection ID
	discovery  singleflight.Group         // one OIDC discovery at a time per connection
}

type cachedValidator struct {
	sp       SPDetails
	idp      IdPConfig
	allowIdP bool
	v        *Validator
}

// matches reports whether the cached Validator was built from this
// configuration: field-by-field string comparison, cheaper than hashing and
// free of collisions.
func (c cachedValidator) matches(sp SPDetails, conn *Connection) bool {
	return c.v != nil && c.allowIdP == conn.AllowIdPInitiated &&
		c.sp.EntityID == sp.EntityID && c.sp.ACSURL == sp.ACSURL &&
		c.idp.EntityID == conn.SAML.EntityID && c.idp.SignatureAlgorithm == conn.SAML.SignatureAlgorithm &&
		slices.Equal(c.idp.Certificates, conn.SAML.Certificates)
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	base, err := spCheckBaseURL(cfg.BaseURL)
	if err != nil {
		ce := err.(*ConfigError)
		ce.Message = "The base URL must look like https://app.example.com (no user name, password, query or fragment)."
		return nil, ce
	}
	u, _ := url.Parse(base) // checked: parses
	if cfg.Store == nil {
		return nil, configErr("Store", "is nil")
	}
	var sessionStore session.Store
	if cfg.Sessions == nil {
		st, ok := cfg.Store.(session.Store)
		if !ok {
			return nil, configErr("Sessions", "is nil, and Store does not implement session.Store to make a Manager over")
		}
		sessionStore = st
	}
	if cfg.ClockSkew < 0 || cfg.MaxResponseSize < 0 || cfg.RequestTTL < 0 || cfg.FailureEventWindow < 0 ||
		cfg.StoreTimeout < 0 || cfg.CleanupBudget < 0 || cfg.CleanupInterval < 0 || cfg.MetadataRefreshInterval < 0 {
		return nil, configErr("ClockSkew/MaxResponseSize/RequestTTL/FailureEventWindow/StoreTimeout/CleanupBudget/CleanupInterval", "must not be negative")
	}
	s := &Service{
		baseURL:    base,
		secure:     u.Scheme == "https", // url.Parse lowers the scheme
		store:      cfg.Store,
		sessions:   cfg.Sessions,
		now:        cfg.Now,
		rand:       cfg.Rand,
		spKeyPair:  cfg.SPKeyPair,
		log:        cfg.Logger,
		onEvent:    cfg.OnEvent,
		skew:       cfg.ClockSkew,
		maxSize:    cfg.MaxResponseSize,
		reqTTL:     cfg.RequestTTL,
		provision:  cfg.ProvisionUser,
		validators: make(map[string]cachedValidator),
		rps:        make(map[string]cachedRP),
		httpClient: outgoingClient(cfg.HTTPClient, cfg.InsecureAllowPrivateNetworks),

		storeTimeout:     orDefault(cfg.StoreTimeout, DefaultStoreTimeout),
		cleanupBudget:    orDefault(cfg.CleanupBudget, DefaultCleanupBudget),
		cleanupInterval:  orDefault(cfg.CleanupInterval, DefaultCleanupInterval),
		metadataInterval: orDefault(cfg.MetadataRefreshInterval, DefaultMetadataRefreshInterval),
	}
	s.admin, _ = cfg.Store.(AdminStore)
	s.mfa, _ = cfg.Store.(MFAStore)
	if s.mfaTTL = orDefault(cfg.MFATokenTTL, DefaultMFATokenTTL); s.mfaTTL < 0 {
		return nil, configErr("MFATokenTTL", "must not be negative")
	}
	if s.mfaIssuer = orDefault(cfg.MFAIssuer, u.Hostname()); strings.Contains(s.mfaIssuer, ":") || textProblem("MFAIssuer", s.mfaIssuer, 256) != "" {
		return nil, configErr("MFAIssuer", "must be at most 256 bytes without a colon or control characters")
	}
	if s.sealer, err = newSealer(cfg.SecretKey); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.resolver = cfg.Resolver; s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.sessions == nil {
		var r io.Reader // nil: the Manager's own crypto/rand
		if cfg.Rand != nil {
			r = lockedRand{s} // one lock for one reader that need not be safe for concurrent use
		}
		s.sessions = session.NewManager(sessionStore, session.WithClock(s.now), session.WithRand(r))
	}
	if s.cache, err = newSessionCache(cfg.SessionCache, cfg.Store, s.sessions); err != nil {
		return nil, err
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.skew = orDefault(s.skew, saml.DefaultClockSkew)
	s.maxSize = orDefault(s.maxSize, saml.DefaultMaxResponseSize)
	s.reqTTL = orDefault(s.reqTTL, DefaultRequestTTL)
	s.failures = newFailureLimiter(orDefault(cfg.FailureEventWindow, DefaultFailureEventWindow))
	if kp := cfg.SPKeyPair; kp != nil {
		if kp.PrivateKey == nil || len(kp.Certificate) == 0 {
			return nil, configErr("SPKeyPair", "needs a certificate and its private key")
		}
		c := kp.Leaf
		if c == nil {
			if c, err = x509.ParseCertificate(kp.Certificate[0]); err != nil {
				return nil, &ConfigError{Field: "SPKeyPair", Reason: "certificate does not parse", Err: err}
			}
		}
		s.spCert = c
	}
	return s, nil
}

// Details returns what the organization's IdP needs to know about us: ACS URL
// {BaseURL}/sso/{name}/acs, entity ID {BaseURL}/sso/{name}/metadata, NameID
// format and attributes.
func (s *Service) Details(org *Organization) SPDetails {
	if org == nil {
		return SPDetails{}
	}
	if ValidateSSOName(org.SSOName) != nil {
		// An invalid name has no endpoints; say so by leaving them empty.
		return SPDetails{NameIDFormat: saml.NameIDFormatEmail, Attributes: []string{AttrEmail, AttrFirstName, AttrLastName, AttrRoles}}
	}
	// BaseURL was checked once, by New.
	return spDetailsAt(s.baseURL + "/sso/" + org.SSOName)
}

// Metadata returns the organization's SP metadata XML, served at its entity ID.
func (s *Service) Metadata(org *Organization) ([]byte, error) {
	if org == nil {
		return nil, configErr("Organization", "is nil")
	}
	if err := ValidateSSOName(org.SSOName); err != nil {
		return nil, err
	}
	md, err := saml.SPMetadata(s.Details(org), s.spCert)
	return md, samlConfigErr(err)
}

// validator returns the Validator of a SAML connection of the organization,
// building it only when the configuration changed since the last call.
func (s *Service) validator(org *Organization, conn *Connection) (*Validator, error) {
	sp, err := s.connectionDetails(org, conn.ID)
	if err != nil {
		return nil, err
	}
	key := org.ID + "\x00" + conn.ID
	s.mu.Lock()
	c, ok := s.validators[key]
	s.mu.Unlock()
	if ok && c.matches(sp, conn) {
		return c.v, nil
	}
	v, err := NewValidator(ValidatorConfig{
		SP:                sp,
		IdP:               conn.SAML,
		Now:               s.now,
		ClockSkew:         s.skew,
		AllowIdPInitiated: conn.AllowIdPInitiated,
		SPKeyPair:         s.spKeyPair,
		MaxResponseSize:   s.maxSize,
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.validators[key] = cachedValidator{sp: sp, idp: conn.SAML, allowIdP: conn.AllowIdPInitiated, v: v}
	s.mu.Unlock()
	return v, nil
}

// readRand fills b from the injected randomness, serialised so that a Rand
// that is not safe for concurrent use can be injected.
func (s *Service) readRand(b []byte) error {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	_, err := io.ReadFull(s.rand, b)
	return err
}

// lockedRand is an io.Reader over the Service's serialised randomness.
type lockedRand struct{ s *Service }

func (r lockedRand) Read(b []byte) (int, error) {
	if err := r.s.readRand(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// lookup loads an organization by SSO name, mapping not-found to
// ErrUnknownOrganization.
func (s *Service) lookup(ctx context.Context, ssoName string) (*Organization, error) {
	if err := ValidateSSOName(ssoName); err != nil {
		return nil, &lookupError{name: ssoName, err: ErrUnknownOrganization}
	}
	org, err := s.loadOrgByName(ctx, ssoName)
	if err != nil {
		if isNotFound(err) {
			return nil, &lookupError{name: ssoName, err: ErrUnknownOrganization}
		}
		return nil, err
	}
	return org, nil
}

type lookupError struct {
	name string
	err  error
}

// Error names the organization only when the name is a valid SSO name: text
// from the URL that is not one never reaches a log.
func (e *lookupError) Error() string {
	if ValidateSSOName(e.name) != nil {
		return e.err.Error() + " (not a valid SSO name)"
	}
	return e.err.Error() + ": " + strconv.Quote(e.name)
}
func (e *lookupError) Unwrap() error { return e.err }

// MetadataFor returns the SP metadata XML of the organization with this SSO
// name, for the host's GET {BaseURL}/sso/{name}/metadata handler. An unknown
// name is ErrUnknownOrganization.
func (s *Service) MetadataFor(ctx context.Context, ssoName string) ([]byte, error) {
	org, err := s.lookup(ctx, ssoName)
	if err != nil {
		return nil, err
	}
	return s.Metadata(org)
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
