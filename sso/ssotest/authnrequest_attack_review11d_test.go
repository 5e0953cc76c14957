package ssotest

// Attack review 11d of the AuthnRequest code that moved (saml builds,
// ssotest parses and verifies): a failing assertion is a finding.

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/saml"
)

// A signed request whose RelayState (80 bytes) spells the binding's own
// parameters and whose IdP URL carries a query: the IdP reads exactly the
// values that were signed; moving the RelayState into the IdP URL's
// query, or duplicating a parameter in it, is refused; the IdP's own
// parameter is not under the signature but changes nothing read.
func TestAttackReview11dAuthnRequestHostileRelayAndIdPQuery(t *testing.T) {
	spKP, _ := authnKeys(t)
	opts := authnOptions()
	opts.SigningKey = spKP
	opts.IdPSSOURL = "https://idp.example.org/sso?tenant=a%26b&"
	relay := "&SigAlg=x&Signature=y&SAMLRequest=z&RelayState=%41+/"
	relay += strings.Repeat("~", saml.MaxRelayState-len(relay))
	opts.RelayState = relay
	red, err := saml.NewAuthnRequest(opts)
	if err != nil {
		t.Fatal(err)
	}
	q := authnQuery(t, red.URL)
	if q.Get("tenant") != "a&b" || len(q["SAMLRequest"]) != 1 || len(q["SigAlg"]) != 1 || len(q["Signature"]) != 1 {
		t.Fatalf("query %v", q)
	}
	got, err := ParseAuthnRequest(q, spKP.Leaf)
	if err != nil || got.RelayState != relay || !got.Signed || got.ID != authnSeqID {
		t.Fatalf("ParseAuthnRequest = %+v, %v; want the relay %q, signed", got, err, relay)
	}
	// The IdP's tenant parameter is not signed: changing it changes nothing
	// the parser reads.
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("tenant", "evil")
	if _, err := ParseAuthnRequest(q2, spKP.Leaf); err != nil {
		t.Errorf("an unsigned IdP parameter changed: err = %v", err)
	}
	// A second RelayState is refused, signed or not.
	q2.Add("RelayState", "x")
	for _, cert := range [][]byte{nil, {1}} {
		c := spKP.Leaf
		if cert == nil {
			c = nil
		}
		if _, err := ParseAuthnRequest(q2, c); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("repeated RelayState (cert %v): err = %v", c != nil, err)
		}
	}
	// IDs from the injected randomness: two requests from one reader differ,
	// a short reader fails instead of giving a predictable ID.
	opts.Rand = bytes.NewReader(append(append([]byte{}, authnSeq20...), authnSeq20[:19]...))
	a, err := saml.NewAuthnRequest(opts)
	if err != nil || a.ID != authnSeqID {
		t.Fatalf("first ID %v, %v", a, err)
	}
	if _, err := saml.NewAuthnRequest(opts); err == nil {
		t.Errorf("a reader with 19 bytes left gave an ID")
	}
	// An IdP URL that names a binding parameter, escaped, is refused.
	for _, u := range []string{"https://idp.example.org/sso?Sig%41lg=x", "https://idp.example.org/sso?a=1;RelayState=x", "https://idp.example.org/sso?%53AMLRequest"} {
		o := authnOptions()
		o.IdPSSOURL = u
		if _, err := saml.NewAuthnRequest(o); err == nil {
			t.Errorf("IdPSSOURL %q accepted", u)
		}
	}
}
