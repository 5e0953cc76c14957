package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml/samlidp"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// The bundled identity provider is github.com/crewjam/saml's samlidp, a small
// but real SAML 2.0 IdP, on its own local port. It is demo-only: its users
// live in memory and are re-created at every start.

// idpAdminHeader carries the random token that guards samlidp's REST API
// (users, services, sessions), which has no authentication of its own.
const idpAdminHeader = "X-Demo-IdP-Admin"

// idpGroupsAttribute is the attribute samlidp sends a user's groups in
// (eduPersonAffiliation).
const idpGroupsAttribute = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"

//go:embed templates/idp_login.html
var idpTemplateFS embed.FS

// bundledIdP is the running samlidp server.
type bundledIdP struct {
	URL        string // http://localhost:PORT
	idp        *samlidp.Server
	server     *http.Server
	adminToken string
	certPEM    string
	op         *bundledOP // the OpenID provider, under /oidc
}

// startIdP starts samlidp on ln, signing with the key pair kept in dir
// (created on first use). Every sign-in asks for a password: the IdP keeps no
// session, so the demo can switch users freely.
func startIdP(ln net.Listener, dir string, logOut io.Writer) (*bundledIdP, error) {
	key, cert, err := loadOrCreateIdPKey(dir)
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base := url.URL{Scheme: "http", Host: fmt.Sprintf("localhost:%d", port)}
	tmpl, err := template.New("idp_login.html").Funcs(template.FuncMap{
		"accounts": demoAccounts,
		"join":     joinStrings,
	}).ParseFS(idpTemplateFS, "templates/idp_login.html")
	if err != nil {
		return nil, err
	}
	idp, err := samlidp.New(samlidp.Options{
		URL:               base,
		Key:               key,
		Certificate:       cert,
		Logger:            log.New(logOut, "samlidp: ", log.LstdFlags),
		Store:             &samlidp.MemoryStore{},
		LoginFormTemplate: tmpl,
	})
	if err != nil {
		return nil, err
	}
	// samlidp signs with RSA-SHA1 by default, which orgsso refuses.
	idp.IDP.SignatureMethod = saml.AlgRSASHA256
	// crewjam/saml 0.5.x posts its login form to /login, which answers with
	// the IdP session as JSON and ends the SAML flow (crewjam/saml#613).
	// Posting it back to the SSO URL, as 0.4.x did, completes the flow.
	idp.IDP.LoginURL = idp.IDP.SSOURL

	op, err := newBundledOP(base.String()+oidcPath, dir)
	if err != nil {
		return nil, err
	}

	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	b := &bundledIdP{
		URL:        base.String(),
		idp:        idp,
		adminToken: hex.EncodeToString(token),
		certPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		op:         op,
	}
	b.server = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go b.server.Serve(ln)
	return b, nil
}

// ServeHTTP serves the IdP's SAML endpoints and the OpenID provider to
// everyone, and samlidp's REST API only to the demo itself.
func (b *bundledIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, oidcPath+"/"):
		// The app's cookies reach this port too (cookies do not separate
		// ports): the provider has no use for them.
		r.Header.Del("Cookie")
		b.op.ServeHTTP(w, r)
	case r.URL.Path == "/metadata" || r.URL.Path == "/sso":
		// No IdP session: every sign-in shows the login form. (Its cookie
		// would also land on the app: cookies do not separate ports.)
		r.Header.Del("Cookie")
		b.idp.ServeHTTP(noCookies{w}, r)
	case subtle.ConstantTimeCompare([]byte(r.Header.Get(idpAdminHeader)), []byte(b.adminToken)) == 1:
		b.idp.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// noCookies drops the Set-Cookie headers of a response.
type noCookies struct{ http.ResponseWriter }

// WriteHeader drops Set-Cookie, then writes the header.
func (w noCookies) WriteHeader(code int) {
	w.Header().Del("Set-Cookie")
	w.ResponseWriter.WriteHeader(code)
}

