package sso

import "context"

// startOIDC begins a sign-in through an OIDC connection.
func (s *Service) startOIDC(ctx context.Context, org *Organization, c Connection, returnTo, tester, loginHint string) (*Redirect, error) {
	return nil, ErrUnknownConnection // OIDC sign-in lands with the oidc package
}
