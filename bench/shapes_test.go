package bench

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// benchNow is the instant every response is issued and validated at.
var benchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const requestID = "id-0123456789abcdef0123456789abcdef01234567"

// shape is one response used by every benchmark of this package.
type shape struct {
	name   string
	posted string // base64, as posted
	xml    []byte
}

// world is the IdP and SP all benchmarks share.
type world struct {
	idp  *ssotest.IdP
	sp   sso.SPDetails
	cert *x509.Certificate
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "keys", "idp.key.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(data)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	idp, err := ssotest.New(ssotest.Config{
		EntityID: "https://idp.example.test/metadata", SSOURL: "https://idp.example.test/sso",
		Now: func() time.Time { return benchNow }, Rand: mrand.NewChaCha8([32]byte{9}), Key: key,
	})
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := sso.NewSPDetails("https://app.example.com", "acme")
	if err != nil {
		tb.Fatal(err)
	}
	return &world{idp: idp, sp: sp, cert: idp.Certificate()}
}

// shapes builds the three response shapes: minimal (about 1 KB of XML beyond
// the signature, assertion signed, no attributes but email), typical (6 KB,
// Okta-shaped, five roles) and large (200 KB, 2,000 group values, response and
// assertion signed).
func (w *world) shapes(tb testing.TB) []shape {
	tb.Helper()
	groups := make([]string, 2000)
	for i := range groups {
		groups[i] = fmt.Sprintf("Engineering Team %04d (EU region, managed)", i)
	}
	specs := []struct {
		name string
		r    ssotest.Response
	}{
		{"minimal", ssotest.Response{User: ssotest.User{Email: "alice@acme.example"}}},
		{"typical", ssotest.Response{User: ssotest.User{
			Email: "alice@acme.example", FirstName: "Alice", LastName: "Liddell",
			Roles: []string{"Contentstack Developers", "Everyone", "Blog Editors", "Admins-EU", "Support"},
			Attributes: map[string][]string{
				"department": {"Engineering"}, "title": {"Staff Software Engineer"},
				"employee_id": {"E-104729"}, "locale": {"en-GB"},
				"groups_display_names": {"Contentstack Developers (Okta group, managed by IT)", "Everyone",
					"Blog Editors (EU)", "Admins for the EU region", "Support rota"},
			},
		}}},
		{"large", ssotest.Response{Sign: ssotest.SignBoth, User: ssotest.User{
			Email: "alice@acme.example", FirstName: "Alice", LastName: "Liddell", Roles: groups,
		}}},
	}
	var out []shape
	for _, s := range specs {
		s.r.SP, s.r.InResponseTo = w.sp, requestID
		doc, err := w.idp.BuildResponse(s.r)
		if err != nil {
			tb.Fatal(err)
		}
		xml, err := doc.WriteToBytes()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, shape{name: s.name, posted: base64.StdEncoding.EncodeToString(xml), xml: xml})
	}
	return out
}

func (w *world) validator(tb testing.TB) *sso.Validator {
	tb.Helper()
	v, err := sso.NewValidator(sso.ValidatorConfig{SP: w.sp, IdP: w.idp.IdPConfig(), Now: func() time.Time { return benchNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
