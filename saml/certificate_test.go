package saml

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NegativeSerialCertificate is negativeSerialCertificate for the external
// tests (package saml_test), which sign responses with such a certificate.
var NegativeSerialCertificate = negativeSerialCertificate

// negativeSerialCertificate returns the DER of a certificate made from tmpl
// for key, self-signed with SHA-256, whose serial number is serial (which may
// be negative). crypto/x509 refuses to create a certificate with a negative
// serial, so this makes one with a positive serial, re-encodes its
// TBSCertificate with serial in its place, and signs that again. It uses
// encoding/asn1 only, not the code under test.
func negativeSerialCertificate(key crypto.Signer, tmpl *x509.Certificate, serial *big.Int) ([]byte, error) {
	t := *tmpl
	t.SerialNumber = big.NewInt(1)
	der, err := x509.CreateCertificate(rand.Reader, &t, &t, key.Public(), key)
	if err != nil {
		return nil, err
	}
	var outer []asn1.RawValue // TBSCertificate, signatureAlgorithm, signatureValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil || len(outer) != 3 {
		return nil, errors.New("unexpected certificate shape")
	}
	var tbs []asn1.RawValue // version, serialNumber, …
	if _, err := asn1.Unmarshal(outer[0].FullBytes, &tbs); err != nil || len(tbs) < 2 {
		return nil, errors.New("unexpected TBSCertificate shape")
	}
	if tbs[1].FullBytes, err = asn1.Marshal(serial); err != nil {
		return nil, err
	}
	newTBS, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(newTBS)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	sigBits, err := asn1.Marshal(asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal([]asn1.RawValue{{FullBytes: newTBS}, outer[1], {FullBytes: sigBits}})
}

// withSerial returns der with its serial number INTEGER replaced by serial,
// without signing again (parsing does not check the signature).
func withSerial(der []byte, serial *big.Int) ([]byte, error) {
	var outer []asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 || len(outer) < 2 {
		return nil, errors.New("withSerial: not a certificate")
	}
	var tbs []asn1.RawValue
	if _, err := asn1.Unmarshal(outer[0].FullBytes, &tbs); err != nil || len(tbs) < 2 {
		return nil, errors.New("withSerial: not a TBSCertificate")
	}
	i := 1 // after the [0] version
	if tbs[0].Class == asn1.ClassUniversal && tbs[0].Tag == asn1.TagInteger {
		i = 0 // a v1 certificate has none
	}
	var err error
	if tbs[i].FullBytes, err = asn1.Marshal(serial); err != nil {
		return nil, err
	}
	if outer[0].FullBytes, err = asn1.Marshal(tbs); err != nil {
		return nil, err
	}
	return asn1.Marshal(outer)
}

// mustWithSerial is withSerial for a certificate known to be well-formed.
func mustWithSerial(t testing.TB, der []byte, serial *big.Int) []byte {
	t.Helper()
	out, err := withSerial(der, serial)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// certTestKey returns the fixture IdP key (PKCS#1 PEM in the module's testdata/keys).
func certTestKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "keys", "idp.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("idp.key.pem: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// certTestTemplate is a v3 IdP signing certificate template, valid in 2026.
func certTestTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: "idp.example.test", Organization: []string{"Example IdP"}},
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
}

// negativeSerial is a serial number as a signed-number-writing CA would
// make it: 16 random-looking bytes whose top bit is set.
var negativeSerial, _ = new(big.Int).SetString("-6f1e2d3c4b5a69788796a5b4c3d2e1f0", 16)

