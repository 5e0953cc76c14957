package saml

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// authnTestKeys holds two RSA-2048 key pairs, generated once per test binary:
// key generation dominates the run time otherwise.
var authnTestKeys = sync.OnceValues(func() ([2]*tls.Certificate, error) {
	var out [2]*tls.Certificate
	for i := range out {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return out, err
		}
		kp, err := authnSelfSigned(key)
		if err != nil {
			return out, err
		}
		out[i] = kp
	}
	return out, nil
})

// authnSelfSigned wraps a key in a self-signed certificate.
func authnSelfSigned(key crypto.Signer) (*tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sp.example.com"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func authnKeys(t testing.TB) (sp, other *tls.Certificate) {
	t.Helper()
	keys, err := authnTestKeys()
	if err != nil {
		t.Fatalf("generating test keys: %v", err)
	}
	return keys[0], keys[1]
}

// authnSeq20 is the fixed randomness of the deterministic request ID.
var authnSeq20 = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}

const authnSeqID = "id-000102030405060708090a0b0c0d0e0f10111213"

func authnOptions() AuthnRequestOptions {
	return AuthnRequestOptions{
		SP: SPDetails{
			EntityID: "https://app.example.com/sso/acme/metadata",
			ACSURL:   "https://app.example.com/sso/acme/acs",
		},
		IdPSSOURL: "https://idp.example.org/sso/redirect",
		Now:       time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("CET", 3600)),
		Rand:      bytes.NewReader(authnSeq20),
	}
}

func authnQuery(t testing.TB, redirect string) url.Values {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatalf("url.Parse(%q) err = %v; want nil", redirect, err)
	}
	return u.Query()
}

// authnDecode inflates a SAMLRequest value, as an IdP does.
func authnDecode(t testing.TB, s string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 decode err = %v; want nil", err)
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("inflate err = %v; want nil", err)
	}
	return string(b)
}

// TestNewAuthnRequestXML pins the exact documents (golden files under
// testdata/golden; refresh with -update) and the encoding.
func TestNewAuthnRequestXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, golden string
		modify       func(*AuthnRequestOptions)
	}{
		{"plain", "authnrequest.xml", func(*AuthnRequestOptions) {}},
		{"escaped", "authnrequest_escaped.xml", func(o *AuthnRequestOptions) {
			o.SP.EntityID = `urn:x:a<b>&"c"'d'`
			o.SP.ACSURL = `https://app.example.com/acs?a=1&b=<2>&c="3"&é`
			o.IdPSSOURL = `https://idp.example.org/sso?tenant=a&app=b'c`
			o.SP.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
			o.RelayState = "/x"
			o.ForceAuthn = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := authnOptions()
			tt.modify(&opts)
			red, err := NewAuthnRequest(opts)
			if err != nil {
				t.Fatalf("NewAuthnRequest() err = %v; want nil", err)
			}
			if want := opts.IdPSSOURL; !strings.HasPrefix(red.URL, want) {
				t.Errorf("NewAuthnRequest().URL = %q; want prefix %q", red.URL, want)
			}
			q := authnQuery(t, red.URL)
			checkGolden(t, tt.golden, []byte(authnDecode(t, q.Get("SAMLRequest"))))
			// Raw DEFLATE, not zlib: a zlib reader must refuse it.
			raw, _ := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
			if _, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
				t.Errorf("zlib.NewReader() err = nil; want an error for raw DEFLATE")
			}
		})
	}
}

