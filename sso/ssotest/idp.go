package ssotest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net/url"
	"sync"
	"time"

	"github.com/orgsso/orgsso/sso"
)

// Defaults of Config.
const (
	DefaultEntityID = "https://idp.example.test/metadata"
	DefaultSSOURL   = "https://idp.example.test/sso"
)

// certificate validity around Config.Now at New.
const (
	certBackdate = time.Hour
	certLifetime = 10 * 365 * 24 * time.Hour
)

// Config configures a test IdP. The zero value is usable.
type Config struct {
	// EntityID is the IdP entity ID, the Issuer of its responses.
	// "" = DefaultEntityID.
	EntityID string
	// SSOURL is where AuthnRequests go (HTTP-Redirect or HTTP-POST binding);
	// ServeHTTP answers on its path. An absolute URL. "" = DefaultSSOURL.
	SSOURL string
	// Now stamps IssueInstant and the validity windows of responses, and the
	// validity of the certificate made at New (Now()-1h to Now()+10 years).
	// nil = time.Now.
	Now func() time.Time
	// Rand supplies the randomness of IDs, the certificate serial number, and
	// the symmetric keys and IVs of encrypted assertions. nil = crypto/rand.
	// A deterministic reader makes IDs reproducible; the IdP serializes its
	// reads, so Rand need not be safe for concurrent use.
	Rand io.Reader
	// Key signs responses. It must be an RSA key (*rsa.PrivateKey, or any
	// crypto.Signer whose public key is *rsa.PublicKey). nil = a fresh RSA-2048
	// key (key generation always uses crypto/rand, whatever Rand is).
	Key crypto.Signer
	// Login chooses the user ServeHTTP signs in; SetLogin replaces it later.
	// nil = every login is refused with 403 until SetLogin is called.
	Login LoginFunc
}

// IdP is a SAML 2.0 identity provider for tests, the way httptest.Server is an
// HTTP server for tests: it signs responses for the users and attributes it is
// given, and serves the SSO endpoint. Build it with New. It is safe for
// concurrent use.
type IdP struct {
	entityID string
	ssoURL   string
	ssoPath  string
	now      func() time.Time
	key      crypto.Signer
	cert     *x509.Certificate
	certPEM  string
	page     *template.Template // the auto-post form

	randMu sync.Mutex
	rand   io.Reader

	loginMu sync.Mutex
	login   LoginFunc
}

// New checks cfg, fills in the defaults and makes the IdP's self-signed signing
// certificate. Errors wrap sso.ErrInvalidConfig (as *sso.ConfigError) when cfg is
// invalid.
func New(cfg Config) (*IdP, error) {
	idp := &IdP{
		entityID: cfg.EntityID,
		ssoURL:   cfg.SSOURL,
		now:      cfg.Now,
		rand:     cfg.Rand,
		key:      cfg.Key,
		login:    cfg.Login,
	}
	if idp.entityID == "" {
		idp.entityID = DefaultEntityID
	}
	if idp.ssoURL == "" {
		idp.ssoURL = DefaultSSOURL
	}
	u, err := url.Parse(idp.ssoURL)
	if err != nil {
		return nil, &sso.ConfigError{Field: "SSOURL", Reason: "not a URL", Err: err}
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, &sso.ConfigError{Field: "SSOURL", Reason: "must be an absolute URL"}
	}
	idp.ssoPath = u.EscapedPath()
	if idp.ssoPath == "" {
		idp.ssoPath = "/"
	}
	if idp.now == nil {
		idp.now = time.Now
	}
	if idp.rand == nil {
		idp.rand = rand.Reader
	}
	if idp.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, &sso.ConfigError{Field: "Key", Reason: "cannot generate an RSA key", Err: err}
		}
		idp.key = k
	}
	if _, ok := idp.key.Public().(*rsa.PublicKey); !ok {
		return nil, &sso.ConfigError{Field: "Key", Reason: "must be an RSA key"}
	}
	cert, err := idp.selfSign()
	if err != nil {
		return nil, &sso.ConfigError{Field: "Key", Reason: "cannot make a certificate", Err: err}
	}
	idp.cert = cert
	idp.certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	if idp.page, err = template.New("autopost").Parse(autoPost); err != nil {
		return nil, fmt.Errorf("ssotest: auto-post template: %w", err)
	}
	return idp, nil
}

// selfSign makes the IdP's signing certificate, valid from an hour before Now to
// ten years after.
func (idp *IdP) selfSign() (*x509.Certificate, error) {
	serial := make([]byte, 16)
	if err := idp.readRand(serial); err != nil {
		return nil, err
	}
	serial[0] &= 0x7f // positive
	now := idp.now()
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial),
		Subject:               pkix.Name{CommonName: "orgsso test IdP", Organization: []string{"orgsso ssotest"}},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, idp.key.Public(), idp.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// readRand fills b from the configured randomness, one reader at a time.
func (idp *IdP) readRand(b []byte) error {
	idp.randMu.Lock()
	defer idp.randMu.Unlock()
	_, err := io.ReadFull(idp.rand, b)
	return err
}

// lockedRand is an io.Reader over the IdP's randomness, serialized.
type lockedRand struct{ idp *IdP }

// Read implements io.Reader.
func (r lockedRand) Read(b []byte) (int, error) {
	if err := r.idp.readRand(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// newID returns a fresh xs:ID value: "_" and 32 hex digits.
func (idp *IdP) newID() (string, error) {
	b := make([]byte, 16)
	if err := idp.readRand(b); err != nil {
		return "", err
	}
	return "_" + hex.EncodeToString(b), nil
}

// EntityID returns the IdP entity ID, the Issuer of its responses.
func (idp *IdP) EntityID() string { return idp.entityID }

// SSOURL returns the URL AuthnRequests are sent to.
func (idp *IdP) SSOURL() string { return idp.ssoURL }

// IdPConfig returns what an organization configures to trust this IdP: its
// entity ID, SSO URL and signing certificate (PEM).
func (idp *IdP) IdPConfig() sso.IdPConfig {
	return sso.IdPConfig{
		EntityID:     idp.entityID,
		SSOURL:       idp.ssoURL,
		Certificates: []string{idp.certPEM},
	}
}

// Certificate returns the IdP's self-signed signing certificate. It is shared:
// do not modify it.
func (idp *IdP) Certificate() *x509.Certificate { return idp.cert }

// CertificatePEM returns the signing certificate as one PEM CERTIFICATE block.
func (idp *IdP) CertificatePEM() string { return idp.certPEM }