func TestParseCertificateNegativeSerial(t *testing.T) {
	key := certTestKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		key    crypto.Signer
		serial *big.Int
	}{
		{"rsa 16 bytes", key, negativeSerial},
		{"rsa -1", key, big.NewInt(-1)},
		{"rsa -128 (one byte, 0x80)", key, big.NewInt(-128)},
		{"ecdsa p256", ecKey, negativeSerial},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := certTestTemplate()
			der, err := negativeSerialCertificate(tt.key, tmpl, tt.serial)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x509.ParseCertificate(der); err == nil || !strings.Contains(err.Error(), "negative serial") {
				t.Fatalf("x509.ParseCertificate() err = %v; want the negative serial refused (the premise of this test)", err)
			}
			cert, err := parseCertificateDER("IdP.Certificates[0]", der)
			if err != nil {
				t.Fatalf("parseCertificateDER() err = %v; want nil", err)
			}
			if !bytes.Equal(cert.Raw, der) {
				t.Error("Raw is not the DER given")
			}
			if cert.SerialNumber.Cmp(tt.serial) != 0 {
				t.Errorf("SerialNumber = %v; want %v", cert.SerialNumber, tt.serial)
			}
			if !cert.NotBefore.Equal(tmpl.NotBefore) || !cert.NotAfter.Equal(tmpl.NotAfter) {
				t.Errorf("validity = %v to %v; want %v to %v", cert.NotBefore, cert.NotAfter, tmpl.NotBefore, tmpl.NotAfter)
			}
			if cert.Subject.CommonName != "idp.example.test" || cert.Issuer.CommonName != "idp.example.test" {
				t.Errorf("Subject = %v, Issuer = %v; want CN=idp.example.test both", cert.Subject, cert.Issuer)
			}
			if pk, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(tt.key.Public()) {
				t.Errorf("PublicKey = %T, not the key's", cert.PublicKey)
			}
			spki, err := x509.MarshalPKIXPublicKey(tt.key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cert.RawSubjectPublicKeyInfo, spki) {
				t.Error("RawSubjectPublicKeyInfo is not the key's")
			}
			// RawTBSCertificate is the signed one: the signature checks.
			if !bytes.Contains(der, cert.RawTBSCertificate) {
				t.Error("RawTBSCertificate is not part of Raw")
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Errorf("self-signature does not verify over RawTBSCertificate: %v", err)
			}
			if cert.KeyUsage != x509.KeyUsageDigitalSignature || !cert.BasicConstraintsValid {
				t.Errorf("extensions not read: KeyUsage = %v, BasicConstraintsValid = %v", cert.KeyUsage, cert.BasicConstraintsValid)
			}
		})
	}
}

