package sso_test

// Attacker review 11: connections, OIDC, client secrets, verified domains.
// Each test names what it attacks; a failing assertion is a finding (see the
// review report), a passing one an attempt that held.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// ar11Service builds a second Service over e's store with cfg's extra
// fields (ProvisionUser, SecretKey, HTTPClient, Resolver…).
func ar11Service(t testing.TB, e *env, mod func(*sso.Config)) *sso.Service {
	t.Helper()
	cfg := sso.Config{
		BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions,
		Now: e.clock.Now, Rand: mrand.NewChaCha8([32]byte{11}),
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := sso.New(cfg)
	require.NoError(t, err)
	return svc
}

// FINDING: a client secret an owner types that starts with the sealed
// prefix ("orgsso-sealed:v1:") is saved as is (sealed() skips it as
// "already sealed") and then every load of the organization fails opening
// it: sign-in, admin, even the edit that would fix it. Both without a
// SecretKey (errSealedNoKey) and with one (errSealedBadKey).
func TestAttackReview11SealedLookingSecretBricksOrganization(t *testing.T) {
	for _, withKey := range []bool{false, true} {
		t.Run(fmt.Sprintf("SecretKey=%v", withKey), func(t *testing.T) {
			e := newEnv(t, nil)
			if withKey {
				key := make([]byte, sso.SecretKeySize)
				_, _ = rand.Read(key)
				e.svc = ar11Service(t, e, func(c *sso.Config) { c.SecretKey = key })
			}
			ctx := context.Background()
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
				o.Connections = append(o.Connections, sso.Connection{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
					OIDC: sso.OIDCConfig{Issuer: "https://op.example", ClientID: "c", ClientSecret: "orgsso-sealed:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
				return nil
			})
			if err != nil {
				return // refused at the edit: held
			}
			_, err = e.svc.Organization(ctx, e.org.ID)
			assert.NoError(t, err, "the organization no longer loads after its owner typed a secret that looks sealed")
			_, err = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Choose: true})
			assert.NoError(t, err, "its members can no longer sign in through its own IdP")
			_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
				o.Connections = nil
				return nil
			})
			assert.NoError(t, err, "the owner cannot even remove the connection to repair it")
		})
	}
}

// FINDING: connection sessions have no epoch. A sign-in in flight through
// connection "contoso" when DisableConnection runs makes its session after
// the sweep; ValidateSession refuses it only while the connection is off.
// Re-enabling the connection (or removing it and adding another IdP under
// the same ID) brings the session back. The organization-level switch has
// SSOEpoch for exactly this.
func TestAttackReview11ConnectionSessionRevivesAfterReenable(t *testing.T) {
	for _, readd := range []bool{false, true} {
		t.Run(fmt.Sprintf("removed and re-added=%v", readd), func(t *testing.T) {
			e := newEnv(t, nil)
			idp := contosoIdP(t)
			withContoso(t, e, idp)
			ctx := context.Background()
			var svc *sso.Service
			svc = ar11Service(t, e, func(c *sso.Config) {
				c.ProvisionUser = func(ctx context.Context, _ *sso.Organization, _ sso.Identity) (string, error) {
					// The sign-in is past its connection check: the owner turns it off now.
					return "u-kim", svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID)
				}
			})
			e.svc = svc
			res, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso"}, "contoso", user("kim@contoso.example", "Contentstack Developers"))
			require.NoError(t, err)
			_, err = e.svc.ValidateSession(ctx, res.Token)
			require.ErrorIs(t, err, session.ErrEnded, "refused while the connection is off")

			if readd {
				_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
					o.Connections = nil
					return nil
				})
				require.NoError(t, err)
				other := e.idp.IdPConfig() // another IdP under the same connection ID
				other.EntityID = "https://other-idp.example/metadata"
				_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
					o.Connections = append(o.Connections, sso.Connection{ID: "contoso", Name: "New IdP", Protocol: sso.ProtocolSAML, SAML: other})
					return nil
				})
				require.NoError(t, err)
			}
			require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
			s, err := e.svc.ValidateSession(ctx, res.Token)
			assert.Error(t, err, "a session DisableConnection ended is valid again after the connection is re-enabled (session %+v)", s)
			list, _, _ := e.svc.Sessions(ctx, e.org.ID, ownerID, "", "", 0)
			for _, l := range list {
				assert.NotEqual(t, "u-kim", l.UserID, "Sessions lists the revived session")
			}
		})
	}
}

