package ssotest_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// A host tests its ACS handling offline: the test IdP signs a response for a
// user, PostRequest wraps it as the browser would post it, and the SP side
// validates it. Here the "handler" is sso.Validator itself.
func Example() {
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	idp, err := ssotest.New(ssotest.Config{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	sp := sso.SPDetails{
		EntityID: "https://app.example.com/sso/acme/metadata",
		ACSURL:   "https://app.example.com/sso/acme/acs",
	}

	samlResponse, err := idp.Response(ssotest.Response{
		SP:           sp,
		InResponseTo: "id-123",
		User: ssotest.User{
			Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
			Roles: []string{"engineering", "admins"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	req, err := idp.PostRequest(sp.ACSURL, samlResponse, "/dashboard")
	if err != nil {
		log.Fatal(err)
	}

	// What the host's ACS handler does with req:
	v, err := sso.NewValidator(sso.ValidatorConfig{SP: sp, IdP: idp.IdPConfig(), Now: now})
	if err != nil {
		log.Fatal(err)
	}
	a, err := v.Validate(req.FormValue("SAMLResponse"), "id-123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL.Path, req.FormValue("RelayState"))
	fmt.Println(a.NameID, a.Attributes["first_name"], a.Attributes["roles"])
	// Output:
	// POST /sso/acme/acs /dashboard
	// ada@example.com [Ada] [engineering admins]
}

// Each knob of Response breaks one check of the validator.
func ExampleResponse_knobs() {
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	idp, err := ssotest.New(ssotest.Config{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	sp := sso.SPDetails{EntityID: "https://app.example.com/metadata", ACSURL: "https://app.example.com/acs"}
	v, err := sso.NewValidator(sso.ValidatorConfig{SP: sp, IdP: idp.IdPConfig(), Now: now})
	if err != nil {
		log.Fatal(err)
	}
	user := ssotest.User{Email: "ada@example.com"}
	for _, r := range []ssotest.Response{
		{Audience: "https://other.example.com/metadata"},
		{NotOnOrAfter: now().Add(-10 * time.Minute)}, // beyond the 3 minutes of clock skew
		{SignatureMethod: saml.AlgRSASHA1},
		{Sign: ssotest.SignNone},
	} {
		r.SP, r.User, r.InResponseTo = sp, user, "id-1"
		samlResponse, err := idp.Response(r)
		if err != nil {
			log.Fatal(err)
		}
		_, err = v.Validate(samlResponse, "id-1")
		var ve *saml.ValidationError
		if errors.As(err, &ve) {
			fmt.Println(string(ve.Check))
		}
	}
	// Output:
	// audience
	// not_on_or_after
	// algorithm
	// signature
}

// The IdP is an http.Handler for its SSO URL: mount it (or an
// httptest.Server around it) and point an organization's IdP config at it.
// SetLogin chooses who signs in.
func ExampleIdP_SetLogin() {
	idp, err := ssotest.New(ssotest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	idp.SetLogin(func(r *http.Request, req *ssotest.AuthnRequest) (ssotest.User, error) {
		if req.Issuer != "https://app.example.com/sso/acme/metadata" {
			return ssotest.User{}, errors.New("unknown SP")
		}
		return ssotest.User{Email: "ada@example.com", Roles: []string{"admins"}}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/sso", idp)
	fmt.Println(idp.SSOURL())
	// Output: https://idp.example.test/sso
}