// TestParseCertificateMalformed: whatever is wrong, the result is a
// *ConfigError for the field, with the reason of the first defect.
func TestParseCertificateMalformed(t *testing.T) {
	key := certTestKey(t)
	good, err := negativeSerialCertificate(key, certTestTemplate(), negativeSerial)
	if err != nil {
		t.Fatal(err)
	}
	// byte surgery on the good certificate: it starts 30 82 LL LL (the
	// certificate), 30 82 LL LL (the TBSCertificate), a0 03 02 01 02 (v3),
	// 02 10 <16 bytes> (the serial).
	const serialAt = 4 + 4 + 5
	if good[serialAt] != asn1.TagInteger || good[serialAt+1] != 16 {
		t.Fatalf("unexpected layout % x", good[:serialAt+2])
	}
	patch := func(at int, b ...byte) []byte {
		out := bytes.Clone(good)
		copy(out[at:], b)
		return out
	}
	// A negative serial and a validity that is not a SEQUENCE: x509's
	// error for the validity is the one reported.
	badValidity := bytes.Clone(good)
	if i := bytes.Index(badValidity, []byte{0x30, 0x1e, 0x17, 0x0d}); i < 0 {
		t.Fatal("validity not found")
	} else {
		badValidity[i] = 0x31
	}
	tests := []struct {
		name string
		der  []byte
		want string // in the error
	}{
		{"empty", nil, "malformed certificate"},
		{"trailing data", append(bytes.Clone(good), 0), "trailing data"},
		{"not a sequence", patch(0, 0x31), "malformed certificate"},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0xff, 0x00, 0x00}, "malformed certificate"},
		{"serial not minimally encoded", patch(serialAt+2, 0xff, 0x80), "malformed serial"},
		{"serial constructed", patch(serialAt, 0x22), "malformed serial"},
		{"version 4", patch(serialAt-1, 3), "invalid version"},
		{"validity not a sequence", badValidity, "malformed validity"},
		{"positive serial, bad validity", mustWithSerial(t, badValidity, big.NewInt(7)), "malformed validity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := parseCertificateDER("IdP.Certificates[3]", tt.der)
			var ce *ConfigError
			if cert != nil || !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) || ce.Field != "IdP.Certificates[3]" {
				t.Fatalf("parseCertificateDER() = %v, %v; want nil and a *ConfigError for IdP.Certificates[3]", cert, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseCertificateDER() err = %q; want it to say %q", err, tt.want)
			}
		})
	}

	// Every prefix and every single-byte change of a negative-serial
	// certificate: an error or a certificate, never a panic.
	for n := range len(good) {
		if _, err := parseCertificateDER("f", good[:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
	for i := range good {
		for _, b := range []byte{0x00, 0x80, 0xff, good[i] ^ 0x01} {
			if cert, err := parseCertificateDER("f", patch(i, b)); err == nil && !bytes.Equal(cert.Raw, patch(i, b)) {
				t.Fatalf("byte %d = %#x: Raw is not the input", i, b)
			}
		}
	}
}

// TestParseCertificateSameAsX509: for certificates x509 parses, the
// fallback parses the same certificate with its serial negated identically,
// but for the serial and the raw encodings. The corpus is every certificate
// in the test data of the SAML libraries orgsso compares itself with (real
// Okta, OneLogin, ADFS, Auth0, PingFederate and Shibboleth test IdP
// certificates; none of them has a negative serial), plus orgsso's own.
func TestParseCertificateSameAsX509(t *testing.T) {
	certs := moduleCertificates(t, "github.com/crewjam/saml", "github.com/russellhaering/gosaml2")
	good, err := negativeSerialCertificate(certTestKey(t), certTestTemplate(), big.NewInt(99))
	if err != nil {
		t.Fatal(err)
	}
	certs["orgsso template"] = good
	for name, der := range certs {
		want, err := x509.ParseCertificate(der)
		if err != nil {
			continue // not ours to judge
		}
		neg := new(big.Int).Neg(want.SerialNumber)
		if neg.Sign() == 0 {
			neg.SetInt64(-1)
		}
		mangled := mustWithSerial(t, der, neg)
		got, err := parseCertificate(mangled)
		if err != nil {
			t.Errorf("%s: with serial %v: parseCertificate() err = %v; want nil", name, neg, err)
			continue
		}
		if got.SerialNumber.Cmp(neg) != 0 || !bytes.Equal(got.Raw, mangled) {
			t.Errorf("%s: SerialNumber = %v, Raw equal = %v; want %v and the input", name, got.SerialNumber, bytes.Equal(got.Raw, mangled), neg)
		}
		if err := sameCertificate(want, got); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// sameCertificate compares every field of two parsed certificates but the
// serial number and the raw encodings that contain it.
func sameCertificate(want, got *x509.Certificate) error {
	w, g := *want, *got
	w.SerialNumber, g.SerialNumber = nil, nil
	w.Raw, g.Raw = nil, nil
	w.RawTBSCertificate, g.RawTBSCertificate = nil, nil
	if !reflect.DeepEqual(w, g) {
		return errors.New("fallback parse differs from x509.ParseCertificate beyond the serial")
	}
	return nil
}

// moduleCertificates returns the DER certificates found (as PEM blocks or
// base64 in XML X509Certificate elements) in the files of the given modules,
// read from the module cache at the versions go.mod requires, by file name.
// It skips the test when the go command or the modules are not available.
func moduleCertificates(t *testing.T, modules ...string) map[string][]byte {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-m", "-f", "{{.Dir}}"}, modules...)...).Output()
	if err != nil {
		t.Skipf("go list -m: %v", err)
	}
	xmlCert := regexp.MustCompile(`X509Certificate>([A-Za-z0-9+/=\s]+)<`)
	certs := map[string][]byte{}
	for dir := range strings.FieldsSeq(string(out)) {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if info, err := d.Info(); err != nil || info.Size() > 1<<20 || strings.HasSuffix(path, ".go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(path, filepath.Dir(dir)+string(filepath.Separator))
			for rest := b; ; {
				var block *pem.Block
				if block, rest = pem.Decode(rest); block == nil {
					break
				}
				if block.Type == "CERTIFICATE" {
					certs[name+" (PEM)"] = block.Bytes
				}
			}
			for i, m := range xmlCert.FindAllSubmatch(b, -1) {
				if der, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(m[1]), nil))); err == nil {
					certs[name+" #"+strconv.Itoa(i)] = der
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(certs) < 10 {
		t.Skipf("only %d certificates found in %v; module cache incomplete?", len(certs), modules)
	}
	t.Logf("%d certificates from %v", len(certs), modules)
	return certs
}

func TestIdPConfigWarnings(t *testing.T) {
	key := certTestKey(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(serial int64, notBefore, notAfter time.Time) string {
		tmpl := certTestTemplate()
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
		der, err := negativeSerialCertificate(key, tmpl, big.NewInt(serial))
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	year := 365 * 24 * time.Hour
	fine := mk(1, now.Add(-year), now.Add(year))
	tests := []struct {
		name  string
		certs []string
		want  []string // one substring per warning, in order
	}{
		{"none", nil, nil},
		{"fine", []string{fine}, nil},
		{"not PEM (ValidateAt's to report)", []string{"junk", fine}, nil},
		{"negative serial", []string{fine, mk(-5, now.Add(-year), now.Add(year))},
			[]string{"IdP certificate 2: the certificate has a negative serial number"}},
		{"expires in 10 days", []string{mk(2, now.Add(-year), now.Add(10*24*time.Hour))},
			[]string{"IdP certificate 1: the certificate expires on 2026-06-11 (in 10 days)"}},
		{"expires in an hour", []string{mk(2, now.Add(-year), now.Add(time.Hour))},
			[]string{"expires on 2026-06-01 (in less than a day)"}},
		{"expires in 31 days", []string{mk(2, now.Add(-year), now.Add(31*24*time.Hour))}, nil},
		{"expired", []string{mk(3, now.Add(-year), now.Add(-time.Hour))},
			[]string{"IdP certificate 1: the certificate expired on 2026-05-31"}},
		{"not yet valid", []string{mk(4, now.Add(time.Hour), now.Add(year))},
			[]string{"IdP certificate 1: the certificate is not valid until 2026-06-01"}},
		{"negative and expiring", []string{mk(-6, now.Add(-year), now.Add(24*time.Hour))},
			[]string{"negative serial number", "expires on 2026-06-02 (in 1 day)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IdPConfig{Certificates: tt.certs}.Warnings(now)
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings() = %q; want %d warnings like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("Warnings()[%d] = %q; want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzParseCertificate feeds arbitrary DER to the certificate parser. The
// seed corpus in testdata/fuzz/FuzzParseCertificate holds certificates with
// negative, positive and zero serials (RSA, ECDSA, v1 and v3) and broken
// ones. Properties: no panic; an error is a *ConfigError wrapping
// ErrInvalidConfig; a success keeps the input as Raw, and is x509's parse
// unless x509 refuses the serial, in which case the serial is negative; and
// whatever x509 parses still parses, identically but for the serial, with
// its serial negated.
func FuzzParseCertificate(f *testing.F) {
	good, err := negativeSerialCertificate(certTestKey(f), certTestTemplate(), negativeSerial)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := parseCertificateDER("IdP.Certificates[0]", der)
		std, stdErr := x509.ParseCertificate(der)
		if err != nil {
			var ce *ConfigError
			if cert != nil || !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("parseCertificateDER() = %v, %v; want nil and a *ConfigError", cert, err)
			}
			if stdErr == nil {
				t.Fatalf("parseCertificateDER() err = %v; x509 parses it", err)
			}
			return
		}
		if !bytes.Equal(cert.Raw, der) || !bytes.Contains(der, cert.RawTBSCertificate) {
			t.Fatal("Raw is not the input, or RawTBSCertificate not within it")
		}
		switch {
		case stdErr == nil:
			if !std.Equal(cert) {
				t.Fatal("parseCertificateDER() differs from x509.ParseCertificate")
			}
		case cert.SerialNumber.Sign() >= 0 || !strings.Contains(stdErr.Error(), "negative serial"):
			t.Fatalf("parsed a certificate x509 refuses with %v (serial %v)", stdErr, cert.SerialNumber)
		}
		if stdErr != nil {
			return
		}
		neg := new(big.Int).Neg(std.SerialNumber)
		if neg.Sign() == 0 {
			neg.SetInt64(-1)
		}
		mangled, err := withSerial(der, neg)
		if err != nil {
			return // encoding/asn1 reads it differently from x509: not this property's concern
		}
		got, err := parseCertificate(mangled)
		if err != nil {
			t.Fatalf("with serial %v: parseCertificate() err = %v; x509 parses it with serial %v", neg, err, std.SerialNumber)
		}
		if err := sameCertificate(std, got); err != nil {
			t.Fatal(err)
		}
	})
}