// Write drops Set-Cookie (if the header is not written yet), then writes.
func (w noCookies) Write(b []byte) (int, error) {
	w.Header().Del("Set-Cookie")
	return w.ResponseWriter.Write(b)
}

// close stops the server.
func (b *bundledIdP) close(ctx context.Context) error { return b.server.Shutdown(ctx) }

// call makes a REST API request to the IdP.
func (b *bundledIdP) call(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set(idpAdminHeader, b.adminToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("bundled IdP: %s %s: status %d", method, path, resp.StatusCode)
	}
	return out, nil
}

// putUser creates or replaces an IdP user (samlidp hashes the password).
func (b *bundledIdP) putUser(ctx context.Context, a demoAccount) error {
	pw := a.IdPPassword
	body, err := json.Marshal(samlidp.User{
		Name:              a.IdPUser,
		PlaintextPassword: &pw,
		Email:             a.Email,
		GivenName:         a.Given,
		Surname:           a.Surname,
		CommonName:        a.Given + " " + a.Surname,
		Groups:            a.Groups,
	})
	if err != nil {
		return err
	}
	_, err = b.call(ctx, http.MethodPut, "/users/"+url.PathEscape(a.IdPUser), "application/json", body)
	return err
}

// putService registers a service provider from its SP metadata, as an
// administrator does in a real IdP's console.
func (b *bundledIdP) putService(ctx context.Context, id string, metadata []byte) error {
	_, err := b.call(ctx, http.MethodPut, "/services/"+url.PathEscape(id), "application/samlmetadata+xml", metadata)
	return err
}

// config returns the IdP configuration an organization needs, imported from
// the IdP's own metadata as an owner would.
func (b *bundledIdP) config(ctx context.Context) (sso.IdPConfig, error) {
	md, err := b.call(ctx, http.MethodGet, "/metadata", "", nil)
	if err != nil {
		return sso.IdPConfig{}, err
	}
	cfg, err := sso.ParseIdPMetadata(md)
	if err != nil {
		return sso.IdPConfig{}, err
	}
	cfg.SignatureAlgorithm = saml.AlgRSASHA256
	return cfg, nil
}

// owns reports whether an IdP configuration trusts this IdP's certificate.
func (b *bundledIdP) owns(cfg sso.IdPConfig) bool {
	return slices.Contains(cfg.Certificates, b.certPEM)
}

// loadOrCreateIdPKey returns the IdP's RSA key and self-signed certificate
// from dir/idp-key.pem and dir/idp-cert.pem, making new ones when they are
// missing, unreadable or expire within a day. Keeping them lets a restarted
// demo trust the same IdP. The key file is only ever readable by its owner
// (0600), also when it is rewritten over an older file, and a key file
// found readable by others is made private.
func loadOrCreateIdPKey(dir string) (*rsa.PrivateKey, *x509.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, "idp-key.pem"), filepath.Join(dir, "idp-cert.pem")
	if key, cert, err := readIdPKey(keyPath, certPath); err == nil {
		if err := keepPrivate(keyPath); err != nil {
			return nil, nil, err
		}
		return key, cert, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Printf("demo: making a new IdP key pair: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "orgsso demo IdP"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// writeFileAtomic replaces path with data, with mode perm whatever the file
// it replaces had (os.WriteFile keeps an existing file's mode): it writes a
// temporary file in the same directory, created 0600 and set to perm before
// anything is written, and renames it over path. A crash leaves the old
// file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, there is nothing to remove
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// keepPrivate makes a key file readable by its owner only, if it was not.
func keepPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	log.Printf("demo: %s was readable by others (mode %v); making it 0600", path, fi.Mode().Perm())
	return os.Chmod(path, 0o600)
}

// readIdPKey reads a key pair written by loadOrCreateIdPKey.
func readIdPKey(keyPath, certPath string) (*rsa.PrivateKey, *x509.Certificate, error) {
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, nil, errors.New("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("not an RSA key")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("certificate does not match the key")
	}
	if time.Now().Add(24 * time.Hour).After(cert.NotAfter) {
		return nil, nil, errors.New("certificate expires within a day")
	}
	return key, cert, nil
}