// FINDING: an organization owner (a tenant: untrusted for the host) points an
// OIDC connection's issuer at a loopback service (http is allowed for
// localhost even when BaseURL is https), or at an https server that
// redirects there; the Service fetches it from the host's network, and the
// body of a non-200 answer comes back in the error (go-oidc quotes it; cut to
// 512 bytes), which Test SSO returns to the owner.
func TestAttackReview11OIDCIssuerReachesLoopback(t *testing.T) {
	var hits atomic.Int32
	var mu sync.Mutex
	var paths []string
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"internal":"INTERNAL-ADMIN-TOKEN-0xC0FFEE"}`))
	}))
	t.Cleanup(internal.Close)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/admin/flush?all=1", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	for _, tc := range []struct{ name, issuer string }{
		{"http loopback issuer", internal.URL},
		{"https issuer redirecting to loopback http", redirector.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			e := newEnv(t, nil)
			e.svc = ar11Service(t, e, func(c *sso.Config) { c.HTTPClient = redirector.Client() })
			ctx := context.Background()
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
				o.Connections = append(o.Connections, sso.Connection{ID: "evil", Name: "Evil", Protocol: sso.ProtocolOIDC,
					OIDC: sso.OIDCConfig{Issuer: tc.issuer, ClientID: "c", ClientSecret: "s"}})
				return nil
			})
			if err != nil {
				return // refused: held
			}
			_, err = e.svc.StartConnectionTest(ctx, e.org.ID, "evil", ownerID)
			require.Error(t, err)
			mu.Lock()
			t.Logf("error the owner sees: %v; internal paths fetched: %q", err, paths)
			mu.Unlock()
			assert.Zero(t, hits.Load(), "the tenant's issuer made the Service call a loopback service")
			assert.NotContains(t, err.Error(), "INTERNAL-ADMIN-TOKEN", "the loopback service's answer reaches the tenant owner")
		})
	}
}

// Held: a SAML pending request's ID used as the state at an OIDC callback
// of the same organization in the same browser does not match (the binding
// hash folds the connection ID) and is put back: the SAML sign-in completes.
func TestAttackReview11SAMLRequestAsOIDCState(t *testing.T) {
	e := newEnv(t, nil)
	withOIDC(t, e, true)
	ctx := context.Background()
	rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Choose: true})
	require.NoError(t, err)
	e.keep(t, rd)
	_, err = callback(t, e, "okta", "https://app.example.com/sso/acme/okta/callback?code=x&state="+rd.RequestID)
	require.ErrorIs(t, err, oidc.CheckState)
	posted, err := e.idp.Response(e.resp(rd.RequestID, user("ann@acme.example", "Admins"), nil))
	require.NoError(t, err)
	res, err := e.post(t, posted, relayOf(t, rd))
	require.NoError(t, err, "the SAML request survived the mismatched callback")
	assert.Equal(t, sso.PrimaryConnection, res.Connection)
}

// Held: an OIDC state used as InResponseTo of a SAML response at the
// primary ACS (same org, same browser) matches no request.
func TestAttackReview11OIDCStateAsSAMLInResponseTo(t *testing.T) {
	e := newEnv(t, nil)
	withOIDC(t, e, true)
	rd := oidcStart(t, e, "okta")
	posted, err := e.idp.Response(e.resp(rd.RequestID, user("ann@acme.example", "Admins"), nil))
	require.NoError(t, err)
	_, err = e.post(t, posted, "")
	require.ErrorIs(t, err, saml.CheckInResponseTo)
}

// Held: odd callback queries: duplicate code, duplicate state, iss of
// another issuer, a huge query, POST, and an "error" with attacker text.
func TestAttackReview11OddCallbackQueries(t *testing.T) {
	tests := []struct {
		name string
		mod  func(t *testing.T, cb string) string
		want error
	}{
		{"duplicate code", func(t *testing.T, cb string) string { return cb + "&code=attacker-code" }, oidc.CheckAuthorization},
		{"duplicate state", func(t *testing.T, cb string) string { return cb + "&state=" + paramOf(t, cb, "state") }, oidc.CheckState},
		{"iss of another provider", func(t *testing.T, cb string) string { return cb + "&iss=https%3A%2F%2Fevil.example" }, oidc.CheckIssuer},
		{"two iss", func(t *testing.T, cb string) string { return cb + "&iss=a&iss=b" }, oidc.CheckIssuer},
		{"huge query", func(t *testing.T, cb string) string { return cb + "&x=" + strings.Repeat("a", 20<<10) }, oidc.CheckAuthorization},
		{"error with attacker text", func(t *testing.T, cb string) string {
			return cb + "&error=" + strings.Repeat("E", 5000) + "&error_description=" + strings.Repeat("D", 5000)
		}, oidc.CheckAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			op := withOIDC(t, e, true)
			rd := oidcStart(t, e, "okta")
			cb, err := op.Login(rd.URL, oidcUser("ada@acme.example", "Admins"))
			require.NoError(t, err)
			_, err = callback(t, e, "okta", tt.mod(t, cb))
			require.ErrorIs(t, err, tt.want)
			assert.Less(t, len(err.Error()), 2000, "attacker text in the error is bounded")
		})
	}
}

// Held: the chooser and explicit choice never offer a disabled connection,
// and a callback at a disabled connection is refused.
func TestAttackReview11ChoicesHideDisabled(t *testing.T) {
	e := newEnv(t, nil)
	withOIDC(t, e, false)
	ctx := context.Background()
	rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{})
	require.NoError(t, err)
	assert.Empty(t, rd.Choices, "only the own IdP is usable: no chooser")
	assert.NotEmpty(t, rd.URL)
	_, err = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
	require.ErrorIs(t, err, sso.ErrUnknownConnection)
}

// Held: secrets never print: PendingRequest's CodeVerifier, a connection's
// client secret, in every fmt verb, JSON and slog.
func TestAttackReview11SecretsDoNotPrint(t *testing.T) {
	const verifier, secret = "VERIFIER-xyz-123", "CLIENT-SECRET-456"
	req := &sso.PendingRequest{ID: "r", CodeVerifier: verifier}
	org := &sso.Organization{ID: "o", Connections: []sso.Connection{{ID: "c", OIDC: sso.OIDCConfig{ClientSecret: secret}}}}
	var buf strings.Builder
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	l.Info("x", "req", req, "org", org, "conn", org.Connections[0], "cfg", org.Connections[0].OIDC)
	l2 := slog.New(slog.NewTextHandler(&buf, nil))
	l2.Info("x", "req", *req, "org", *org)
	for _, v := range []any{req, *req, org, *org, org.Connections[0], org.Connections[0].OIDC} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, verifier, verb)
			assert.NotContains(t, out, secret, verb)
		}
		js, _ := json.Marshal(v)
		assert.NotContains(t, string(js), verifier)
		assert.NotContains(t, string(js), secret)
	}
	assert.NotContains(t, buf.String(), verifier)
	assert.NotContains(t, buf.String(), secret)
}

// Held: nil and odd inputs to the new public functions do not panic.
func TestAttackReview11NoPanics(t *testing.T) {
	e := newEnv(t, nil)
	withOIDC(t, e, true)
	ctx := context.Background()
	var nilOrg *sso.Organization
	assert.NotPanics(t, func() {
		_ = nilOrg.Connection("x")
		_ = nilOrg.DomainVerified("a@b.c")
		_, _ = e.svc.RedirectURL(nil, "okta")
		_, _ = e.svc.ConnectionDetails(nil, "x")
		_, _ = e.svc.ConnectionMetadataFor(ctx, "acme", "okta")
		_, _ = e.svc.ConnectionMetadataFor(ctx, "acme", "")
		_, _ = e.svc.HandleCallback(ctx, "acme", "okta", nil)
		_, _ = e.svc.HandleCallback(ctx, "acme", "okta", &http.Request{Method: http.MethodGet})
		_, _ = e.svc.HandleCallback(ctx, "acme", "", httptest.NewRequest(http.MethodGet, "/?state=x&code=y", nil))
		_, _ = e.svc.HandleConnectionACS(ctx, "acme", "okta", nil)
		_, _ = e.svc.HandleConnectionACS(ctx, "acme", "nope", nil)
		for _, em := range []string{"", "@", "a@", "@b", "a@.", "a@b..c", "a@\x00.com", strings.Repeat("a.", 200) + "@" + strings.Repeat("b.", 200), "a@ACME.EXAMPLE."} {
			_, _ = e.svc.StartLoginForEmail(ctx, em, "/")
			_, _ = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Email: em})
		}
		_, _ = e.svc.StartLoginWith(ctx, "", sso.LoginOptions{})
		_, _ = e.svc.StartConnectionTest(ctx, e.org.ID, "nope", ownerID)
		_ = e.svc.EnableConnection(ctx, e.org.ID, "", ownerID)
		_ = e.svc.DisableConnection(ctx, e.org.ID, "", ownerID)
		_, _ = e.svc.AddDomain(ctx, e.org.ID, ownerID, "")
		_, _ = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "nope.example")
		_ = e.svc.RemoveDomain(ctx, e.org.ID, ownerID, "nope.example")
		_ = sso.ValidateConnectionID(strings.Repeat("a", 1<<20))
	})
}
