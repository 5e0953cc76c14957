package ssotest

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
	"errors"
	"io"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	crewjam "github.com/crewjam/saml"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
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

func authnOptions() saml.AuthnRequestOptions {
	return saml.AuthnRequestOptions{
		SP: sso.SPDetails{
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

// authnEncode deflates and base64-encodes XML as the binding does.
func authnEncode(t testing.TB, doc string) string {
	t.Helper()
	s, err := authnDeflateBase64([]byte(doc))
	if err != nil {
		t.Fatalf("authnDeflateBase64() err = %v; want nil", err)
	}
	return s
}

// authnDecode undoes authnEncode.
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

// authnSign signs query octets as an SP would, with any hash.
func authnSign(t testing.TB, kp *tls.Certificate, h crypto.Hash, octets string) string {
	t.Helper()
	d := h.New()
	d.Write([]byte(octets))
	sig, err := kp.PrivateKey.(crypto.Signer).Sign(rand.Reader, d.Sum(nil), h)
	if err != nil {
		t.Fatalf("Sign() err = %v; want nil", err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestNewAuthnRequestRoundTrip(t *testing.T) {
	t.Parallel()
	base := authnOptions()
	tests := []struct {
		name   string
		modify func(*saml.AuthnRequestOptions)
		want   AuthnRequest
	}{
		{
			name:   "plain",
			modify: func(*saml.AuthnRequestOptions) {},
			want:   AuthnRequest{},
		},
		{
			name: "relay state and force authn",
			modify: func(o *saml.AuthnRequestOptions) {
				o.RelayState = "/dashboard?tab=1&x=y z"
				o.ForceAuthn = true
			},
			want: AuthnRequest{RelayState: "/dashboard?tab=1&x=y z", ForceAuthn: true},
		},
		{
			name:   "relay state of exactly 80 bytes",
			modify: func(o *saml.AuthnRequestOptions) { o.RelayState = strings.Repeat("r", saml.MaxRelayState) },
			want:   AuthnRequest{RelayState: strings.Repeat("r", saml.MaxRelayState)},
		},
		{
			name: "custom NameID format",
			modify: func(o *saml.AuthnRequestOptions) {
				o.SP.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
			},
			want: AuthnRequest{NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"},
		},
		{
			name: "odd characters",
			modify: func(o *saml.AuthnRequestOptions) {
				o.SP.EntityID = `urn:x:<&>"'é`
				o.SP.ACSURL = `https://app.example.com/acs?a=1&b=<2>&c="3"&d='4'&e=é`
				o.RelayState = "\x00\xff&=+%/é"
			},
			want: AuthnRequest{
				Issuer:     `urn:x:<&>"'é`,
				ACSURL:     `https://app.example.com/acs?a=1&b=<2>&c="3"&d='4'&e=é`,
				RelayState: "\x00\xff&=+%/é",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := base
			opts.Rand = bytes.NewReader(authnSeq20)
			tt.modify(&opts)
			want := tt.want
			want.ID = authnSeqID
			want.Destination = opts.IdPSSOURL
			want.ProtocolBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
			want.IssueInstant = time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
			if want.Issuer == "" {
				want.Issuer = opts.SP.EntityID
			}
			if want.ACSURL == "" {
				want.ACSURL = opts.SP.ACSURL
			}
			if want.NameIDFormat == "" {
				want.NameIDFormat = saml.NameIDFormatEmail
			}

			red, err := saml.NewAuthnRequest(opts)
			if err != nil {
				t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
			}
			if red.ID != authnSeqID {
				t.Errorf("saml.NewAuthnRequest().ID = %q; want %q", red.ID, authnSeqID)
			}
			got, err := ParseAuthnRequest(authnQuery(t, red.URL), nil)
			if err != nil {
				t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
			}
			if *got != want {
				t.Errorf("ParseAuthnRequest() = %+v; want %+v", *got, want)
			}
			if !got.IssueInstant.Equal(want.IssueInstant) || got.IssueInstant.Location() != time.UTC {
				t.Errorf("ParseAuthnRequest().IssueInstant = %v; want %v in UTC", got.IssueInstant, want.IssueInstant)
			}
		})
	}
}

func TestNewAuthnRequestKeepsIdPQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, idpURL, wantPrefix string
		wantExtra                url.Values
	}{
		{"no query", "https://idp.example.org/sso", "https://idp.example.org/sso?SAMLRequest=", nil},
		{"query", "https://idp.example.org/sso?tenant=acme&x=%2F", "https://idp.example.org/sso?tenant=acme&x=%2F&SAMLRequest=",
			url.Values{"tenant": {"acme"}, "x": {"/"}}},
		{"empty query", "https://idp.example.org/sso?", "https://idp.example.org/sso?SAMLRequest=", nil},
		{"trailing ampersand", "https://idp.example.org/sso?a=b&", "https://idp.example.org/sso?a=b&SAMLRequest=",
			url.Values{"a": {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := authnOptions()
			opts.IdPSSOURL = tt.idpURL
			opts.RelayState = "rs"
			red, err := saml.NewAuthnRequest(opts)
			if err != nil {
				t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
			}
			if !strings.HasPrefix(red.URL, tt.wantPrefix) {
				t.Errorf("saml.NewAuthnRequest().URL = %q; want prefix %q", red.URL, tt.wantPrefix)
			}
			q := authnQuery(t, red.URL)
			for k, v := range tt.wantExtra {
				if got := q[k]; len(got) != 1 || got[0] != v[0] {
					t.Errorf("query[%q] = %q; want %q", k, got, v)
				}
			}
			got, err := ParseAuthnRequest(q, nil)
			if err != nil {
				t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
			}
			if got.Destination != tt.idpURL {
				t.Errorf("Destination = %q; want %q", got.Destination, tt.idpURL)
			}
			if got.RelayState != "rs" {
				t.Errorf("RelayState = %q; want %q", got.RelayState, "rs")
			}
		})
	}
}

func TestAuthnRequestSigned(t *testing.T) {
	t.Parallel()
	spKP, _ := authnKeys(t)

	// A key pair without Leaf, as older tls.X509KeyPair returned it.
	noLeaf := &tls.Certificate{Certificate: spKP.Certificate, PrivateKey: spKP.PrivateKey}
	for _, kp := range []*tls.Certificate{spKP, noLeaf, {PrivateKey: spKP.PrivateKey}} {
		opts := authnOptions()
		opts.RelayState = "/back?to=here"
		opts.SigningKey = kp
		red, err := saml.NewAuthnRequest(opts)
		if err != nil {
			t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
		}
		// Parameter order is part of the signed octets.
		u, _ := url.Parse(red.URL)
		var keys []string
		for _, kv := range strings.Split(u.RawQuery, "&") {
			keys = append(keys, strings.SplitN(kv, "=", 2)[0])
		}
		if got, want := strings.Join(keys, ","), "SAMLRequest,RelayState,SigAlg,Signature"; got != want {
			t.Errorf("query parameters = %s; want %s", got, want)
		}
		q := u.Query()
		if got := q.Get("SigAlg"); got != saml.AlgRSASHA256 {
			t.Errorf("SigAlg = %q; want %q", got, saml.AlgRSASHA256)
		}
		got, err := ParseAuthnRequest(q, spKP.Leaf)
		if err != nil {
			t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
		}
		if !got.Signed || got.RelayState != opts.RelayState || got.ID != red.ID {
			t.Errorf("ParseAuthnRequest() = %+v; want Signed, RelayState %q, ID %q", got, opts.RelayState, red.ID)
		}
		// Without a certificate the signature is not judged.
		got, err = ParseAuthnRequest(q, nil)
		if err != nil {
			t.Fatalf("ParseAuthnRequest(nil cert) err = %v; want nil", err)
		}
		if got.Signed {
			t.Errorf("ParseAuthnRequest(nil cert).Signed = true; want false")
		}
	}
}

func TestParseAuthnRequestSignatureRefused(t *testing.T) {
	t.Parallel()
	spKP, otherKP := authnKeys(t)
	opts := authnOptions()
	opts.RelayState = "rs"
	opts.SigningKey = spKP
	red, err := saml.NewAuthnRequest(opts)
	if err != nil {
		t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
	}
	signed := authnQuery(t, red.URL)
	otherXML := authnEncode(t, strings.Replace(authnDecode(t, signed.Get("SAMLRequest")),
		"sso/acme/acs", "evil/acs", 1))
	octets := func(alg string) string {
		return "SAMLRequest=" + url.QueryEscape(signed.Get("SAMLRequest")) +
			"&RelayState=rs&SigAlg=" + url.QueryEscape(alg)
	}

	tests := []struct {
		name      string
		modify    func(url.Values)
		cert      *x509.Certificate
		wantErr   error
		wantParam string
	}{
		{"tampered RelayState", func(q url.Values) { q.Set("RelayState", "rt") }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"RelayState dropped", func(q url.Values) { q.Del("RelayState") }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"RelayState emptied", func(q url.Values) { q.Set("RelayState", "") }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"tampered SAMLRequest", func(q url.Values) { q.Set("SAMLRequest", otherXML) }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"wrong certificate", func(url.Values) {}, otherKP.Leaf, ErrInvalidRequest, "Signature"},
		{"signature missing", func(q url.Values) { q.Del("Signature") }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"SigAlg missing", func(q url.Values) { q.Del("SigAlg") }, spKP.Leaf, ErrInvalidRequest, "SigAlg"},
		{"signature not base64", func(q url.Values) { q.Set("Signature", "!!!") }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"signature repeated", func(q url.Values) { q.Add("Signature", q.Get("Signature")) }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"signature oversized", func(q url.Values) { q.Set("Signature", strings.Repeat("A", 5000)) }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"rsa-sha1 refused even when valid", func(q url.Values) {
			q.Set("SigAlg", saml.AlgRSASHA1)
			q.Set("Signature", authnSign(t, spKP, crypto.SHA1, octets(saml.AlgRSASHA1)))
		}, spKP.Leaf, ErrInvalidRequest, "SigAlg"},
		{"ecdsa-sha256 unsupported", func(q url.Values) { q.Set("SigAlg", saml.AlgECDSASHA256) }, spKP.Leaf, ErrInvalidRequest, "SigAlg"},
		{"SigAlg changed to sha512, signature of sha256", func(q url.Values) { q.Set("SigAlg", saml.AlgRSASHA512) }, spKP.Leaf, ErrInvalidRequest, "Signature"},
		{"rsa-sha512 accepted", func(q url.Values) {
			q.Set("SigAlg", saml.AlgRSASHA512)
			q.Set("Signature", authnSign(t, spKP, crypto.SHA512, octets(saml.AlgRSASHA512)))
		}, spKP.Leaf, nil, ""},
		{"rsa-sha384 accepted", func(q url.Values) {
			q.Set("SigAlg", saml.AlgRSASHA384)
			q.Set("Signature", authnSign(t, spKP, crypto.SHA384, octets(saml.AlgRSASHA384)))
		}, spKP.Leaf, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{}
			for k, v := range signed {
				q[k] = append([]string(nil), v...)
			}
			tt.modify(q)
			got, err := ParseAuthnRequest(q, tt.cert)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ParseAuthnRequest() err = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				if !got.Signed {
					t.Errorf("ParseAuthnRequest().Signed = false; want true")
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tt.wantParam {
				t.Errorf("ParseAuthnRequest() err = %v; want a *RequestError for %s", err, tt.wantParam)
			}
		})
	}
}

func TestParseAuthnRequestUnsignedWhenCertRequired(t *testing.T) {
	t.Parallel()
	spKP, _ := authnKeys(t)
	red, err := saml.NewAuthnRequest(authnOptions())
	if err != nil {
		t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
	}
	_, err = ParseAuthnRequest(authnQuery(t, red.URL), spKP.Leaf)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("ParseAuthnRequest() err = %v; want %v", err, ErrInvalidRequest)
	}
}

func TestParseAuthnRequestNonRSACert(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKP, err := authnSelfSigned(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	red, err := saml.NewAuthnRequest(authnOptions())
	if err != nil {
		t.Fatalf("saml.NewAuthnRequest() err = %v; want nil", err)
	}
	_, err = ParseAuthnRequest(authnQuery(t, red.URL), ecKP.Leaf)
	if !errors.Is(err, sso.ErrInvalidConfig) {
		t.Errorf("ParseAuthnRequest() err = %v; want %v", err, sso.ErrInvalidConfig)
	}
}

// TestParseAuthnRequestCrewjamSP checks interoperability: a request signed by
// another SAML library's SP parses and verifies.
func TestParseAuthnRequestCrewjamSP(t *testing.T) {
	t.Parallel()
	spKP, _ := authnKeys(t)
	acs, _ := url.Parse("https://app.example.com/sso/acme/acs")
	md, _ := url.Parse("https://app.example.com/sso/acme/metadata")
	sp := crewjam.ServiceProvider{
		EntityID:    md.String(),
		Key:         spKP.PrivateKey.(crypto.Signer),
		Certificate: spKP.Leaf,
		AcsURL:      *acs,
		MetadataURL: *md,
		IDPMetadata: &crewjam.EntityDescriptor{IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
			SSODescriptor: crewjam.SSODescriptor{},
			SingleSignOnServices: []crewjam.Endpoint{{
				Binding: crewjam.HTTPRedirectBinding, Location: "https://idp.example.org/sso",
			}},
		}}},
		AuthnNameIDFormat: crewjam.EmailAddressNameIDFormat,
		SignatureMethod:   saml.AlgRSASHA256,
	}
	u, err := sp.MakeRedirectAuthenticationRequest("relay-123")
	if err != nil {
		t.Fatalf("MakeRedirectAuthenticationRequest() err = %v; want nil", err)
	}
	got, err := ParseAuthnRequest(u.Query(), spKP.Leaf)
	if err != nil {
		t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
	}
	if !got.Signed || got.Issuer != md.String() || got.ACSURL != acs.String() ||
		got.Destination != "https://idp.example.org/sso" || got.RelayState != "relay-123" ||
		got.NameIDFormat != saml.NameIDFormatEmail || !strings.HasPrefix(got.ID, "id-") || got.IssueInstant.IsZero() {
		t.Errorf("ParseAuthnRequest() = %+v; want the crewjam request's fields", got)
	}
}

// authnDeflateBomb is a small SAMLRequest that inflates past the 256 KiB limit.
func authnDeflateBomb(t testing.TB) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="`))
	w.Write(make([]byte, 300<<10))
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestParseAuthnRequestInvalid(t *testing.T) {
	t.Parallel()
	const (
		open  = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" `
		attrs = `ID="id-1" Version="2.0" IssueInstant="2025-03-14T14:09:26Z"`
		body  = `<saml:Issuer>https://sp</saml:Issuer>`
		valid = open + attrs + `>` + body + `</samlp:AuthnRequest>`
	)
	var zlibBuf bytes.Buffer
	zw := zlib.NewWriter(&zlibBuf)
	zw.Write([]byte(valid))
	zw.Close()
	truncated := authnEncode(t, valid)
	raw, _ := base64.StdEncoding.DecodeString(truncated)
	truncated = base64.StdEncoding.EncodeToString(raw[:len(raw)/2])

	// The sanity row: the valid document parses.
	if _, err := ParseAuthnRequest(url.Values{"SAMLRequest": {authnEncode(t, valid)}}, nil); err != nil {
		t.Fatalf("ParseAuthnRequest(valid) err = %v; want nil", err)
	}

	doc := func(s string) url.Values { return url.Values{"SAMLRequest": {authnEncode(t, s)}} }
	tests := []struct {
		name    string
		query   url.Values
		wantErr error
	}{
		{"no SAMLRequest", url.Values{}, ErrInvalidRequest},
		{"empty SAMLRequest", url.Values{"SAMLRequest": {""}}, ErrInvalidRequest},
		{"SAMLRequest twice", url.Values{"SAMLRequest": {authnEncode(t, valid), authnEncode(t, valid)}}, ErrInvalidRequest},
		{"RelayState twice", url.Values{"SAMLRequest": {authnEncode(t, valid)}, "RelayState": {"a", "b"}}, ErrInvalidRequest},
		{"RelayState of 81 bytes", url.Values{"SAMLRequest": {authnEncode(t, valid)}, "RelayState": {strings.Repeat("r", 81)}}, ErrInvalidRequest},
		{"not base64", url.Values{"SAMLRequest": {"%%%not base64"}}, ErrInvalidRequest},
		{"base64 of garbage", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0xfd, 0x00})}}, ErrInvalidRequest},
		{"zlib, not raw DEFLATE", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(zlibBuf.Bytes())}}, ErrInvalidRequest},
		{"uncompressed XML", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(valid))}}, ErrInvalidRequest},
		{"truncated DEFLATE", url.Values{"SAMLRequest": {truncated}}, ErrInvalidRequest},
		{"deflate bomb", url.Values{"SAMLRequest": {authnDeflateBomb(t)}}, ErrInvalidRequest},
		{"oversized base64", url.Values{"SAMLRequest": {strings.Repeat("A", 64<<10+4)}}, ErrInvalidRequest},
		{"empty document", doc(""), ErrInvalidRequest},
		{"not XML", doc("hello"), ErrInvalidRequest},
		{"DOCTYPE with entity", doc(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]>` + valid), ErrInvalidRequest},
		{"DOCTYPE inside", doc(open + attrs + `><!DOCTYPE x>` + body + `</samlp:AuthnRequest>`), ErrInvalidRequest},
		{"entity reference", doc(open + attrs + `><saml:Issuer>&x;</saml:Issuer></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"UTF-16 declared", doc(`<?xml version="1.0" encoding="UTF-16"?>` + valid), ErrInvalidRequest},
		{"ISO-8859-1 declared", doc(`<?xml version="1.0" encoding="ISO-8859-1"?>` + valid), ErrInvalidRequest},
		{"invalid UTF-8", doc(open + attrs + `><saml:Issuer>` + "\xff" + `</saml:Issuer></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"two roots", doc(valid + valid), ErrInvalidRequest},
		{"text after root", doc(valid + "x"), ErrInvalidRequest},
		{"unclosed", doc(open + attrs + `>` + body), ErrInvalidRequest},
		{"mismatched end", doc(open + attrs + `>` + body + `</samlp:Response>`), ErrInvalidRequest},
		{"wrong root", doc(strings.ReplaceAll(valid, "AuthnRequest", "LogoutRequest")), ErrInvalidRequest},
		{"wrong namespace", doc(strings.Replace(valid, "SAML:2.0:protocol", "SAML:1.0:protocol", 1)), ErrInvalidRequest},
		{"no namespace", doc(`<AuthnRequest ` + attrs + `>` + body + `</AuthnRequest>`), ErrInvalidRequest},
		{"unbound prefix", doc(`<p:AuthnRequest ` + attrs + `>` + body + `</p:AuthnRequest>`), ErrInvalidRequest},
		{"Version 1.1", doc(strings.Replace(valid, `Version="2.0"`, `Version="1.1"`, 1)), ErrInvalidRequest},
		{"no Version", doc(strings.Replace(valid, `Version="2.0"`, ``, 1)), ErrInvalidRequest},
		{"no ID", doc(strings.Replace(valid, `ID="id-1"`, ``, 1)), ErrInvalidRequest},
		{"empty ID", doc(strings.Replace(valid, `ID="id-1"`, `ID=""`, 1)), ErrInvalidRequest},
		{"ID with space", doc(strings.Replace(valid, `ID="id-1"`, `ID="id 1"`, 1)), ErrInvalidRequest},
		{"ID twice", doc(strings.Replace(valid, `ID="id-1"`, `ID="id-1" ID="id-2"`, 1)), ErrInvalidRequest},
		{"xmlns twice", doc(strings.Replace(valid, `ID="id-1"`, `xmlns:samlp="urn:x" ID="id-1"`, 1)), ErrInvalidRequest},
		{"no IssueInstant", doc(strings.Replace(valid, `IssueInstant="2025-03-14T14:09:26Z"`, ``, 1)), ErrInvalidRequest},
		{"IssueInstant without zone", doc(strings.Replace(valid, `14:09:26Z`, `14:09:26`, 1)), ErrInvalidRequest},
		{"IssueInstant garbage", doc(strings.Replace(valid, `2025-03-14T14:09:26Z`, `yesterday`, 1)), ErrInvalidRequest},
		{"ForceAuthn yes", doc(strings.Replace(valid, `ID="id-1"`, `ForceAuthn="yes" ID="id-1"`, 1)), ErrInvalidRequest},
		{"no Issuer", doc(open + attrs + `></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"empty Issuer", doc(open + attrs + `><saml:Issuer> </saml:Issuer></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"two Issuers", doc(open + attrs + `>` + body + body + `</samlp:AuthnRequest>`), ErrInvalidRequest},
		{"Issuer in protocol namespace", doc(open + attrs + `><samlp:Issuer>https://sp</samlp:Issuer></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"Issuer holding an element", doc(open + attrs + `><saml:Issuer>a<saml:x/>b</saml:Issuer></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"two NameIDPolicies", doc(open + attrs + `>` + body + `<samlp:NameIDPolicy/><samlp:NameIDPolicy/></samlp:AuthnRequest>`), ErrInvalidRequest},
		{"too deep", doc(open + attrs + `>` + body + `<samlp:Extensions>` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</samlp:Extensions></samlp:AuthnRequest>`), ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAuthnRequest(tt.query, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseAuthnRequest() err = %v; want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("ParseAuthnRequest() = %+v; want nil on error", got)
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Errorf("ParseAuthnRequest() err = %T; want *RequestError", err)
			}
		})
	}
}

// TestParseAuthnRequestLenient covers what real SPs send and the parser must
// accept: pretty-printed XML, a default namespace, comments, extensions,
// numeric booleans, an XML declaration, fractional seconds and offsets.
func TestParseAuthnRequestLenient(t *testing.T) {
	t.Parallel()
	const doc = `<?xml version="1.0" encoding="utf-8"?>
<!-- sent by some SP -->
<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol"
    ID="_abc" Version="2.0" IssueInstant="2025-03-14T15:09:26.5+01:00" ForceAuthn="1"
    AssertionConsumerServiceURL="https://sp/acs" Destination="https://idp/sso">
  <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">
      https://sp/metadata
  </Issuer>
  <Extensions><x:y xmlns:x="urn:x">z</x:y></Extensions>
  <NameIDPolicy AllowCreate="1"/>
</AuthnRequest>
`
	got, err := ParseAuthnRequest(url.Values{"SAMLRequest": {authnEncode(t, doc)}}, nil)
	if err != nil {
		t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
	}
	want := AuthnRequest{
		ID: "_abc", Issuer: "https://sp/metadata", Destination: "https://idp/sso", ACSURL: "https://sp/acs",
		IssueInstant: time.Date(2025, 3, 14, 14, 9, 26, 500_000_000, time.UTC), ForceAuthn: true,
	}
	if *got != want {
		t.Errorf("ParseAuthnRequest() = %+v; want %+v", *got, want)
	}
}

// TestParseAuthnRequestPrefixedAttributes checks foo:ID is not taken for ID.
func TestParseAuthnRequestPrefixedAttributes(t *testing.T) {
	t.Parallel()
	const (
		open = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:foo="urn:foo" `
		rest = ` Version="2.0" IssueInstant="2025-03-14T14:09:26Z">` +
			`<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">sp</saml:Issuer>` +
			`<samlp:NameIDPolicy foo:Format="evil" Format="good"/></samlp:AuthnRequest>`
	)
	got, err := ParseAuthnRequest(url.Values{"SAMLRequest": {authnEncode(t, open+`foo:ID="evil" ID="id-1"`+rest)}}, nil)
	if err != nil {
		t.Fatalf("ParseAuthnRequest() err = %v; want nil", err)
	}
	if got.ID != "id-1" || got.NameIDFormat != "good" {
		t.Errorf("ParseAuthnRequest() ID, NameIDFormat = %q, %q; want %q, %q", got.ID, got.NameIDFormat, "id-1", "good")
	}
	_, err = ParseAuthnRequest(url.Values{"SAMLRequest": {authnEncode(t, open+`foo:ID="evil"`+rest)}}, nil)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("ParseAuthnRequest(only foo:ID) err = %v; want %v", err, ErrInvalidRequest)
	}
}

func TestRequestErrorMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	tests := []struct {
		err  *RequestError
		want string
	}{
		{&RequestError{Param: "SigAlg", Reason: "missing"}, "ssotest: invalid AuthnRequest: SigAlg: missing"},
		{&RequestError{Param: "SAMLRequest", Reason: "not base64", Err: cause}, "ssotest: invalid AuthnRequest: SAMLRequest: not base64: boom"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
		if !errors.Is(tt.err, ErrInvalidRequest) {
			t.Errorf("errors.Is(%v, ErrInvalidRequest) = false; want true", tt.err)
		}
	}
	if !errors.Is(&RequestError{Param: "x", Err: cause}, cause) {
		t.Errorf("errors.Is(RequestError, cause) = false; want true")
	}

	// Hostile values quoted in a message are clipped.
	doc := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Version="` +
		strings.Repeat("é", 5000) + `"/>`
	_, err := ParseAuthnRequest(url.Values{"SAMLRequest": {authnEncode(t, doc)}}, nil)
	if !errors.Is(err, ErrInvalidRequest) || len(err.Error()) > 200 || !utf8.ValidString(err.Error()) {
		t.Errorf("ParseAuthnRequest() err = %.300v; want %v, clipped to valid UTF-8", err, ErrInvalidRequest)
	}
}

// FuzzParseAuthnRequest feeds the parser arbitrary query values, and the same
// first string as a raw XML document; it must never panic and every refusal
// must wrap ErrInvalidRequest. It also checks a round trip: whatever
// saml.NewAuthnRequest accepts with the fuzzed RelayState and an ACS URL built from
// the fuzzed strings parses back, signed, to the same fields.
func FuzzParseAuthnRequest(f *testing.F) {
	f.Add("", "", "", "")
	f.Add(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a" Version="2.0" IssueInstant="2025-01-01T00:00:00Z"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">x</saml:Issuer></samlp:AuthnRequest>`, "/path?x=1", saml.AlgRSASHA1, "")
	f.Add("acs?a=<1>&b=\"2\"", "\x00\xff", saml.AlgRSASHA512, "!!")

	keys, err := authnTestKeys()
	if err != nil {
		f.Fatalf("generating test keys: %v", err)
	}
	sp := keys[0]
	f.Fuzz(func(t *testing.T, samlRequest, relayState, sigAlg, signature string) {
		q := url.Values{"SAMLRequest": {samlRequest}}
		if relayState != "" {
			q.Set("RelayState", relayState)
		}
		if sigAlg != "" {
			q.Set("SigAlg", sigAlg)
		}
		if signature != "" {
			q.Set("Signature", signature)
		}
		for _, query := range []url.Values{q, {"SAMLRequest": {authnEncodeOrEmpty(samlRequest)}}} {
			got, err := ParseAuthnRequest(query, nil)
			if err != nil && !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("ParseAuthnRequest() err = %v; want nil or %v", err, ErrInvalidRequest)
			}
			if err == nil && (got == nil || got.Signed || got.ID == "" || got.Issuer == "") {
				t.Fatalf("ParseAuthnRequest() = %+v; want an unsigned request with ID and Issuer", got)
			}
			if _, err := ParseAuthnRequest(query, sp.Leaf); err == nil {
				t.Fatalf("ParseAuthnRequest(cert) err = nil; want a signature failure on fuzzed input")
			} else if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("ParseAuthnRequest(cert) err = %v; want %v", err, ErrInvalidRequest)
			}
		}

		// Only the second build is signed: RSA signing dominates the run time.
		for i, acs := range []string{samlRequest, "https://sp.example.com/" + samlRequest} {
			signed := i == 1
			opts := authnOptions()
			opts.SP.ACSURL = acs
			opts.SP.EntityID = "https://sp.example.com/" + sigAlg
			opts.RelayState = relayState
			var cert *x509.Certificate
			if signed {
				opts.SigningKey = sp
				cert = sp.Leaf
			}
			red, err := saml.NewAuthnRequest(opts)
			if err != nil {
				if !errors.Is(err, saml.ErrInvalidConfig) {
					t.Fatalf("saml.NewAuthnRequest() err = %v; want nil or %v", err, saml.ErrInvalidConfig)
				}
				continue
			}
			u, err := url.Parse(red.URL)
			if err != nil {
				t.Fatalf("url.Parse(%q) err = %v; want nil", red.URL, err)
			}
			got, err := ParseAuthnRequest(u.Query(), cert)
			if err != nil {
				t.Fatalf("ParseAuthnRequest(saml.NewAuthnRequest(ACS %q, RelayState %q)) err = %v; want nil", acs, relayState, err)
			}
			want := AuthnRequest{
				ID: authnSeqID, Issuer: opts.SP.EntityID, Destination: opts.IdPSSOURL, ACSURL: acs,
				ProtocolBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
				NameIDFormat:    saml.NameIDFormatEmail, RelayState: relayState,
				IssueInstant: opts.Now.UTC().Truncate(time.Second), Signed: signed,
			}
			if *got != want {
				t.Fatalf("ParseAuthnRequest() = %+v; want %+v", *got, want)
			}
		}
	})
}

// authnEncodeOrEmpty deflates and base64-encodes s; it cannot fail.
func authnEncodeOrEmpty(s string) string {
	out, err := authnDeflateBase64([]byte(s))
	if err != nil {
		return ""
	}
	return out
}

// authnDeflateBase64 compresses with raw DEFLATE and encodes with standard
// base64, as the HTTP-Redirect binding does.
func authnDeflateBase64(b []byte) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
