package saml_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// ExampleNewValidator validates a response from the bundled test IdP, then shows
// what the operator learns when a response answers another request.
func ExampleNewValidator() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		panic(err)
	}
	sp := saml.SPDetails{
		EntityID: "https://app.example.com/sso/acme/metadata",
		ACSURL:   "https://app.example.com/sso/acme/acs",
	}

	v, err := saml.NewValidator(saml.ValidatorConfig{SP: sp, IdP: idp.IdPConfig(), Now: clock})
	if err != nil {
		panic(err)
	}

	posted, err := idp.Response(ssotest.Response{
		SP:           sp,
		InResponseTo: "id-1234",
		User:         ssotest.User{Email: "alice@acme.example", Roles: []string{"Contentstack Developers"}},
	})
	if err != nil {
		panic(err)
	}
	a, err := v.Validate(posted, "id-1234")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.NameID, a.Attributes["roles"])

	_, err = v.Validate(posted, "id-5678")
	var ve *saml.ValidationError
	if errors.As(err, &ve) {
		fmt.Println("refused:", string(ve.Check), errors.Is(err, saml.ErrInvalidResponse))
	}
	// Output:
	// alice@acme.example [Contentstack Developers]
	// refused: in_response_to true
}