// TestNewAuthnRequestEscaping checks odd characters reach the XML escaped and
// an independent parser (encoding/xml through crewjam's types) reads them back.
func TestNewAuthnRequestEscaping(t *testing.T) {
	t.Parallel()
	opts := authnOptions()
	opts.SP.EntityID = `urn:x:a<b>&"c"'d'`
	opts.SP.ACSURL = `https://app.example.com/acs?a=1&b=<2>&c="3"`
	opts.IdPSSOURL = `https://idp.example.org/sso?tenant=a&app=b'c`
	opts.ForceAuthn = true
	red, err := NewAuthnRequest(opts)
	if err != nil {
		t.Fatalf("NewAuthnRequest() err = %v; want nil", err)
	}
	doc := authnDecode(t, authnQuery(t, red.URL).Get("SAMLRequest"))
	for _, want := range []string{
		`AssertionConsumerServiceURL="https://app.example.com/acs?a=1&amp;b=&lt;2&gt;&amp;c=&quot;3&quot;"`,
		`Destination="https://idp.example.org/sso?tenant=a&amp;app=b&apos;c"`,
		`<saml:Issuer>urn:x:a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;</saml:Issuer>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("AuthnRequest XML = %s; want it to contain %s", doc, want)
		}
	}
	var cj crewjam.AuthnRequest
	if err := xml.Unmarshal([]byte(doc), &cj); err != nil {
		t.Fatalf("xml.Unmarshal() err = %v; want nil", err)
	}
	if cj.AssertionConsumerServiceURL != opts.SP.ACSURL {
		t.Errorf("ACS URL = %q; want %q", cj.AssertionConsumerServiceURL, opts.SP.ACSURL)
	}
	if cj.Destination != opts.IdPSSOURL {
		t.Errorf("Destination = %q; want %q", cj.Destination, opts.IdPSSOURL)
	}
	if cj.Issuer == nil || cj.Issuer.Value != opts.SP.EntityID {
		t.Errorf("Issuer = %+v; want %q", cj.Issuer, opts.SP.EntityID)
	}
	if cj.ForceAuthn == nil || !*cj.ForceAuthn {
		t.Errorf("ForceAuthn = %v; want true", cj.ForceAuthn)
	}
	if cj.NameIDPolicy == nil || cj.NameIDPolicy.AllowCreate == nil || !*cj.NameIDPolicy.AllowCreate ||
		cj.NameIDPolicy.Format == nil || *cj.NameIDPolicy.Format != NameIDFormatEmail {
		t.Errorf("NameIDPolicy = %+v; want email format, AllowCreate", cj.NameIDPolicy)
	}
	if cj.Version != "2.0" || cj.ID != authnSeqID {
		t.Errorf("Version, ID = %q, %q; want 2.0, %q", cj.Version, cj.ID, authnSeqID)
	}
}

// TestNewAuthnRequestIDs draws 1000 IDs from crypto/rand: the first 20
// through NewAuthnRequest, the rest through the generator it uses (a full
// request allocates a DEFLATE compressor, slow under -race).
func TestNewAuthnRequestIDs(t *testing.T) {
	t.Parallel()
	const n = 1000
	seen := make(map[string]bool, n)
	for i := range n {
		var id string
		if i < 20 {
			opts := authnOptions()
			opts.Rand = nil // crypto/rand
			red, err := NewAuthnRequest(opts)
			if err != nil {
				t.Fatalf("NewAuthnRequest() err = %v; want nil", err)
			}
			id = red.ID
		} else {
			var err error
			if id, err = newAuthnRequestID(nil); err != nil {
				t.Fatalf("newAuthnRequestID() err = %v; want nil", err)
			}
		}
		if len(id) != 43 || !strings.HasPrefix(id, "id-") || strings.Trim(id[3:], "0123456789abcdef") != "" {
			t.Fatalf("RequestID = %q; want id- and 40 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("RequestID %q repeated", id)
		}
		seen[id] = true
	}
}

type authnErrReader struct{}

func (authnErrReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

// authnOpaqueSigner hides the key type behind crypto.Signer.
type authnOpaqueSigner struct{ crypto.Signer }

func TestNewAuthnRequestBadOptions(t *testing.T) {
	t.Parallel()
	spKP, otherKP := authnKeys(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKP, err := authnSelfSigned(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	mismatched := &tls.Certificate{Certificate: spKP.Certificate, PrivateKey: otherKP.PrivateKey}

	tests := []struct {
		name      string
		modify    func(*AuthnRequestOptions)
		wantField string
	}{
		{"no entity ID", func(o *AuthnRequestOptions) { o.SP.EntityID = "" }, "SP.EntityID"},
		{"entity ID with newline", func(o *AuthnRequestOptions) { o.SP.EntityID = "urn:a\nb" }, "SP.EntityID"},
		{"entity ID with leading space", func(o *AuthnRequestOptions) { o.SP.EntityID = " urn:a" }, "SP.EntityID"},
		{"entity ID not UTF-8", func(o *AuthnRequestOptions) { o.SP.EntityID = "urn:\xff" }, "SP.EntityID"},
		{"entity ID with U+FFFE", func(o *AuthnRequestOptions) { o.SP.EntityID = "urn:\uFFFE" }, "SP.EntityID"},
		{"no ACS URL", func(o *AuthnRequestOptions) { o.SP.ACSURL = "" }, "SP.ACSURL"},
		{"relative ACS URL", func(o *AuthnRequestOptions) { o.SP.ACSURL = "/sso/acme/acs" }, "SP.ACSURL"},
		{"ACS URL without host", func(o *AuthnRequestOptions) { o.SP.ACSURL = "https:///acs" }, "SP.ACSURL"},
		{"ACS URL ftp", func(o *AuthnRequestOptions) { o.SP.ACSURL = "ftp://app.example.com/acs" }, "SP.ACSURL"},
		{"ACS URL not UTF-8", func(o *AuthnRequestOptions) { o.SP.ACSURL = "https://app.example.com/\xfe" }, "SP.ACSURL"},
		{"ACS URL with tab", func(o *AuthnRequestOptions) { o.SP.ACSURL = "https://app.example.com/a\tb" }, "SP.ACSURL"},
		{"NameID format with control", func(o *AuthnRequestOptions) { o.SP.NameIDFormat = "urn:\x01" }, "SP.NameIDFormat"},
		{"no IdP URL", func(o *AuthnRequestOptions) { o.IdPSSOURL = "" }, "IdPSSOURL"},
		{"relative IdP URL", func(o *AuthnRequestOptions) { o.IdPSSOURL = "idp.example.org/sso" }, "IdPSSOURL"},
		{"IdP URL javascript", func(o *AuthnRequestOptions) { o.IdPSSOURL = "javascript:alert(1)" }, "IdPSSOURL"},
		{"IdP URL with space", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/a b" }, "IdPSSOURL"},
		{"IdP URL non-ASCII", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/é" }, "IdPSSOURL"},
		{"IdP URL with fragment", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/sso#x" }, "IdPSSOURL"},
		{"IdP URL bad query", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/sso?a=%zz" }, "IdPSSOURL"},
		{"IdP URL with SAMLRequest", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/sso?SAMLRequest=x" }, "IdPSSOURL"},
		{"IdP URL with RelayState", func(o *AuthnRequestOptions) { o.IdPSSOURL = "https://idp.example.org/sso?RelayState=" }, "IdPSSOURL"},
		{"relay state of 81 bytes", func(o *AuthnRequestOptions) { o.RelayState = strings.Repeat("r", 81) }, "RelayState"},
		{"zero Now", func(o *AuthnRequestOptions) { o.Now = time.Time{} }, "Now"},
		{"rand fails", func(o *AuthnRequestOptions) { o.Rand = authnErrReader{} }, "Rand"},
		{"rand too short", func(o *AuthnRequestOptions) { o.Rand = bytes.NewReader(make([]byte, 19)) }, "Rand"},
		{"signing key without private key", func(o *AuthnRequestOptions) {
			o.SigningKey = &tls.Certificate{Certificate: spKP.Certificate}
		}, "SigningKey"},
		{"signing key ECDSA", func(o *AuthnRequestOptions) { o.SigningKey = ecKP }, "SigningKey"},
		{"signing key RSA-1024", func(o *AuthnRequestOptions) {
			o.SigningKey = &tls.Certificate{PrivateKey: smallKey}
		}, "SigningKey"},
		{"signing key not a signer", func(o *AuthnRequestOptions) {
			o.SigningKey = &tls.Certificate{PrivateKey: "secret"}
		}, "SigningKey"},
		{"signing key not matching certificate", func(o *AuthnRequestOptions) { o.SigningKey = mismatched }, "SigningKey"},
		{"signing key with bad certificate", func(o *AuthnRequestOptions) {
			o.SigningKey = &tls.Certificate{Certificate: [][]byte{{1, 2, 3}}, PrivateKey: spKP.PrivateKey}
		}, "SigningKey"},
		{"signing key RSA without modulus", func(o *AuthnRequestOptions) {
			o.SigningKey = &tls.Certificate{PrivateKey: authnOpaqueSigner{authnNilModulus{}}}
		}, "SigningKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := authnOptions()
			tt.modify(&opts)
			red, err := NewAuthnRequest(opts)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewAuthnRequest() err = %v; want %v", err, ErrInvalidConfig)
			}
			if red != nil {
				t.Errorf("NewAuthnRequest() = %+v; want nil on error", red)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Errorf("NewAuthnRequest() err = %v; want a *ConfigError for %s", err, tt.wantField)
			}
		})
	}
}

// authnNilModulus is a signer whose RSA public key has no modulus.
type authnNilModulus struct{}

func (authnNilModulus) Public() crypto.PublicKey { return &rsa.PublicKey{} }

func (authnNilModulus) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("unreachable")
}

// authnFailingSigner is a valid RSA public key whose signing fails (a remote
// KMS that is down, say).
type authnFailingSigner struct{ pub crypto.PublicKey }

func (s authnFailingSigner) Public() crypto.PublicKey { return s.pub }

func (authnFailingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("kms unavailable")
}

func TestNewAuthnRequestSignerFails(t *testing.T) {
	t.Parallel()
	spKP, _ := authnKeys(t)
	opts := authnOptions()
	opts.SigningKey = &tls.Certificate{PrivateKey: authnFailingSigner{spKP.Leaf.PublicKey}}
	_, err := NewAuthnRequest(opts)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewAuthnRequest() err = %v; want %v", err, ErrInvalidConfig)
	}
}
