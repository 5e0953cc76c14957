package sso

import (
	"context"
	"errors"
	"strings"
)

// ErrUnknownConnection: the organization has no connection with that ID, or
// none that speaks the protocol of the endpoint.
var ErrUnknownConnection = errors.New("sso: unknown connection")

// PrimaryConnectionName is what the sign-in chooser calls an organization's
// own SAML IdP (Organization.IdP) beside its other connections.
const PrimaryConnectionName = "Single sign-on"

// Choice is one connection a sign-in chooser offers (Redirect.Choices).
type Choice struct {
	// Connection is the ID to start with (LoginOptions.Connection);
	// PrimaryConnection ("") for the organization's own IdP.
	Connection string
	Name       string
	Protocol   Protocol
}

// LoginOptions say how StartLoginWith picks the connection.
type LoginOptions struct {
	// Connection, when set, is the connection to sign in with (a Choice the
	// user picked). PrimaryConnection with Choose set picks the
	// organization's own IdP explicitly.
	Connection string
	// Choose marks Connection as chosen, so that PrimaryConnection ("")
	// means the organization's own IdP rather than "not chosen".
	Choose bool
	// Email, when set and no connection is chosen, routes the sign-in to
	// the enabled connection whose Domains hold the email's domain.
	Email string
	// ReturnTo is the local path to land on afterwards ("/" otherwise).
	ReturnTo string
}

// connectionView returns the connection with this ID as a Connection: for
// PrimaryConnection, the organization's own IdP and its settings (enabled
// when its IdP is configured). ok is false for an unknown ID.
func (o *Organization) connectionView(id string) (c Connection, ok bool) {
	if id == PrimaryConnection {
		return Connection{
			ID: PrimaryConnection, Name: PrimaryConnectionName, Protocol: ProtocolSAML,
			Enabled: !idpConfigIsZero(o.IdP), SAML: o.IdP, AllowIdPInitiated: o.AllowIdPInitiated,
			JITProvisioning: o.JITProvisioning, Attributes: o.Attributes,
		}, true
	}
	if p := o.Connection(id); p != nil {
		return *p, true
	}
	return Connection{}, false
}

// usableConnections lists the connections an organization with SSO on
// offers at sign-in, its own IdP first.
func (o *Organization) usableConnections() []Connection {
	var out []Connection
	if c, _ := o.connectionView(PrimaryConnection); c.Enabled {
		out = append(out, c)
	}
	for _, c := range o.Connections {
		if c.Enabled {
			out = append(out, c)
		}
	}
	return out
}

// StartLoginWith begins a sign-in as StartLogin does, choosing the
// connection: the one opts.Connection names (ErrUnknownConnection if it is
// not an enabled connection); otherwise the one whose Domains hold the
// domain of opts.Email; otherwise the only one. With several connections
// and nothing to choose by, the Redirect has no URL but Choices: show them
// (Sentry's "select your identity provider") and call StartLoginWith again
// with the one picked.
func (s *Service) StartLoginWith(ctx context.Context, ssoName string, opts LoginOptions) (*Redirect, error) {
	org, err := s.lookup(ctx, ssoName)
	if err != nil {
		return nil, err
	}
	if !org.Enabled {
		return nil, ErrSSODisabled
	}
	returnTo := SafeReturnTo(opts.ReturnTo)
	if opts.Choose || opts.Connection != "" {
		c, ok := org.connectionView(opts.Connection)
		if !ok || !c.Enabled {
			return nil, ErrUnknownConnection
		}
		return s.start(ctx, org, c, returnTo, "", "", opts.Email)
	}
	usable := org.usableConnections()
	if c, ok := routeByEmail(usable, opts.Email); ok {
		return s.start(ctx, org, c, returnTo, "", "", opts.Email)
	}
	switch len(usable) {
	case 0:
		return nil, ErrSSODisabled
	case 1:
		return s.start(ctx, org, usable[0], returnTo, "", "", opts.Email)
	}
	rd := &Redirect{Choices: make([]Choice, len(usable))}
	for i, c := range usable {
		rd.Choices[i] = Choice{Connection: c.ID, Name: c.Name, Protocol: c.Protocol}
	}
	return rd, nil
}

// routeByEmail returns the connection whose Domains hold email's domain.
func routeByEmail(conns []Connection, email string) (Connection, bool) {
	_, domain, ok := strings.Cut(strings.TrimSpace(email), "@")
	if !ok || domain == "" {
		return Connection{}, false
	}
	domain = strings.ToLower(domain)
	for _, c := range conns {
		for _, d := range c.Domains {
			if d == domain {
				return c, true
			}
		}
	}
	return Connection{}, false
}

// sessionEpoch is the epoch a session signed in through c carries: the
// organization's SSO epoch for its own IdP, the connection's otherwise.
func (c *Connection) sessionEpoch(org *Organization) int64 {
	if c.ID == PrimaryConnection {
		return org.SSOEpoch
	}
	return c.Epoch
}
